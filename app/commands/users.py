"""Adding a user and changing one (role, password, disabled): the ``users`` table."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.users import (
    NEXT_EPOCH,
    UserError,
    UserRecord,
    email_problem,
    hash_password,
    password_problem,
    public_columns,
    role_problem,
)
from db.schema import users


def _exists(conn: sa.Connection, email: str) -> bool:
    return conn.scalar(sa.select(users.c.user_id).where(users.c.email == email)) is not None


@dataclass
class AddUser:
    """Add ``email`` with ``role``; ``password`` None makes an SSO-only user."""

    engine: sa.Engine
    email: str
    role: str
    password: str | None

    def validate(self) -> None:
        """:class:`UserError` listing every problem (address, role, password, already there)."""
        problems = [
            p
            for p in (
                email_problem(self.email),
                role_problem(self.role),
                password_problem(self.password) if self.password is not None else None,
            )
            if p
        ]
        email = self.email.strip().lower()
        if not email_problem(self.email):
            with self.engine.connect() as conn:
                if _exists(conn, email):
                    problems.append(
                        f"{email} already exists: use `icp users set-role` to change the role"
                    )
        if problems:
            raise UserError(problems)

    def run(self) -> UserRecord:
        """Insert the user (the password stored as its argon2id hash only)."""
        self.validate()
        email = self.email.strip().lower()
        password_hash = hash_password(self.password) if self.password is not None else None
        try:
            with self.engine.begin() as conn:
                row = conn.execute(
                    users.insert()
                    .values(email=email, role=self.role, password_hash=password_hash)
                    .returning(*public_columns())
                ).one()
        except sa.exc.IntegrityError:
            # Added by someone else since validate().
            raise UserError([f"{email} already exists"]) from None
        return UserRecord(**row._mapping)


@dataclass
class ChangeUser:
    """Change ``email``'s role, password or disabled state (the ones given)."""

    engine: sa.Engine
    email: str
    role: str | None = None
    password: str | None = None
    disabled: bool | None = None

    def _values(self) -> dict[str, object]:
        values: dict[str, object] = {}
        if self.role is not None:
            values["role"] = self.role
        if self.disabled is not None:
            values["disabled"] = self.disabled
        return values

    def validate(self) -> None:
        """:class:`UserError` listing every problem (address, role, password, unknown user)."""
        problems = [
            p
            for p in (
                email_problem(self.email),
                role_problem(self.role) if self.role is not None else None,
                password_problem(self.password) if self.password is not None else None,
            )
            if p
        ]
        if not self._values() and self.password is None:
            problems.append("nothing to change: give a role, a password or the disabled state")
        email = self.email.strip().lower()
        if not email_problem(self.email):
            with self.engine.connect() as conn:
                if not _exists(conn, email):
                    problems.append(
                        f"no user {email}: add it with `icp users add {email} --role viewer`"
                    )
        if problems:
            raise UserError(problems)

    def run(self) -> UserRecord:
        """Apply the changes and end every session of the user (at their next request): a
        disabled user is out, and a new password or role holds from the next sign-in on.
        Enabling a user ends them too, so it never revives a cookie from before."""
        self.validate()
        values = {**self._values(), **NEXT_EPOCH}
        if self.password is not None:
            values["password_hash"] = hash_password(self.password)
        email = self.email.strip().lower()
        with self.engine.begin() as conn:
            row = conn.execute(
                users.update().where(users.c.email == email).values(**values)
                .returning(*public_columns())
            ).first()
        if row is None:
            raise UserError([f"no user {email}"])
        return UserRecord(**row._mapping)
