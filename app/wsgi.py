"""WSGI entry point: ``gunicorn -c gunicorn.conf.py app.wsgi:server``.

Under gunicorn the app is never in local mode: sign-in is required, and the app
refuses to start when no one could sign in.
"""

from app import create_app
from app.logging_setup import configure_logging
from db.config import get_config

configure_logging(get_config().icp_log_level)
app = create_app()
server = app.server
