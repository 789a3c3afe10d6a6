"""Template globals and filters shared by every page."""
from __future__ import annotations

from decimal import Decimal

from flask import Flask, current_app, url_for
from flask_babel import get_locale

from comp.labels import entrant_status_label, request_status_label, status_label
from comp.permissions import can


def fmt2(value) -> str:
    """Show a published figure with two decimals, or a dash when there is none."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value):.2f}"


def nav_link(endpoint: str, **values) -> str | None:
    """Return the URL of an endpoint, or None when no such page is mounted."""
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)


def init_app(app: Flask) -> None:
    """Register the globals and filters."""
    app.jinja_env.filters["fmt2"] = fmt2
    app.jinja_env.globals.update(can=can, nav_link=nav_link, status_label=status_label,
                                 entrant_status_label=entrant_status_label, request_status_label=request_status_label)

    @app.context_processor
    def inject() -> dict:
        return {"languages": current_app.config["LANGUAGES"], "locale": str(get_locale())}
