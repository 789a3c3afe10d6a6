"""Jiangxin (匠心): the application factory. It only wires; behaviour lives in services."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from comp import config as settings
from comp.extensions import babel, csrf, db, htmx, limiter, login, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Create the Flask app; `config` overrides the settings read from the environment."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"), instance_path=str(ROOT / "instance"))
    app.config.update(settings.BASE)
    app.config.update(config if config and config.get("TESTING") else settings.from_environment())
    if config:
        app.config.update(config)
    from comp import metrics

    metrics.init_app(app)  # first: its timing wraps every other request hook
    _init_extensions(app)
    from comp.converters import BoundedIntegerConverter

    app.url_map.converters["int"] = BoundedIntegerConverter  # before any rule is added: every <int:…> is bounded
    _register_blueprints(app)
    from comp import cli, jobs, web

    web.init_app(app)
    cli.init_app(app)
    jobs.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    """Bind every extension to the app."""
    from comp import database, i18n

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = database.engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})
    )
    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    login.init_app(app)
    htmx.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    limiter.init_app(app)


def _register_blueprints(app: Flask) -> None:
    """Mount every blueprint."""
    from comp.blueprints import (
        accounts,
        api,
        auth,
        certs,
        chief,
        exams,
        hall,
        judging,
        main,
        people,
        public,
        registration,
        results,
        setup,
        units,
    )

    for module in (
        auth,
        main,
        setup,
        registration,
        hall,
        judging,
        chief,
        exams,
        public,
        results,
        certs,
        units,
        people,
        accounts,
        api,
    ):
        app.register_blueprint(module.bp)
    csrf.exempt(api.bp)
