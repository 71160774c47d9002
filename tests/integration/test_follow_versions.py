"""Every process follows the data version (issue 12): a version committed anywhere is
announced through Postgres (LISTEN/NOTIFY), and a web worker that did not make it
builds its context of it and warms at once, instead of on its next request."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from app.views import context
from app.views.context import warehouse_context
from app.views.warm import follow_data_versions
from db.data_version import bump_data_version
from db.demo import load_demo
from db.notify import follow_versions


def _until(condition: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _bump(engine: sa.Engine, *, commit: bool = True) -> int:
    conn = engine.connect()
    try:
        trans = conn.begin()
        version = bump_data_version(conn)
        if commit:
            trans.commit()
        else:
            trans.rollback()
        return version
    finally:
        conn.close()


def test_committed_versions_are_announced_and_rolled_back_ones_never(db: sa.Engine) -> None:
    heard: list[int] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=follow_versions, args=(db, heard.append, stop), kwargs={"poll_s": 0.2}
    )
    thread.start()
    try:
        time.sleep(0.5)  # listening before the first commit
        first = _bump(db)
        assert _until(lambda: first in heard), heard
        _bump(db, commit=False)  # its number is taken again by the next commit
        second = _bump(db)
        assert _until(lambda: second in heard), heard
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert heard == [first, second]


def test_a_worker_builds_the_new_versions_context_before_any_request(
    db: sa.Engine, tmp_path: Path
) -> None:
    load_demo(db, tmp_path / "demo", seed=7, as_of="2026-11")
    before = warehouse_context(db).data_version
    thread, stop = follow_data_versions(engine=db)
    try:
        time.sleep(1.5)  # listening
        # Another process's import: here a commit on another connection.
        version = _bump(db)
        assert version == before + 1
        # Nobody asks for the context: the follower has built it, and warmed its views.
        assert _until(lambda: context._current is not None
                      and context._current.data_version == version), context._current
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
