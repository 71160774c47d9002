"""A signed-in HTTP client, the way a browser signs in: fetch the form, post it with its CSRF token."""

from __future__ import annotations

import re

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of a server-rendered form; ValueError when the page has none."""
    match = _CSRF.search(html)
    if match is None:
        raise ValueError("no csrf_token field in the page")
    return match.group(1)


def sign_in(base_url: str, email: str, password: str) -> tuple[requests.Session, requests.Response]:
    """A session after posting the sign-in form, and the form's response (not followed)."""
    http = requests.Session()
    # As a browser does: a request sent on a kept-alive connection the server has just
    # closed (a gunicorn worker restarting after max_requests) is sent again once on a new
    # one. Only failures to get any answer are retried, never an HTTP status.
    again = Retry(total=1, connect=1, read=1, status=0, other=0, allowed_methods=None,
                  raise_on_status=False)
    http.mount("http://", HTTPAdapter(max_retries=again))
    form = http.get(base_url + "/login", timeout=10)
    token = csrf_token(form.text)
    resp = http.post(
        base_url + "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/"},
        allow_redirects=False,
        timeout=30,
    )
    return http, resp
