"""Views of the registration blueprint."""
from comp.blueprints.registration import bp  # noqa: F401
