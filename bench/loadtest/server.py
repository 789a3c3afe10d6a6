"""The load test's server side: the scratch database, gunicorn started, probed, killed and stopped."""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from bench.loadtest.clients import Http

ROOT = Path(__file__).resolve().parents[2]


def conninfo(url: str) -> str:
    """Turn a SQLAlchemy URL (postgresql+psycopg://…) into a libpq one."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def with_database(server_url: str, name: str) -> str:
    """Return the server URL naming database `name`."""
    return server_url.rstrip("/") + "/" + name


class ScratchDatabase:
    """A database made for one run and dropped after it (kept with `keep`)."""

    def __init__(self, server_url: str, name: str, keep: bool = False):
        if not re.fullmatch(r"[a-z_][a-z0-9_]*load[a-z0-9_]*", name):
            raise SystemExit(f"refusing {name!r}: the scratch database's name must contain 'load' (it is dropped)")
        self.server_url, self.name, self.keep = server_url.rstrip("/"), name, keep
        self.url = with_database(self.server_url, name)
        self.created = False

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(conninfo(with_database(self.server_url, "postgres")), autocommit=True)

    def create(self) -> None:
        with self._admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{self.name}"')
        self.created = True

    def drop(self) -> None:
        if self.keep or not self.created:
            return
        with self._admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def start_ids_at(self, table: str, first: int) -> None:
        """Make the next row of `table` take id `first` (a shared Redis keys computed boards by competition id)."""
        with psycopg.connect(conninfo(self.url), autocommit=True) as connection:
            connection.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)", (table, first))

    def version(self) -> str:
        with psycopg.connect(conninfo(self.url)) as connection:
            return str(connection.execute("SHOW server_version").fetchone()[0]).split()[0]


def forget_in_redis(url: str, competition_id: int) -> int:
    """Delete what the run's competition left in Redis (its computed board and results); return how many keys."""
    import redis

    client = redis.Redis.from_url(url)
    keys = [
        *client.scan_iter(match=f"jiangxin:computed:*:{competition_id}"),
        *client.scan_iter(match=f"jiangxin:computed:*:{competition_id}:claim"),
    ]
    return client.delete(*keys) if keys else 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """`gunicorn -w N [--threads T] -b 127.0.0.1:PORT APP`, its log in a file; workers found through /proc."""

    def __init__(self, app: str, env: dict[str, str], log: Path, workers: int = 2, threads: int = 1):
        self.app, self.env, self.log, self.workers_wanted, self.threads = app, env, log, workers, threads
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.kills: list[tuple[float, int, float | None]] = []  # (phase time, pid, seconds until replaced)

    def start(self, probe: str, timeout: float = 30.0) -> None:
        command = [sys.executable, "-m", "gunicorn", "-w", str(self.workers_wanted), "-b", f"127.0.0.1:{self.port}"]
        if self.threads > 1:
            command += ["--threads", str(self.threads)]  # gunicorn's gthread worker
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, self.app], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        http = Http(self.port, timeout=5.0)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.app} exited ({self.process.returncode}):\n{self.tail()}")
            if http.request("GET", probe).status == 200 and len(self.workers()) == self.workers_wanted:
                return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn {self.app} did not answer {probe} within {timeout:.0f} s:\n{self.tail()}")

    def workers(self) -> list[int]:
        """Return the pids of the master's children (its workers)."""
        if self.process is None:
            return []
        try:
            text = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def kill_worker(self, rng: random.Random, at: float) -> int:
        """SIGKILL one worker (gunicorn's master starts another); record how long the replacement took."""
        workers = self.workers()
        if not workers:
            raise RuntimeError("no gunicorn worker to kill")
        pid = rng.choice(workers)
        os.kill(pid, signal.SIGKILL)
        start = time.monotonic()
        replaced = None
        while time.monotonic() - start < 15:
            now = self.workers()
            if pid not in now and len(now) == self.workers_wanted:
                replaced = time.monotonic() - start
                break
            time.sleep(0.05)
        self.kills.append((at, pid, replaced))
        return pid

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        workers = self.workers()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            for pid in [self.process.pid, *workers]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.process.wait(timeout=5)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def tracebacks(self) -> int:
        """Count the tracebacks the workers logged (a 5xx leaves one)."""
        try:
            return self.log.read_text(errors="replace").count("Traceback (most recent call last)")
        except OSError:
            return 0


TICK = os.sysconf("SC_CLK_TCK")


def _times(pid: int | str) -> tuple[str, float, float]:
    """Return a process's name, its own CPU seconds and those of its children it has reaped."""
    text = Path(f"/proc/{pid}/stat").read_text()
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    return name, (int(fields[11]) + int(fields[12])) / TICK, (int(fields[13]) + int(fields[14])) / TICK


def cpu_snapshot(server: Gunicorn) -> dict[str, float]:
    """CPU seconds so far: the whole machine busy, the server (master, workers, reaped workers), PostgreSQL, us.

    Taken at the start and the end of a phase, the differences say whether the figures were
    measured on a quiet machine: what neither the server, PostgreSQL nor the clients used was
    someone else's.
    """
    with open("/proc/stat") as stat:
        jiffies = [int(x) for x in stat.readline().split()[1:]]
    snapshot = {
        "busy": (sum(jiffies) - jiffies[3] - jiffies[4]) / TICK,
        "server": 0.0,
        "postgres": 0.0,
        "clients": time.process_time(),
    }
    if server.process is not None:
        for pid in [server.process.pid, *server.workers()]:
            try:
                _, own, reaped = _times(pid)
            except (OSError, ValueError, IndexError):
                continue
            snapshot["server"] += own + reaped
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name, own, reaped = _times(entry.name)
        except (OSError, ValueError, IndexError):
            continue
        if name == "postgres":  # the postmaster's reaped time holds the backends that ended
            snapshot["postgres"] += own + reaped
    return snapshot
