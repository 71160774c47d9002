"""WSGI entry point: ``gunicorn -c gunicorn.conf.py app.wsgi:server``.

Under gunicorn the app is never in local mode: sign-in is required, and the app
refuses to start when no one could sign in.
"""

import dash

from app import create_app
from app.logging_setup import configure_logging
from db.config import get_config


def register_component_scripts(dash_app: dash.Dash) -> None:
    """Render the index page once so Dash registers every component script path.

    Dash registers those paths only while rendering the index, per process; a
    worker that had not yet served the index answered 500 to the script requests
    a page served by another worker made. Done before fork (preload), every worker
    inherits them.
    """
    with dash_app.server.test_request_context("/"):
        dash_app.index()


configure_logging(get_config().icp_log_level)
app = create_app()
register_component_scripts(app)
server = app.server
