"""A service verb run for a page that answers with a redirect: its outcome becomes a flashed message."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import flash

from comp.services import ServiceError

T = TypeVar("T")


def flash_outcome(run: Callable[[], T], done: str | Callable[[T], str]) -> None:
    """Run the verb; flash its refusal as an error, else `done` (or `done` of what it returned) as a success."""
    try:
        result = run()
    except ServiceError as error:
        flash(str(error), "error")
    else:
        flash(done(result) if callable(done) else done, "success")
