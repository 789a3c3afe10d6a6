"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from comp import create_app

app = create_app()
