"""The users table and ``icp users``: argon2 hashes only, roles checked, disabled users shut out."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import app as cli
from app.commands.users import AddUser, ChangeUser
from app.users import UserError, authenticate, end_sessions, has_users, list_users, session_user
from db.schema import users

PASSWORD = "correct horse battery staple"


def _stored(engine: sa.Engine, email: str) -> str | None:
    with engine.connect() as conn:
        return conn.scalar(sa.select(users.c.password_hash).where(users.c.email == email))


def test_password_is_stored_as_argon2id_hash_only(db: sa.Engine) -> None:
    AddUser(db, "Ann@Example.com ", "admin", PASSWORD).run()
    stored = _stored(db, "ann@example.com")
    assert stored is not None and stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    with db.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(sa.select(users)).all() for v in row)
    assert PASSWORD not in dump


def test_authenticate_accepts_the_password_and_records_the_sign_in(db: sa.Engine) -> None:
    AddUser(db, "ann@example.com", "analyst", PASSWORD).run()
    assert authenticate(db, "ann@example.com", "wrong password here") is None
    assert authenticate(db, "nobody@example.com", PASSWORD) is None
    record = authenticate(db, "ANN@example.com", PASSWORD)
    assert record is not None and record.role == "analyst" and record.last_login_at is not None


def test_disabled_user_cannot_sign_in_and_is_not_active(db: sa.Engine) -> None:
    AddUser(db, "ann@example.com", "viewer", PASSWORD).run()
    assert has_users(db)
    ChangeUser(db, "ann@example.com", disabled=True).run()
    assert authenticate(db, "ann@example.com", PASSWORD) is None
    assert not has_users(db)


def test_every_change_of_a_user_ends_their_sessions(db: sa.Engine) -> None:
    email = "ann@example.com"
    AddUser(db, email, "viewer", PASSWORD).run()

    def signed_in() -> tuple[int, int]:
        ann = authenticate(db, email, PASSWORD)
        assert ann is not None and session_user(db, ann.user_id, ann.session_epoch) is not None
        return ann.user_id, ann.session_epoch

    changes = {
        "sign-out": lambda uid: end_sessions(db, uid),
        "role": lambda _: ChangeUser(db, email, role="analyst").run(),
        "password": lambda _: ChangeUser(db, email, password=PASSWORD).run(),
        # Enabling again never revives a session from before the user was disabled.
        "disable, enable": lambda _: (ChangeUser(db, email, disabled=True).run(),
                                      ChangeUser(db, email, disabled=False).run()),
    }
    for name, change in changes.items():
        uid, epoch = signed_in()
        change(uid)
        assert session_user(db, uid, epoch) is None, name
    signed_in()


def test_every_problem_of_a_request_is_listed_at_once(db: sa.Engine) -> None:
    with pytest.raises(UserError) as refused:
        AddUser(db, "not-an-email", "owner", "short").run()
    assert refused.value.problems == [
        "'not-an-email' is not an email address",
        "unknown role 'owner': use one of viewer, analyst, admin",
        "the password must have at least 10 characters",
    ]
    with pytest.raises(UserError) as refused:
        ChangeUser(db, "bob@example.com", role="owner").run()
    assert refused.value.problems == [
        "unknown role 'owner': use one of viewer, analyst, admin",
        "no user bob@example.com: add it with `icp users add bob@example.com --role viewer`",
    ]
    with db.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(users)) == 0


def test_bad_requests_get_clear_messages(db: sa.Engine) -> None:
    with pytest.raises(UserError, match="unknown role 'owner'"):
        AddUser(db, "ann@example.com", "owner", PASSWORD).run()
    with pytest.raises(UserError, match="at least 10 characters"):
        AddUser(db, "ann@example.com", "viewer", "short").run()
    with pytest.raises(UserError, match="'not-an-email' is not an email address"):
        AddUser(db, "not-an-email", "viewer", PASSWORD).run()
    AddUser(db, "ann@example.com", "viewer", PASSWORD).run()
    with pytest.raises(UserError, match="already exists"):
        AddUser(db, "ann@example.com", "admin", PASSWORD).run()
    with pytest.raises(UserError, match="no user bob@example.com"):
        ChangeUser(db, "bob@example.com", role="admin").run()


def test_cli_add_list_set_role_disable(env_db: sa.Engine) -> None:
    runner = CliRunner()
    added = runner.invoke(cli, ["users", "add", "ann@example.com", "--role", "admin", "--password-stdin"], input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert "added ann@example.com as admin" in added.output
    assert PASSWORD not in added.output
    assert authenticate(env_db, "ann@example.com", PASSWORD) is not None

    generated = runner.invoke(cli, ["users", "add", "bob@example.com", "--generate"])
    assert generated.exit_code == 0, generated.output
    shown = generated.output.split("store it now): ")[1].strip()
    assert authenticate(env_db, "bob@example.com", shown) is not None
    assert _stored(env_db, "bob@example.com") != shown

    bob = authenticate(env_db, "bob@example.com", shown)
    assert runner.invoke(cli, ["users", "set-role", "bob@example.com", "analyst"]).exit_code == 0
    assert runner.invoke(cli, ["users", "disable", "bob@example.com"]).exit_code == 0
    assert runner.invoke(cli, ["users", "disable", "bob@example.com", "--enable"]).exit_code == 0
    assert session_user(env_db, bob.user_id, bob.session_epoch) is None
    assert runner.invoke(cli, ["users", "disable", "bob@example.com"]).exit_code == 0
    listing = runner.invoke(cli, ["users", "list"]).output
    assert "ann@example.com" in listing and "admin" in listing
    bob = next(line for line in listing.splitlines() if line.startswith("bob@example.com"))
    assert "analyst" in bob and "disabled" in bob
    assert [u.email for u in list_users(env_db)] == ["ann@example.com", "bob@example.com"]


def test_cli_errors_exit_non_zero_with_the_reason(env_db: sa.Engine) -> None:
    runner = CliRunner()
    bad = runner.invoke(cli, ["users", "add", "ann@example.com", "--role", "boss", "--password-stdin"], input=PASSWORD + "\n")
    assert bad.exit_code == 1
    assert "unknown role 'boss'" in bad.output
    missing = runner.invoke(cli, ["users", "disable", "ghost@example.com"])
    assert missing.exit_code == 1 and "no user ghost@example.com" in missing.output
    empty = runner.invoke(cli, ["users", "list"])
    assert "icp users add you@company.com --role admin" in empty.output
