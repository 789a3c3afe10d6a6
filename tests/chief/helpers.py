"""Helpers shared by the chief console and public page tests: judges, marks, sign-offs."""

from __future__ import annotations

from decimal import Decimal

import flask_babel
import sqlalchemy as sa

from comp.extensions import db
from comp.models import Criterion, Entrant, JudgeAssignment, Mark, SheetSignoff, Stage, User
from comp.services.exchange import judge_username
from comp.services.setup import lifecycle
from tests.conftest import PASSWORD


def judge(competition, ref: str) -> User:
    """Return the user account of the competition's judge with this ref."""
    return db.session.scalar(sa.select(User).where(User.username == judge_username(competition.code, ref)))


def login_judge(auth, competition, ref: str, locale: str = "en") -> User:
    """Give an imported judge a password and a language, and log the client in as them."""
    user = judge(competition, ref)
    user.set_password(PASSWORD)
    user.locale = locale
    db.session.commit()
    assert auth.login(user.username).status_code == 302
    flask_babel.refresh()
    return user


def entrant(competition, ref: str) -> Entrant:
    """Return the entrant with this ref."""
    return db.session.scalar(sa.select(Entrant).where(Entrant.competition_id == competition.id, Entrant.ref == ref))


def criterion(competition, path: str) -> Criterion:
    """Return the criterion with this "stage.criterion" key."""
    stage_key, key = path.split(".")
    return db.session.scalar(
        sa.select(Criterion)
        .join(Stage)
        .where(Stage.competition_id == competition.id, Stage.key == stage_key, Criterion.key == key)
    )


def mark(competition, entrant_ref: str, judge_ref: str, path: str) -> Mark | None:
    """Return one mark, if given."""
    return db.session.scalar(
        sa.select(Mark).where(
            Mark.entrant_id == entrant(competition, entrant_ref).id,
            Mark.judge_id == judge(competition, judge_ref).id,
            Mark.criterion_id == criterion(competition, path).id,
        )
    )


def set_mark(competition, entrant_ref: str, judge_ref: str, path: str, value: str | None) -> None:
    """Change, add or (with None) delete a mark behind the judges' backs, and bump the version."""
    found = mark(competition, entrant_ref, judge_ref, path)
    if value is None:
        db.session.delete(found)
    elif found is None:
        db.session.add(
            Mark(
                competition_id=competition.id,
                entrant_id=entrant(competition, entrant_ref).id,
                judge_id=judge(competition, judge_ref).id,
                criterion_id=criterion(competition, path).id,
                value_cents=int(Decimal(value) * 100),
            )
        )
    else:
        found.value_cents = int(Decimal(value) * 100)
        found.version += 1
    lifecycle.touch(competition)
    db.session.commit()


def sign(competition, entrant_ref: str, *judge_refs: str) -> None:
    """Sign the judges' sheets of one entrant."""
    for ref in judge_refs:
        db.session.add(
            SheetSignoff(entrant_id=entrant(competition, entrant_ref).id, judge_id=judge(competition, ref).id)
        )
    db.session.commit()


def signed(competition, entrant_ref: str) -> set[str]:
    """Return the refs of the judges who signed the entrant's sheet."""
    refs = dict(
        db.session.execute(
            sa.select(JudgeAssignment.user_id, JudgeAssignment.ref).where(
                JudgeAssignment.competition_id == competition.id
            )
        ).all()
    )
    return {
        refs[j]
        for j in db.session.scalars(
            sa.select(SheetSignoff.judge_id).where(SheetSignoff.entrant_id == entrant(competition, entrant_ref).id)
        )
    }


def htmx_post(client, url: str, data: dict | None = None):
    """Post as htmx does: the CSRF token in the header the page's body carries."""
    from tests.conftest import csrf_token

    token = csrf_token(client, "/")
    return client.post(url, data=data or {}, headers={"HX-Request": "true", "X-CSRFToken": token})
