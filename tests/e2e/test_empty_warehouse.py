"""Before any data is loaded, every page says how to load it (local mode: ``icp serve``)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import expect

from db import migrate
from db.engine import drop_database, ensure_database
from loadtest.server import free_port
from tests.e2e.conftest import VIEWPORT, open_page, shoot

PAGES = ("/", "/cohorts", "/accidental-icp", "/drift", "/revenue", "/segment?vertical=Retail")


@pytest.fixture(scope="module")
def empty_server(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``icp serve`` on 127.0.0.1 (local mode, no sign-in) over a migrated, empty warehouse."""
    tmp = tmp_path_factory.mktemp("empty")
    name = f"icp_test_empty_{os.getpid()}_{secrets.token_hex(3)}"
    ensure_database(pg_admin_url, name)
    url = sa.make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    port = free_port()
    log = (tmp / "serve.log").open("wb")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "icp"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "DATABASE_URL": url, "ICP_DATA_DIR": str(tmp)},
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(base + "/healthz", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError((tmp / "serve.log").read_text())
        time.sleep(0.3)
    yield base
    proc.terminate()
    proc.wait(timeout=20)
    drop_database(pg_admin_url, name)


def test_every_page_explains_how_to_load_data(browser, empty_server: str) -> None:
    context = browser.new_context(viewport=VIEWPORT, base_url=empty_server)
    page = context.new_page()
    for path in PAGES:
        open_page(page, path)
        hint = page.locator(".empty-state")
        expect(hint).to_contain_text("icp demo")
        expect(hint).to_contain_text("icp import")
        expect(hint.get_by_role("link", name="Upload page")).to_have_attribute("href", "/upload")
    # Local mode: no sign-in, a banner says so, and the badge has nothing to count.
    expect(page.locator("#local-banner")).to_contain_text("Local mode")
    expect(page.locator("#nav-drift-badge")).to_be_hidden()
    shoot(page, "empty-warehouse")
    context.close()
