"""How every view answers: a page or, for htmx, only its fragment; a refusal always as 422.

A refused action (a `ServiceError`, a form that does not validate) answers 422 Unprocessable
Content with the same page or fragment showing why. htmx swaps 422 answers like 200 ones (see
the htmx-config in templates/base.html), so a section keeps working after a refusal, and tests
and proxies see at once that nothing was done.
"""

from __future__ import annotations

from flask import render_template
from flask_htmx import HTMX

from comp.extensions import htmx

REFUSED = 422


def fragment_or_page(fragment: str, page: str, status: int = 200, **context: object) -> tuple[str, int]:
    """Render the fragment for an htmx request, else the whole page, with the same context."""
    return render_template(fragment if is_htmx(htmx) else page, **context), status


def is_htmx(extension: HTMX) -> bool:
    """Tell whether the request came from htmx (and is not a history restore, which wants the page)."""
    return bool(extension) and not extension.history_restore_request
