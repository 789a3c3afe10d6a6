"""Theory exams: organizer pages."""

from comp.blueprints.exams import bp  # noqa: F401
