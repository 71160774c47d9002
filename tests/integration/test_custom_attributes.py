"""Custom attributes: extra columns of the accounts file are kept through import,
re-import and rollback, and the text ones with few values are dimensions everywhere."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli.report import report_app
from app.commands.settings import SaveSettings
from app.errors import CommandError
from app.views.context import Context, frame_context
from app.views.params import from_query
from app.views.query import BadParameter
from app.views.scorecard import scorecard
from db.importer import ImportFile, plan_import, rollback_batch, run_import
from db.queries import load_frames, load_settings
from metrics.errors import MetricsError
from tests.integration.test_import_support import checksums

ACCOUNTS = """account_id,vertical,Plan,CSM Owner,Seats
A1,Banking,Pro,Jo,10
A2,Banking,Basic,Al,5.5
A3,Retail,Pro,,12
P1,Retail,Basic,Jo,
"""
# A1 expands (100 -> 130 from March), A2 flat, A3 churns at the end of April.
SUBSCRIPTIONS = """subscription_id,account_id,start_date,end_date,mrr
S1,A1,2024-01-01,,100
S2,A1,2024-03-01,,30
S3,A2,2024-01-10,,50
S4,A3,2024-01-01,2024-04-30,40
"""
OPPORTUNITIES = """opportunity_id,account_id,opportunity_type,created_date,close_date,status,amount
O1,A1,new_business,2023-11-01,2023-12-31,won,1200
O2,P1,new_business,2024-04-01,2024-05-01,lost,900
O3,A2,new_business,2024-06-01,2024-06-30,won,1000
"""


def _file(name: str, text: str) -> ImportFile:
    return ImportFile(name, text.encode())


def _context(db: sa.Engine) -> Context:
    """The warehouse's context, built afresh (each test's data versions start over)."""
    return frame_context(load_frames(db), load_settings(db), version=str(uuid.uuid4()))


def _import_all(db: sa.Engine) -> None:
    """Accounts, subscriptions and opportunities imported in one batch."""
    files = [("accounts.csv", ACCOUNTS), ("subscriptions.csv", SUBSCRIPTIONS),
             ("opportunities.csv", OPPORTUNITIES)]
    run_import([_file(name, text) for name, text in files], db, user="tester")


def _attributes(db: sa.Engine) -> dict[str, dict | None]:
    with db.connect() as conn:
        rows = conn.execute(sa.text("SELECT account_id, attributes FROM accounts ORDER BY 1"))
        return dict(rows.all())


def test_extras_are_kept_typed_and_survive_reimport_and_rollback(db: sa.Engine) -> None:
    first = run_import(
        [_file("accounts.csv", ACCOUNTS), _file("subscriptions.csv", SUBSCRIPTIONS)],
        db,
        user="tester",
    )
    assert first.files[0].inserted == 4
    assert _attributes(db) == {
        "A1": {"plan": "Pro", "csm_owner": "Jo", "seats": 10.0},
        "A2": {"plan": "Basic", "csm_owner": "Al", "seats": 5.5},
        "A3": {"plan": "Pro", "csm_owner": None, "seats": 12.0},
        "P1": {"plan": "Basic", "csm_owner": "Jo", "seats": None},
    }
    accounts = load_frames(db).accounts.sort("account_id")
    assert accounts.select("plan", "csm_owner", "seats").rows() == [
        ("Pro", "Jo", 10.0),
        ("Basic", "Al", 5.5),
        ("Pro", None, 12.0),
        ("Basic", "Jo", None),
    ]
    assert str(accounts.schema["seats"]) == "Float64"

    before = checksums(db)
    again = run_import([_file("accounts.csv", ACCOUNTS)], db, user="tester")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    assert checksums(db)["accounts"] == before["accounts"]

    moved = ACCOUNTS.replace("A2,Banking,Basic", "A2,Banking,Pro")
    changed = run_import([_file("accounts.csv", moved)], db, user="tester")
    assert (changed.inserted, changed.updated) == (0, 1)
    assert _attributes(db)["A2"]["plan"] == "Pro"

    rollback_batch(db, changed.batch_id, user="tester")
    assert _attributes(db)["A2"] == {"plan": "Basic", "csm_owner": "Al", "seats": 5.5}
    assert checksums(db, ("accounts",)) == {"accounts": before["accounts"]}
    rollback_batch(db, again.batch_id, user="tester")
    rollback_batch(db, first.batch_id, user="tester")
    assert _attributes(db) == {}


def test_report_says_which_extras_became_dimensions() -> None:
    many = "account_id,vertical,Plan,Contact,Seats\n" + "".join(
        f"A{i},Banking,{'Pro' if i % 2 else 'Basic'},person {i},{i}\n" for i in range(51)
    )
    plan = plan_import([_file("accounts.csv", many)], None)
    f = plan.files[0]
    assert [(a.name, a.numeric, a.values, a.dimension) for a in f.attributes] == [
        ("plan", False, 2, True),
        ("contact", False, 51, False),
        ("seats", True, 51, False),
    ]
    report = plan.report()
    assert "custom attributes, dimensions: Plan as plan (2 values)" in report
    assert (
        "custom attributes kept, not segmentable: Contact as contact (51 values, more than 50), "
        "Seats as seats (a number: band it in the settings to segment by it)"
    ) in report
    assert plan.to_dict()["files"][0]["attributes"][1] == {
        "header": "Contact", "name": "contact", "numeric": False, "values": 51,
        "dimension": False,
    }


def test_reserved_or_repeated_names_stay_ignored_with_a_notice() -> None:
    text = "account_id,vertical,Window,Sales Motion,sales-motion\nA1,Banking,x,PLG,SLG\n"
    f = plan_import([_file("accounts.csv", text)], None).files[0]
    assert [a.name for a in f.attributes] == ["sales_motion"]
    assert f.ignored == ["Window", "sales-motion"]
    assert f.notices == [
        "column 'Window' ignored: 'window' is a reserved name; rename the column to keep "
        "it as a custom attribute",
        "column 'sales-motion' ignored: its name 'sales_motion' is also 'Sales Motion''s",
    ]


def test_an_attribute_of_51_values_is_kept_but_not_a_dimension(db: sa.Engine) -> None:
    many = "account_id,vertical,created_date,Plan,Contact\n" + "".join(
        f"A{i:02d},Banking,2024-01-01,{'Pro' if i % 2 else 'Basic'},person {i}\n"
        for i in range(51)
    )
    run_import([_file("accounts.csv", many)], db, user="tester")
    ctx = _context(db)
    assert ctx.dataset.accounts.get_column("contact").n_unique() == 51
    assert ctx.dimensions[-1] == "plan" and "contact" not in ctx.dimensions
    with pytest.raises(MetricsError, match="contact has more than 50 values: kept, not a"):
        ctx.dataset.check_dimensions(["contact"])
    with pytest.raises(BadParameter, match="by='contact' is not a dimension"):
        from_query(ctx, {"by": "contact"})


def test_a_custom_attribute_in_the_url_segments_and_filters(db: sa.Engine) -> None:
    _import_all(db)
    ctx = _context(db)
    p = from_query(ctx, {"by": "plan", "as_of": "2024-06", "window": "3"})
    rows = {r["plan"]: r for r in scorecard(ctx, p).records()}
    # From 2024-03: Pro holds A1 (130 -> 130) and A3 (40 -> churned), Basic A2 (50 -> 50).
    assert rows["Pro"]["accounts"] == 2 and rows["Pro"]["nrr"] == pytest.approx(130 / 170)
    assert rows["Basic"]["accounts"] == 1 and rows["Basic"]["nrr"] == 1.0
    assert scorecard(ctx, p).columns[0].label == "Plan"
    one = from_query(ctx, {"by": "vertical", "plan": "Pro", "as_of": "2024-06", "window": "3"})
    assert one.filters == (("plan", ("Pro",)),)
    by_vertical = {r["vertical"]: r["accounts"] for r in scorecard(ctx, one).records()}
    assert by_vertical == {"Banking": 1, "Retail": 1}


def test_a_custom_attribute_works_as_by_on_the_command_line(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "accounts.csv").write_text(ACCOUNTS)
    (folder / "subscriptions.csv").write_text(SUBSCRIPTIONS)
    (folder / "opportunities.csv").write_text(OPPORTUNITIES)
    args = ["scorecard", "--as-of", "2024-06", "--window", "3", "--format", "json"]
    result = CliRunner().invoke(report_app, [*args, "--by", "plan", "--data", str(folder)])
    assert result.exit_code == 0, result.output
    rows = {r["plan"]: r for r in json.loads(result.stdout)}
    assert rows["Pro"]["nrr"] == pytest.approx(130 / 170) and rows["Basic"]["nrr"] == 1.0
    two = CliRunner().invoke(report_app, [*args, "--by", "vertical,plan", "--data", str(folder)])
    assert [(r["vertical"], r["plan"]) for r in json.loads(two.stdout)] == [
        ("Banking", "Basic"), ("Banking", "Pro"), ("Retail", "Basic"), ("Retail", "Pro"),
    ]
    bad = CliRunner().invoke(report_app, [*args, "--by", "seats", "--data", str(folder)])
    assert bad.exit_code != 0
    assert "seats is a number: band it in the settings to segment by its bands, seats_band" in (
        bad.output
    )


def test_a_numeric_attribute_banded_in_the_settings_is_a_dimension(db: sa.Engine) -> None:
    _import_all(db)
    ctx = _context(db)
    assert ctx.dataset.numeric_attributes == ("seats",)
    assert "seats_band" not in ctx.dimensions
    with pytest.raises(MetricsError, match="band it in the settings to segment by its bands"):
        ctx.dataset.check_dimensions(["seats"])

    SaveSettings(db, {"attribute_bands": {"seats": [10, 12]}}, "tester").run()
    ctx = _context(db)
    assert ctx.dimensions[-1] == "seats_band"
    assert ctx.dataset.numeric_attributes == ("seats",)
    # Seats: A1 10 (a band holds its lower bound), A2 5.5, A3 12, P1 none (a prospect).
    bands = dict(ctx.dataset.accounts.select("account_id", "seats_band").iter_rows())
    assert bands == {"A1": "10–12", "A2": "< 10", "A3": "≥ 12", "P1": "Unspecified"}
    p = from_query(ctx, {"by": "seats_band", "as_of": "2024-06", "window": "3"})
    rows = {r["seats_band"]: r for r in scorecard(ctx, p).records()}
    # From 2024-03: A1 130 -> 130, A2 50 -> 50, A3 40 -> churned.
    assert (rows["10–12"]["accounts"], rows["10–12"]["nrr"]) == (1, 1.0)
    assert (rows["< 10"]["accounts"], rows["< 10"]["nrr"]) == (1, 1.0)
    assert (rows["≥ 12"]["accounts"], rows["≥ 12"]["nrr"]) == (1, 0.0)
    # The raw numbers stay beside their bands, and the bands filter like any dimension.
    assert ctx.dataset.accounts.schema["seats"] == pl.Float64
    one = from_query(
        ctx, {"by": "vertical", "seats_band": "< 10", "as_of": "2024-06", "window": "3"}
    )
    assert {r["vertical"]: r["accounts"] for r in scorecard(ctx, one).records()} == {"Banking": 1}

    with pytest.raises(CommandError, match="Bands: .*seats: bounds must be in ascending order"):
        bad = {"attribute_bands": {"seats": [12, 10]}}
        SaveSettings(db, bad, "tester", {"attribute_bands": "Bands"}).run()
    assert load_settings(db).attribute_bands == {"seats": [10.0, 12.0]}
