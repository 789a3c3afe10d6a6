"""Views of the judging blueprint."""
from comp.blueprints.judging import bp  # noqa: F401
