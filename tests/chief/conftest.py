"""Read every page and message in English, whatever the translators have done meanwhile."""

import flask_babel
import pytest


@pytest.fixture(autouse=True)
def _english(app, monkeypatch):
    """Make English the default language of these tests' requests and service messages."""
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")
    flask_babel.refresh()
