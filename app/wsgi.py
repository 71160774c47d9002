"""WSGI entry point: ``gunicorn -c gunicorn.conf.py app.wsgi:server``.

Under gunicorn the app is never in local mode: sign-in is required, and the app
refuses to start when no one could sign in.
"""

import dash

from app import create_app
from app.logging_setup import configure_logging
from db.config import get_config
from db.engine import dispose_engines


def register_component_scripts(dash_app: dash.Dash) -> None:
    """Let Dash finish its setup and render the index once, before gunicorn forks.

    Dash imports the pages (and their inline clientside scripts) at its first
    request, and registers component script paths only while rendering the index,
    per process: a worker that had not yet served the index answered 500 to script
    requests for a page another worker served. Done here (preload), every worker
    inherits the finished state. /healthz is the one request sure to reach Dash's
    setup hook without a session.
    """
    dash_app.server.test_client().get("/healthz")
    with dash_app.server.test_request_context("/"):
        dash_app.index()


configure_logging(get_config().icp_log_level)
app = create_app()
register_component_scripts(app)
# The startup checks opened connections in this (master) process; workers open their own.
dispose_engines()
server = app.server
