"""Theory exams: candidate pages."""

from comp.blueprints.exams import bp  # noqa: F401
