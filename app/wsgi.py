"""WSGI entry point: ``gunicorn app.wsgi:server``."""

from app import create_app

app = create_app()
server = app.server
