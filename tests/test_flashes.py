"""A verb run for a redirecting page: its refusal flashed as an error, its success as a success."""

from __future__ import annotations

from flask import get_flashed_messages

from comp.blueprints.flashes import flash_outcome
from comp.services import ServiceError


def _flashed(app, run, done) -> list[tuple[str, str]]:
    with app.test_request_context():
        flash_outcome(run, done)
        return get_flashed_messages(with_categories=True)


def test_a_success_flashes_the_message(app):
    assert _flashed(app, lambda: None, "Done.") == [("success", "Done.")]


def test_a_success_message_can_word_what_the_verb_returned(app):
    assert _flashed(app, lambda: 3, lambda n: f"{n} numbered.") == [("success", "3 numbered.")]


def test_a_refusal_flashes_its_reason_and_not_the_message(app):
    def refuse():
        raise ServiceError("Registration is already closed.")

    assert _flashed(app, refuse, "Done.") == [("error", "Registration is already closed.")]
