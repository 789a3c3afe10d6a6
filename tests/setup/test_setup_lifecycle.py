"""The lifecycle in the browser: each move guarded and audited, each refusal saying why."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from comp.extensions import db
from comp.models import AuditEvent, Entrant, Mark
from comp.services import ServiceError, setup
from comp.services.setup import lifecycle
from comp.services.setup import scheme as setup_scheme


def transition_events(competition) -> list[tuple[str, int | None, str]]:
    """Return the audited lifecycle moves: action, actor id, previous state."""
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(
            AuditEvent.competition_id == competition.id,
            AuditEvent.action.like("competition.%"),
            AuditEvent.action != "competition.imported",
        )
        .order_by(AuditEvent.id)
    )
    return [(e.action, e.actor_id, e.detail.get("previous")) for e in events]


@pytest.fixture()
def empty_draft(make_competition):
    """Return a draft competition whose stages have all been removed."""
    competition = make_competition(status="draft")
    for stage in list(competition.stages):
        setup_scheme.remove_stage(stage, None)
    return competition


def refusal(competition, target: str) -> str:
    """Try a move and return why it was refused, in English."""
    with force_locale("en"), pytest.raises(ServiceError) as refused:
        lifecycle.transition(competition, target, None)
    return str(refused.value)


def test_open_without_stages_is_refused(empty_draft):
    assert "no stages" in refusal(empty_draft, "open")
    assert empty_draft.status == "draft"


def test_without_stages_the_refusal_is_in_chinese_only(empty_draft):
    with force_locale("zh"), pytest.raises(ServiceError) as refused:
        lifecycle.transition(empty_draft, "open", None)
    message = str(refused.value)
    assert "stages" not in message and "at least one stage" not in message


def test_open_with_zero_total_weight_is_refused(make_competition):
    competition = make_competition(status="draft")
    for stage in competition.stages:
        setup_scheme.update_stage(stage, {"key": stage.key, "name": stage.name, "weight": "0"}, None)
    assert "add up to zero" in refusal(competition, "open")


def test_open_with_a_stage_without_score_criteria_is_refused(make_competition):
    competition = make_competition(status="draft")
    setup_scheme.remove_criterion(competition.stages[0].criteria[0], None)
    assert "at least one score criterion" in refusal(competition, "open")


def test_lock_with_missing_marks_is_refused(make_competition):
    competition = make_competition(status="running")
    mark = db.session.scalars(sa.select(Mark).join(Entrant).where(Entrant.ref == "E2")).first()
    db.session.delete(mark)
    db.session.commit()
    e2 = db.session.scalar(sa.select(Entrant).where(Entrant.competition_id == competition.id, Entrant.ref == "E2"))
    assert f"Marks are missing for {e2.secret_code or 'E2'}." in refusal(competition, "locked")
    assert competition.status == "running"


def test_a_move_the_lifecycle_lacks_is_refused(make_competition):
    assert "cannot move" in refusal(make_competition(status="draft"), "running")


def test_every_allowed_move_is_audited(make_competition, organizer):
    competition = make_competition(status="draft")
    path = [
        "open",
        "closed",
        "open",
        "closed",
        "running",
        "locked",
        "running",
        "locked",
        "published",
        "locked",
        "published",
        "archived",
    ]
    previous = ["draft"] + path[:-1]
    for target in path:
        setup.move_competition(competition, target, organizer, reason="复核")
    assert transition_events(competition) == [
        (f"competition.{target}", organizer.id, before) for target, before in zip(path, previous)
    ]


@pytest.mark.parametrize("status, target", [("locked", "running"), ("published", "locked")])
def test_undoing_a_result_needs_a_reason(make_competition, organizer, status, target):
    competition = make_competition(status=status)
    with force_locale("en"), pytest.raises(ServiceError, match="reason"):
        setup.move_competition(competition, target, organizer, reason=" ")
    assert competition.status == status


def test_closing_registration_numbers_the_entrants(make_competition, organizer):
    competition = make_competition(status="open")
    db.session.execute(sa.update(Entrant).values(number=None, secret_code=None, status="approved"))
    db.session.commit()
    assert setup.move_competition(competition, "closed", organizer) == 2
    assert all(e.number and e.secret_code for e in competition.entrants)


# ---------------------------------------------------------------- in the browser


def test_overview_offers_the_next_moves(browser, make_competition):
    competition = make_competition(status="closed")
    page = browser.get(f"/competitions/{competition.code}").get_data(as_text=True)
    assert 'value="running"' in page and 'value="open"' in page and 'value="locked"' not in page
    assert "Start the competition" in page and "Reopen registration" in page
    # Starting is asked first in the browser; reopening registration, which can be undone, is not.
    start = page[page.rindex("<form", 0, page.index('value="running"')) : page.index('value="running"')]
    reopen = page[page.rindex("<form", 0, page.index('value="open"')) : page.index('value="open"')]
    assert 'data-confirm="Start the competition? The scheme is then fixed' in start
    assert "data-confirm" not in reopen


def test_a_refused_move_flashes_why_and_changes_nothing(browser, empty_draft):
    response = browser.post(f"/competitions/{empty_draft.code}/transition", {"target": "open"})
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert 'class="flash flash-error"' in page and "no stages" in page
    assert empty_draft.status == "draft" and transition_events(empty_draft) == []


def test_lock_refused_in_the_browser_names_the_missing_marks(browser, make_competition):
    competition = make_competition(status="running")
    db.session.execute(sa.delete(Mark).where(Mark.entrant_id == competition.entrants[0].id))
    db.session.commit()
    response = browser.post(f"/competitions/{competition.code}/transition", {"target": "locked"})
    first = competition.entrants[0]
    assert response.status_code == 422
    assert f"Marks are missing for {first.secret_code or first.ref}." in response.get_data(as_text=True)


def test_an_allowed_move_in_the_browser_is_audited(browser, organizer, make_competition):
    competition = make_competition(status="draft")
    response = browser.post(f"/competitions/{competition.code}/transition", {"target": "open"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/competitions/{competition.code}")
    db.session.refresh(competition)
    assert competition.status == "open"
    assert transition_events(competition) == [("competition.open", organizer.id, "draft")]
    assert "Registration open" in browser.get(response.headers["Location"]).get_data(as_text=True)


def test_the_draft_overview_lists_what_blocks_opening(browser, empty_draft):
    page = html.unescape(browser.get(f"/competitions/{empty_draft.code}").get_data(as_text=True))
    assert "Before registration can open" in page and "no stages" in page


def test_unlocking_in_the_browser_asks_for_a_reason(browser, make_competition):
    competition = make_competition(status="locked")
    page = browser.get(f"/competitions/{competition.code}").get_data(as_text=True)
    assert 'name="reason"' in page
    refused = browser.post(f"/competitions/{competition.code}/transition", {"target": "running", "reason": ""})
    assert refused.status_code == 422 and "reason" in refused.get_data(as_text=True)
    done = browser.post(f"/competitions/{competition.code}/transition", {"target": "running", "reason": "复核"})
    assert done.status_code == 302
    db.session.refresh(competition)
    assert competition.status == "running"
