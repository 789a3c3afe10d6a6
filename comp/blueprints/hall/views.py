"""Views of the hall blueprint."""
from comp.blueprints.hall import bp  # noqa: F401
