"""Template globals and filters shared by every page."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask, current_app, url_for
from flask_babel import get_locale
from markupsafe import Markup

from comp.labels import entrant_status_label, request_status_label, status_label
from comp.permissions import can


def fmt2(value) -> str:
    """Show a published figure with two decimals, or a dash when there is none."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value):.2f}"


def qr_code(url: str, label: str = "") -> Markup:
    """Return the QR code of a link as inline SVG (activation cards, the judges panel)."""
    from comp.certificates import qr

    return Markup(qr.svg(url, label))  # qr.svg escapes the label and writes only numbers besides


def colon() -> str:
    """Return the colon after a label in the user's language: full width in Chinese ("理由："), ": " otherwise."""
    return "：" if str(get_locale()).startswith("zh") else ": "


def nav_link(endpoint: str, **values) -> str | None:
    """Return the URL of an endpoint, or None when no such page is mounted."""
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)


def init_app(app: Flask) -> None:
    """Register the globals and filters."""
    app.jinja_env.filters["fmt2"] = fmt2
    from comp.services.people import masked_phone

    app.jinja_env.filters["phone_mask"] = masked_phone
    app.jinja_env.globals.update(
        can=can,
        colon=colon,
        nav_link=nav_link,
        qr_code=qr_code,
        status_label=status_label,
        entrant_status_label=entrant_status_label,
        request_status_label=request_status_label,
    )

    @app.context_processor
    def inject() -> dict:
        return {"languages": current_app.config["LANGUAGES"], "locale": str(get_locale())}
