"""What the benchmarks share: a temporary SQLite database, the app on it, the synthetic data."""

from __future__ import annotations

import contextlib
import io
import sqlite3
import tempfile
from functools import cached_property
from pathlib import Path

from bench import synthetic


class Context:
    """A throw-away database with the app bound to it; use it as a context manager.

    Everything is built on first use, so a benchmark that needs no competition costs none.
    """

    def __init__(self, entrants: int, keep: bool = False):
        self.entrants = entrants
        self._stack = contextlib.ExitStack()
        if keep:
            self.workdir = Path(tempfile.mkdtemp(prefix="jiangxin-bench-"))
        else:
            self.workdir = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="jiangxin-bench-")))
        self.db_path = self.workdir / "bench.db"
        self.competition_id: int | None = None
        self.import_seconds: float | None = None
        self.notes: list[str] = []  # lines printed under the table

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    @cached_property
    def app(self):
        """Return the app on the temporary database, migrated, with its context pushed."""
        import flask_migrate

        from comp import create_app
        from comp.config import test_config

        app = create_app(test_config(f"sqlite:///{self.db_path}"))
        self._stack.enter_context(app.app_context())
        # Alembic logs each migration step to stderr; the table is the output here.
        with contextlib.redirect_stderr(io.StringIO()):
            flask_migrate.upgrade()
        self._stack.callback(self._dispose)
        return app

    def _dispose(self) -> None:
        from comp.extensions import db

        db.session.remove()
        db.engine.dispose()

    @cached_property
    def data(self) -> dict:
        """Return the synthetic competition in the exchange format."""
        return synthetic.competition(self.entrants)

    def sqlite(self) -> sqlite3.Connection:
        """Open a bare sqlite3 connection to the database, with the app's pragmas."""
        connection = sqlite3.connect(self.db_path, isolation_level=None)
        self._stack.callback(connection.close)
        for pragma in ("foreign_keys=ON", "journal_mode=WAL", "busy_timeout=5000", "synchronous=NORMAL"):
            connection.execute(f"PRAGMA {pragma}")
        return connection

    def competition(self):
        """Return the imported competition in a fresh session, importing it on first use."""
        from bench import clock
        from comp.extensions import db
        from comp.models import Competition
        from comp.services.exchange import import_competition

        self.app  # noqa: B018 — the app context must be up before the session is used
        if self.competition_id is None:
            data = self.data
            self.import_seconds, imported = clock(lambda: import_competition(data))
            self.competition_id = imported.id
        db.session.remove()
        return db.session.get(Competition, self.competition_id)
