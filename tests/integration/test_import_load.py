"""Loading valid exports: counts, idempotence, next month's changes, CRM headers, audit."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import pytest
import sqlalchemy as sa
import xlsxwriter

from db.importer import ImportFile, import_history, plan_import, run_import
from db.importer.load import BULK_MIN_ROWS
from db.queries import read_data_version as data_version
from tests.integration.test_import_support import checksums, good, seed

DATA_TABLES = ("accounts", "subscriptions", "mrr_monthly", "opportunities")


def _rows(engine: sa.Engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


def test_canonical_csvs_load_in_one_batch(db: sa.Engine) -> None:
    result = run_import(list(reversed(good())), db, user="tester")
    assert result.batch_id == 1
    assert (result.inserted, result.updated, result.unchanged) == (13, 0, 0)
    by_name = {f.name: (f.kind, f.inserted) for f in result.files}
    assert by_name == {
        "accounts.csv": ("accounts", 4),
        "subscriptions.csv": ("subscriptions", 4),
        "opportunities.csv": ("opportunities", 5),
    }
    assert _rows(
        db, "SELECT account_id, size_band, sub_industry, batch_id FROM accounts ORDER BY 1"
    ) == [
        ("A001", "SMB", "Dev Tools", 1),
        ("A002", "Enterprise", "Banking", 1),
        ("A003", "Mid-Market", "Unspecified", 1),
        ("A004", "SMB", "Dev Tools", 1),
    ]
    assert _rows(db, "SELECT subscription_id, mrr::text FROM subscriptions ORDER BY 1") == [
        ("S001", "1200.00"),
        ("S002", "8000.50"),
        ("S003", "950.00"),
        ("S004", "150.25"),
    ]
    assert _rows(db, "SELECT op, count(*) FROM import_changes WHERE batch_id = 1 GROUP BY op") == [
        ("insert", 13)
    ]
    assert data_version(db) == 1
    (batch,) = import_history(db)
    assert (batch["status"], batch["created_by"], batch["rows_inserted"]) == (
        "committed",
        "tester",
        13,
    )
    assert sorted(batch["kinds"]) == ["accounts", "opportunities", "subscriptions"]
    files = {f["file_name"]: f for f in batch["files"]}
    accounts_csv = good("accounts.csv")[0]
    assert files["accounts.csv"]["sha256"] == hashlib.sha256(accounts_csv.data).hexdigest()
    assert files["accounts.csv"]["column_mapping"]["vertical"] == "vertical"
    assert files["subscriptions.csv"]["rows_in_file"] == 4


def test_same_export_twice_changes_nothing_and_says_so(db: sa.Engine) -> None:
    seed(db)
    before = checksums(db, DATA_TABLES + ("import_changes", "data_version"))
    again = run_import(good(), db, user="tester")
    assert again.message == "no changes: all 13 rows already imported (recorded as batch 2)"
    assert (again.inserted, again.updated, again.unchanged, again.changed) == (0, 0, 13, False)
    assert checksums(db, DATA_TABLES + ("import_changes", "data_version")) == before
    latest = import_history(db)[0]
    assert (latest["batch_id"], latest["status"], latest["rows_unchanged"]) == (2, "committed", 13)
    assert latest["message"].startswith("no changes")


def test_next_months_export_updates_end_dates_and_closes_opportunities(db: sa.Engine) -> None:
    seed(db)
    result = run_import(
        good("subscriptions_next_month.csv", "opportunities_next_month.csv"), db, user="tester"
    )
    counts = {f.name: (f.inserted, f.updated, f.unchanged) for f in result.files}
    assert counts == {
        "subscriptions_next_month.csv": (1, 2, 2),
        "opportunities_next_month.csv": (0, 1, 4),
    }
    assert _rows(
        db,
        "SELECT subscription_id, end_date::text, mrr::text, batch_id FROM subscriptions ORDER BY 1",
    ) == [
        ("S001", "2023-06-30", "1200.00", 2),
        ("S002", None, "8000.50", 1),
        ("S003", "2023-03-31", "950.00", 1),
        ("S004", None, "175.25", 2),
        ("S005", None, "400.00", 2),
    ]
    assert _rows(
        db,
        "SELECT status, close_date::text, batch_id FROM opportunities WHERE opportunity_id = 'O004'",
    ) == [("won", "2023-06-01", 2)]
    before = _rows(
        db,
        "SELECT row_key, before->>'end_date', before->>'batch_id' FROM import_changes WHERE batch_id = 2 AND row_key = 'S001'",
    )
    assert before == [("S001", None, "1")]
    assert data_version(db) == 2


def test_salesforce_opportunities_export_needs_no_mapping(db: sa.Engine) -> None:
    seed(db)
    plan = plan_import(good("salesforce_opportunities.csv"), db)
    assert plan.ok, plan.report()
    (f,) = plan.files
    assert f.kind == "opportunities"
    assert f.mapping == {
        "Opportunity ID": "opportunity_id",
        "Account ID": "account_id",
        "Type": "opportunity_type",
        "Created Date": "created_date",
        "Close Date": "close_date",
        "Stage": "status",
        "Amount": "amount",
    }
    assert f.ignored == ["Opportunity Name", "Owner Full Name"]
    run_import(good("salesforce_opportunities.csv"), db, user="tester")
    assert _rows(
        db,
        "SELECT opportunity_id, opportunity_type, created_date::text, close_date::text, status, amount::text "
        "FROM opportunities WHERE opportunity_id LIKE '0065%' ORDER BY 1",
    ) == [
        ("0065g00000AbCdE1", "renewal", "2023-01-03", "2023-01-28", "won", "14400.00"),
        ("0065g00000AbCdE2", "expansion", "2023-02-14", "2023-03-30", "won", "9000.00"),
        ("0065g00000AbCdE3", "expansion", "2023-03-01", "2023-04-15", "lost", "2500.00"),
        ("0065g00000AbCdE4", "new_business", "2023-05-22", None, "open", "4800.00"),
    ]


def test_hubspot_deals_export_needs_no_mapping(db: sa.Engine) -> None:
    seed(db)
    result = run_import(good("hubspot_deals.csv"), db, user="tester")
    assert result.plan.files[0].mapping == {
        "Record ID": "opportunity_id",
        "Deal Stage": "status",
        "Create Date": "created_date",
        "Close Date": "close_date",
        "Amount": "amount",
        "Deal Type": "opportunity_type",
        "Associated Company ID": "account_id",
    }
    assert _rows(
        db,
        "SELECT opportunity_id, account_id, opportunity_type, created_date::text, close_date::text, status "
        "FROM opportunities WHERE opportunity_id LIKE '900%' ORDER BY 1",
    ) == [
        ("9001", "A001", "expansion", "2023-06-01", "2023-06-20", "won"),
        ("9002", "A004", "new_business", "2023-06-05", None, "open"),
        ("9003", "A003", "new_business", "2023-06-10", "2023-07-01", "lost"),
    ]


def test_semicolon_file_with_decimal_commas_and_arr(db: sa.Engine) -> None:
    seed(db)
    result = run_import(good("subscriptions_semicolon_eu.csv"), db, user="tester")
    assert result.plan.files[0].notices == ["semicolon-separated"]
    assert _rows(
        db,
        "SELECT subscription_id, start_date::text, end_date::text, mrr::text FROM subscriptions WHERE subscription_id LIKE 'S1%' ORDER BY 1",
    ) == [
        ("S101", "2023-02-01", None, "1200.00"),
        ("S102", "2023-03-15", "2023-12-31", "102.88"),
    ]


def test_xlsx_with_the_kind_sheet_second_formulas_and_excel_dates(db: sa.Engine) -> None:
    seed(db)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.add_worksheet("Read me").write(0, 0, "Billing export, February")
    ws = wb.add_worksheet("subscriptions")
    dates = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, ["Subscription ID", "Account ID", "Plan", "Start Date", "End Date", "MRR"])
    ws.write_row(1, 0, [701, "A001", "Pro"])
    ws.write_datetime(1, 3, dt.datetime(2023, 7, 1), dates)
    ws.write_number(1, 5, 300)
    ws.write_row(2, 0, ["S702", "A002", "Pro"])
    ws.write_number(2, 3, 45139)  # an Excel serial: 2023-08-01
    ws.write_formula(2, 5, "=F2*2", None, 600)
    wb.close()
    result = run_import([ImportFile("billing.xlsx", buf.getvalue())], db, user="tester")
    notes = result.plan.files[0].notices
    assert notes == [
        "sheet 'subscriptions'",
        "formula cells read as their last computed values: 'MRR' (1)",
    ]
    assert _rows(
        db,
        "SELECT subscription_id, start_date::text, mrr::text FROM subscriptions WHERE subscription_id IN ('701', 'S702') ORDER BY 1",
    ) == [
        ("701", "2023-07-01", "300.00"),
        ("S702", "2023-08-01", "600.00"),
    ]


def test_explicit_kind_and_mapping_override_detection(db: sa.Engine) -> None:
    seed(db)
    data = b"Ref,Client,Month Start,Monthly Fee\nM1,A001,2023-05-01,99\n"
    mapping = {
        "Ref": "subscription_id",
        "Client": "account_id",
        "Month Start": "start_date",
        "Monthly Fee": "mrr",
    }
    result = run_import(
        [ImportFile("odd.csv", data)],
        db,
        user="tester",
        kinds={"odd.csv": "subscriptions"},
        mappings={"odd.csv": mapping},
    )
    assert result.inserted == 1 and result.plan.files[0].mapping == mapping
    assert _rows(
        db, "SELECT account_id, mrr::text FROM subscriptions WHERE subscription_id = 'M1'"
    ) == [("A001", "99.00")]


def test_mrr_monthly_rows_key_on_account_and_month(db: sa.Engine) -> None:
    seed(db)
    data = (
        b'Customer ID,Period,MRR\nA001,2023-01,100\nA001,2023-02-15,120\nA002,2023-01,"1,000.00"\n'
    )
    result = run_import([ImportFile("mrr.csv", data)], db, user="tester")
    assert result.inserted == 3
    assert _rows(
        db, "SELECT account_id, month::text, mrr::text FROM mrr_monthly ORDER BY 1, 2"
    ) == [
        ("A001", "2023-01-01", "100.00"),
        ("A001", "2023-02-01", "120.00"),
        ("A002", "2023-01-01", "1000.00"),
    ]
    assert _rows(
        db, "SELECT row_key FROM import_changes WHERE table_name = 'mrr_monthly' ORDER BY 1"
    )[0] == ("A001|2023-01-01",)


def test_plan_to_dict_is_json(db: sa.Engine) -> None:
    plan = plan_import(good(), db)
    payload = json.loads(json.dumps(plan.to_dict()))
    assert payload["ok"] is True and payload["problem_count"] == 0
    assert [f["kind"] for f in payload["files"]] == ["accounts", "subscriptions", "opportunities"]


def _table_shape(engine: sa.Engine) -> list[tuple]:
    return _rows(
        engine,
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename IN ('accounts', 'subscriptions', 'mrr_monthly', 'opportunities', 'import_changes') "
        "UNION ALL SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid::regclass::text IN ('accounts', 'subscriptions', 'mrr_monthly', 'opportunities', 'import_changes') "
        "ORDER BY 1, 2, 3",
    )


def test_bulk_load_rebuilds_indexes_and_foreign_keys_exactly(db: sa.Engine) -> None:
    seed(db)
    shape = _table_shape(db)
    assert any(name == "fk_subscriptions_account_id_accounts" for _, name, _ in shape)
    rows = BULK_MIN_ROWS + 10
    lines = ["subscription_id,account_id,product,start_date,end_date,mrr"]
    lines += [f"B{i:06d},A00{1 + i % 4},Pro,2023-01-01,,{i % 500}.50" for i in range(rows)]
    result = run_import([ImportFile("bulk.csv", "\n".join(lines).encode())], db, user="tester")
    assert (result.inserted, result.unchanged) == (rows, 0)
    assert _table_shape(db) == shape
    assert _rows(db, "SELECT count(*), sum(mrr)::text FROM subscriptions WHERE batch_id = 2") == [
        (rows, f"{sum(i % 500 for i in range(rows)) + rows * 0.5:.2f}")
    ]
    with pytest.raises(sa.exc.IntegrityError), db.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO subscriptions VALUES ('X', 'NOPE', 'p', '2024-01-01', NULL, 1, NULL)"
            )
        )


def test_empty_rows_are_skipped_and_rows_keep_their_numbers(db: sa.Engine) -> None:
    data = b"account_id,vertical,employees\nA1,Soft,1\n\nA2,Soft,x\n,,\nA3,Soft,2\n"
    plan = plan_import([ImportFile("gaps.csv", data)], db)
    assert plan.files[0].notices == ["2 empty rows skipped"]
    assert [(p.row, p.column, p.value) for p in plan.problems] == [(4, "employees", "x")]
    result = run_import([ImportFile("gaps.csv", data.replace(b",x", b",3"))], db, user="tester")
    assert (result.files[0].rows, result.inserted) == (3, 3)


def test_bulk_load_by_a_role_that_cannot_drop_indexes_still_loads(
    db: sa.Engine, database_url: str
) -> None:
    seed(db)
    shape = _table_shape(db)
    role = "icp_import_writer"
    with db.begin() as conn:
        conn.execute(sa.text(f"DROP ROLE IF EXISTS {role}"))
        conn.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(
            sa.text(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
            )
        )
        conn.execute(sa.text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}"))
        conn.execute(
            sa.text(f"GRANT TEMPORARY ON DATABASE {sa.make_url(database_url).database} TO {role}")
        )
    writer = sa.create_engine(sa.make_url(database_url).set(username=role, password=None))
    try:
        rows = BULK_MIN_ROWS + 1
        lines = ["subscription_id,account_id,product,start_date,end_date,mrr"]
        lines += [f"W{i:06d},A001,Pro,2023-01-01,,1" for i in range(rows)]
        result = run_import([ImportFile("w.csv", "\n".join(lines).encode())], writer, user="writer")
        assert result.inserted == rows
    finally:
        writer.dispose()
        with db.begin() as conn:
            conn.execute(sa.text(f"REASSIGN OWNED BY {role} TO CURRENT_USER"))
            conn.execute(sa.text(f"DROP OWNED BY {role}"))
            conn.execute(sa.text(f"DROP ROLE {role}"))
    assert _table_shape(db) == shape


def test_is_won_flag_with_close_date(db: sa.Engine) -> None:
    seed(db)
    data = (
        b"Id,Account ID,Created Date,Close Date,Is Won,Amount\n"
        b"X1,A001,2023-01-01,2023-02-01,true,100\nX2,A001,2023-01-01,2023-02-01,false,100\n"
        b"X3,A001,2023-01-01,,false,100\n"
    )
    result = run_import([ImportFile("sf.csv", data)], db, user="tester")
    assert result.plan.files[0].mapping["Is Won"] == "status"
    assert _rows(
        db,
        "SELECT opportunity_id, status FROM opportunities WHERE opportunity_id LIKE 'X%' ORDER BY 1",
    ) == [
        ("X1", "won"),
        ("X2", "lost"),
        ("X3", "open"),
    ]


def test_hubspot_companies_export_needs_no_mapping(db: sa.Engine) -> None:
    data = (
        b"Record ID,Company name,Industry,Number of Employees,Country/Region,Create Date,Company owner\n"
        b"7001,Acme,COMPUTER_SOFTWARE,120,France,2023-03-04 10:00,Ann\n"
        b"7002,Bolt,FINANCIAL_SERVICES,,Germany,2023-03-05 11:30,Bob\n"
    )
    result = run_import([ImportFile("hubspot-companies.csv", data)], db, user="tester")
    assert result.plan.files[0].kind == "accounts"
    # The owner names no canonical column: it is kept as a custom attribute.
    assert result.plan.files[0].ignored == []
    assert [a.name for a in result.plan.files[0].attributes] == ["company_owner"]
    assert _rows(
        db,
        "SELECT account_id, account_name, vertical, size_band, region, created_date::text, "
        "attributes->>'company_owner' FROM accounts ORDER BY 1",
    ) == [
        ("7001", "Acme", "COMPUTER_SOFTWARE", "SMB", "France", "2023-03-04", "Ann"),
        ("7002", "Bolt", "FINANCIAL_SERVICES", None, "Germany", "2023-03-05", "Bob"),
    ]


def test_read_export_folder_gives_canonical_frames_or_the_report(tmp_path) -> None:
    from db.importer import ImportRejected, read_export_folder
    from tests.integration.test_import_support import GOOD

    for name in ("accounts.csv", "subscriptions.csv", "opportunities.csv"):
        (tmp_path / name).write_bytes((GOOD / name).read_bytes())
    frames = read_export_folder(tmp_path)
    assert sorted(frames) == ["accounts", "opportunities", "subscriptions"]
    subs = frames["subscriptions"]
    assert subs.columns == [
        "subscription_id",
        "account_id",
        "product",
        "start_date",
        "end_date",
        "mrr",
    ]
    assert subs["mrr"].to_list() == [1200.0, 8000.5, 950.0, 150.25]
    assert str(subs.schema["start_date"]) == "Date"
    (tmp_path / "subscriptions.csv").write_bytes(
        b"subscription_id,account_id,start_date,mrr\nS1,NOPE,2024-01-01,1\n"
    )
    with pytest.raises(ImportRejected) as info:
        read_export_folder(tmp_path)
    assert "subscriptions.csv, row 2, column 'account_id': 'NOPE'" in str(info.value)


@pytest.mark.parametrize(
    ("name", "data", "notices"),
    [
        ("bom_crlf.csv", b"\xef\xbb\xbfaccount_id,vertical\r\nA1,Soft\r\nA2,Caf\xc3\xa9\r\n", []),
        ("tabs.tsv", b"account_id\tvertical\nA1\tSoft\nA2\tCaf\xc3\xa9\n", ["tab-separated"]),
        ("pipes.csv", b"account_id|vertical\nA1|Soft\nA2|Caf\xc3\xa9\n", ["pipe-separated"]),
        (
            "utf16.csv",
            "account_id,vertical\nA1,Soft\nA2,Café\n".encode("utf-16"),
            ["read as UTF-16"],
        ),
        (
            "latin1.csv",
            "account_id,vertical\nA1,Soft\nA2,Café\n".encode("latin-1"),
            ["not valid UTF-8 (first at byte 34); read as Latin-1 (Windows-1252)"],
        ),
    ],
)
def test_encodings_and_delimiters(
    db: sa.Engine, name: str, data: bytes, notices: list[str]
) -> None:
    result = run_import([ImportFile(name, data)], db, user="tester")
    assert result.plan.files[0].notices == notices
    assert _rows(db, "SELECT account_id, vertical FROM accounts ORDER BY 1") == [
        ("A1", "Soft"),
        ("A2", "Café"),
    ]


def test_xlsx_rows_are_reported_as_the_sheet_numbers_them(db: sa.Engine) -> None:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("Accounts")
    ws.write_row(2, 1, ["Account ID", "Industry", "Employees"])
    ws.write_row(3, 1, ["A1", "Software", 10])
    ws.write_row(4, 1, ["A2", "Software", "lots"])
    wb.close()
    plan = plan_import([ImportFile("crm.xlsx", buf.getvalue())], db)
    assert [(p.row, p.column, p.value) for p in plan.problems] == [(5, "Employees", "lots")]


def test_excel_sep_hint_line_names_the_delimiter(db: sa.Engine) -> None:
    data = b"sep=;\r\naccount_id;vertical;employees\r\nA1;Soft;x\r\n"
    plan = plan_import([ImportFile("excel.csv", data)], db)
    assert plan.files[0].notices == ["semicolon-separated"]
    assert [(p.row, p.column, p.value) for p in plan.problems] == [(2, "employees", "x")]


def test_no_files_or_two_files_with_one_name_are_refused(db: sa.Engine) -> None:
    from db.importer import ImportRefused

    with pytest.raises(ImportRefused, match="^no files to import$"):
        run_import([], db, user="tester")
    twice = [
        ImportFile("a.csv", b"account_id,vertical\nA1,S\n"),
        ImportFile("a.csv", b"account_id,vertical\nA2,S\n"),
    ]
    with pytest.raises(ImportRefused, match="^two files share the name a.csv; rename one$"):
        run_import(twice, db, user="tester")


def test_xlsx_report_with_title_rows_above_the_header(db: sa.Engine) -> None:
    seed(db)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("Report")
    ws.write(0, 0, "Opportunities by stage")
    ws.write(1, 0, "Generated 2024-02-01 by Dana")
    ws.write_row(
        3,
        0,
        ["Opportunity ID", "Account ID", "Type", "Created Date", "Close Date", "Stage", "Amount"],
    )
    ws.write_row(
        4, 0, ["R1", "A001", "New Business", "2024-01-02", "2024-01-20", "Closed Won", 500]
    )
    ws.write_row(5, 0, ["R2", "A009", "New Business", "2024-01-03", None, "Prospecting", 700])
    wb.close()
    plan = plan_import([ImportFile("report.xlsx", buf.getvalue())], db)
    assert plan.files[0].notices == ["header found on row 4, below 3 title row(s)"]
    assert [(p.row, p.column, p.value) for p in plan.problems] == [(6, "Account ID", "A009")]


def test_incomplete_mapping_of_a_given_kind_is_shown_for_fixing(db: sa.Engine) -> None:
    data = b"Company Ref,Industry\nE1,Technology\n"
    plan = plan_import([ImportFile("crm.csv", data)], db, kinds={"crm.csv": "accounts"})
    (f,) = plan.files
    assert (f.kind, f.headers, f.mapping, f.ignored) == (
        "accounts",
        ["Company Ref", "Industry"],
        {"Industry": "vertical"},
        ["Company Ref"],
    )
    assert (
        plan.problems[0].expected
        == "the columns of an accounts file: missing account_id; found 'Company Ref', 'Industry'"
    )
    fixed = plan_import(
        [ImportFile("crm.csv", data)],
        db,
        kinds={"crm.csv": "accounts"},
        mappings={"crm.csv": {"Company Ref": "account_id"}},
    )
    assert fixed.ok and fixed.files[0].mapping == {
        "Company Ref": "account_id",
        "Industry": "vertical",
    }
