"""The ICP Lens Dash application.

Dash and Flask are imported by ``create_app``, not with the package: every ``icp``
command imports ``app``, and ``icp report`` or ``icp --help`` must not pay for Dash.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

# Every entry point (icp, app.wsgi, gunicorn.conf.py) imports this package before numpy.
# The metrics' matrix products are small: on 2 cores shared with polars and other
# workers, OpenBLAS threads wait on each other instead of helping (the CLV bootstrap
# took ~10x the CPU threaded under load). An operator's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

if TYPE_CHECKING:
    import dash

ASSETS = Path(__file__).resolve().parent.parent / "assets"
PAGES = Path(__file__).resolve().parent / "pages"


def create_app(
    host: str | None = None, port: int | None = None, *, warm_views: bool = False
) -> dash.Dash:
    """Build the Dash app (one per process: the pages registry is global).

    ``host`` is the address the app will be served on; it decides local mode
    (no sign-in, the local user is an admin) for 127.0.0.1 and localhost, where the
    app then answers only to those names with ``port``, the port it listens on. A
    served (non-local) app that no one could sign in to raises StartupRefused.
    ``warm_views``: compute the landing page's views in a background thread now, so
    the first visit is served from the cache (``icp serve``; gunicorn does it in each
    worker after the fork instead, as polars' threads do not survive one).
    """
    import dash
    from flask import Flask

    from app import api, auth, health, security, signin, view_api
    from app.cache import init_cache, share_view_cache
    from app.layout import shell

    server = Flask(__name__)
    local = host in auth.LOCAL_HOSTS
    security.configure(server, local, port)
    auth.install(server, local)
    health.register(server)
    signin.register(server)
    api.register(server)
    view_api.register(server)
    if not local:
        signin.require_sign_in_possible()
    init_cache(server)
    share_view_cache()
    app = dash.Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder=str(PAGES),
        assets_folder=str(ASSETS),
        title="ICP Lens",
        update_title=None,
        suppress_callback_exceptions=True,
        serve_locally=True,
        on_error=health.on_callback_error,
    )
    security.install(app)
    app.layout = shell
    if warm_views:
        from app.views.context import warehouse_context
        from app.views.warm import warm_in_background

        warm_in_background(warehouse_context, server.app_context)
    return app
