"""Gunicorn settings for ICP Lens: ``gunicorn -c gunicorn.conf.py app.wsgi:server``.

Values come from ICP_* environment variables (db/config.py). The app is loaded
once in the master (preload: a startup refusal stops gunicorn at once, and
workers share the loaded code); database connections are never shared across
fork: each worker drops any engine inherited from the master in ``post_fork``.
"""

from app.logging_setup import gunicorn_logconfig
from db.config import get_config

_cfg = get_config()

bind = _cfg.icp_bind
workers = _cfg.icp_workers
# Threads let one worker answer the page's parallel callbacks while one waits on Postgres.
worker_class = "gthread"
threads = _cfg.icp_threads
timeout = _cfg.icp_timeout
graceful_timeout = 30
# Longer than a load balancer's idle timeout (60 s on most), so the balancer, not gunicorn,
# closes idle connections: otherwise a request can race a connection being closed.
keepalive = 75
preload_app = True
# Recycle workers now and then so a slow leak in a dependency cannot grow forever.
max_requests = 2000
max_requests_jitter = 200
forwarded_allow_ips = "*" if _cfg.icp_proxy_count else "127.0.0.1"
logconfig_dict = gunicorn_logconfig(_cfg.icp_log_level)
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
accesslog = "-"


def post_fork(server, worker):
    """Each worker opens its own database connections, never the master's."""
    from db.engine import dispose_engines

    dispose_engines()


def post_worker_init(worker):
    """Warm the landing page's views in the background (app/views/warm.py), so the first
    visitor after a (re)start is served from the cache, and follow the data version: when
    any process commits a new one (an import job, another worker), this worker builds
    its context of it and warms at once, not on its next request. Every worker starts
    both; the cache's single flight computes each view once. Not in the master: polars'
    thread pool does not survive a fork."""
    from app.views.context import warehouse_context
    from app.views.warm import follow_data_versions, warm_in_background

    warm_in_background(warehouse_context, worker.wsgi.app_context)
    follow_data_versions(worker.wsgi.app_context)
