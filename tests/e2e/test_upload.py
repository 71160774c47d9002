"""Uploading through the page: a bad file gets its report, a good one is imported.

Runs after the read-only page tests (file order): the good upload adds two accounts
to the session's demo warehouse, keeping the demo ("Keep both").
"""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import expect

from tests.e2e.conftest import (
    at_least,
    grid_column,
    log_records,
    open_page,
    settle,
    shoot,
    views_computed_by_requests,
    views_state,
)

GOOD_ACCOUNTS = (
    "Account ID,Account Name,Industry,Sub-Industry,Employees,Region\n"
    "E2E-0001,Upload Test One,Technology,Dev Tools,120,North America\n"
    "E2E-0002,Upload Test Two,Healthcare,Clinics,3400,EMEA\n"
)
BAD_OPPORTUNITIES = (
    "opportunity_id,account_id,created_date,close_date,status,amount\n"
    "E2E-OPP-1,NO-SUCH-ACCOUNT,2025-03-01,2025-04-01,won,1000\n"
    "E2E-OPP-2,E2E-0001,2025-03-01,2025-02-01,won,-50\n"
)


def _drop(page, name: str, text: str) -> None:
    page.set_input_files(
        "#up-upload input[type=file]",
        files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode()}],
    )


def test_a_bad_file_is_reported_cell_by_cell_and_nothing_is_imported(page) -> None:
    open_page(page, "/upload")
    _drop(page, "deals.csv", BAD_OPPORTUNITIES)
    expect(page.locator("#up-report")).to_contain_text("problem")
    at_least(page.locator("#up-report-grid .ag-row"), 2)
    settle(page)
    files = grid_column(page, "up-report-grid", "file")
    rows = grid_column(page, "up-report-grid", "row")
    columns = grid_column(page, "up-report-grid", "column")
    values = grid_column(page, "up-report-grid", "value")
    assert set(files) == {"deals.csv"}
    assert ("3", "amount", "-50") in set(zip(rows, columns, values, strict=True))
    assert "NO-SUCH-ACCOUNT" in values
    expect(page.locator("#up-import")).to_be_disabled()
    # The detected kind and mapping are shown, with a way to change them.
    expect(page.locator("#up-files")).to_contain_text("opportunities")
    at_least(page.locator("#up-files table tbody tr"), 6)
    shoot(page, "upload-bad-file")
    with page.expect_download() as download:
        page.click("#up-report-download-button")
    report = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert report[0] == ["File", "Row", "Column", "Value", "Problem"]
    # A negative amount is a plain number: a value, not a formula, so it stays as it is.
    assert report[[r[3] for r in report].index("-50")][:4] == ["deals.csv", "3", "amount", "-50"]


def test_a_column_the_importer_missed_can_be_mapped_and_checked_again(page) -> None:
    open_page(page, "/upload")
    _drop(page, "crm-accounts.csv", "Company Ref,Industry\nE2E-9001,Technology\n")
    expect(page.locator("#up-report")).to_contain_text("problem")
    # No account_id column: the kind is not recognised; say it is accounts, check again.
    expect(page.locator("#up-files")).to_contain_text("not recognised")
    page.locator("#up-files .card-body").get_by_role("button").first.click()
    page.get_by_role("option", name="accounts", exact=True).click()
    page.click("#up-revalidate")
    # The check runs as a job: wait for its answer (the kind known) before using the rows.
    expect(page.locator("#up-files")).not_to_contain_text("not recognised")
    row = page.locator("#up-files tr", has_text="Company Ref")
    expect(row).to_contain_text("(ignore)")
    row.get_by_role("button").click()
    page.get_by_role("option", name="account_id", exact=True).click()
    page.click("#up-revalidate")
    expect(page.locator("#up-report")).to_contain_text("valid")
    expect(page.locator("#up-import")).to_be_enabled()
    shoot(page, "upload-remapped")


def test_extra_account_columns_are_reported_as_custom_attributes(page) -> None:
    open_page(page, "/upload")
    rows = "".join(f"E2E-1{i:03d},Tech,{'Pro' if i % 2 else 'Basic'},note {i}\n" for i in range(60))
    _drop(page, "plans.csv", "Account ID,Industry,Plan,Notes\n" + rows)
    expect(page.locator("#up-report")).to_contain_text("valid")
    note = page.locator("#up-files .attributes-note")
    expect(note).to_have_text(
        "Custom attributes that become dimensions: Plan as plan (2 values). Kept but not "
        "segmentable: Notes as notes (60 values, more than 50)."
    )
    expect(page.locator("#up-files tr", has_text="Plan")).to_contain_text("(custom attribute)")
    shoot(page, "upload-attributes")


def test_a_good_file_is_imported_and_appears_in_the_history(page, demo_server) -> None:
    open_page(page, "/upload")
    before = len(grid_column(page, "up-history", "batch_id"))
    _drop(page, "new-accounts.csv", GOOD_ACCOUNTS)
    expect(page.locator("#up-report")).to_contain_text("valid")
    expect(page.locator("#up-files")).to_contain_text("accounts")
    expect(page.locator("#up-import")).to_be_enabled()
    expect(page.locator("#icp-demo-ribbon")).to_be_visible()
    page.click("#up-import")
    # The warehouse holds the demo: the page asks first. Keep both (later tests need it).
    expect(page.locator(".modal-dialog", has_text="Replace the demo data?")).to_be_visible()
    page.click("#up-demo-keep")
    summary = page.locator("#up-result-summary")
    expect(summary).to_contain_text(re.compile(r"2 rows inserted, 0 updated, 0 unchanged"))
    # Shown once the new data's landing views are warm: the scorecard opened next
    # computes none of them while the user waits.
    assert views_state(demo_server) == "warm"
    settle(page)
    assert len(grid_column(page, "up-history", "batch_id")) == before + 1
    shoot(page, "upload-imported")
    computed = len(log_records(demo_server, "view computed"))
    open_page(page, "/")
    page.wait_for_selector("#sc-map .main-svg")
    assert views_computed_by_requests(demo_server, after=computed) == []


def test_the_import_can_be_rolled_back_after_confirmation(page) -> None:
    open_page(page, "/upload")
    first = page.locator("#up-history .ag-row[row-index='0']")
    expect(first).to_contain_text("new-accounts.csv")
    first.locator("input[type=checkbox]").first.check()
    page.click("#up-rollback")
    dialog = page.locator(".modal-dialog")
    expect(dialog).to_contain_text("will be undone")
    page.click("#up-confirm-yes")
    expect(page.locator("#up-rollback-result")).to_contain_text("rolled back: 2 inserted rows removed")
    expect(page.locator("#up-history .ag-row[row-index='0']")).to_contain_text("rolled_back")


def test_a_large_check_shows_progress_and_survives_a_reload(page) -> None:
    open_page(page, "/upload")
    files = []
    for part in range(3):
        rows = "".join(f"BIG-{part}-{i},Technology,SaaS,120\n" for i in range(80_000))
        files.append({"name": f"accounts-{part}.csv", "mimeType": "text/csv",
                      "buffer": ("account_id,vertical,sub_industry,employees\n" + rows).encode()})
    page.set_input_files("#up-upload input[type=file]", files=files)
    panel = page.locator("#up-progress-panel")
    expect(panel).to_be_visible(timeout=60000)
    seen, stages = set(), set()
    for _ in range(40):
        value = page.locator("#up-progress-bar .progress-bar").get_attribute("aria-valuenow")
        if value is not None:
            seen.add(int(float(value)))
        stages.add(page.locator("#up-progress").inner_text())
        if len(seen) >= 2:
            break
        page.wait_for_timeout(100)
    assert len(seen) >= 2, seen  # the bar moved while the job ran
    # The panel names the stage the job is in (which one depends on how fast it runs).
    named = ("Reading and checking the files", "Checking references between the files")
    assert any(text.startswith(named) for text in stages), stages
    # A reload finds the same job (its id is in the session) and follows it to its end.
    page.reload()
    expect(page.locator("#up-report")).to_contain_text("valid", timeout=120000)
    expect(page.locator("#up-report")).to_contain_text("240,000 rows")
    expect(page.locator("#up-import")).to_be_enabled()
    expect(panel).to_be_hidden()
