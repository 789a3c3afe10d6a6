"""Real app servers in subprocesses for the multi-process tests, and a small HTTP client that keeps cookies.

Used by tests/test_two_servers.py (two gunicorn servers, one job worker) and tests/test_import_kill.py
(one server killed with SIGKILL in the middle of an import).
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """Return a port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Process:
    """A subprocess in a process group of its own, its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path):
        self.name, self.log = name, log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole group (a gunicorn master and its worker die together, nothing is cleaned up)."""
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(10)

    def stop(self) -> None:
        if not self.alive():
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass


def gunicorn(name: str, port: int, env: dict[str, str], log: Path) -> Process:
    """Start `gunicorn wsgi:app` with one worker on the port, as deploy/ runs it in production."""
    args = [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}", "--timeout", "120"]
    return Process(name, [*args, "wsgi:app"], env, log)


def flask(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run `flask --app wsgi ARGS` to its end and return its output; fail with the output if it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def wait_until_up(base: str, process: Process, timeout: float = 30) -> None:
    """Wait until the server answers /healthz."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.alive(), f"{process.name} stopped:\n{process.output()}"
        try:
            if Browser(base).get("/healthz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{process.name} did not answer /healthz within {timeout} s:\n{process.output()}")


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Browser:
    """One browser's cookies, sent to whichever server it asks (as behind a load balancer); no redirects followed."""

    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        base: str | None = None,
        form: dict | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> Answer:
        host, port = (base or self.base).removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
        sent = {"Accept-Language": "en", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
            for value in response.headers.get_all("Set-Cookie") or []:
                for key, morsel in SimpleCookie(value).items():
                    if morsel["expires"] and "1970" in morsel["expires"] or morsel["max-age"] == "0":
                        self.cookies.pop(key, None)
                    else:
                        self.cookies[key] = morsel.value
            return Answer(response.status, dict(response.headers.items()), data)
        finally:
            connection.close()

    def get(self, path: str, base: str | None = None, **kwargs) -> Answer:
        return self.request("GET", path, base, **kwargs)

    def csrf(self, base: str | None = None) -> str:
        """Return the CSRF token of this browser's session: from the login form, or the home page once logged in."""
        answer = self.get("/login", base)
        if answer.status == 302:
            answer = self.get("/", base)
        page = answer.text
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            r'"X-CSRFToken": "([^"]+)"', page
        )
        assert match, f"no CSRF token: {page[:500]}"
        return match.group(1)

    def post(self, path: str, data: dict | None = None, base: str | None = None, **kwargs) -> Answer:
        """POST a form with the session's CSRF token."""
        token = self.csrf(base)
        return self.request("POST", path, base, form={"csrf_token": token, **(data or {})}, **kwargs)

    def login(self, username: str, password: str, base: str | None = None) -> Answer:
        return self.post("/login", {"username": username, "password": password}, base)


def multipart(fields: dict[str, str], name: str, filename: str, data: bytes, content_type: str) -> tuple[bytes, str]:
    """Return a multipart/form-data body with the fields and one file, and its Content-Type."""
    boundary = uuid.uuid4().hex
    parts = []
    for key, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    )
    parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
