"""The planted demo stories, measured on the written CSV files with plain polars.

Every figure is computed here from METRICS.md's definitions, independently of the
metrics layer, on the files as RevOps would upload them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from scipy.stats import mannwhitneyu

from db.demo import POCKET, POCKET_EXCLUDED, as_of_key, write_demo_files

SEED = 7
# The default as-of month moves with the clock, so the stories are checked at the
# month the docs quote and at one five months later.
AS_OF_MONTHS = ("2026-10", "2027-03")
W = 12
GROSS_MARGIN = 0.80
DISCOUNT = 0.10
HORIZON_YEARS = 10


def month_end(key: int) -> dt.date:
    """Last day of a month key (year*12 + month - 1)."""
    nxt = key + 1
    return dt.date(nxt // 12, nxt % 12 + 1, 1) - dt.timedelta(days=1)


def month_of(col: str) -> pl.Expr:
    return pl.col(col).dt.year().cast(pl.Int32) * 12 + pl.col(col).dt.month().cast(pl.Int32) - 1


class Demo:
    """The demo files read back, with the MRR snapshot MRR(a, m) of METRICS.md."""

    def __init__(self, folder: Path, as_of: int) -> None:
        self.m = as_of
        self.accounts = pl.read_csv(folder / "accounts.csv", try_parse_dates=True)
        self.subscriptions = pl.read_csv(folder / "subscriptions.csv", try_parse_dates=True)
        self.opportunities = pl.read_csv(folder / "opportunities.csv", try_parse_dates=True)
        months = pl.DataFrame({"month": list(range(2019 * 12, as_of + 1))}).with_columns(
            pl.col("month").map_elements(month_end, return_dtype=pl.Date).alias("day")
        )
        # A subscription is active on a month's last day when start <= day <= end (inclusive).
        self.snapshot = (
            self.subscriptions.join(months, how="cross")
            .filter(
                (pl.col("start_date") <= pl.col("day"))
                & (pl.col("end_date").is_null() | (pl.col("end_date") >= pl.col("day")))
            )
            .group_by("account_id", "month")
            .agg(pl.col("mrr").sum())
            .filter(pl.col("mrr") > 0)
        )
        self.first_month = self.snapshot.group_by("account_id").agg(
            pl.col("month").min().alias("first")
        )

    def ids(self, segment: pl.Expr | None) -> pl.DataFrame:
        rows = self.accounts if segment is None else self.accounts.filter(segment)
        return rows.select("account_id")

    def mrr_at(self, key: int) -> pl.DataFrame:
        return self.snapshot.filter(pl.col("month") == key).select("account_id", "mrr")

    def retention(
        self, segment: pl.Expr | None, as_of: int | None = None, window: int = W
    ) -> dict[str, float]:
        """Point-to-point NRR, GRR and logo retention of a segment's starting cohort."""
        as_of = self.m if as_of is None else as_of
        start = self.ids(segment).join(self.mrr_at(as_of - window), on="account_id")
        both = start.join(
            self.mrr_at(as_of), on="account_id", how="left", suffix="_end"
        ).with_columns(pl.col("mrr_end").fill_null(0.0))
        s, e = both["mrr"].sum(), both["mrr_end"].sum()
        return {
            "n": both.height,
            "nrr": e / s,
            "grr": both.select(pl.min_horizontal("mrr", "mrr_end")).to_series().sum() / s,
            "logo": (both["mrr_end"] > 0).sum() / both.height,
            "arpa": self.ids(segment).join(self.mrr_at(as_of), on="account_id")["mrr"].mean(),
        }

    def closed_new_business(self, segment: pl.Expr | None, lo: int, hi: int) -> pl.DataFrame:
        """New-business deals closed with lo < close month <= hi, with days to close."""
        return (
            self.opportunities.filter(
                pl.col("opportunity_type") == "new_business", pl.col("status") != "open"
            )
            .join(self.ids(segment), on="account_id")
            .filter((month_of("close_date") > lo) & (month_of("close_date") <= hi))
            .with_columns(
                (pl.col("close_date") - pl.col("created_date")).dt.total_days().alias("days")
            )
        )

    def sales(self, segment: pl.Expr | None) -> dict[str, float]:
        """Win rate and median days to close of won deals over the window."""
        deals = self.closed_new_business(segment, self.m - W, self.m)
        won = deals.filter(pl.col("status") == "won")
        rate = won.height / deals.height if deals.height else None
        return {"win_rate": rate, "days": won["days"].median(), "won": won.height}

    def new_logos(self, segment: pl.Expr | None) -> int:
        fresh = self.first_month.filter(
            (pl.col("first") > self.m - W) & (pl.col("first") <= self.m)
        )
        return self.ids(segment).join(fresh, on="account_id").height

    def cohort_logo_retention(
        self, segment: pl.Expr | None, lo: int, hi: int, age: int
    ) -> tuple[float, int]:
        """Logo retention at ``age`` months of accounts first active in lo..hi (and observable)."""
        cohort = (
            self.ids(segment)
            .join(self.first_month, on="account_id")
            .filter(
                (pl.col("first") >= lo)
                & (pl.col("first") <= hi)
                & (pl.col("first") + age <= self.m)
            )
        )
        alive = cohort.join(
            self.snapshot.select("account_id", "month"),
            left_on=["account_id", pl.col("first") + age],
            right_on=["account_id", "month"],
        )
        return alive.height / cohort.height, cohort.height

    def cohort_clv(self, segment: pl.Expr) -> float:
        """Cohort CLV with an empirical yearly life table in place of the sBG fit.

        Survival S(t) chains the yearly retention of accounts alive at age t-1 and
        observable at t; past the observed ages it continues at the pooled yearly
        rate. Revenue per surviving account at age t is observed, carried forward.
        """
        cohort = self.ids(segment).join(self.first_month, on="account_id")
        alive = self.snapshot.select("account_id", "month", "mrr")
        survival, arpa, survivors = [1.0], [], []
        rates = []
        t = 0
        while True:
            at = cohort.filter(pl.col("first") + 12 * t <= self.m).join(
                alive,
                left_on=["account_id", pl.col("first") + 12 * t],
                right_on=["account_id", "month"],
                how="left",
            )
            if at.height < 5:
                break
            if t > 0:
                risk = at.filter(pl.col("account_id").is_in(survivors))
                if risk.height == 0:
                    break
                kept = risk.filter(pl.col("mrr").is_not_null()).height
                rates.append((kept, risk.height))
                survival.append(survival[-1] * kept / risk.height)
            survivors = at.filter(pl.col("mrr").is_not_null())["account_id"].to_list()
            arpa.append(at["mrr"].mean() if survivors else arpa[-1])
            t += 1
        pooled = sum(k for k, _ in rates) / sum(n for _, n in rates)
        while len(survival) < HORIZON_YEARS:
            survival.append(survival[-1] * pooled)
        arpa += [arpa[-1]] * (HORIZON_YEARS - len(arpa))
        return GROSS_MARGIN * sum(
            12 * arpa[t] * survival[t] / (1 + DISCOUNT) ** t for t in range(HORIZON_YEARS)
        )


@pytest.fixture(scope="module", params=AS_OF_MONTHS)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    folder = tmp_path_factory.mktemp("demo")
    write_demo_files(folder, seed=SEED, as_of=request.param)
    return Demo(folder, as_of_key(request.param))


def sub(name: str) -> pl.Expr:
    return pl.col("sub_industry") == name


def vertical(name: str) -> pl.Expr:
    return pl.col("vertical") == name


def rated_verticals(demo: Demo) -> list[str]:
    names = demo.accounts["vertical"].unique().sort().to_list()
    return [v for v in names if demo.retention(vertical(v))["n"] >= 10]


def test_credit_unions_are_core_icp_at_about_130_percent_nrr(demo: Demo) -> None:
    cu = demo.retention(sub("Credit Unions"))
    assert cu["n"] >= 25
    assert 1.20 <= cu["nrr"] <= 1.45
    assert cu["grr"] >= 0.90


def test_insurance_loses_about_a_quarter_of_its_logos_a_year(demo: Demo) -> None:
    yearly = [1 - demo.retention(sub("Insurance"), as_of=demo.m - 12 * k)["logo"] for k in range(3)]
    assert 0.18 <= yearly[0] <= 0.33
    assert 0.20 <= sum(yearly) / len(yearly) <= 0.30
    assert demo.retention(sub("Insurance"))["n"] >= 20


def test_retail_is_the_accidental_icp(demo: Demo) -> None:
    verticals = rated_verticals(demo)
    sales = {v: demo.sales(vertical(v)) for v in verticals}
    retail = "Retail & E-commerce"
    assert max(sales, key=lambda v: sales[v]["win_rate"]) == retail
    assert min(sales, key=lambda v: sales[v]["days"]) == retail
    assert demo.retention(vertical(retail))["nrr"] < 0.90
    base = demo.retention(vertical(retail))["n"] / demo.retention(None)["n"]
    new_logo_share = demo.new_logos(vertical(retail)) / demo.new_logos(None)
    assert new_logo_share > base


def test_clv_differs_3_to_5x_between_segments_starting_at_similar_deal_sizes(demo: Demo) -> None:
    first_acv = {}
    for name in ("Accounting", "Marketing Agencies"):
        won = demo.closed_new_business(sub(name), 0, demo.m).filter(pl.col("status") == "won")
        first_acv[name] = won["amount"].mean()
        assert demo.retention(sub(name))["n"] >= 10
    assert abs(first_acv["Accounting"] / first_acv["Marketing Agencies"] - 1) <= 0.15
    ratio = demo.cohort_clv(sub("Accounting")) / demo.cohort_clv(sub("Marketing Agencies"))
    assert 3.0 <= ratio <= 5.0


def test_healthcare_sales_cycle_lengthens_over_the_last_two_quarters(demo: Demo) -> None:
    won = pl.col("status") == "won"
    m = demo.m
    recent = demo.closed_new_business(vertical("Healthcare"), m - 6, m).filter(won)["days"]
    before = demo.closed_new_business(vertical("Healthcare"), m - 18, m - 6).filter(won)["days"]
    assert recent.len() >= 15 and before.len() >= 30
    assert recent.median() >= 1.4 * before.median()
    assert mannwhitneyu(recent.to_numpy(), before.to_numpy(), alternative="greater").pvalue < 0.05


def test_healthcare_recent_cohorts_retain_worse_at_three_months(demo: Demo) -> None:
    # Cohorts of the two complete quarters before the as-of month's quarter
    # (2026Q2-Q3 for 2026-10), those old enough to be seen at 3 months.
    start = demo.m - demo.m % 3 - 6
    recent, n_recent = demo.cohort_logo_retention(vertical("Healthcare"), start, start + 5, 3)
    base, n_base = demo.cohort_logo_retention(None, 2019 * 12, start - 1, 3)
    assert n_recent >= 8 and n_base >= 500
    assert recent <= base - 0.15


def test_government_is_too_small_to_rate(demo: Demo) -> None:
    gov = demo.retention(vertical("Government"))
    assert 1 <= gov["n"] < 10
    customers = demo.ids(vertical("Government")).join(demo.first_month, on="account_id")
    assert customers.height == 6


def _pocket() -> pl.Expr:
    return (
        (pl.col("size_band") == POCKET["size_band"])
        & (pl.col("use_case") == POCKET["use_case"])
        & ~pl.col("vertical").is_in(list(POCKET_EXCLUDED))
        & ~pl.col("sub_industry").is_in(list(POCKET_EXCLUDED))
    )


def test_a_two_attribute_pocket_expands_to_about_150_percent(demo: Demo) -> None:
    pocket = demo.retention(_pocket())
    assert pocket["n"] >= 30
    assert 1.40 <= pocket["nrr"] <= 1.90
    # Neither attribute alone shows it: each on its own stays far below the pocket.
    for column, value in POCKET.items():
        alone = demo.retention(pl.col(column) == value)
        assert alone["nrr"] <= pocket["nrr"] - 0.25
