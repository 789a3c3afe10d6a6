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


@pytest.mark.parametrize(
    "role, home",
    [
        ("admin", "Competitions"),
        ("organizer", "Competitions"),
        ("judge", "My assignments"),
        ("worker", "My entries"),
    ],
)
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
    result = runner.invoke(
        args=["user", "create", "wang", "--role", "judge", "--password", "a long pass 42", "--display-name", "王裁判"]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.display_name).where(User.username == "wang")) == "王裁判"


def _activate(app, output: str, password: str):
    """Open the printed activation link and set the password through its form."""
    match = re.search(r"activation link \(valid 72 hours, once\): http://testserver(/activate/\S+)\n", output)
    assert match, output
    client = app.test_client()
    path = match.group(1)
    token = csrf_token(client, path)
    return client.post(path, data={"password": password, "repeat": password, "csrf_token": token})


def test_without_a_password_an_activation_link_is_printed(app, runner):
    """No password is made up and shown: the person sets their own through a one-time link."""
    result = runner.invoke(args=["user", "create", "lin", "--role", "organizer"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("created organizer lin; activation link")
    assert _login(app, "lin", "")[1].status_code == 401
    assert _activate(app, result.output, "a sentence of my own").status_code == 302
    assert _login(app, "lin", "a sentence of my own")[1].status_code == 302
    assert _activate(app, result.output, "a second try at it").status_code == 404  # used once


def test_links_differ(runner):
    outputs = [runner.invoke(args=["user", "create", name, "--role", "worker"]).output for name in ("a1", "a2")]
    assert outputs[0].split()[-1] != outputs[1].split()[-1]


@pytest.mark.parametrize(
    "password, problem",
    [
        ("short1", "至少使用 10 个字符"),
        ("1234567890", "常用密码"),
        ("qwertyuiop", "常用密码"),
        ("chen-chen-chen", "不得包含用户名"),
        ("aaaaaaaaaaaa", "过于简单"),
    ],
)
def test_the_password_policy_applies_on_the_command_line(runner, password, problem):
    result = runner.invoke(args=["user", "create", "chen", "--role", "admin", "--password", password])
    assert result.exit_code == 1
    assert problem in result.output, result.output
    assert _users() == []


def test_a_liaison_needs_an_enterprise(runner, tree):
    result = runner.invoke(args=["user", "create", "li", "--role", "liaison", "--password", "a long pass 42"])
    assert result.exit_code == 1 and "--unit" in result.output
    result = runner.invoke(
        args=["user", "create", "li", "--role", "liaison", "--password", "a long pass 42", "--unit", tree.jinjiang.name]
    )
    assert result.exit_code == 1 and "not an enterprise" in result.output
    result = runner.invoke(
        args=["user", "create", "li", "--role", "liaison", "--password", "a long pass 42", "--unit", tree.aviation.name]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.org_unit_id).where(User.username == "li")) == tree.aviation.id


def test_set_password_and_link(app, runner, make_user):
    make_user("chen", "organizer")
    client, response = _login(app, "chen", "correct horse 42")
    assert response.status_code == 302
    result = runner.invoke(args=["user", "set-password", "chen"], input="short\nshort\n")
    assert result.exit_code == 1 and "至少使用 10 个字符" in result.output
    result = runner.invoke(args=["user", "set-password", "chen"], input="a new long secret\na new long secret\n")
    assert result.exit_code == 0, result.output
    assert client.get("/").status_code == 302  # the old session ended with the old password
    assert _login(app, "chen", "a new long secret")[1].status_code == 302
    result = runner.invoke(args=["user", "link", "chen"])
    assert result.exit_code == 0 and "/activate/" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["user", "create", "x", "--role", "superuser", "--password", "p"],
        ["user", "create", "x", "--role", "Admin", "--password", "p"],
        ["user", "create", "x", "--password", "p"],  # no role
        ["user", "create", "--role", "admin", "--password", "p"],  # no name
    ],
)
def test_bad_arguments_are_refused_by_click(runner, args):
    result = runner.invoke(args=args)
    assert result.exit_code == 2, result.output
    assert "Error" in result.output
    assert _users() == []


@pytest.mark.parametrize("second", ["chen", "Chen", "CHEN"])
def test_duplicate_name_is_refused(runner, make_user, second):
    make_user("chen", "worker")
    result = runner.invoke(args=["user", "create", second, "--role", "admin", "--password", "a long pass 42"])
    assert result.exit_code == 1
    assert f"用户名“{second}”已被使用" in result.output  # the CLI speaks the default language
    assert "Traceback" not in result.output
    assert _users() == [("chen", "worker")]


def test_too_long_a_name_is_refused(runner):
    result = runner.invoke(args=["user", "create", "x" * 65, "--role", "worker", "--password", "a long pass 42"])
    assert result.exit_code == 1
    assert "用户名长度应为 1 至 64 个字符" in result.output
    assert _users() == []


def test_surrounding_spaces_are_dropped(app, runner):
    result = runner.invoke(args=["user", "create", "  zhou ", "--role", "worker", "--password", "pw 12345 abc"])
    assert result.exit_code == 0, result.output
    assert _users() == [("zhou", "worker")]
    assert _login(app, "zhou", "pw 12345 abc")[1].status_code == 302


@pytest.mark.parametrize("name", ["", "   "])
def test_blank_name_is_refused(runner, name):
    result = runner.invoke(args=["user", "create", name, "--role", "worker", "--password", "a long pass 42"])
    assert result.exit_code == 1
    assert "用户名长度应为 1 至 64 个字符" in result.output
    assert _users() == []
