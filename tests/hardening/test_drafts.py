"""A draft is a missing competition for anyone who may not manage it: the same answer as an unknown code.

Every route with a competition code is walked for each kind of visitor who is not its organizer.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import User, Worker
from comp.services.exchange import judge_username
from tests.conftest import PASSWORD, csrf_token, valid_id
from tests.hardening.conftest import text

UNKNOWN = "T-2026-999"
FILLED = {
    "secret": "ABCDEF",
    "number": "QZ2026000001",
    "token": "x",
    "name": "entrants",
    "ext": "xlsx",
    "which": "entrants",
    "verdict": "approve",
}
VISITORS = ["anonymous", "worker", "liaison", "panel judge", "chief judge", "another judge", "county organizer"]


def _code_rules(app):
    return [rule for rule in app.url_map.iter_rules() if "code" in rule.arguments]


def _path(rule, code: str) -> str:
    values = {**FILLED, "code": code}
    return re.sub(r"<(?:[^<>:]*:)?([a-z_]+)>", lambda m: str(values.get(m[1], 1)), rule.rule)


def _answer(client, rule, code: str, token: str):
    path = _path(rule, code)
    if "GET" in rule.methods:
        return client.get(path)
    return client.post(path, data={"csrf_token": token})


def _judge(competition, ref: str) -> str:
    user = db.session.scalar(sa.select(User).where(User.username == judge_username(competition.code, ref)))
    user.set_password(PASSWORD)
    db.session.commit()
    return user.username


@pytest.fixture()
def draft(tree, make_competition):
    """Return a draft organized by the city union, with a judging panel (J1 its chief)."""
    competition = make_competition(status="draft", name="秘密草稿竞赛")
    assert competition.organizer_unit_id == tree.city.id
    return competition


def _log_in(visitor: str, auth, make_user, tree, draft, make_competition) -> None:
    if visitor == "anonymous":
        return
    if visitor == "worker":
        worker = Worker(name="王五", employer_id=tree.aviation.id)
        from comp.services import people

        people.set_id_number(worker, valid_id(77))
        db.session.add(worker)
        db.session.commit()
        username = make_user("wang", "worker", worker_id=worker.id).username
    elif visitor == "liaison":
        username = make_user("liaison", "liaison", org_unit_id=tree.aviation.id).username
    elif visitor == "panel judge":
        username = _judge(draft, "J2")
    elif visitor == "chief judge":
        username = _judge(draft, "J1")
    elif visitor == "another judge":
        username = _judge(make_competition(status="running"), "J2")
    else:
        username = make_user("jinjiang", "organizer", org_unit_id=tree.jinjiang.id).username
    assert auth.login(username).status_code == 302


@pytest.mark.parametrize("visitor", VISITORS)
def test_a_draft_answers_like_an_unknown_code(app, client, auth, make_user, tree, draft, make_competition, visitor):
    _log_in(visitor, auth, make_user, tree, draft, make_competition)
    token = csrf_token(client, "/") if visitor != "anonymous" else ""
    rules = _code_rules(app)
    assert len(rules) > 60  # the walk found the routes
    differ = []
    for rule in rules:
        unknown = _answer(client, rule, UNKNOWN, token)
        known = _answer(client, rule, draft.code, token)
        if known.status_code != unknown.status_code or draft.name in text(known):
            differ.append(
                f"{rule.rule} {sorted(rule.methods - {'HEAD', 'OPTIONS'})}: "
                f"draft {known.status_code}, unknown {unknown.status_code}"
            )
    assert not differ, "\n".join(differ)


def test_the_register_page_of_a_draft_is_not_found(client, auth, make_user, tree, draft, make_competition):
    _log_in("worker", auth, make_user, tree, draft, make_competition)
    response = client.get(f"/competitions/{draft.code}/register")
    assert response.status_code == 404
    assert draft.name not in text(response)


@pytest.mark.parametrize(
    "path, status",
    [("", 200), ("/edit", 200), ("/registrations", 200), ("/judges", 200), ("/results", 200), ("/details", 200)],
)
def test_the_organizer_still_sees_the_draft(client, auth, make_user, tree, draft, path, status):
    make_user("city", "organizer", org_unit_id=tree.city.id)
    auth.login("city")
    response = client.get(f"/competitions/{draft.code}{path}")
    assert response.status_code == status
    assert draft.name in text(response)


@pytest.mark.parametrize("path", ["/judge/{code}", "/chief/{code}"])
def test_the_panel_still_sees_a_competition_beyond_draft(client, auth, make_competition, tree, path):
    running = make_competition(status="running", name="正在进行的竞赛")
    auth.login(_judge(running, "J1"))
    response = client.get(path.format(code=running.code))
    assert response.status_code == 200
    assert running.name in text(response)


def test_the_judges_home_does_not_list_a_draft(client, auth, tree, draft):
    auth.login(_judge(draft, "J2"))
    response = client.get("/")
    assert response.status_code == 200
    assert draft.name not in text(response)
