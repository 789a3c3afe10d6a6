"""The exam load test's pieces that need no gunicorn: the ledger check, the phones' choices, the ID numbers."""

from __future__ import annotations

import random

import pytest

from bench.examload import scenario
from bench.examload.clients import AppTarget, Candidate, FloorTarget, Pending, Question
from bench.examload.runner import verify
from bench.loadtest.clients import Ledger
from comp import idcard
from comp.exams import grading
from comp.exams.types import Item


def ledger(sent=(), acked=()) -> Ledger:
    """Return a ledger of (key, seen, value) sends and (key, version, value) acknowledgements."""
    book = Ledger()
    for key, seen, value in sent:
        book.send(key, seen, value)
    for key, version, value in acked:
        book.ack(key, version, value)
    return book


@pytest.mark.parametrize(
    ("held", "lost", "wrong", "committed"),
    [
        ({(1, 0): (2, "B")}, 0, 0, 0),  # the last acknowledgement held
        ({}, 1, 0, 0),  # missing
        ({(1, 0): (1, "A")}, 1, 0, 0),  # an older version
        ({(1, 0): (2, "C")}, 0, 1, 0),  # another response at the acknowledged version
        ({(1, 0): (3, "D")}, 0, 0, 1),  # a later write whose answer never came back
        ({(1, 0): (3, "E")}, 0, 1, 0),  # a later version nobody sent
        ({(1, 0): (2, "B"), (9, 9): (1, "A")}, 0, 1, 0),  # a stray row
    ],
)
def test_verify(held, lost, wrong, committed):
    book = ledger(
        sent=[((1, 0), 0, "A"), ((1, 0), 1, "B"), ((1, 0), 2, "D")],
        acked=[((1, 0), 1, "A"), ((1, 0), 2, "B")],
    )
    verdict = verify(book, held)
    assert (verdict.lost, verdict.wrong, verdict.unanswered_committed) == (lost, wrong, committed)


def test_two_values_acknowledged_at_one_version_are_wrong():
    book = ledger(sent=[((1, 0), 0, "A")], acked=[((1, 0), 1, "A"), ((1, 0), 1, "B")])
    assert verify(book, {(1, 0): (1, "A")}).wrong == 1


def test_choices_are_answers_the_questions_take():
    phone = Candidate(0, 7, "E7", scenario.id_number(7), seed=1)
    phone.paper = [Question("single", 4, (2, 0, 3, 1)), Question("multiple", 5, (4, 3, 2, 1, 0))]
    phone.paper.append(Question("truefalse", 0, ()))
    items = [
        Item(0, "single", tuple("abcd"), "A"),
        Item(1, "multiple", tuple("abcde"), "AB"),
        Item(2, "truefalse", (), "T"),
    ]
    for _ in range(30):
        position = phone.choose(changes=0.5)
        pending = phone.outbox.pop(position)
        assert grading.normalize(items[position], pending.shown) == "".join(sorted(pending.shown))
        phone.shown[position], phone.versions[position] = pending.shown, phone.versions.get(position, 0) + 1
    assert set(phone.shown) == {0, 1, 2}


def test_a_changed_choice_in_the_outbox_keeps_the_version_it_was_chosen_over():
    phone = Candidate(0, 1, "E1", scenario.id_number(1), seed=1)
    phone.paper = [Question("truefalse", 0, ())]
    phone.shown, phone.versions = {0: "T"}, {0: 3}
    phone.outbox = {0: Pending("F", 3, attempt=2)}
    assert phone.choose(changes=1.0) == 0
    assert (phone.outbox[0].shown, phone.outbox[0].seen) == ("T", 3)


def test_the_app_is_checked_in_stored_letters_the_floor_as_sent():
    question = Question("multiple", 4, (2, 0, 3, 1))  # shown A is stored C, shown B is stored A …
    assert AppTarget("X").value(question, "AB") == "AC"
    assert FloorTarget().value(question, "AB") == "AB"
    assert AppTarget("X").value(Question("truefalse", 0, ()), "F") == "F"


def test_id_numbers_are_valid_and_distinct():
    numbers = [scenario.id_number(i) for i in random.Random(1).sample(range(50_000), 500)]
    assert len(set(numbers)) == 500
    assert all(idcard.normalize(n) == n for n in numbers)


def test_the_blueprint_asks_for_a_100_item_paper_the_bank_can_fill():
    sections = scenario.blueprint()["sections"]
    assert sum(s["count"] for s in sections) == 100
    assert all(scenario.BANK[s["kind"]] > s["count"] for s in sections)
