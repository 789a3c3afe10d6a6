"""The judge's pages: entrant list, score sheet, one mark per request as an htmx fragment, sign-off."""

import re
from decimal import Decimal as D

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import JudgeConflict, MarkChange, SheetSignoff
from tests.judging.conftest import criterion_of, drop_marks, entrant_of, judge_of, mark_of


def _row(html: str, criterion) -> str:
    """Return the markup of one criterion's row."""
    match = re.search(rf'<div class="mark-row" id="mark-{criterion.id}".*?\n</div>', html, re.S)
    assert match, f"no row for criterion {criterion.id}"
    return match.group(0)


def _is_fragment(response) -> bool:
    return response.status_code == 200 and "<html" not in response.get_data(as_text=True)


def test_the_judge_home_links_each_assignment(running, tablet):
    t = tablet(running)
    html = t.client.get("/").get_data(as_text=True)
    assert f'href="/judge/{running.code}"' in html


def test_the_list_shows_secret_codes_with_progress(running, tablet):
    t = tablet(running)
    e1, e2 = entrant_of(running, "E1"), entrant_of(running, "E2")
    drop_marks(t.judge, e1)
    html = t.client.get(f"/judge/{running.code}").get_data(as_text=True)
    assert e1.secret_code in html and e2.secret_code in html
    assert "0 / 2 marked" in html and "2 / 2 marked" in html
    assert "航线飞行" in html and "安全操作" in html and "理论考试" not in html


def test_the_list_leaves_out_absent_and_recused_entrants(running, tablet):
    t = tablet(running)
    e1, e2 = entrant_of(running, "E1"), entrant_of(running, "E2")
    e1.status = "absent"
    db.session.add(JudgeConflict(judge_id=t.judge.id, entrant_id=e2.id, reason="同事"))
    db.session.commit()
    html = t.client.get(f"/judge/{running.code}").get_data(as_text=True)
    assert e1.secret_code not in html and e2.secret_code not in html
    assert "No checked-in entrants" in html


def test_the_search_answers_htmx_with_the_list_fragment(running, tablet):
    t = tablet(running)
    e1, e2 = entrant_of(running, "E1"), entrant_of(running, "E2")
    response = t.get(f"/judge/{running.code}?q={e1.secret_code}")
    assert _is_fragment(response)
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="entrants"')
    assert e1.secret_code in html and e2.secret_code not in html


@pytest.mark.parametrize("who", ["other judge", "organizer", "worker"])
def test_only_the_panel_opens_the_judging_pages(running, client, auth, make_user, who):
    role = who.split()[-1]
    make_user("someone", role)
    auth.login("someone")
    secret = entrant_of(running, "E1").secret_code
    for path in (
        f"/judge/{running.code}",
        f"/judge/{running.code}/sheet/{secret}",
        f"/judge/{running.code}/sheet/{secret}/tally",
    ):
        assert client.get(path).status_code == 403


def test_anonymous_users_are_sent_to_the_login(running, client):
    response = client.get(f"/judge/{running.code}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_unknown_codes_are_404(running, tablet):
    t = tablet(running)
    assert t.client.get("/judge/NOPE").status_code == 404
    assert t.client.get(f"/judge/{running.code}/sheet/NOPE").status_code == 404


def test_the_sheet_has_one_row_per_criterion_of_the_judge(running, tablet):
    t = tablet(running)
    e1 = entrant_of(running, "E1")
    route, safety = criterion_of(running, "practical.route"), criterion_of(running, "practical.safety")
    html = t.client.get(t.url(e1)).get_data(as_text=True)
    assert html.count('class="mark-row"') == 2
    row = _row(html, route)
    assert 'inputmode="decimal"' in row and 'value="36"' in row and 'name="version"' in row
    assert f'hx-post="{t.url(e1, f"/mark/{route.id}")}"' in row and f'hx-target="#mark-{route.id}"' in row
    assert 'id="tally"' in html and 'hx-trigger="mark-saved from:body"' in html
    assert "js/scoresheet.js" in html and "<script>" not in html
    assert _row(html, safety)


def test_a_fixed_scale_criterion_shows_one_button_per_value(running, tablet):
    t = tablet(running)
    safety = criterion_of(running, "practical.safety")
    safety.max_value, safety.step, safety.fixed_scale = D("3"), D("1"), True
    db.session.commit()
    e1 = entrant_of(running, "E1")
    drop_marks(t.judge, e1)
    row = _row(t.client.get(t.url(e1)).get_data(as_text=True), safety)
    assert re.findall(r'<button type="button" name="value" value="(\d)"', row) == ["0", "1", "2", "3"]
    assert 'inputmode="decimal"' not in row
    response = t.mark(e1, safety, "2", 0)
    pressed = re.findall(r'value="(\d)"\s+aria-pressed="true"', response.get_data(as_text=True))
    assert pressed == ["2"]


def test_a_saved_mark_answers_with_its_row_and_the_tally_out_of_band(running, tablet):
    t = tablet(running)
    e1, route = entrant_of(running, "E1"), criterion_of(running, "practical.route")
    response = t.mark(e1, route, "38.5", 1)
    assert _is_fragment(response)
    assert "HX-Trigger" not in response.headers  # the answer carries the tally: no second request
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<div class="mark-row" id="mark-{route.id}" data-state="saved"')
    tally = html[html.index('<section id="tally"') :]
    assert 'hx-swap-oob="outerHTML"' in tally.split(">", 1)[0]
    assert '<strong id="tally-total">47.5</strong> / 50' in tally  # 38.5 + 9, as written
    assert 'value="38.5"' in html and f'name="version" id="version-{route.id}" value="2"' in html
    mark = mark_of(t.judge, e1, route)
    assert (mark.value_cents, mark.version) == (3850, 2)
    change = db.session.scalar(sa.select(MarkChange).where(MarkChange.judge_id == t.judge.id))
    assert (change.old_cents, change.new_cents, change.actor_id, change.source) == (3600, 3850, t.judge.id, "tablet-a")


def test_the_tally_fragment_follows_the_marks(running, tablet):
    t = tablet(running)
    e1, route = entrant_of(running, "E1"), criterion_of(running, "practical.route")
    tally = t.get(t.url(e1, "/tally"))
    assert _is_fragment(tally)
    assert '<strong id="tally-total">45</strong> / 50' in tally.get_data(as_text=True)  # 36 + 9
    t.mark(e1, route, "40", 1)
    assert '<strong id="tally-total">49</strong> / 50' in t.get(t.url(e1, "/tally")).get_data(as_text=True)


@pytest.mark.parametrize(
    "raw, message",
    [
        ("45", "45 is above the maximum 40."),
        ("abc", "is not a number"),
        ("1e2", "is not a number"),
        ("NaN", "is not a number"),
        ("35.555", "35.555 has more than 2 decimal places."),
        ("-3", "-3 is below the minimum 0."),
        ("", "Enter a mark."),
    ],
)
def test_a_refused_value_shows_its_message_in_the_row(running, tablet, raw, message):
    t = tablet(running)
    e1, route = entrant_of(running, "E1"), criterion_of(running, "practical.route")
    response = t.mark(e1, route, raw, 1)
    assert _is_fragment(response) and "HX-Trigger" not in response.headers
    html = response.get_data(as_text=True)
    assert 'data-state="refused"' in html and message in html and 'aria-invalid="true"' in html
    assert f'value="{raw}"' in html and "Saved value: 36" in html
    assert mark_of(t.judge, e1, route).value_cents == 3600
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MarkChange)) == 0


def test_a_stale_save_shows_the_newer_value_and_keeps_the_typed_one(running, tablet):
    t = tablet(running)
    e1, route = entrant_of(running, "E1"), criterion_of(running, "practical.route")
    t.mark(e1, route, "37", 1, session="tablet-a")
    response = t.mark(e1, route, "39", 1, session="tablet-b")
    html = response.get_data(as_text=True)
    assert _is_fragment(response) and 'data-state="stale"' in html
    assert "A newer value was saved meanwhile: 37 (version 2)." in html
    assert 'value="39"' in html  # what this tablet typed stays on screen ...
    assert f'id="version-{route.id}" value="2"' in html  # ... and saving it again is a deliberate overwrite
    assert "Keep mine: 39" in html and "Take 37" in html
    assert mark_of(t.judge, e1, route).value_cents == 3700
    again = t.mark(e1, route, "39", 2, session="tablet-b")
    assert 'data-state="saved"' in again.get_data(as_text=True)
    assert mark_of(t.judge, e1, route).version == 3


def test_the_row_endpoint_renders_the_row_as_saved_now(running, tablet):
    t = tablet(running)
    e1, route = entrant_of(running, "E1"), criterion_of(running, "practical.route")
    response = t.get(t.url(e1, f"/mark/{route.id}"))
    assert _is_fragment(response) and 'data-saved="36"' in response.get_data(as_text=True)


def test_a_criterion_not_assigned_is_forbidden(running, tablet):
    t = tablet(running, "J3")  # J3 marks the route only
    e1, safety = entrant_of(running, "E1"), criterion_of(running, "practical.safety")
    assert t.mark(e1, safety, "5", 0).status_code == 403
    assert t.get(t.url(e1, f"/mark/{safety.id}")).status_code == 403
    assert mark_of(t.judge, e1, safety) is None


def test_a_competition_not_theirs_is_forbidden(running, make_competition, tablet):
    other = make_competition(status="running")
    t = tablet(other)
    e1, route = entrant_of(running, "E1"), criterion_of(running, "practical.route")
    t.competition = running
    assert t.mark(e1, route, "5", 1).status_code == 403
    assert t.client.get(t.url(e1)).status_code == 403
    assert mark_of(judge_of(running, "J2"), e1, route).value_cents == 3600


def test_a_recused_pair_is_forbidden(running, tablet):
    t = tablet(running)
    e1, route = entrant_of(running, "E1"), criterion_of(running, "practical.route")
    t.judge.org_unit_id = e1.employer_id
    db.session.commit()
    assert t.client.get(t.url(e1)).status_code == 403
    assert t.mark(e1, route, "30", 1).status_code == 403
    assert t.post(t.url(e1, "/sign")).status_code == 403
    assert mark_of(t.judge, e1, route).value_cents == 3600


def test_with_recusal_by_declared_conflicts_only_a_judge_marks_her_own_employer(running, tablet):
    # A national panel judging its own athletes: the rules turn recusal by employer off.
    t = tablet(running)
    e1, route = entrant_of(running, "E1"), criterion_of(running, "practical.route")
    t.judge.org_unit_id = e1.employer_id
    running.rules = {**(running.rules or {}), "recusal": "declared"}
    db.session.commit()
    assert t.client.get(t.url(e1)).status_code == 200
    answer = t.mark(e1, route, "31", mark_of(t.judge, e1, route).version)
    assert answer.status_code == 200 and 'data-state="saved"' in answer.get_data(as_text=True)
    assert mark_of(t.judge, e1, route).value_cents == 3100


@pytest.mark.parametrize("status", ["closed", "locked"])
def test_outside_running_the_sheet_is_read_only_with_the_reason(running, tablet, status):
    t = tablet(running)
    running.status = status
    db.session.commit()
    e1, route = entrant_of(running, "E1"), criterion_of(running, "practical.route")
    html = t.client.get(t.url(e1)).get_data(as_text=True)
    assert re.search(r'<fieldset class="mark-control"[^>]* disabled>', _row(html, route))
    reason = {"closed": "Marking starts when the competition is running", "locked": "The scores are locked"}[status]
    assert reason in html
    assert "Sign the sheet" not in html
    response = t.mark(e1, route, "30", 1)
    assert 'data-state="closed"' in response.get_data(as_text=True) and "HX-Trigger" not in response.headers
    assert mark_of(t.judge, e1, route).value_cents == 3600
    assert reason in t.client.get(f"/judge/{running.code}").get_data(as_text=True)


def test_sign_off_is_refused_while_marks_are_missing(running, tablet):
    t = tablet(running)
    e1 = entrant_of(running, "E1")
    drop_marks(t.judge, e1)
    html = t.client.get(t.url(e1)).get_data(as_text=True)
    assert 'id="sign-sheet" disabled' in html
    response = t.post(t.url(e1, "/sign"))
    assert _is_fragment(response)
    assert "The sheet cannot be signed yet: no mark for 航线飞行, 安全操作." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SheetSignoff)) == 0


def test_a_signed_sheet_is_read_only_for_its_judge(running, tablet):
    t = tablet(running)
    e1, route = entrant_of(running, "E1"), criterion_of(running, "practical.route")
    response = t.post(t.url(e1, "/sign"))
    html = response.get_data(as_text=True)
    assert _is_fragment(response) and html.lstrip().startswith('<div id="sheet"')
    assert (
        "You signed this sheet at" in html
        and len(re.findall(r'<fieldset class="mark-control"[^>]* disabled>', html)) == 2
    )
    refused = t.mark(e1, route, "30", 1)
    assert "You signed this sheet. Only the chief judge can reopen it." in refused.get_data(as_text=True)
    assert mark_of(t.judge, e1, route).value_cents == 3600
    listed = t.client.get(f"/judge/{running.code}").get_data(as_text=True)
    assert "✓ Signed" in listed and "1 of 2 sheets signed" in listed
    db.session.execute(sa.delete(SheetSignoff))  # the chief reopens it
    db.session.commit()
    assert 'data-state="saved"' in t.mark(e1, route, "30", 1).get_data(as_text=True)


def test_without_htmx_a_save_redirects_to_the_sheet_with_a_message(running, tablet):
    t = tablet(running)
    e1, route = entrant_of(running, "E1"), criterion_of(running, "practical.route")
    response = t.mark(e1, route, "99", 1, htmx=False)
    assert response.status_code == 302 and response.headers["Location"].endswith(t.url(e1))
    assert "99 is above the maximum 40." in t.client.get(t.url(e1)).get_data(as_text=True)
    signed = t.post(t.url(e1, "/sign"), htmx=False)
    assert signed.status_code == 302
    assert "The sheet is signed." in t.client.get(t.url(e1)).get_data(as_text=True)


def test_a_malformed_tablet_session_is_not_recorded(running, tablet):
    t = tablet(running)
    e1, route = entrant_of(running, "E1"), criterion_of(running, "practical.route")
    t.mark(e1, route, "30", 1, session="<script>")
    change = db.session.scalar(sa.select(MarkChange))
    assert change.source is None


def _reopen(competition, judge_ref: str, entrant, reason: str) -> None:
    """Reopen a signed sheet as the chief's service does: delete the sign-off, audit the reason."""
    from comp.services.common import audit

    db.session.execute(sa.delete(SheetSignoff).where(SheetSignoff.entrant_id == entrant.id))
    audit.record(
        "sheet.reopened",
        judge_of(competition, "J1"),
        competition,
        None,
        entrant=entrant.ref,
        judge=judge_ref,
        reason=reason,
    )
    db.session.commit()


def test_a_reopened_sheet_shows_the_reason_and_carries_it_into_the_audit_trail(running, tablet):
    t = tablet(running)
    e1, route = entrant_of(running, "E1"), criterion_of(running, "practical.route")
    t.post(t.url(e1, "/sign"))
    _reopen(running, "J3", e1, "not this judge")  # another judge's sheet: not ours
    assert "reopened this sheet" not in t.client.get(t.url(e1)).get_data(as_text=True)
    _reopen(running, "J2", e1, "请复核航线飞行")
    html = t.client.get(t.url(e1)).get_data(as_text=True)
    assert "The chief judge reopened this sheet: 请复核航线飞行" in html
    assert 'id="sheet-reason" value="请复核航线飞行"' in html
    assert f'hx-include="#version-{route.id}, #sheet-reason"' in _row(html, route)
    t.post(t.url(e1, f"/mark/{route.id}"), {"value": "33", "version": "1", "reason": "请复核航线飞行"})
    change = db.session.scalar(sa.select(MarkChange).order_by(MarkChange.id.desc()))
    assert (change.old_cents, change.new_cents, change.reason) == (3600, 3300, "请复核航线飞行")
    t.post(t.url(e1, "/sign"))
    assert "reopened this sheet" not in t.client.get(t.url(e1)).get_data(as_text=True)
