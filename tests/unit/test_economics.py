"""Unit economics (METRICS.md, "Unit economics") against a hand-worked example."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from metrics.economics import company_magic_number, segment_economics
from metrics.frames import SCHEMAS, Frames
from metrics.model import build_dataset
from metrics.months import month_key
from metrics.settings import MetricSettings
from tests.unit.builders import monthly, no_opportunities, series

S = MetricSettings()
M = month_key("2025-12")
ACCOUNTS = pl.DataFrame(
    {
        "account_id": ["A1", "A2", "R1", "R2", "R3", "O1", "F0", "R0"],
        "vertical": ["Fin", "Fin", "Retail", "Retail", "Retail", "Edu", "Fin", "Retail"],
        "region": ["EMEA", "NA", "EMEA", "EMEA", "EMEA", "NA", "NA", "EMEA"],
    }
)
MRR = monthly(
    [
        *series("A1", "2025-03", [1000] * 10),
        *series("A2", "2025-06", [2000] * 7),
        *series("R1", "2025-02", [100] * 11),
        *series("R2", "2025-04", [200] * 9),
        *series("R3", "2025-11", [300] * 2),
        *series("O1", "2023-01", [500] * 36),
        # Customers from before the window, so each vertical has a cohort CLV.
        *series("F0", "2023-01", [400] * 36),
        *series("R0", "2023-01", [150] * 18),
    ]
)
OLD = {"O1", "F0", "R0"}


def spend(rows: list[tuple]) -> pl.DataFrame:
    """Spend rows (month, amount, vertical, region)."""
    return pl.DataFrame(
        {
            "month": [dt.date.fromisoformat(r[0] + "-01") for r in rows],
            "line": list(range(1, len(rows) + 1)),
            "amount": [float(r[1]) for r in rows],
            "category": ["marketing"] * len(rows),
            "vertical": [r[2] for r in rows],
            "region": [r[3] for r in rows],
        },
        schema_overrides={"vertical": pl.String, "region": pl.String},
    )


SPEND = spend(
    [
        ("2025-05", 6000, "Fin", None),  # direct
        ("2025-05", 1500, "Retail", None),  # direct
        ("2025-07", 10000, None, None),  # company-level
        ("2025-09", 500, None, "EMEA"),  # names no vertical: company-level by vertical
        ("2024-12", 99999, None, None),  # before the window
    ]
)


def ds(spend_rows: pl.DataFrame | None = SPEND):
    frames = Frames(
        accounts=ACCOUNTS, opportunities=no_opportunities(), mrr_monthly=MRR, spend=spend_rows
    )
    return build_dataset(frames, S)


def rows(frame: pl.DataFrame, *by: str) -> dict[tuple, dict]:
    return {tuple(r[d] for d in by): r for r in frame.iter_rows(named=True)}


def test_new_customers_spend_cac_payback_and_magic_number_by_vertical() -> None:
    out = rows(segment_economics(ds(), S, M, 12, by=("vertical",)), "vertical")
    fin, retail, edu = out[("Fin",)], out[("Retail",)], out[("Edu",)]
    assert (fin["new_customers"], fin["new_arpa"]) == (2, 1500.0)
    assert (retail["new_customers"], retail["new_arpa"]) == (3, 200.0)
    # 6000 direct + 2/5 of 10000 + 2/5 of 500
    assert fin["spend"] == pytest.approx(10200) and fin["spend_direct"] == 6000
    assert retail["spend"] == pytest.approx(7800)  # 1500 + 6000 + 300
    assert fin["cac"] == pytest.approx(5100) and retail["cac"] == pytest.approx(2600)
    assert fin["payback_months"] == pytest.approx(5100 / (1500 * 0.8))
    assert retail["payback_months"] == pytest.approx(2600 / (200 * 0.8))
    assert fin["ltv_cac"] == pytest.approx(fin["clv"] / 5100)
    assert fin["allowable_cac"] == pytest.approx(fin["clv"] / 3)
    # Magic number: MRR Dec - Sep, x 12, over the spend of Jul-Sep (allocated alike).
    assert fin["magic_number"] == pytest.approx(0.0)
    assert retail["spend_lagged"] == pytest.approx(6000 + 300)
    assert retail["magic_number"] == pytest.approx(300 * 12 / 6300)
    # No new customers: no CAC, never a division by zero; allowable CAC needs no spend.
    assert edu["new_customers"] == 0 and edu["spend"] == 0
    assert edu["cac"] is None and edu["ltv_cac"] is None and edu["payback_months"] is None
    assert company_magic_number(ds(), M) == pytest.approx(300 * 12 / 10500)
    assert fin["clv"] > 0 and retail["clv"] > 0


def test_two_dimensions_share_what_names_one_of_them() -> None:
    out = rows(segment_economics(ds(), S, M, 12, by=("vertical", "region")), "vertical", "region")
    assert out[("Fin", "EMEA")]["spend"] == pytest.approx(3000 + 2000 + 125)
    assert out[("Fin", "NA")]["spend"] == pytest.approx(3000 + 2000)
    assert out[("Retail", "EMEA")]["spend"] == pytest.approx(1500 + 6000 + 375)
    assert out[("Edu", "NA")]["spend"] == 0
    total = sum(r["spend"] for r in out.values())
    assert total == pytest.approx(18000)  # every window row found segments to go to


def test_company_row_and_filters() -> None:
    company = segment_economics(ds(), S, M, 12, by=()).row(0, named=True)
    assert company["new_customers"] == 5 and company["spend"] == pytest.approx(18000)
    assert company["cac"] == pytest.approx(3600)
    emea = rows(
        segment_economics(ds(), S, M, 12, by=("vertical",), filters={"region": ["EMEA"]}),
        "vertical",
    )
    assert emea[("Fin",)]["new_customers"] == 1
    assert emea[("Fin",)]["spend"] == pytest.approx(10200 / 2)  # half of Fin's new customers


def test_without_spend_only_the_allowable_cac() -> None:
    out = rows(segment_economics(ds(None), S, M, 12, by=("vertical",)), "vertical")
    fin = out[("Fin",)]
    assert fin["spend"] is None and fin["cac"] is None and fin["magic_number"] is None
    assert fin["allowable_cac"] == pytest.approx(fin["clv"] / 3)
    assert company_magic_number(ds(None), M) is None


@hsettings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 11),
            st.integers(0, 50_000),
            st.sampled_from([None, "Fin", "Retail", "Edu", "Nope"]),
            st.sampled_from([None, "EMEA", "NA"]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_allocated_spend_adds_up(raw: list[tuple]) -> None:
    """Every window row that names no unknown value and has new customers to go to is
    spent exactly once across the segments."""
    rows_ = [(f"2025-{m + 1:02d}", a, v, r) for m, a, v, r in raw]
    data = ds(spend(rows_))
    for by in (("vertical",), ("vertical", "region"), ()):
        out = segment_economics(data, S, M, 12, by=by)
        expected = 0.0
        for _, amount, vertical, region in rows_:
            named = {"vertical": vertical, "region": region}
            keys = {d: named[d] for d in by if named[d] is not None}
            has_new = any(
                all(acc[d] == v for d, v in keys.items())
                and acc["account_id"] not in OLD
                for acc in ACCOUNTS.iter_rows(named=True)
            )
            direct = len(keys) == len(by) and by and any(
                all(acc[d] == v for d, v in keys.items()) for acc in ACCOUNTS.iter_rows(named=True)
            )
            if has_new or direct:
                expected += amount
        assert out["spend"].sum() == pytest.approx(expected)
        assert (out["spend"] >= 0).all()


def test_spend_schema_is_the_canonical_one() -> None:
    assert set(SPEND.columns) <= set(SCHEMAS["spend"])
