"""The people who may sign in: the warehouse's ``users`` table and argon2 password hashes.

Adding and changing users are commands (``app.commands.users``); this module
checks emails, roles and passwords, signs people in and lists them.

Passwords are never stored or logged: only their argon2id hash (argon2-cffi's
current defaults) is written, and a hash made with older parameters is replaced
on the next successful sign-in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.errors import CommandError
from db.schema import ROLES, users

_hasher = PasswordHasher()
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
# Verifying against this when the email is unknown keeps the response time the
# same for unknown and known users, so timing does not reveal who has an account.
_DUMMY_HASH = _hasher.hash("not a real password")

MIN_PASSWORD_LENGTH = 10
# Bumping the epoch ends every session of the user (see session_user).
NEXT_EPOCH = {"session_epoch": users.c.session_epoch + 1}


class UserError(CommandError):
    """A user-management request that cannot be done, with a message for the person asking."""


@dataclass(frozen=True)
class UserRecord:
    """One row of the users table, without the password hash."""

    user_id: int
    email: str
    role: str
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None
    session_epoch: int


def email_problem(email: str) -> str | None:
    """What is wrong with ``email`` as a sign-in name, or None."""
    return None if _EMAIL.match(email.strip().lower()) else f"'{email}' is not an email address"


def role_problem(role: str) -> str | None:
    """What is wrong with ``role``, or None when it is one of viewer, analyst, admin."""
    return None if role in ROLES else f"unknown role '{role}': use one of {', '.join(ROLES)}"


def password_problem(password: str) -> str | None:
    """What is wrong with ``password``, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
    return None


def normalize_email(email: str) -> str:
    """The email as stored: trimmed and lowercased; UserError when it is not an address."""
    problem = email_problem(email)
    if problem:
        raise UserError([problem])
    return email.strip().lower()


def check_role(role: str) -> str:
    """``role`` when it is one of viewer, analyst, admin; UserError otherwise."""
    problem = role_problem(role)
    if problem:
        raise UserError([problem])
    return role


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (checked with :func:`password_problem` first)."""
    return _hasher.hash(password)


def list_users(engine: sa.Engine) -> list[UserRecord]:
    """Every user, by email."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(*public_columns()).order_by(users.c.email)).all()
    return [UserRecord(**r._mapping) for r in rows]


def has_users(engine: sa.Engine) -> bool:
    """True when at least one enabled user exists."""
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.exists().where(~users.c.disabled))) is True


def session_user(engine: sa.Engine, user_id: int, epoch: int) -> UserRecord | None:
    """The enabled user ``user_id`` when ``epoch`` is still their session epoch, else None
    (signed out, disabled, or password or role changed since the session began).

    One primary-key lookup: it runs on every request.
    """
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(*public_columns()).where(
                users.c.user_id == user_id, users.c.session_epoch == epoch, ~users.c.disabled
            )
        ).first()
    return UserRecord(**row._mapping) if row else None


def end_sessions(engine: sa.Engine, user_id: int) -> None:
    """End every session of ``user_id``, on every worker: a session is only as good as the
    epoch it was signed in under."""
    with engine.begin() as conn:
        conn.execute(users.update().where(users.c.user_id == user_id).values(**NEXT_EPOCH))


def authenticate(engine: sa.Engine, email: str, password: str) -> UserRecord | None:
    """The user when ``password`` is theirs and they are enabled; records the sign-in time."""
    try:
        email = normalize_email(email)
    except UserError:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(users.c.password_hash, users.c.disabled).where(users.c.email == email)
        ).first()
    stored = row.password_hash if row is not None and row.password_hash else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if stored is None or row.disabled:
        return None
    values: dict[str, object] = {"last_login_at": sa.func.now()}
    if _hasher.check_needs_rehash(stored):
        values["password_hash"] = _hasher.hash(password)
    with engine.begin() as conn:
        updated = conn.execute(
            users.update().where(users.c.email == email).values(**values).returning(*public_columns())
        ).one()
    return UserRecord(**updated._mapping)


def record_sso_sign_in(engine: sa.Engine, email: str, role: str | None, provision: bool, default_role: str) -> UserRecord | None:
    """The user signing in by SSO: the existing row (role updated when the IdP sends one),
    a new row when ``provision`` allows it, or None when they may not sign in."""
    email = normalize_email(email)
    with engine.begin() as conn:
        row = conn.execute(sa.select(users.c.disabled).where(users.c.email == email)).first()
        if row is None and not provision:
            return None
        if row is not None and row.disabled:
            return None
        values: dict[str, object] = {"last_login_at": sa.func.now()}
        if role is not None:
            values["role"] = check_role(role)
            # A role changed by the identity provider ends the sessions of the old role.
            values["session_epoch"] = sa.case(
                (users.c.role != values["role"], users.c.session_epoch + 1),
                else_=users.c.session_epoch,
            )
        if row is None:
            values.pop("session_epoch", None)
            stmt = users.insert().values(email=email, role=values.pop("role", check_role(default_role)), **values)
        else:
            stmt = users.update().where(users.c.email == email).values(**values)
        result = conn.execute(stmt.returning(*public_columns())).one()
    return UserRecord(**result._mapping)


def public_columns() -> tuple[sa.Column, ...]:
    return (
        users.c.user_id, users.c.email, users.c.role, users.c.disabled, users.c.created_at,
        users.c.last_login_at, users.c.session_epoch,
    )
