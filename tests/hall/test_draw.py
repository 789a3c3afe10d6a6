"""Contestant numbers, secret codes and the lot draw: reproducible from its seed, refused when it cannot be."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from comp.codes import ALPHABET
from comp.extensions import db
from comp.models import AuditEvent, Entrant
from comp.services import ServiceError
from comp.services.hall import draw
from tests.conftest import csrf_token
from tests.hall.conftest import add_entrants


def entrants_of(competition) -> list[Entrant]:
    """Return the competition's entrants by ref."""
    return db.session.scalars(
        sa.select(Entrant).where(Entrant.competition_id == competition.id).order_by(Entrant.registered_at, Entrant.id)
    ).all()


def placements(competition) -> dict[int, tuple[str, str]]:
    """Return number → (session, workstation) of the drawn entrants."""
    return {e.number: (e.session, e.workstation) for e in entrants_of(competition) if e.session}


def audits(action: str) -> list[AuditEvent]:
    """Return the audit events of one action."""
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def closed_with_numbers(hall_competition, extra: int = 8):
    """Return a competition whose registration is closed and whose entrants are numbered."""
    competition = hall_competition(extra=extra)
    draw.close_registration(competition)
    return competition


def test_closing_numbers_approved_entrants_1_to_n_in_registration_order(hall_competition):
    competition = hall_competition(extra=5)
    add_entrants(competition, 2, status="pending")
    assert draw.close_registration(competition) == 7
    assert competition.status == "closed"
    rows = entrants_of(competition)
    approved = [e for e in rows if e.status == "approved"]
    assert [e.number for e in approved] == list(range(1, 8))
    assert [e.ref for e in approved] == ["E1", "E2", "R3", "R4", "R5", "R6", "R7"]
    assert all(e.number is None and e.status == "pending" for e in rows if e.ref in ("R8", "R9"))
    assert audits("draw.numbers")[0].detail == {"count": 7, "first": 1, "last": 7}


def test_secret_codes_are_fresh_unique_and_unguessable(hall_competition):
    competition = hall_competition(extra=30)
    imported = {e.ref: e.secret_code for e in entrants_of(competition) if e.secret_code}
    draw.close_registration(competition)
    rows = entrants_of(competition)
    codes = [e.secret_code for e in rows]
    assert len(set(codes)) == len(codes) == 32
    for e in rows:
        assert len(e.secret_code) >= 8 and set(e.secret_code) <= set(ALPHABET)
        assert e.secret_code not in (str(e.number), f"{e.number:08d}", e.name)
        assert e.secret_code != imported.get(e.ref)


def test_two_competitions_with_the_same_entrants_get_different_codes(hall_competition):
    first, second = closed_with_numbers(hall_competition, 20), closed_with_numbers(hall_competition, 20)
    a = {e.number: e.secret_code for e in entrants_of(first)}
    b = {e.number: e.secret_code for e in entrants_of(second)}
    assert a.keys() == b.keys()
    assert not set(a.values()) & set(b.values())


def test_assigning_numbers_again_keeps_them_and_numbers_late_approvals(hall_competition):
    competition = closed_with_numbers(hall_competition, 3)
    before = {e.ref: (e.number, e.secret_code) for e in entrants_of(competition)}
    assert draw.assign_numbers(competition) == 0
    assert {e.ref: (e.number, e.secret_code) for e in entrants_of(competition)} == before
    late = add_entrants(competition, 1)[0]
    assert draw.assign_numbers(competition) == 1
    assert late.number == 6 and late.secret_code not in {c for _, c in before.values()}
    assert {e.ref: (e.number, e.secret_code) for e in entrants_of(competition) if e.ref in before} == before


def test_numbers_wait_for_registration_to_close(hall_competition):
    competition = hall_competition()
    with pytest.raises(ServiceError, match="registration is closed"):
        draw.assign_numbers(competition)


@pytest.mark.parametrize("count,sessions", [(7, 2), (10, 3), (1, 1), (26, 26)])
def test_allocate_fills_sessions_evenly_with_distinct_places(count, sessions):
    places = draw.allocate(list(range(1, count + 1)), sessions, 40, "seed")
    assert sorted(places) == list(range(1, count + 1))
    assert len(set(places.values())) == count
    sizes = [sum(1 for s, _ in places.values() if s == label) for label in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[:sessions]]
    assert max(sizes) - min(sizes) <= 1


def test_allocate_is_a_function_of_the_seed_and_the_entrants():
    numbers = list(range(1, 41))
    assert draw.allocate(numbers, 2, 20, "abc") == draw.allocate(list(reversed(numbers)), 2, 20, "abc")
    assert draw.allocate(numbers, 2, 20, "abc") != draw.allocate(numbers, 2, 20, "abd")
    wide = draw.allocate(numbers, 1, 100, "abc")
    assert {w for _, w in wide.values()} == {f"{i:03d}" for i in range(1, 41)}  # width follows the count


def test_the_draw_is_reproducible_from_its_seed(hall_competition):
    first, second = closed_with_numbers(hall_competition, 18), closed_with_numbers(hall_competition, 18)
    assert draw.draw_lots(first, 2, 10, "2026-draw") == "2026-draw"
    draw.draw_lots(second, 2, 10, "2026-draw")
    assert placements(first) == placements(second)
    assert len(placements(first)) == 20
    assert first.draw_seed == "2026-draw" and first.drawn_at is not None
    event = audits("draw.lots")[0]
    assert event.detail["seed"] == "2026-draw"
    assert (event.detail["sessions"], event.detail["stations"]) == (2, 10)
    assert draw.replay_draw(first).verified


def test_a_different_seed_gives_a_different_draw(hall_competition):
    first, second = closed_with_numbers(hall_competition, 18), closed_with_numbers(hall_competition, 18)
    draw.draw_lots(first, 2, 10, "one")
    draw.draw_lots(second, 2, 10, "two")
    assert placements(first) != placements(second)


def test_a_random_seed_is_recorded_and_replays(hall_competition):
    competition = closed_with_numbers(hall_competition, 4)
    seed = draw.draw_lots(competition, 1, 6)
    assert len(seed) == 16 and competition.draw_seed == seed
    assert draw.replay_draw(competition).verified


def test_tampering_with_one_workstation_fails_the_replay(hall_competition):
    competition = closed_with_numbers(hall_competition, 8)
    draw.draw_lots(competition, 2, 5, "fair")
    one, other = sorted((e for e in entrants_of(competition) if e.session == "A"), key=lambda e: e.number)[:2]
    one.workstation, other.workstation = other.workstation, one.workstation
    db.session.commit()
    replay = draw.replay_draw(competition)
    assert not replay.verified and set(replay.differing) == {one.number, other.number}


def test_tampering_with_the_seed_fails_the_replay(hall_competition):
    competition = closed_with_numbers(hall_competition, 8)
    draw.draw_lots(competition, 2, 5, "fair")
    competition.draw_seed = "other"
    db.session.commit()
    assert not draw.replay_draw(competition).verified


def test_a_draw_over_capacity_says_how_many_places_are_missing(hall_competition):
    competition = closed_with_numbers(hall_competition, 9)  # 11 entrants
    with pytest.raises(ServiceError, match="2 places are missing"):
        draw.draw_lots(competition, 3, 3, "x")
    assert competition.draw_seed is None and not placements(competition)


def test_no_draw_before_numbers(hall_competition):
    competition = hall_competition()
    competition.status = "closed"
    db.session.commit()
    with pytest.raises(ServiceError, match="Assign contestant numbers"):
        draw.draw_lots(competition, 1, 10, "x")


def test_no_draw_while_registration_is_open(hall_competition):
    with pytest.raises(ServiceError, match="after registration closes"):
        draw.draw_lots(hall_competition(), 1, 10, "x")


def test_drawing_again_needs_a_reason_which_is_audited(hall_competition):
    competition = closed_with_numbers(hall_competition, 8)
    draw.draw_lots(competition, 2, 5, "first")
    with pytest.raises(ServiceError, match="reason"):
        draw.draw_lots(competition, 2, 5, "second")
    assert competition.draw_seed == "first"
    draw.draw_lots(competition, 1, 10, "second", reason="a workstation broke")
    event = audits("draw.lots")[-1]
    assert event.detail["redraw"] and event.detail["reason"] == "a workstation broke"
    assert {s for s, _ in placements(competition).values()} == {"A"}
    assert draw.replay_draw(competition).verified


def test_absent_entrants_stay_out_of_the_draw(hall_competition):
    competition = closed_with_numbers(hall_competition, 3)
    entrants_of(competition)[0].status = "absent"
    db.session.commit()
    draw.draw_lots(competition, 1, 4, "s")
    assert sorted(placements(competition)) == [2, 3, 4, 5]


# ---- the page ----


def test_the_page_closes_registration_and_says_pending_stay_pending(client, organizer, hall_competition):
    competition = hall_competition(extra=2)
    add_entrants(competition, 1, status="pending")
    url = f"/competitions/{competition.code}/draw"
    page = client.get(url).get_data(as_text=True)
    assert "Close registration and assign numbers" in page
    assert "1 registration is still pending approval" in page
    response = client.post(f"{url}/close", data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "4 entrants received a number" in page
    assert competition.status == "closed"
    assert sorted(e.number for e in entrants_of(competition) if e.number) == [1, 2, 3, 4]


def test_the_page_draws_and_shows_the_draw_verified(client, organizer, hall_competition):
    competition = closed_with_numbers(hall_competition, 4)
    url = f"/competitions/{competition.code}/draw"
    token = csrf_token(client, url)
    response = client.post(f"{url}/lots", data={"csrf_token": token, "sessions": 2, "stations": 3, "seed": "s1"})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Draw verified" in page and "s1" in page
    refused = client.post(
        f"{url}/lots", data={"csrf_token": token, "sessions": 1, "stations": 3, "seed": "s2", "reason": "again"}
    ).get_data(as_text=True)
    assert "3 places are missing" in refused
    assert competition.draw_seed == "s1"
