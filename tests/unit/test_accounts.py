"""Accounts behind a number: hand-worked lists, and every list sums to the number it explains."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics.accounts import cohort_accounts, deal_list, movement_accounts, retention_accounts
from metrics.cohorts import cohort_curves
from metrics.errors import MetricsError
from metrics.months import month_key
from metrics.movements import MOVEMENTS, mrr_movements
from metrics.retention import window_retention
from metrics.secondary import secondary_metrics
from tests.unit.builders import accounts, dataset, monthly, opportunities, series
from tests.unit.test_properties import FAST, MONTHS, monthly_data


def hand_ds():
    """Vertical X: a expands, b churns, c contracts, e stays flat; Y: d; f starts later."""
    rows = [
        *series("a", "2024-01", [100, 100, 100, 120, 120, 120, 150]),
        *series("b", "2024-01", [100, 100, 0, 0, 0, 80, 0]),
        *series("c", "2024-01", [200] * 6 + [150]),
        *series("e", "2024-01", [50] * 7),
        *series("d", "2024-01", [100] * 7),
        *series("f", "2024-03", [60, 60, 60, 60]),
    ]
    accs = accounts(
        [
            ("a", "X", None, "SMB"),
            ("b", "X", None, "SMB"),
            ("c", "X", None, "Enterprise"),
            ("e", "X", None, "SMB"),
            ("d", "Y", None, "SMB"),
            ("f", "X", None, "SMB"),
        ]
    ).with_columns(pl.format("{} Inc", pl.col("account_id")).alias("account_name"))
    opps = opportunities(
        [
            ("o1", "a", "new_business", "2023-11-01", "2023-12-20", "won", 1200),  # before window
            ("o2", "f", "new_business", "2024-01-10", "2024-02-25", "won", 720),
            ("o3", "b", "expansion", "2024-03-01", "2024-03-20", "won", 500),  # not new business
            ("o4", "p", "new_business", "2024-02-01", "2024-04-01", "lost", 900),
            ("o5", "p", "new_business", "2024-05-01", None, "open", 300),
            # Open at the end of July, won in August.
            ("o6", "q", "new_business", "2024-06-01", "2024-08-01", "won", 400),
            ("o7", "d", "new_business", "2024-02-01", "2024-03-01", "lost", 100),  # vertical Y
        ]
    )
    accs = pl.concat(
        [accs, accounts([("p", "X", None, "SMB"), ("q", "X", None, "SMB")])], how="diagonal"
    )
    return dataset(accs, mrr=monthly(rows), opps=opps)


def test_window_retention_list_by_hand():
    ds = hand_ds()
    got = retention_accounts(ds, {"vertical": "X"}, month_key("2024-07"), 6)
    assert got.columns == [
        "account_id",
        "account_name",
        "vertical",
        "start_mrr",
        "end_mrr",
        "status",
    ]
    assert got.rows() == [
        ("a", "a Inc", "X", 100.0, 150.0, "expanded"),
        ("b", "b Inc", "X", 100.0, 0.0, "churned"),
        ("c", "c Inc", "X", 200.0, 150.0, "contracted"),
        ("e", "e Inc", "X", 50.0, 50.0, "retained"),
    ]
    # f started after the window's first month: not in the starting cohort.
    two = retention_accounts(ds, {"size_band": "SMB", "vertical": "X"}, month_key("2024-07"), 6)
    assert two.columns[:4] == ["account_id", "account_name", "vertical", "size_band"]
    assert two.get_column("account_id").to_list() == ["a", "b", "e"]


def test_movement_list_by_hand():
    ds = hand_ds()
    march = movement_accounts(ds, {}, month_key("2024-03"), None)
    assert march.select("account_id", "movement", "previous_mrr", "mrr", "amount").rows() == [
        ("b", "churn", 100.0, 0.0, 100.0),
        ("f", "new", 0.0, 60.0, 60.0),
    ]
    june = movement_accounts(ds, {"vertical": "X"}, month_key("2024-06"), "reactivation")
    assert june.select("account_id", "month", "amount").rows() == [("b", "2024-06", 80.0)]
    july = movement_accounts(ds, {"vertical": "X"}, month_key("2024-07"), None)
    assert july.select("account_id", "movement", "amount").rows() == [
        ("a", "expansion", 30.0),
        ("b", "churn", 80.0),
        ("c", "contraction", 50.0),
        ("f", "churn", 60.0),
    ]
    with pytest.raises(MetricsError, match="movement must be one of"):
        movement_accounts(ds, {}, month_key("2024-07"), "upsell")


def test_cohort_cell_list_by_hand():
    ds = hand_ds()
    # Cohort 2024Q1 at age 4 with as-of 2024-07: first months Jan (a, b, c, e) and
    # March (f, seen at July); age 4 is May for the January accounts.
    got = cohort_accounts(ds, {"vertical": "X"}, month_key("2024-07"), "quarter", "2024Q1", 4)
    assert got.select("account_id", "first_month", "start_mrr", "mrr_at_age", "status").rows() == [
        ("a", "2024-01", 100.0, 120.0, "expanded"),
        ("b", "2024-01", 100.0, 0.0, "churned"),
        ("c", "2024-01", 200.0, 200.0, "retained"),
        ("e", "2024-01", 50.0, 50.0, "retained"),
        ("f", "2024-03", 60.0, 0.0, "churned"),
    ]
    # At age 5 f (March + 5 = August) is past the as-of month and drops out.
    five = cohort_accounts(ds, {"vertical": "X"}, month_key("2024-07"), "quarter", "2024Q1", 5)
    assert five.get_column("account_id").to_list() == ["a", "b", "c", "e"]
    with pytest.raises(MetricsError, match="not a quarter cohort"):
        cohort_accounts(ds, {}, month_key("2024-07"), "quarter", "2024-01", 0)


def test_deal_list_by_hand():
    ds = hand_ds()
    got = deal_list(ds, {"vertical": "X"}, month_key("2024-07"), 6, None)
    assert got.select(
        "opportunity_id", "status", "close_date", "days_to_close", "amount"
    ).rows() == [
        ("o2", "won", dt.date(2024, 2, 25), 46, 720.0),
        ("o4", "lost", dt.date(2024, 4, 1), 60, 900.0),
        ("o5", "open", None, None, 300.0),
        ("o6", "open", None, None, 400.0),
    ]
    assert got.get_column("account_id").to_list() == ["f", "p", "p", "q"]
    won = deal_list(ds, {"vertical": "X"}, month_key("2024-07"), 6, "won")
    assert won.get_column("opportunity_id").to_list() == ["o2"]


def test_unknown_segments_are_errors_naming_the_choices():
    ds = hand_ds()
    with pytest.raises(MetricsError, match="no account has vertical = 'Z'; values are X, Y"):
        retention_accounts(ds, {"vertical": "Z"}, month_key("2024-07"), 6)
    with pytest.raises(MetricsError, match="unknown dimension 'colour'"):
        retention_accounts(ds, {"colour": "red"}, month_key("2024-07"), 6)


# Properties: every list sums to the number it explains, on random data.


def padded(accs, rows, opps=None):
    """The dataset with data through 2024-12 (a zero row), so any 2024 as-of month is valid."""
    return dataset(accs, mrr=rows.vstack(monthly([("a0", "2024-12", 0)])), opps=opps)


def _close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-9)


@FAST
@given(monthly_data(), st.sampled_from(MONTHS[3:]), st.integers(1, 3))
def test_retention_lists_sum_to_nrr_grr_and_logo_retention(data, as_of, window):
    accs, rows = data
    ds = padded(accs, rows)
    m = month_key(as_of)
    wr = window_retention(ds, m, window, by=["vertical", "size_band"])
    for r in wr.iter_rows(named=True):
        seg = {"vertical": r["vertical"], "size_band": r["size_band"]}
        got = retention_accounts(ds, seg, m, window)
        s, e = got.get_column("start_mrr"), got.get_column("end_mrr")
        assert got.height == r["accounts"]
        assert _close(e.sum() / s.sum() if got.height else None, r["nrr"])
        grr = got.select(pl.min_horizontal("start_mrr", "end_mrr").sum()).item()
        assert _close(grr / s.sum() if got.height else None, r["grr"])
        kept = got.filter(pl.col("status") != "churned").height
        assert _close(kept / got.height if got.height else None, r["logo_retention"])
        assert _close(got.filter(pl.col("status") == "churned")["start_mrr"].sum(), r["churned"])


@FAST
@given(monthly_data())
def test_movement_lists_sum_to_the_movements(data):
    accs, rows = data
    ds = padded(accs, rows)
    mov = mrr_movements(ds, month_key("2024-12"), by=["vertical"])
    for r in mov.iter_rows(named=True):
        got = movement_accounts(ds, {"vertical": r["vertical"]}, r["month_key"], None)
        sums = dict(got.group_by("movement").agg(pl.col("amount").sum()).iter_rows())
        for name in MOVEMENTS:
            assert round(sums.get(name, 0.0) * 100) == round(r[name] * 100)
        one = movement_accounts(ds, {"vertical": r["vertical"]}, r["month_key"], "churn")
        assert round(one.get_column("amount").sum() * 100) == round(r["churn"] * 100)


@FAST
@given(monthly_data(), st.sampled_from(["month", "quarter"]))
def test_cohort_cell_lists_sum_to_the_cohort_curves(data, period):
    accs, rows = data
    ds = padded(accs, rows)
    curves = cohort_curves(ds, month_key("2024-12"), period, by=["size_band"])
    for r in curves.iter_rows(named=True):
        seg = {"size_band": r["size_band"]}
        got = cohort_accounts(ds, seg, month_key("2024-12"), period, r["cohort"], r["age"])
        assert got.height == r["accounts"]
        s, k = got.get_column("start_mrr").sum(), got.get_column("mrr_at_age").sum()
        assert _close(k / s if s > 0 else None, r["nrr"])
        active = got.filter(pl.col("mrr_at_age") > 0).height
        assert _close(active / got.height, r["logo_retention"])


@st.composite
def deals(draw, ids):
    rows = []
    for k in range(draw(st.integers(0, 15))):
        created = draw(st.dates(dt.date(2024, 1, 1), dt.date(2024, 12, 31)))
        status = draw(st.sampled_from(["won", "lost", "open"]))
        close = None
        if status != "open":
            close = created + dt.timedelta(days=draw(st.integers(0, 200)))
        rows.append(
            (
                f"o{k}",
                draw(st.sampled_from(ids)),
                draw(st.sampled_from(["new_business", "new_business", "expansion"])),
                created.isoformat(),
                close and close.isoformat(),
                status,
                draw(st.integers(0, 100_000)) / 100,
            )
        )
    return opportunities(rows)


@FAST
@given(monthly_data(), st.data(), st.sampled_from(MONTHS[3:]), st.integers(1, 6))
def test_deal_lists_give_the_win_rate_deal_size_and_open_pipeline(data, draw, as_of, window):
    accs, rows = data
    opps = draw.draw(deals(accs.get_column("account_id").to_list()))
    ds = padded(accs, rows, opps)
    m = month_key(as_of)
    sec = secondary_metrics(ds, m, window, by=["vertical"])
    for r in sec.iter_rows(named=True):
        got = deal_list(ds, {"vertical": r["vertical"]}, m, window, None)
        won = got.filter(pl.col("status") == "won")
        lost = got.filter(pl.col("status") == "lost")
        assert (won.height, lost.height) == (r["won"], r["lost"])
        rate = won.height / (won.height + lost.height) if won.height + lost.height else None
        assert _close(rate, r["win_rate"])
        assert _close(won.get_column("amount").mean(), r["avg_deal_size"])
        assert got.filter(pl.col("status") == "open").height == r["open_opportunities"]
