"""SPEC rule 10: before the lock, no judge response carries an entrant's name, employer or ID number."""

import sqlalchemy as sa

from comp.extensions import db
from comp.models import Entrant, JudgeConflict, OrgUnit
from tests.conftest import valid_id
from tests.judging.conftest import criterion_of, drop_marks, entrant_of


def _secrets(competition) -> list[str]:
    """Return every name, employer and ID number (full and masked) of the competition's entrants."""
    found = []
    for entrant in db.session.scalars(sa.select(Entrant).where(Entrant.competition_id == competition.id)):
        found.append(entrant.name)
        if entrant.employer_id:
            found.append(db.session.get(OrgUnit, entrant.employer_id).name)
        if entrant.worker is not None:
            found += [entrant.worker.name, entrant.worker.id_masked]
    return [s for s in found if s]


def _responses(t, running):
    """Call every judging endpoint in every state a judge can reach, and yield (label, response)."""
    e1, e2 = entrant_of(running, "E1"), entrant_of(running, "E2")
    route, safety = criterion_of(running, "practical.route"), criterion_of(running, "practical.safety")
    code = running.code
    yield "main home", t.client.get("/")
    yield "judge home", t.client.get(f"/judge/{code}")
    yield "search", t.get(f"/judge/{code}?q={e1.secret_code[:2]}")
    yield "search, nothing found", t.get(f"/judge/{code}?q=ZZZZZZZZ")
    yield "sheet", t.client.get(t.url(e1))
    yield "sheet fragment", t.get(t.url(e1))
    yield "tally", t.get(t.url(e1, "/tally"))
    yield "row", t.get(t.url(e1, f"/mark/{route.id}"))
    yield "saved", t.mark(e1, route, "37", 1)
    yield "refused", t.mark(e1, route, "<b>99</b>", 2)
    yield "stale", t.mark(e1, route, "38", 1)
    yield "forbidden criterion", t.mark(e1, criterion_of(running, "theory.exam"), "80", 0)
    yield "no page redirect", t.mark(e1, route, "38", 2, htmx=False)
    drop_marks(t.judge, e2)
    yield "sign refused", t.post(t.url(e2, "/sign"))
    yield "signed", t.post(t.url(e1, "/sign"))
    yield "signed sheet", t.client.get(t.url(e1))
    yield "save on a signed sheet", t.mark(e1, safety, "7", 1)
    db.session.add(JudgeConflict(judge_id=t.judge.id, entrant_id=e2.id, reason="同村"))
    db.session.commit()
    yield "recused sheet", t.client.get(t.url(e2))
    yield "recused save", t.mark(e2, route, "30", 0)
    yield "unknown code", t.client.get(f"/judge/{code}/sheet/NOPE")
    running.status = "closed"
    db.session.commit()
    yield "closed sheet", t.client.get(t.url(e1))
    yield "closed save", t.mark(e1, route, "30", 2)


def test_no_judge_response_names_an_entrant(running, tablet, make_worker):
    # Give E1 a worker record too, so a leak of the worker's name or masked ID would show.
    e1 = entrant_of(running, "E1")
    e1.worker = make_worker("郑秘密", valid_id(77))
    db.session.commit()
    secrets = _secrets(running)
    assert {"张三", "李四", "晋江无人机公司", "石狮无人机公司", "郑秘密"} <= set(secrets)
    t = tablet(running)
    statuses = {}
    for label, response in _responses(t, running):
        html = response.get_data(as_text=True)
        for secret in secrets:
            assert secret not in html, f"{label}: {secret!r} leaked"
        statuses[label] = response.status_code
    assert len(statuses) == 22
    assert statuses["sheet"] == statuses["saved"] == statuses["signed"] == 200
    assert statuses["recused sheet"] == statuses["forbidden criterion"] == 403


def test_id_numbers_never_reach_the_judge(running, tablet, make_worker):
    e1 = entrant_of(running, "E1")
    e1.worker = make_worker("郑秘密", valid_id(78))
    db.session.commit()
    t = tablet(running)
    for label, response in _responses(t, running):
        html = response.get_data(as_text=True)
        assert valid_id(78) not in html and valid_id(901) not in html and valid_id(902) not in html, label
