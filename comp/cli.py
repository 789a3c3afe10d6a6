"""Command-line interface: `flask --app wsgi user|demo|competition ...`."""

from __future__ import annotations

import json
import sys
from functools import wraps

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale, ngettext

from comp.extensions import db
from comp.services import ServiceError
from comp.services.common import audit

user_cli = AppGroup("user", help="Manage user accounts.")
competition_cli = AppGroup("competition", help="Import, export, score and publish competitions.")


def in_default_language(command):
    """Run a command in the configured default language: there is no request to choose one from."""

    @wraps(command)
    def wrapped(*args, **kwargs):
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            return command(*args, **kwargs)

    return wrapped


@user_cli.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "organizer", "liaison", "judge", "worker"]), required=True)
@click.option("--password", help="Password (the policy applies); left out, an activation link is printed instead.")
@click.option("--display-name", help="Name shown in the app (default: NAME).")
@click.option("--unit", help="The union or enterprise (name or code) the account belongs to; a liaison needs one.")
@in_default_language
def user_create(name: str, role: str, password: str | None, display_name: str | None, unit: str | None) -> None:
    """Create a user account."""
    from comp.services import accounts, transaction
    from comp.services.accounts import links

    with_link = not password  # an empty --password "" is no password: the person sets one through the link
    try:
        org = _unit_or_exit(unit, role)
        with transaction():
            user = accounts.new_user(
                name, role, password or None, display_name=display_name or name, org_unit_id=org.id if org else None
            )
            db.session.flush()
            audit.record(
                "account.created",
                None,
                None,
                user,
                username=user.username,
                role=role,
                by="cli",
                unit=org.id if org else None,
            )
            link = links.issue(user, "activate", None) if with_link else None
    except ServiceError as error:
        raise click.ClickException(str(error)) from None
    if link is None:
        click.echo(f"created {role} {user.username}")
        return
    click.echo(f"created {role} {user.username}; activation link (valid 72 hours, once): {links.url(link)}")


def _unit_or_exit(unit: str | None, role: str):
    """Return the org unit named by name or code; a liaison must name an enterprise."""
    import sqlalchemy as sa

    from comp.models import OrgUnit

    if not unit:
        if role == "liaison":
            raise click.ClickException("a liaison belongs to an enterprise: give --unit")
        return None
    found = db.session.scalars(sa.select(OrgUnit).where(sa.or_(OrgUnit.name == unit, OrgUnit.code == unit))).all()
    if len(found) != 1:
        raise click.ClickException(f"no single union or enterprise is named {unit!r}")
    if role == "liaison" and found[0].kind != "enterprise":
        raise click.ClickException(f"{unit!r} is not an enterprise: a liaison belongs to an enterprise")
    return found[0]


def _user_or_exit(name: str):
    from comp.services import accounts

    user = accounts.find_user(name)
    if user is None:
        raise click.ClickException(f"no account named {name!r}")
    return user


@user_cli.command("link")
@click.argument("name")
@in_default_language
def user_link(name: str) -> None:
    """Print a new one-time link to set the account's password (the old password stays until it is used)."""
    from comp.services import transaction
    from comp.services.accounts import links

    user = _user_or_exit(name)
    with transaction():
        link = links.issue(user, "reset" if user.has_password else "activate", None)
    click.echo(f"{user.username}: link (valid 72 hours, once): {links.url(link)}")


@user_cli.command("set-password")
@click.argument("name")
@click.password_option("--password", prompt="New password", help="The new password (asked for when left out).")
@in_default_language
def user_set_password(name: str, password: str) -> None:
    """Set an account's password (the policy applies); every session of the account ends."""
    from comp.services import accounts

    user = _user_or_exit(name)
    try:
        accounts.set_password(user, password)
    except ServiceError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"password of {user.username} changed; its sessions are ended")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Load only when the database has no users yet.")
def demo(if_empty: bool) -> None:
    """Load the Quanzhou demo data (running it twice changes nothing)."""
    from comp import demo as demo_data

    if if_empty and not demo_data.database_is_empty():
        click.echo("database already has data; demo not loaded")
        return
    for line in demo_data.load():
        click.echo(line)


@competition_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@in_default_language
def competition_import(file: str) -> None:
    """Load a competition in the exchange format and print its code."""
    from comp.services import exchange

    try:
        data = exchange.read_file(file)
        competition = exchange.import_competition(data)
    except exchange.ExchangeError as error:
        for path, message in error.problems:
            click.echo(f"{path}: {message}" if path else message, err=True)
        count = len(error.problems)
        click.echo(
            ngettext(
                "%(file)s: %(num)d problem; nothing was imported",
                "%(file)s: %(num)d problems; nothing was imported",
                count,
                file=file,
            ),
            err=True,
        )
        sys.exit(1)
    click.echo(competition.code)


def _competition_or_exit(code: str):
    from comp.services import results

    competition = results.get_competition(code)
    if competition is None:
        raise click.ClickException(f"no competition with code {code!r}")
    return competition


@competition_cli.command("results")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print the results document as JSON.")
@in_default_language
def competition_results(code: str, as_json: bool) -> None:
    """Print a competition's results."""
    from comp.services import results

    doc = results.document(_competition_or_exit(code))
    if as_json:
        click.echo(json.dumps(doc, ensure_ascii=False, indent=1))
        return
    for row in doc["results"]:
        rank = row["rank"] if row["rank"] is not None else "-"
        click.echo(
            f"{rank:>4}  {row['ref']:<10} {row['name']:<12} {row['total'] or '-':>7}  "
            f"{row['award'] or ''}  {row['status']}"
        )


@competition_cli.command("export")
@click.argument("code")
@in_default_language
def competition_export(code: str) -> None:
    """Print a competition in the exchange format."""
    from comp.services import exchange

    click.echo(json.dumps(exchange.export_competition(_competition_or_exit(code)), ensure_ascii=False, indent=1))


@competition_cli.command("publish")
@click.argument("code")
@in_default_language
def competition_publish(code: str) -> None:
    """Publish a locked competition's results."""
    from comp.services.setup import lifecycle

    competition = _competition_or_exit(code)
    try:
        lifecycle.publish(competition, actor=None)
    except ServiceError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{competition.code} published; notice period ends {lifecycle.notice_ends(competition):%Y-%m-%d}")


exams_cli = AppGroup("exams", help="Theory exams: finish the sittings whose time is up.")


@exams_cli.command("sweep")
@click.argument("code", required=False)
@in_default_language
def exams_sweep(code: str | None) -> None:
    """Finish and grade every sitting past its deadline (of the exam with this code, or of every open exam).

    The candidate's page and the proctor's finish an overdue sitting when they see it; this catches the
    ones nobody looks at again (a phone switched off mid-exam). Run it from cron every minute or so.
    """
    import sqlalchemy as sa

    from comp.models import Exam
    from comp.services.exams import grading

    query = sa.select(Exam).where(Exam.status != "draft").order_by(Exam.id)
    if code:
        query = query.where(Exam.code == code.upper())
    exams = db.session.scalars(query).all()
    if code and not exams:
        raise click.ClickException(f"no exam with code {code}")
    for exam in exams:
        try:
            finished = grading.sweep(exam)
        except ServiceError as error:
            click.echo(f"{exam.code}: {error}", err=True)
            continue
        if finished or code:
            click.echo(f"{exam.code}: {finished} sitting(s) finished by time")


def init_app(app: Flask) -> None:
    """Register the command groups."""
    for command in (user_cli, competition_cli, demo, certificate_cli, backup, restore, exams_cli):
        app.cli.add_command(command)


# ---- backups ----


@click.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True), help="The backup file.")
@click.option("--checksums", is_flag=True, help="Also record a SHA-256 of every table (slower; restore checks them).")
def backup(out: str, checksums: bool) -> None:
    """Back up the database and the certificate batch files into one file, while the app runs."""
    from pathlib import Path

    from comp.services import backup as backups

    try:
        manifest = backups.backup(Path(out), checksums=checksums)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    rows = sum(t["rows"] for t in manifest.tables.values())
    click.echo(
        f"{out}: {manifest.database} at revision {manifest.revision}, {len(manifest.tables)} tables, "
        f"{rows} rows, {len(manifest.files)} batch files"
    )


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
def restore(archive: str) -> None:
    """Restore a backup into an empty database and batch folder, then check every table against it."""
    from pathlib import Path

    from comp.services import backup as backups

    try:
        manifest = backups.restore(Path(archive))
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    rows = sum(t["rows"] for t in manifest.tables.values())
    click.echo(
        f"restored {archive} (taken {manifest.created_at}): {len(manifest.tables)} tables and {rows} rows "
        f"match the backup, {len(manifest.files)} batch files"
    )


# ---- certificates ----

certificate_cli = AppGroup("certificate", help="Issue certificates and write their PDFs.")


@certificate_cli.command("issue")
@click.argument("code")
@click.option("--now", is_flag=True, help="Issue before the notice period ends (recorded in the audit trail).")
@in_default_language
def certificate_issue(code: str, now: bool) -> None:
    """Issue a certificate to every awarded entrant; print number, entrant ref and code of each new one."""
    from comp.services import certs as certificates

    try:
        new = certificates.issue(_competition_or_exit(code), actor=None, now=now)
    except ServiceError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    for certificate in new:
        click.echo(f"{certificate.number}\t{certificate.entrant.ref}\t{certificate.verify_code}")


@certificate_cli.command("pdf")
@click.argument("number")
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, writable=True), help="The PDF file to write."
)
@in_default_language
def certificate_pdf(number: str, out: str) -> None:
    """Write one certificate's PDF."""
    from comp.services import certs as certificates

    certificate = certificates.get(number)
    if certificate is None:
        raise click.ClickException(f"no certificate with number {number!r}")
    with open(out, "wb") as file:
        file.write(certificates.pdf(certificate))
    click.echo(f"wrote {out}")
