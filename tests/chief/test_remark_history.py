"""The console keeps the history of re-mark requests, and refreshes itself: a poll gets 204 while nothing changed."""

from __future__ import annotations

import html
import re
from decimal import Decimal as D

import pytest

from comp.extensions import db
from comp.services import chief
from comp.services.judging import marks, scoresheets
from comp.services.setup import lifecycle
from tests.chief.helpers import criterion, entrant, htmx_post, judge, login_judge, mark, set_mark

NOTE = "请复核航线飞行"


@pytest.fixture()
def flagged(make_competition):
    """E2's route marks 30 (J1), 31.5 (J2), 39 (J3): flagged."""
    competition = make_competition(status="running")
    set_mark(competition, "E2", "J3", "practical.route", "39")
    return competition


def ask(competition, action: str = "remark", note: str = NOTE):
    return chief.review_discrepancy(
        competition,
        judge(competition, "J1"),
        entrant(competition, "E2").id,
        criterion(competition, "practical.route").id,
        action,
        note,
    )


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def history(competition, revealed: bool = False) -> dict[str, chief.RemarkEntry]:
    db.session.expire_all()
    return {r.judge: r for r in chief.remark_history(competition, revealed)}


def poll(client, competition, stamp: str):
    return client.get(f"/chief/{competition.code}?v={stamp}", headers={"HX-Request": "true"})


# ---------------------------------------------------------------- the history


def test_the_history_follows_each_judges_answer(flagged):
    ask(flagged)
    entries = history(flagged)
    assert set(entries) == {"J1", "J2", "J3"}
    j1 = entries["J1"]
    assert (j1.code, j1.name, j1.criterion, j1.note, j1.asked_by) == (
        entrant(flagged, "E2").secret_code,
        None,
        "实际操作 · 航线飞行",
        NOTE,
        "王裁判",
    )
    assert {r.state for r in entries.values()} == {"pending"}
    assert (entries["J3"].old, entries["J3"].new, entries["J3"].answered_at) == (D("39"), None, None)

    e2, route = entrant(flagged, "E2"), criterion(flagged, "practical.route")
    j3 = judge(flagged, "J3")
    marks.record_mark(j3, e2, route, "33", mark(flagged, "E2", "J3", "practical.route").version, "tablet")
    j2 = judge(flagged, "J2")
    scoresheets.keep_mark(j2, e2, route, mark(flagged, "E2", "J2", "practical.route").version)

    entries = history(flagged)
    assert (entries["J3"].state, entries["J3"].old, entries["J3"].new) == ("remarked", D("39"), D("33"))
    assert entries["J3"].answered_at is not None
    assert (entries["J2"].state, entries["J2"].old, entries["J2"].new) == ("kept", D("31.5"), D("31.5"))
    assert entries["J1"].state == "pending" and entries["J1"].new is None


def test_a_later_confirmation_shows_the_waiting_requests_withdrawn(flagged):
    ask(flagged)
    ask(flagged, "confirm", "复核无误")
    assert {r.state for r in history(flagged).values()} == {"withdrawn"}


def test_names_show_in_the_history_only_once_revealed(flagged):
    ask(flagged)
    assert history(flagged, revealed=True)["J1"].name == "李四"
    assert history(flagged)["J1"].name is None


def test_the_console_lists_the_history_and_who_is_awaited(client, auth, flagged):
    ask(flagged)
    e2, route = entrant(flagged, "E2"), criterion(flagged, "practical.route")
    # Still flagged (30 … 38.5): the flag says whose re-mark is awaited.
    version = mark(flagged, "E2", "J3", "practical.route").version
    marks.record_mark(judge(flagged, "J3"), e2, route, "38.5", version, "t")
    login_judge(auth, flagged, "J1")
    page = text(client.get(f"/chief/{flagged.code}"))
    section = re.search(r'<section id="remarks".*?</section>', page, re.S).group(0)
    assert "Re-mark requests" in section and NOTE in section and e2.secret_code in section
    assert section.count('class="remark-pending"') == 2 and section.count('class="remark-remarked"') == 1
    assert "Re-marked" in section and "39.00" in section and "38.50" in section and "王裁判" in section
    assert "李四" not in page  # names stay hidden before the lock
    assert "Waiting for the re-mark of J1, J2." in page


def test_the_console_says_when_nothing_was_asked(client, auth, flagged):
    login_judge(auth, flagged, "J1")
    assert "No re-mark has been requested." in text(client.get(f"/chief/{flagged.code}"))


def test_asking_through_the_console_reaches_the_judges(client, auth, flagged):
    login_judge(auth, flagged, "J1")
    response = htmx_post(
        client,
        f"/chief/{flagged.code}/discrepancies",
        {
            "entrant_id": entrant(flagged, "E2").id,
            "criterion_id": criterion(flagged, "practical.route").id,
            "action": "remark",
            "note": NOTE,
        },
    )
    assert response.status_code == 200 and 'class="remark-pending"' in text(response)
    for ref in ("J1", "J2", "J3"):
        [pending] = scoresheets.pending_remarks(judge(flagged, ref), flagged)
        assert pending.note == NOTE and pending.secret_code == entrant(flagged, "E2").secret_code


# ---------------------------------------------------------------- the console refreshes itself


def test_the_stamp_moves_with_marks_audited_actions_and_the_version_only(flagged):
    first = chief.stamp_of(flagged)
    assert chief.stamp_of(flagged) == first
    ask(flagged)  # audited
    second = chief.stamp_of(flagged)
    assert second != first
    e2, route = entrant(flagged, "E2"), criterion(flagged, "practical.route")
    marks.record_mark(judge(flagged, "J1"), e2, route, "31", mark(flagged, "E2", "J1", "practical.route").version, "t")
    third = chief.stamp_of(flagged)
    assert third != second
    lifecycle.touch(flagged)
    db.session.commit()
    assert chief.stamp_of(flagged) != third


def test_a_poll_holding_the_current_stamp_gets_204(client, auth, flagged):
    login_judge(auth, flagged, "J1")
    page = text(client.get(f"/chief/{flagged.code}"))
    stamp = chief.stamp_of(flagged)
    assert f'data-stamp="{stamp}"' in page
    assert f'hx-get="/chief/{flagged.code}?v={stamp}" hx-trigger="every 5s"' in page
    response = poll(client, flagged, stamp)
    assert response.status_code == 204 and response.headers["Cache-Control"] == "no-store"
    # Without htmx (a bookmarked link) or without a stamp, the console is rendered.
    assert client.get(f"/chief/{flagged.code}?v={stamp}").status_code == 200
    assert client.get(f"/chief/{flagged.code}", headers={"HX-Request": "true"}).status_code == 200


def test_a_poll_after_a_judges_answer_gets_the_new_console(client, auth, flagged):
    ask(flagged)
    login_judge(auth, flagged, "J1")
    stamp = chief.stamp_of(flagged)
    assert poll(client, flagged, stamp).status_code == 204
    e2, route = entrant(flagged, "E2"), criterion(flagged, "practical.route")
    scoresheets.keep_mark(judge(flagged, "J2"), e2, route, mark(flagged, "E2", "J2", "practical.route").version)
    response = poll(client, flagged, stamp)
    page = text(response)
    assert response.status_code == 200 and page.lstrip().startswith('<div id="console"')
    assert "Kept: the mark stands" in page
    assert f'data-stamp="{chief.stamp_of(flagged)}"' in page
    # A poll's answer keeps what the chief is typing; an action's answer brings fresh forms.
    assert re.search(r'<form [^>]*id="review-[0-9-]+" hx-preserve="true">', page)
    action = htmx_post(
        client,
        f"/chief/{flagged.code}/reopen",
        {"judge": judge(flagged, "J2").id, "code": e2.secret_code, "reason": "x"},
    )
    assert "hx-preserve" not in text(action) and 'hx-sync="closest .console:replace"' in text(action)


def test_organizers_following_the_console_poll_too(client, auth, make_user, flagged):
    make_user("boss", "organizer", locale="en")
    auth.login("boss")
    stamp = chief.stamp_of(flagged)
    assert poll(client, flagged, stamp).status_code == 204


def test_a_poll_on_another_competition_is_refused(client, auth, flagged, make_competition):
    other = make_competition(status="running")
    login_judge(auth, flagged, "J1")
    assert poll(client, other, chief.stamp_of(other)).status_code == 403
