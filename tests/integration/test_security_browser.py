"""The pages still work under the Content-Security-Policy: a real browser, signed in, on demo data."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from db.engine import drop_database
from loadtest import server as gunicorn

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "Tr0ub4dor&3-long-enough"
PAGES = ["/", "/cohorts", "/segment", "/drift", "/accidental-icp"]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]


@pytest.fixture(scope="module")
def demo_server(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[gunicorn.Server]:
    tmp = tmp_path_factory.mktemp("csp")
    name = f"icp_test_csp_{tmp.name[-6:].replace('-', '_')}"
    url = gunicorn.demo_database(pg_admin_url, name, tmp, {"boss@example.com": ("admin", PASSWORD)})
    server = gunicorn.start(url, tmp / "g.log", workers=2, env={"ICP_SECRET_KEY": "k" * 40, "ICP_DATA_DIR": str(tmp)})
    yield server
    server.stop()
    drop_database(pg_admin_url, name)


def test_pages_render_without_csp_violations(demo_server: gunicorn.Server) -> None:
    pytest.importorskip("playwright.sync_api")
    problems: list[str] = []
    failure: list[BaseException] = []

    def drive() -> None:
        try:
            _browse(demo_server, problems)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            failure.append(exc)

    # Its own thread: Playwright's sync API refuses to run where an event loop is
    # running, as another package's browser fixture may leave in this process.
    worker = threading.Thread(target=drive)
    worker.start()
    worker.join(timeout=240)
    if failure:
        raise failure[0]
    assert not worker.is_alive(), "the browser did not finish"
    csp = [m for m in problems if "Content Security Policy" in m or "Refused to" in m]
    assert not csp, "\n".join(problems)
    assert not problems, problems


def _browse(server: gunicorn.Server, problems: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" or "Content Security Policy" in m.text else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(server.url + "/cohorts")
        assert "/login" in page.url
        page.fill("#email", "boss@example.com")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(server.url + "/cohorts")
        for path in PAGES:
            page.goto(server.url + path)
            _wait_for_dash(page)
            assert page.locator(".navbar").count() == 1, path
        page.goto(server.url + "/")
        page.wait_for_selector(".js-plotly-plot, .ag-root", timeout=30000)
        assert page.locator("#icp-session-bar").inner_text().startswith("boss@example.com")
        browser.close()


def _wait_for_dash(page, timeout_s: float = 30) -> None:
    # page.evaluate, not wait_for_function: the latter evals a string in the page, which
    # the CSP (rightly) forbids.
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if page.evaluate("() => Boolean(window.store) && !window.store.getState().isLoading"):
            page.wait_for_timeout(500)
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"Dash did not settle on {page.url}")
