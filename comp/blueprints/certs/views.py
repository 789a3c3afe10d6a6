"""Views of the certs blueprint."""
from comp.blueprints.certs import bp  # noqa: F401
