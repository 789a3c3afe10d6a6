"""Check-in (检录): find an entrant by number or name, mark present or absent, keep the tally."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import AuditEvent, Entrant
from comp.services import ServiceError
from comp.services.hall import checkin, draw
from tests.conftest import csrf_token
from tests.hall.conftest import add_entrants, htmx_headers


@pytest.fixture()
def hall(hall_competition):
    """Return a closed competition with five numbered entrants: 张三, 李四, and three more."""
    competition = hall_competition(extra=3)
    draw.close_registration(competition)
    return competition


def entrant(competition, number: int) -> Entrant:
    """Return the entrant with this contestant number."""
    return db.session.scalar(
        sa.select(Entrant).where(Entrant.competition_id == competition.id, Entrant.number == number)
    )


def test_search_by_number_is_exact(hall):
    assert [e.number for e in checkin.search(hall, "2")] == [2]
    assert checkin.search(hall, "99") == []


def test_search_by_part_of_a_name(hall):
    assert [e.name for e in checkin.search(hall, "李")] == ["李四"]
    assert [e.number for e in checkin.search(hall, "选手")] == [3, 4, 5]
    assert checkin.search(hall, "%") == []  # a wildcard is a character here


def test_an_empty_search_lists_everyone_expected(hall):
    add_entrants(hall, 1, status="pending")
    assert [e.number for e in checkin.search(hall, "")] == [1, 2, 3, 4, 5]


def test_present_and_absent_change_the_status_and_the_tally(hall):
    assert checkin.counts(hall) == checkin.Counts(0, 0, 5)
    version = hall.version
    one = checkin.mark(hall, entrant(hall, 1), "ok")
    assert one.status == "ok" and one.checked_in_at is not None
    checkin.mark(hall, entrant(hall, 2), "absent")
    assert checkin.counts(hall) == checkin.Counts(1, 1, 3)
    assert hall.version > version
    checkin.mark(hall, entrant(hall, 1), "absent")  # undo while the hall is open
    assert entrant(hall, 1).checked_in_at is None
    assert checkin.counts(hall) == checkin.Counts(0, 2, 3)
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action.like("entrant.%")).order_by(AuditEvent.id)
    ).all()
    assert actions == ["entrant.checked_in", "entrant.absent", "entrant.absent"]


def test_a_second_tap_changes_nothing(hall):
    checkin.mark(hall, entrant(hall, 1), "ok")
    checkin.mark(hall, entrant(hall, 1), "ok")
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "entrant.checked_in")) == 1


@pytest.mark.parametrize("state", ["open", "locked", "published"])
def test_check_in_is_refused_outside_the_hall_days(hall, state):
    hall.status = state
    db.session.commit()
    with pytest.raises(ServiceError, match="only while registration is closed"):
        checkin.mark(hall, entrant(hall, 1), "ok")


def test_a_pending_entrant_cannot_be_checked_in(hall):
    pending = add_entrants(hall, 1, status="pending")[0]
    with pytest.raises(ServiceError, match="cannot be checked in"):
        checkin.mark(hall, pending, "ok")


def test_only_present_or_absent(hall):
    with pytest.raises(ServiceError):
        checkin.mark(hall, entrant(hall, 1), "disqualified")


# ---- the tablet page ----


def test_the_page_has_the_search_box_and_the_tally(client, organizer, hall):
    page = client.get(f"/competitions/{hall.code}/checkin").get_data(as_text=True)
    assert 'hx-trigger="input changed delay:300ms' in page and 'hx-target="#checkin-results"' in page
    assert 'id="count-waiting">5<' in page


def test_an_htmx_search_returns_only_the_matches(client, organizer, hall):
    response = client.get(f"/competitions/{hall.code}/checkin?q=2", headers=htmx_headers())
    body = response.get_data(as_text=True)
    assert "<html" not in body and "李四" in body and "张三" not in body
    by_name = client.get(f"/competitions/{hall.code}/checkin?q=张", headers=htmx_headers()).get_data(as_text=True)
    assert "张三" in by_name and "李四" not in by_name
    nothing = client.get(f"/competitions/{hall.code}/checkin?q=王五", headers=htmx_headers()).get_data(as_text=True)
    assert "No entrant matches" in nothing


def test_tapping_present_returns_the_row_and_triggers_the_tally(client, organizer, hall):
    url = f"/competitions/{hall.code}/checkin"
    target = entrant(hall, 2)
    response = client.post(
        f"{url}/{target.id}", data={"status": "ok", "csrf_token": csrf_token(client, url)}, headers=htmx_headers()
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert f'id="entrant-{target.id}"' in body and "checkin-ok" in body
    assert response.headers["HX-Trigger"] == "checkin-changed"
    assert target.status == "ok"
    counts = client.get(f"{url}/counts", headers=htmx_headers()).get_data(as_text=True)
    assert 'id="count-ok">1<' in counts and 'id="count-waiting">4<' in counts
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "entrant.checked_in"))
    assert event.actor_id == organizer.id and event.object_id == target.id


def test_a_refusal_comes_back_in_the_row(client, organizer, hall):
    url = f"/competitions/{hall.code}/checkin"
    token = csrf_token(client, url)
    hall.status = "locked"
    db.session.commit()
    target = entrant(hall, 1)
    response = client.post(f"{url}/{target.id}", data={"status": "ok", "csrf_token": token}, headers=htmx_headers())
    assert response.status_code == 200 and "HX-Trigger" not in response.headers
    assert "only while registration is closed" in response.get_data(as_text=True)
    assert target.status == "approved"


def test_without_htmx_the_form_still_works(client, organizer, hall):
    url = f"/competitions/{hall.code}/checkin"
    target = entrant(hall, 3)
    response = client.post(f"{url}/{target.id}", data={"status": "absent", "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302 and "q=3" in response.headers["Location"]
    assert target.status == "absent"


def test_another_competitions_entrant_is_not_found(client, organizer, hall, hall_competition):
    other = hall_competition()
    url = f"/competitions/{hall.code}/checkin"
    response = client.post(
        f"{url}/{other.entrants[0].id}", data={"status": "ok", "csrf_token": csrf_token(client, url)}
    )
    assert response.status_code == 404


def test_a_refused_check_in_names_the_state_in_words(make_competition):
    from flask_babel import force_locale

    from comp.services import ServiceError
    from comp.services.hall import checkin

    competition = make_competition(status="locked")
    entrant = competition.entrants[0]
    with force_locale("zh"), pytest.raises(ServiceError) as refused:
        checkin.mark(competition, entrant, "ok")
    assert "locked" not in str(refused.value) and "成绩已锁定" in str(refused.value)
