"""Views of the setup blueprint."""
from comp.blueprints.setup import bp  # noqa: F401
