"""Views of the chief blueprint."""
from comp.blueprints.chief import bp  # noqa: F401
