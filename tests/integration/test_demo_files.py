"""The demo generator: same seed, same bytes; the files have the promised shape."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from db.demo import as_of_key, last_complete_month, write_demo_files

AS_OF = "2026-10"
LAST_DAY = dt.date(2026, 10, 31)
EXPORT_DAY = dt.date(2026, 11, 1)
CANONICAL = {
    "accounts": [
        "account_id",
        "account_name",
        "vertical",
        "sub_industry",
        "size_band",
        "employees",
        "region",
        "use_case",
        "lead_source",
        "created_date",
    ],
    "subscriptions": ["subscription_id", "account_id", "product", "start_date", "end_date", "mrr"],
    "opportunities": [
        "opportunity_id",
        "account_id",
        "opportunity_type",
        "created_date",
        "close_date",
        "status",
        "amount",
        "lead_source",
    ],
    "spend": ["month", "amount", "category", "channel", "vertical"],
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    paths = write_demo_files(tmp_path_factory.mktemp("demo"), seed=7, as_of=AS_OF)
    return {kind: pl.read_csv(path, try_parse_dates=True) for kind, path in paths.items()}


def _bytes(folder: Path, seed: int, as_of: str = AS_OF) -> dict[str, bytes]:
    return {k: p.read_bytes() for k, p in write_demo_files(folder, seed=seed, as_of=as_of).items()}


def test_same_seed_writes_byte_identical_files(tmp_path: Path) -> None:
    first = _bytes(tmp_path / "a", 7)
    second = _bytes(tmp_path / "b", 7)
    assert first == second
    assert set(first) == {"accounts", "subscriptions", "opportunities", "spend"}


def test_another_seed_or_month_writes_other_files(tmp_path: Path) -> None:
    base = _bytes(tmp_path / "a", 7)
    other_seed = _bytes(tmp_path / "b", 8)
    other_month = _bytes(tmp_path / "c", 7, "2026-09")
    for kind in base:
        assert base[kind] != other_seed[kind]
        assert base[kind] != other_month[kind]


def test_default_as_of_is_the_last_complete_month() -> None:
    assert last_complete_month(dt.date(2026, 1, 15)) == "2025-12"
    assert last_complete_month(dt.date(2026, 11, 30)) == "2026-10"
    assert as_of_key(dt.date(2026, 10, 3)) == as_of_key("2026-10") == 2026 * 12 + 9
    with pytest.raises(ValueError, match="YYYY-MM"):
        as_of_key("October")


def test_headers_are_canonical(files: dict[str, pl.DataFrame]) -> None:
    for kind, columns in CANONICAL.items():
        assert files[kind].columns == columns


def test_ids_are_unique_and_references_exist(files: dict[str, pl.DataFrame]) -> None:
    accounts = set(files["accounts"]["account_id"])
    assert len(accounts) == files["accounts"].height
    for kind, key in (("subscriptions", "subscription_id"), ("opportunities", "opportunity_id")):
        assert files[kind][key].n_unique() == files[kind].height
        assert set(files[kind]["account_id"]) <= accounts


def test_about_2500_accounts_in_8_verticals_of_2_to_5_sub_industries(
    files: dict[str, pl.DataFrame],
) -> None:
    accounts = files["accounts"]
    assert 2_300 <= accounts.height <= 2_800
    subs = accounts.group_by("vertical").agg(pl.col("sub_industry").n_unique().alias("n"))
    assert subs.height >= 6
    assert subs["n"].min() >= 2 and subs["n"].max() <= 5
    customers = files["subscriptions"]["account_id"].n_unique()
    assert 1_000 <= customers <= accounts.height - 800  # prospects are a large minority
    for column in ("region", "use_case", "lead_source", "account_name", "created_date"):
        assert accounts[column].null_count() == 0, column
    for column in ("region", "use_case", "lead_source"):
        assert accounts[column].n_unique() >= 4, column


def test_size_bands_agree_with_employees(files: dict[str, pl.DataFrame]) -> None:
    accounts = files["accounts"]
    derived = (
        pl.when(pl.col("employees") < 200)
        .then(pl.lit("SMB"))
        .when(pl.col("employees") < 2000)
        .then(pl.lit("Mid-Market"))
        .otherwise(pl.lit("Enterprise"))
    )
    assert accounts.filter(derived != pl.col("size_band")).height == 0
    assert set(accounts["size_band"]) == {"SMB", "Mid-Market", "Enterprise"}


def test_dates_run_from_2019_01_to_the_as_of_month(files: dict[str, pl.DataFrame]) -> None:
    subs, opps = files["subscriptions"], files["opportunities"]
    first = subs["start_date"].min()
    assert (first.year, first.month) == (2019, 1)
    assert subs["start_date"].max() <= LAST_DAY
    assert subs["start_date"].max() >= dt.date(2026, 10, 1)
    assert subs.filter(pl.col("end_date") < pl.col("start_date")).height == 0
    assert subs["end_date"].max() <= LAST_DAY
    # The newest record is the export day, so the dashboard's default as-of is AS_OF.
    newest = max(opps["created_date"].max(), files["accounts"]["created_date"].max())
    assert newest == EXPORT_DAY
    assert opps["close_date"].max() <= LAST_DAY
    assert opps.filter(pl.col("close_date") < pl.col("created_date")).height == 0


def test_each_customer_first_subscription_has_its_won_deal(files: dict[str, pl.DataFrame]) -> None:
    subs = files["subscriptions"]
    first = (
        subs.sort("start_date")
        .group_by("account_id")
        .agg(
            pl.col("start_date").first(),
            pl.col("mrr")
            .filter(pl.col("start_date") == pl.col("start_date").min())
            .sum()
            .alias("mrr"),
        )
    )
    won = files["opportunities"].filter(
        pl.col("opportunity_type") == "new_business", pl.col("status") == "won"
    )
    matched = first.join(won, on="account_id").filter(
        (pl.col("close_date") <= pl.col("start_date"))
        & ((pl.col("start_date") - pl.col("close_date")).dt.total_days() <= 14)
        & ((pl.col("amount") - 12 * pl.col("mrr")).abs() < 0.01)
    )
    assert matched["account_id"].n_unique() == first.height


def test_revenue_moves_every_way(files: dict[str, pl.DataFrame]) -> None:
    subs = files["subscriptions"].sort("account_id", "start_date")
    # A replaced row: the next row of the same product starts the day after it ends.
    replaced = subs.with_columns((pl.col("end_date") + pl.duration(days=1)).alias("next")).join(
        subs.select("account_id", "product", "start_date", pl.col("mrr").alias("next_mrr")),
        left_on=["account_id", "product", "next"],
        right_on=["account_id", "product", "start_date"],
    )
    assert replaced.filter(pl.col("next_mrr") > pl.col("mrr")).height >= 100  # expansion
    assert replaced.filter(pl.col("next_mrr") < pl.col("mrr")).height >= 50  # contraction
    assert subs.filter(pl.col("product").str.starts_with("Add-on")).height >= 100
    # Churn: customers with no active row at the end; reactivation: a start after a gap.
    ended = subs.group_by("account_id").agg(pl.col("end_date").is_not_null().all())
    assert ended["end_date"].sum() >= 200
    gaps = subs.with_columns(
        pl.col("end_date").cum_max().shift(1).over("account_id").alias("prev_end")
    ).filter(pl.col("start_date") > pl.col("prev_end") + pl.duration(days=60))
    assert gaps["account_id"].n_unique() >= 20


def test_opportunities_cover_every_type_and_status(files: dict[str, pl.DataFrame]) -> None:
    opps = files["opportunities"]
    pairs = set(opps.select("opportunity_type", "status").unique().iter_rows())
    for status in ("won", "lost", "open"):
        assert ("new_business", status) in pairs
        assert ("renewal", status) in pairs
    assert ("expansion", "won") in pairs
    assert opps.filter((pl.col("status") == "open") != pl.col("close_date").is_null()).height == 0
    never_active = set(files["accounts"]["account_id"]) - set(files["subscriptions"]["account_id"])
    prospect_deals = opps.filter(pl.col("account_id").is_in(list(never_active)))
    assert set(prospect_deals["status"]) == {"lost", "open"}
    untouched = never_active - set(opps["account_id"])
    assert 50 <= len(untouched) < len(never_active) / 4  # some prospects have no deal yet


def test_sales_cycles_lengthen_with_company_size(files: dict[str, pl.DataFrame]) -> None:
    won = (
        files["opportunities"]
        .filter(pl.col("opportunity_type") == "new_business", pl.col("status") == "won")
        .join(files["accounts"].select("account_id", "size_band"), on="account_id")
        .with_columns((pl.col("close_date") - pl.col("created_date")).dt.total_days().alias("days"))
        .group_by("size_band")
        .agg(pl.col("days").median())
    )
    days = dict(won.iter_rows())
    assert days["SMB"] < days["Mid-Market"] < days["Enterprise"]
