"""Who is asking, and may they? Role checks used by every page and callback.

Roles, in increasing power: viewer (all dashboards), analyst (also thresholds
and the declared ICP), admin (also upload, rollback, users). In local mode (the
server bound to 127.0.0.1 or localhost) there is no sign-in and the local user
is an admin.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app, g
from werkzeug.exceptions import Forbidden

ROLE_RANK = {"viewer": 0, "analyst": 1, "admin": 2}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class User:
    """The person behind a request."""

    email: str
    role: str

    def can(self, role: str) -> bool:
        """True when this user has ``role`` or a more powerful one."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


LOCAL_ADMIN = User(email="local", role="admin")


def configure(server: Flask, host: str | None) -> None:
    """Record whether the app runs in local mode (loopback host)."""
    server.config["ICP_LOCAL_MODE"] = host is not None and host in LOCAL_HOSTS


def local_mode() -> bool:
    """True when the app serves only this machine and needs no sign-in."""
    return bool(current_app.config.get("ICP_LOCAL_MODE"))


def current_user() -> User | None:
    """The signed-in user of this request, the local admin in local mode, else None."""
    if local_mode():
        return LOCAL_ADMIN
    return g.get("icp_user")


def require_role(role: str) -> Callable[[F], F]:
    """Decorator for callbacks and routes: 403 unless the user has ``role``."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None or not user.can(role):
                raise Forbidden(f"requires the {role} role")
            return fn(*args, **kwargs)

        return checked  # type: ignore[return-value]

    return wrap
