"""`flask user create`: accounts from the command line."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext

from comp.extensions import db
from comp.models import User
from tests.conftest import csrf_token


def _login(app, username: str, password: str):
    client = app.test_client()
    token = csrf_token(client, "/login")
    data = {"username": username, "password": password, "csrf_token": token}
    return client, client.post("/login", data=data)


def _users() -> list[tuple[str, str]]:
    db.session.expire_all()
    return [tuple(r) for r in db.session.execute(sa.select(User.username, User.role).order_by(User.id))]


@pytest.mark.parametrize("role, home", [
    ("admin", "Competitions"), ("organizer", "Competitions"), ("judge", "My assignments"), ("worker", "My entries"),
])
def test_created_user_can_log_in(app, runner, role, home):
    result = runner.invoke(args=["user", "create", "chen", "--role", role, "--password", "s3cret pass"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"created {role} chen"
    assert "s3cret" not in result.output
    assert _users() == [("chen", role)]
    client, response = _login(app, "chen", "s3cret pass")
    assert response.status_code == 302
    with force_locale("zh"):
        heading = f"<h1>{gettext(home)}</h1>"
    assert heading in client.get("/").get_data(as_text=True)
    assert _login(app, "chen", "another pass")[1].status_code == 401


def test_display_name(runner):
    result = runner.invoke(args=["user", "create", "wang", "--role", "judge", "--password", "p",
                                 "--display-name", "王裁判"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.display_name).where(User.username == "wang")) == "王裁判"


def test_generated_password_is_printed_and_works(app, runner):
    result = runner.invoke(args=["user", "create", "lin", "--role", "organizer"])
    assert result.exit_code == 0, result.output
    match = re.fullmatch(r"created organizer lin with password (\S+)\n", result.output)
    assert match, result.output
    password = match.group(1)
    assert len(password) >= 12
    assert _login(app, "lin", password)[1].status_code == 302


def test_generated_passwords_differ(runner):
    outputs = [runner.invoke(args=["user", "create", name, "--role", "worker"]).output
               for name in ("a1", "a2")]
    assert outputs[0].split()[-1] != outputs[1].split()[-1]


@pytest.mark.parametrize("args", [
    ["user", "create", "x", "--role", "superuser", "--password", "p"],
    ["user", "create", "x", "--role", "Admin", "--password", "p"],
    ["user", "create", "x", "--password", "p"],  # no role
    ["user", "create", "--role", "admin", "--password", "p"],  # no name
])
def test_bad_arguments_are_refused_by_click(runner, args):
    result = runner.invoke(args=args)
    assert result.exit_code == 2, result.output
    assert "Error" in result.output
    assert _users() == []


@pytest.mark.parametrize("second", ["chen", "Chen", "CHEN"])
def test_duplicate_name_is_refused(runner, make_user, second):
    make_user("chen", "worker")
    result = runner.invoke(args=["user", "create", second, "--role", "admin", "--password", "p"])
    assert result.exit_code == 1
    assert f"用户名“{second}”已被使用" in result.output  # the CLI speaks the default language
    assert "Traceback" not in result.output
    assert _users() == [("chen", "worker")]


def test_too_long_a_name_is_refused(runner):
    result = runner.invoke(args=["user", "create", "x" * 65, "--role", "worker", "--password", "p"])
    assert result.exit_code == 1
    assert "用户名长度应为 1 至 64 个字符" in result.output
    assert _users() == []


def test_surrounding_spaces_are_dropped(app, runner):
    result = runner.invoke(args=["user", "create", "  zhou ", "--role", "worker", "--password", "pw 12345"])
    assert result.exit_code == 0, result.output
    assert _users() == [("zhou", "worker")]
    assert _login(app, "zhou", "pw 12345")[1].status_code == 302


@pytest.mark.parametrize("name", ["", "   "])
def test_blank_name_is_refused(runner, name):
    result = runner.invoke(args=["user", "create", name, "--role", "worker", "--password", "p"])
    assert result.exit_code == 1
    assert "用户名长度应为 1 至 64 个字符" in result.output
    assert _users() == []
