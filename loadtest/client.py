"""A signed-in HTTP client, the way a browser signs in: fetch the form, post it with its CSRF token."""

from __future__ import annotations

import re

import requests

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
    form = http.get(base_url + "/login", timeout=10)
    token = csrf_token(form.text)
    resp = http.post(
        base_url + "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/"},
        allow_redirects=False,
        timeout=30,
    )
    return http, resp
