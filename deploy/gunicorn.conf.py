"""gunicorn settings for Jiangxin: `gunicorn --config deploy/gunicorn.conf.py wsgi:app`.

Used by deploy/systemd/jiangxin-web.service and the Docker image. Options given on the command line
win over this file (the image passes `--bind 0.0.0.0:8000`). gunicorn ignores names it does not know,
so tests/test_deploy.py checks that every setting below is one of gunicorn's.

No request is meant to run long: certificate batches, big exports and imports go to the job queue,
so a worker that stays silent for `timeout` seconds is stuck and gunicorn replaces it.
"""

from __future__ import annotations

import os
from pathlib import Path


def _cpus() -> int:
    """Return the CPUs this process may run on (a container's or a cgroup's share, not the whole host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _workers() -> int:
    """WEB_CONCURRENCY when set, else 2 per CPU plus one, at most 12 (each worker holds ~100 MB and one
    database connection at a time)."""
    raw = os.environ.get("WEB_CONCURRENCY", "").strip()
    if raw:
        return max(1, int(raw))
    return min(2 * _cpus() + 1, 12)


# Loopback only: nginx in front terminates HTTPS and sets the X-Forwarded-* headers PROXY_FIX trusts.
bind = ["127.0.0.1:8000"]
proc_name = "jiangxin-web"

# Sync workers: requests are short and database-bound, and nginx buffers slow uploads and downloads,
# so a tablet on a weak network never holds a worker. (make loadtest measures this setup.)
worker_class = "sync"
workers = _workers()
threads = 1

# Seconds. 30 s is far above any page or mark save; the long work runs in the job worker.
timeout = 30
graceful_timeout = 30  # on SIGTERM or HUP a worker finishes its request; systemd waits 45 s in all
keepalive = 5

# A worker is replaced after about twenty thousand requests (a bound on any slow leak), at staggered
# moments so that never all at once. Starting a worker costs about 1.5 s of CPU (the app's imports): on
# an exam day of 200 answers a second, a thousand would restart one every few seconds (make examload).
max_requests = 20000
max_requests_jitter = 2000

# The heartbeat file on tmpfs: a worker writing to a slow or full disk is not taken for a stuck one.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None

# Logs to stdout/stderr: journald (systemd) or `docker compose logs`. The access line carries the
# client's address as nginx saw it (X-Forwarded-For), the status, the size and the time taken (ms).
accesslog = "-"
errorlog = "-"
loglevel = "info"
access_log_format = '%({x-forwarded-for}i)s %(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'

# gunicorn's control socket (`gunicornc`) would be made under the service user's home, which the
# systemd unit makes read-only; nothing here uses it.
control_socket_disable = True


def on_starting(server) -> None:
    """Empty PROMETHEUS_MULTIPROC_DIR before the first worker starts: the files of an earlier run are stale."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if folder:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()


def child_exit(server, worker) -> None:
    """Forget the live metric values of a worker that exited (comp.metrics, multiprocess mode only)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip():
        from comp.metrics import child_exit as forget

        forget(server, worker)
