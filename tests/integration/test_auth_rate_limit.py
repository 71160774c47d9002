"""The sign-in rate limit: only failures count, per (account, client), with a doubling wait."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.security import LoginLimits, SignInLocked, rate_limited_sign_in

LIMITS = LoginLimits(per_account_client=5, per_client=20, window=timedelta(minutes=15))
ADMIN = "admin@example.com"


def _try(engine: sa.Engine, ok: bool, client: str = "198.51.100.7", email: str = ADMIN) -> str:
    """One sign-in: 'ok', 'wrong' or 'locked'."""
    try:
        result = rate_limited_sign_in(engine, email, client, LIMITS, lambda: "user" if ok else None)
    except SignInLocked:
        return "locked"
    return "ok" if result else "wrong"


def _age(engine: sa.Engine, seconds: float) -> None:
    """Move every recorded attempt ``seconds`` into the past (time passing)."""
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE login_attempts SET attempted_at = attempted_at - make_interval(secs => :s)"), {"s": seconds})


def test_a_strangers_guesses_lock_out_the_stranger_not_the_account(db: sa.Engine) -> None:
    stranger, admin = "203.0.113.9", "198.51.100.7"
    assert [_try(db, False, stranger) for _ in range(6)] == ["wrong"] * 5 + ["locked"]
    assert _try(db, True, stranger) == "locked"  # even the right password, from there
    assert _try(db, True, admin) == "ok"
    assert _try(db, False, admin) == "wrong"


def test_only_failures_count_and_a_success_clears_them(db: sa.Engine) -> None:
    assert [_try(db, True) for _ in range(12)] == ["ok"] * 12
    assert [_try(db, False) for _ in range(4)] == ["wrong"] * 4
    assert _try(db, True) == "ok"
    assert [_try(db, False) for _ in range(5)] == ["wrong"] * 5
    assert _try(db, False) == "locked"


def test_the_wait_doubles_with_each_further_failure(db: sa.Engine) -> None:
    # An attacker who guesses again as soon as allowed, for two hours (time passes by
    # moving the recorded attempts into the past).
    checked, waits, elapsed = 0, [], 0.0
    while elapsed < 2 * 3600:
        try:
            rate_limited_sign_in(db, ADMIN, "198.51.100.7", LIMITS, lambda: None)
            checked += 1
        except SignInLocked as locked:
            waits.append(locked.retry_after)
            _age(db, locked.retry_after + 1)
            elapsed += locked.retry_after + 1
    assert [round(w / 60) for w in waits[:4]] == [1, 2, 4, 8]
    assert max(waits) <= LIMITS.window.total_seconds()
    # About six guesses in any 15 minutes (the first five, then one a wait).
    assert checked <= 6 * 8 + 4, checked


def test_one_client_spraying_many_accounts_is_limited(db: sa.Engine) -> None:
    results = [_try(db, False, "203.0.113.9", f"user{i}@example.com") for i in range(21)]
    assert results == ["wrong"] * 20 + ["locked"]
    assert _try(db, True, "198.51.100.7", "user0@example.com") == "ok"
