"""The chief judge records the attempts entrants did not take (DNS, DNI) in a stage where only the best count."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import AuditEvent, NotTaken
from comp.services import ServiceError, results
from comp.services.chief import attempts, progress
from tests.chief.helpers import criterion, entrant, htmx_post, judge, login_judge

RUNS = ("final.run1", "final.run2", "final.run3")


def judge_tally_of(competition, ref: str, rider):
    """The judge's tally as the save answers it (the save path's own statement)."""
    from comp.services.judging import tally

    return tally.read(competition.id, judge(competition, ref).id, rider.id)


def runs_document() -> dict:
    """Two riders, three runs marked by three judges, the best run counts; R1 has not done run 3 yet."""
    values = {("R1", "final.run1"): "80", ("R1", "final.run2"): "90", ("R2", "final.run1"): "85"}
    values |= {("R2", "final.run2"): "70", ("R2", "final.run3"): "88"}
    return {
        "format": "jiangxin.competition/1",
        "competition": {
            "code": "QZ-2026-RUNS",
            "name": "滑板三轮取最好",
            "year": 2026,
            "rules": {"total": "points", "award_min_total": "0", "tiebreak": ["attempts:final"]},
        },
        "stages": [
            {
                "key": "final",
                "name": "决赛",
                "weight": "1",
                "best": 1,
                "criteria": [{"key": f"run{n}", "name": f"第{n}轮", "max": "100"} for n in (1, 2, 3)],
            }
        ],
        "entrants": [{"ref": ref, "name": f"选手{ref}"} for ref in ("R1", "R2")],
        "judges": [{"ref": f"J{n}", "name": f"裁判{n}", "chief": n == 1} for n in (1, 2, 3)],
        "marks": [
            {"entrant": ref, "judge": f"J{n}", "criterion": key, "value": value}
            for (ref, key), value in values.items()
            for n in (1, 2, 3)
        ],
    }


@pytest.fixture()
def runs():
    from comp.services import exchange

    competition = exchange.import_competition(runs_document())
    assert competition.status == "running"  # R1's third run is neither marked nor recorded
    return competition


def test_a_run_recorded_as_not_taken_completes_the_rider(runs):
    chief = judge(runs, "J1")
    attempts.record(runs, chief, entrant(runs, "R1").secret_code, criterion(runs, "final.run3").id, "DNI")
    _loaded, outcome = results.compute(runs)
    assert outcome.complete and outcome.entrant("R1").total == 90 and outcome.entrant("R1").rank == 1
    cells = {row.ref: row for row in progress.grid(runs, False).rows}
    assert cells["R1"].missing == 0 and ("skipped", None) in cells["R1"].cells
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "attempt.not_taken")).all()
    assert [e.detail["reason"] for e in events] == ["DNI"] and events[0].detail["entrant"] == "R1"


def test_undo_puts_the_run_back_among_the_marks_due(runs):
    chief = judge(runs, "J1")
    skipped = attempts.record(runs, chief, entrant(runs, "R1").secret_code, criterion(runs, "final.run3").id, "DNS")
    attempts.undo(runs, chief, skipped.id)
    assert db.session.scalar(sa.select(sa.func.count(NotTaken.id))) == 0
    assert not results.compute(runs)[1].complete
    assert db.session.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "attempt.not_taken_undone"))


@pytest.mark.parametrize(
    "who, run, reason, words",
    [
        ("R2", "final.run3", "DNI", "has 3 marks"),  # a marked run was taken
        ("XX", "final.run3", "DNI", "No entrant has the secret code"),
        ("R1", "final.run3", "DNF", "Choose DNS"),
    ],
)
def test_what_cannot_be_recorded_is_refused_and_nothing_is_written(runs, who, run, reason, words):
    code = entrant(runs, who).secret_code if who != "XX" else "XX"
    with pytest.raises(ServiceError, match=words):
        attempts.record(runs, judge(runs, "J1"), code, criterion(runs, run).id, reason)
    assert db.session.scalar(sa.select(sa.func.count(NotTaken.id))) == 0


def test_only_attempts_of_a_best_of_stage_and_of_this_competition(runs, make_competition):
    other = make_competition(status="running")
    with pytest.raises(ServiceError, match="Choose an attempt"):
        attempts.record(
            runs, judge(runs, "J1"), entrant(runs, "R1").secret_code, criterion(other, "practical.route").id, "DNI"
        )
    skipped = attempts.record(
        runs, judge(runs, "J1"), entrant(runs, "R1").secret_code, criterion(runs, "final.run3").id, "DNI"
    )
    with pytest.raises(ServiceError, match="No such attempt"):
        attempts.undo(other, judge(other, "J1"), skipped.id)


def test_twice_is_refused_and_a_locked_competition_is_refused(runs):
    chief, code, run3 = judge(runs, "J1"), entrant(runs, "R1").secret_code, criterion(runs, "final.run3").id
    attempts.record(runs, chief, code, run3, "DNI")
    with pytest.raises(ServiceError, match="already recorded"):
        attempts.record(runs, chief, code, run3, "DNS")
    runs.status = "locked"
    db.session.commit()
    with pytest.raises(ServiceError, match="only while the competition is running"):
        attempts.record(runs, chief, entrant(runs, "R2").secret_code, run3, "DNI")


def test_the_chief_records_and_undoes_it_on_the_console(client, auth, runs):
    login_judge(auth, runs, "J1")
    page = html.unescape(client.get(f"/chief/{runs.code}").get_data(as_text=True))
    assert "Attempts not taken" in page and "决赛 · 第3轮" in page
    answer = htmx_post(
        client,
        f"/chief/{runs.code}/attempts",
        {"code": entrant(runs, "R1").secret_code, "attempt": criterion(runs, "final.run3").id, "reason": "DNI"},
    )
    body = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 200 and "The attempt is recorded as not taken." in body
    skipped = db.session.scalar(sa.select(NotTaken))
    assert skipped.reason == "DNI" and "Attempt not taken" in body
    refused = htmx_post(
        client,
        f"/chief/{runs.code}/attempts",
        {"code": entrant(runs, "R2").secret_code, "attempt": criterion(runs, "final.run3").id, "reason": "DNI"},
    )
    assert "a marked attempt was taken" in html.unescape(refused.get_data(as_text=True))
    undone = htmx_post(client, f"/chief/{runs.code}/attempts/{skipped.id}/undo")
    assert "The attempt is due again." in html.unescape(undone.get_data(as_text=True))
    assert db.session.scalar(sa.select(sa.func.count(NotTaken.id))) == 0


def test_another_judge_cannot_record_it(client, auth, runs):
    login_judge(auth, runs, "J2")
    answer = htmx_post(
        client,
        f"/chief/{runs.code}/attempts",
        {"code": entrant(runs, "R1").secret_code, "attempt": criterion(runs, "final.run3").id, "reason": "DNI"},
    )
    assert answer.status_code == 403 and db.session.scalar(sa.select(sa.func.count(NotTaken.id))) == 0


def test_the_judge_sees_the_run_not_taken_and_can_sign_without_it(client, auth, runs):
    rider = entrant(runs, "R1")
    attempts.record(runs, judge(runs, "J1"), rider.secret_code, criterion(runs, "final.run3").id, "DNI")
    login_judge(auth, runs, "J2")
    sheet = html.unescape(client.get(f"/judge/{runs.code}/sheet/{rider.secret_code}").get_data(as_text=True))
    assert "Not taken: the entrant did not improve on this attempt (DNI)." in sheet
    # The judge's tally leaves the run out: best run 90 of 100, the sheet complete, the sign button live.
    button = re.search(r'<button[^>]*id="sign-sheet"[^>]*>', sheet).group(0)
    assert "disabled" not in button
    mine = judge_tally_of(runs, "J2", rider)
    assert mine.complete and mine.points == 90 and mine.maximum == 100
    assert mine.in_points and mine.total == 90  # the rules total raw points: the tally says so, not "/ 100" of a mean
    assert "/ 100" in sheet and "/ 300" not in sheet
    home = html.unescape(client.get(f"/judge/{runs.code}").get_data(as_text=True))
    assert "2/2" in home.replace(" ", "")
    signed = htmx_post(client, f"/judge/{runs.code}/sheet/{rider.secret_code}/sign")
    assert signed.status_code in (200, 302)
    from comp.models import SheetSignoff

    assert db.session.scalar(sa.select(sa.func.count(SheetSignoff.id)).where(SheetSignoff.entrant_id == rider.id)) == 1
