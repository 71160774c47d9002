"""Browser tests: the real app under gunicorn on demo data, driven by headless Chromium.

datasette-style: one server for these tests, in a subprocess on a free port (the demo
loaded into its own database, an admin and a viewer able to sign in), one
Chromium, one signed-in browser context per role. Screenshots go
to test-artifacts/screenshots/ (gitignored).
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from db.engine import drop_database
from loadtest import server as gunicorn

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "e2e-Pa55word-long-enough"
USERS = {
    "admin@example.com": ("admin", PASSWORD),
    "viewer@example.com": ("viewer", PASSWORD),
}
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]
VIEWPORT = {"width": 1440, "height": 900}
# A view not yet in the metrics cache is computed on first request (bootstrap intervals
# included): allow for it on this 2-core machine.
expect.set_options(timeout=30000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here is a browser test."""
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


# The demo database and its server are made once per test process: under pytest-xdist a
# worker runs these files between others (--dist loadfile), and a package-scoped server
# was loaded and started again each time the worker came back to this package.
@pytest.fixture(scope="session")
def demo_database(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a database holding the demo data and the test users."""
    tmp = tmp_path_factory.mktemp("e2e-db")
    # Unique per session: another pytest run on the shared server must not drop ours.
    name = f"icp_test_e2e_{os.getpid()}_{secrets.token_hex(3)}"
    yield gunicorn.demo_database(pg_admin_url, name, tmp, USERS)
    drop_database(pg_admin_url, name)


@pytest.fixture(scope="session")
def demo_server(
    demo_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[gunicorn.Server]:
    """ICP Lens under gunicorn on the demo data, not in local mode (sign-in required)."""
    tmp = tmp_path_factory.mktemp("e2e")
    server = gunicorn.start(
        demo_database, tmp / "gunicorn.log", workers=2,
        env={"ICP_SECRET_KEY": "e2e-" + "k" * 40, "ICP_DATA_DIR": str(tmp)},
    )
    yield server
    server.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    """One headless Debian Chromium for these tests.

    Package scope, not session: a running sync Playwright holds an asyncio loop, and
    browser tests elsewhere in the suite start their own once this one has stopped.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def signed_in_context(browser, server: gunicorn.Server, email: str):
    """A browser context whose session belongs to ``email``."""
    context = browser.new_context(viewport=VIEWPORT, base_url=server.url, accept_downloads=True)
    page = context.new_page()
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")
    page.close()
    return context


@pytest.fixture(scope="package")
def admin_context(browser, demo_server: gunicorn.Server) -> Iterator[object]:
    """A browser context signed in as an admin."""
    context = signed_in_context(browser, demo_server, "admin@example.com")
    yield context
    context.close()


@pytest.fixture(scope="package")
def viewer_context(browser, demo_server: gunicorn.Server) -> Iterator[object]:
    """A browser context signed in as a viewer."""
    context = signed_in_context(browser, demo_server, "viewer@example.com")
    yield context
    context.close()


def error_free_tab(context) -> Iterator[object]:
    """A fresh tab of ``context`` (for a fixture to yield from), failing the test on any
    page error."""
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    yield tab
    tab.close()
    assert not errors, errors


@pytest.fixture
def page(admin_context) -> Iterator[object]:
    """A fresh tab of the admin's context, failing the test on any page error."""
    yield from error_free_tab(admin_context)


def settle(page, timeout_s: float = 60) -> None:
    """Wait until Dash has had no callback in flight for 200 ms (chained ones included).

    Polls with page.evaluate: wait_for_function evals a string, which the CSP forbids.
    """
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while True:
        idle = page.evaluate("() => Boolean(window.store) && !window.store.getState().isLoading")
        now = time.monotonic()
        if not idle:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= 0.2:
            return
        if now > deadline:
            raise AssertionError(f"Dash did not settle on {page.url}")
        page.wait_for_timeout(50)


def open_page(page, path: str) -> None:
    """Navigate to ``path`` and wait for its callbacks."""
    page.goto(path)
    page.wait_for_selector("#_pages_content > *", timeout=60000)
    settle(page)


def shoot(page, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def grid_column(page, grid_id: str, col_id: str) -> list[str]:
    """The texts of one grid column in display order, once two reads agree.

    AG Grid renders rows, then sorts them in place: a single read can catch rows
    mid-way, so read until the column is stable.
    """
    previous = None
    for _ in range(20):
        current = _grid_column_once(page, grid_id, col_id)
        if current and current == previous:
            return current
        previous = current
        page.wait_for_timeout(150)
    return previous or []


def _grid_column_once(page, grid_id: str, col_id: str) -> list[str]:
    cells = page.locator(f"#{grid_id} .ag-row [col-id='{col_id}']")
    rows = page.locator(f"#{grid_id} .ag-row:has([col-id='{col_id}'])")
    indexed = {}
    for i in range(cells.count()):
        index = rows.nth(i).get_attribute("row-index")
        indexed[int(index)] = cells.nth(i).inner_text().strip()
    return [indexed[k] for k in sorted(indexed)]


def at_least(locator, n: int, timeout_ms: float = 30000) -> None:
    """Wait until ``locator`` matches at least ``n`` elements (charts render after the page)."""
    locator.nth(n - 1).wait_for(state="attached", timeout=timeout_ms)



def log_records(server: gunicorn.Server, message: str) -> list[dict]:
    """The server's JSON log records (gunicorn's) with this message, oldest first."""
    records = []
    for line in server.log().splitlines():
        if line.startswith("{") and f'"{message}"' in line:
            record = json.loads(line)
            if record.get("message") == message:
                records.append(record)
    return records


def views_computed_by_requests(server: gunicorn.Server, after: int = 0) -> list[str]:
    """The views a request had to compute (a cache miss while someone waited), from the
    ``after``-th computation on; a warm-up computes without a request."""
    return [r["view"] for r in log_records(server, "view computed")[after:] if "request_id" in r]


def views_state(server: gunicorn.Server) -> str:
    """What /readyz says of the landing page's views: ``warm`` or ``warming``."""
    return requests.get(server.url + "/readyz", timeout=10).json()["views"]


def wait_until_warm(server: gunicorn.Server, timeout_s: float = 120) -> None:
    """Wait until /readyz says the landing page's views of the current data are warm."""
    deadline = time.monotonic() + timeout_s
    while views_state(server) != "warm":
        if time.monotonic() > deadline:
            raise AssertionError(f"the landing views were never warm:\n{server.log()[-3000:]}")
        time.sleep(0.2)
