"""`make run` on the demo, then a RevOps user uploads the company's exports through the
page and answers "replace the demo": the scorecard shows only the uploaded company.
`icp serve` warms the landing page's views as it starts, and the upload page shows its
result once the new data's are warm too."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from db.engine import drop_database
from loadtest import server as servers
from tests.e2e.conftest import (
    VIEWPORT,
    grid_column,
    open_page,
    settle,
    shoot,
    views_state,
    wait_until_warm,
)

ACCOUNTS = (
    "account_id,account_name,vertical,sub_industry,size_band,employees,region,use_case,"
    "lead_source,created_date\n"
    "RC-1,Real Freight One,Logistics,Freight,SMB,40,EMEA,Reporting,Inbound,2024-01-05\n"
    "RC-2,Real Freight Two,Logistics,Freight,SMB,60,EMEA,Reporting,Inbound,2024-02-05\n"
)
SUBSCRIPTIONS = (
    "subscription_id,account_id,product,start_date,end_date,mrr\n"
    "RCS-1,RC-1,Pro,2024-02-01,,500.00\n"
    "RCS-2,RC-2,Pro,2024-03-01,,700.00\n"
)


@pytest.fixture(scope="module")
def run_server(
    pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[servers.Server]:
    """`icp serve` in local mode (as `make run`) on its own database holding the demo."""
    tmp = tmp_path_factory.mktemp("make-run")
    name = f"icp_test_run_{os.getpid()}_{secrets.token_hex(3)}"
    url = servers.demo_database(pg_admin_url, name, tmp, users={})
    env = {**os.environ, "DATABASE_URL": url, "ICP_DATA_DIR": str(tmp)}
    server = servers.serve(env, tmp / "serve.log")
    yield server
    server.stop()
    drop_database(pg_admin_url, name)


def test_uploading_a_real_export_replaces_the_demo(browser, run_server: servers.Server) -> None:
    context = browser.new_context(viewport=VIEWPORT, base_url=run_server.url)
    page = context.new_page()
    try:
        # `icp serve` warms the landing views as it starts (no one has asked for a page).
        wait_until_warm(run_server)
        open_page(page, "/")
        expect(page.locator("#icp-demo-ribbon")).to_be_visible()
        expect(page.locator("#icp-demo-ribbon")).to_contain_text("Demo data")
        assert len(grid_column(page, "sc-grid", "segment")) > 5

        open_page(page, "/upload")
        page.set_input_files(
            "#up-upload input[type=file]",
            files=[
                {"name": "accounts.csv", "mimeType": "text/csv", "buffer": ACCOUNTS.encode()},
                {"name": "subscriptions.csv", "mimeType": "text/csv",
                 "buffer": SUBSCRIPTIONS.encode()},
            ],
        )
        expect(page.locator("#up-report")).to_contain_text("All 2 files are valid")
        page.click("#up-import")
        question = page.locator(".modal-dialog", has_text="Replace the demo data?")
        expect(question).to_contain_text("Replace the demo data?")
        shoot(page, "upload-replace-the-demo")
        page.click("#up-demo-replace")
        summary = page.locator("#up-result-summary")
        expect(summary).to_contain_text("4 rows inserted")
        # The result is shown once the new data's landing views are warm.
        assert views_state(run_server) == "warm"
        expect(summary).to_contain_text("The demo data was replaced")
        settle(page)

        open_page(page, "/")
        expect(page.locator("#icp-demo-ribbon")).to_be_hidden()
        assert grid_column(page, "sc-grid", "segment") == ["Logistics"]
        shoot(page, "scorecard-after-replacing-the-demo")
    finally:
        context.close()
