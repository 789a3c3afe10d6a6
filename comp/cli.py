"""Command-line interface: `flask --app wsgi user|demo|competition ...`."""
from __future__ import annotations

import json
import sys
from functools import wraps

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale

from comp.services import ServiceError

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
@click.option("--role", type=click.Choice(["admin", "organizer", "judge", "worker"]), required=True)
@click.option("--password", help="Password; a random one is generated and printed when left out.")
@click.option("--display-name", help="Name shown in the app (default: NAME).")
@in_default_language
def user_create(name: str, role: str, password: str | None, display_name: str | None) -> None:
    """Create a user account."""
    import secrets

    from comp.services import accounts
    generated = not password  # an empty --password "" is no password: generate and print one
    password = password or secrets.token_urlsafe(12)
    try:
        accounts.create_user(name, role, password, display_name=display_name or name)
    except ServiceError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"created {role} {name}" + (f" with password {password}" if generated else ""))


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
        click.echo(f"{file}: {len(error.problems)} problem(s); nothing was imported", err=True)
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
        click.echo(f"{rank:>4}  {row['ref']:<10} {row['name']:<12} {row['total'] or '-':>7}  "
                   f"{row['award'] or ''}  {row['status']}")


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
    from comp.services import lifecycle
    competition = _competition_or_exit(code)
    try:
        lifecycle.publish(competition, actor=None)
    except ServiceError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{competition.code} published; notice period ends {lifecycle.notice_ends(competition):%Y-%m-%d}")


def init_app(app: Flask) -> None:
    """Register the command groups."""
    for command in (user_cli, competition_cli, demo, certificate_cli):
        app.cli.add_command(command)


# ---- certificates ----

certificate_cli = AppGroup("certificate", help="Issue certificates and write their PDFs.")


@certificate_cli.command("issue")
@click.argument("code")
@click.option("--now", is_flag=True, help="Issue before the notice period ends (recorded in the audit trail).")
@in_default_language
def certificate_issue(code: str, now: bool) -> None:
    """Issue a certificate to every awarded entrant; print number, entrant ref and code of each new one."""
    from comp.services import certificates
    try:
        new = certificates.issue(_competition_or_exit(code), actor=None, now=now)
    except ServiceError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    for certificate in new:
        click.echo(f"{certificate.number}\t{certificate.entrant.ref}\t{certificate.verify_code}")


@certificate_cli.command("pdf")
@click.argument("number")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The PDF file to write.")
@in_default_language
def certificate_pdf(number: str, out: str) -> None:
    """Write one certificate's PDF."""
    from comp.services import certificates
    certificate = certificates.get(number)
    if certificate is None:
        raise click.ClickException(f"no certificate with number {number!r}")
    with open(out, "wb") as file:
        file.write(certificates.pdf(certificate))
    click.echo(f"wrote {out}")
