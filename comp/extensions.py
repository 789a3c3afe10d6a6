"""Flask extensions, created unbound and initialised in the factory."""

from typing import TYPE_CHECKING

from flask_babel import Babel
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base with naming conventions so migrations name every constraint."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
if TYPE_CHECKING:
    # Flask-SQLAlchemy builds db.Model at run time from Base's body, which a type checker cannot follow
    # (an attribute is no base class to it); to the checker the models are what that class is: a Base.
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
csrf = CSRFProtect()
login = LoginManager()
htmx = HTMX()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
