"""Theory exams: bank pages."""

from comp.blueprints.exams import bp  # noqa: F401
