"""Fixtures of the judging day: a running competition, its judges logged in, score-sheet requests."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import Competition, Criterion, Entrant, Mark, Stage, User
from comp.services.exchange import judge_username
from tests.conftest import PASSWORD, csrf_token


def judge_of(competition: Competition, ref: str) -> User:
    """Return the account of an imported judge (J1, J2, J3)."""
    return db.session.scalar(sa.select(User).where(User.username == judge_username(competition.code, ref)))


def entrant_of(competition: Competition, ref: str) -> Entrant:
    """Return the entrant with this ref (E1, E2)."""
    return db.session.scalar(sa.select(Entrant).where(Entrant.competition_id == competition.id, Entrant.ref == ref))


def criterion_of(competition: Competition, path: str) -> Criterion:
    """Return the criterion "stage.key"."""
    stage, key = path.split(".")
    return db.session.scalar(
        sa.select(Criterion)
        .join(Stage)
        .where(Stage.competition_id == competition.id, Stage.key == stage, Criterion.key == key)
    )


def mark_of(judge: User, entrant: Entrant, criterion: Criterion) -> Mark | None:
    """Return the judge's mark as the database holds it now."""
    db.session.expire_all()
    return db.session.scalar(
        sa.select(Mark).where(
            Mark.judge_id == judge.id, Mark.entrant_id == entrant.id, Mark.criterion_id == criterion.id
        )
    )


def drop_marks(judge: User, entrant: Entrant) -> None:
    """Delete the judge's marks for the entrant, as if the sheet were still blank."""
    db.session.execute(sa.delete(Mark).where(Mark.judge_id == judge.id, Mark.entrant_id == entrant.id))
    db.session.commit()


@pytest.fixture()
def running(make_competition) -> Competition:
    """Return the small imported competition, running (J2 marks route and safety)."""
    return make_competition(status="running")


class Tablet:
    """A judge's tablet: a logged-in client that speaks htmx to the score sheet."""

    def __init__(self, client, competition: Competition, judge: User):
        self.client, self.competition, self.judge = client, competition, judge
        self.token = csrf_token(client, f"/judge/{competition.code}")

    def url(self, entrant: Entrant, tail: str = "") -> str:
        """Return the sheet's URL (plus a tail such as "/tally")."""
        return f"/judge/{self.competition.code}/sheet/{entrant.secret_code}{tail}"

    def get(self, path: str, htmx: bool = True):
        """GET a page, or its fragment when `htmx`."""
        return self.client.get(path, headers={"HX-Request": "true"} if htmx else {})

    def post(self, path: str, data: dict | None = None, htmx: bool = True, session: str = "tablet-a"):
        """POST with the CSRF header the page's hx-headers sends, and the tablet's session id."""
        headers = {"X-CSRFToken": self.token, "X-Tablet-Session": session}
        if htmx:
            headers["HX-Request"] = "true"
        return self.client.post(path, data=data or {}, headers=headers)

    def mark(self, entrant: Entrant, criterion: Criterion, value: str, version: int, **kwargs):
        """Save one mark as the score sheet does."""
        return self.post(
            self.url(entrant, f"/mark/{criterion.id}"), {"value": value, "version": str(version)}, **kwargs
        )


@pytest.fixture()
def tablet(client, auth):
    """Return a factory logging a competition's judge in (English pages) and returning their Tablet."""

    def login(competition: Competition, ref: str = "J2") -> Tablet:
        judge = judge_of(competition, ref)
        judge.set_password(PASSWORD)
        judge.locale = "en"
        db.session.commit()
        assert auth.login(judge.username).status_code == 302
        return Tablet(client, competition, judge)

    return login
