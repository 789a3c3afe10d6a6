"""The job queue in the app: the `jobs` command group, the queue's /healthz check and /metrics.

The queue and its tasks are comp.services.jobs; see its docstring for how a killed worker's job
is found and resumed.

    flask --app wsgi jobs worker      # the worker; `make run` starts one beside the web server
    flask --app wsgi jobs reap        # queue again what stalled (the worker does it every minute)
"""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from comp.services.jobs import EXTENSION, Jobs, reap, run_worker, storage_url

jobs_cli = AppGroup("jobs", help="The job queue: run a worker, queue stalled jobs again.")


@jobs_cli.command("worker")
@click.option("--workers", default=2, show_default=True, help="Jobs run at the same time (threads).")
def worker_command(workers: int) -> None:
    """Run the job worker (certificate batches); stop it with Ctrl-C or SIGTERM."""
    click.echo(f"job worker on {storage_url(current_app).split('@')[-1]}, {workers} at a time")
    try:
        run_worker(current_app._get_current_object(), workers)  # type: ignore[attr-defined]
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None


@jobs_cli.command("reap")
def reap_command() -> None:
    """Queue again every running job whose worker stopped."""
    ids = reap()
    click.echo(f"queued again: {', '.join(map(str, ids)) or 'nothing'}")


def init_app(app: Flask) -> None:
    """Create the app's queue and register the `jobs` command group."""
    from comp import health, metrics
    from comp.services import jobs

    app.extensions[EXTENSION] = Jobs(app)
    app.cli.add_command(jobs_cli)
    health.register("jobs", jobs.state)
    metrics.job_counts(jobs.counts)
    if metrics.job_state not in jobs.observers:
        jobs.observers.append(metrics.job_state)
