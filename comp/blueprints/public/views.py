"""Views of the public blueprint."""
from comp.blueprints.public import bp  # noqa: F401
