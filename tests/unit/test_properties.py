"""Properties over random data: bounds, identities, order and duplicate independence."""

from __future__ import annotations

import calendar
import datetime as dt

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from metrics.cohorts import cohort_curves
from metrics.months import month_key
from metrics.movements import mrr_movements
from metrics.retention import window_retention
from metrics.scorecard import segment_scorecard
from metrics.settings import MetricSettings
from tests.unit.builders import accounts, dataset, monthly, snapshot_dict, subscriptions

FAST = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]
NO_BOOT = MetricSettings(min_accounts=1, bootstrap_samples=0)

account_rows = st.lists(
    st.tuples(st.sampled_from(["X", "Y"]), st.sampled_from(["SMB", "Enterprise"])),
    min_size=1,
    max_size=8,
)


@st.composite
def monthly_data(draw):
    accs = draw(account_rows)
    ids = [f"a{i}" for i in range(len(accs))]
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(ids),
                st.sampled_from(MONTHS),
                st.integers(0, 50_000).map(lambda c: c / 100),
            ),
            min_size=1,
            max_size=40,
            unique_by=lambda r: (r[0], r[1]),
        )
    )
    return accounts([(i, v, None, b) for i, (v, b) in zip(ids, accs, strict=True)]), monthly(rows)


@st.composite
def subscription_data(draw):
    accs = draw(account_rows)
    ids = [f"a{i}" for i in range(len(accs))]
    day = st.dates(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    subs = []
    for k in range(draw(st.integers(1, 12))):
        start = draw(day)
        end = draw(st.none() | day.filter(lambda e, s=start: e >= s))
        subs.append(
            (
                f"s{k}",
                draw(st.sampled_from(ids)),
                start.isoformat(),
                end and end.isoformat(),
                draw(st.integers(0, 20_000)) / 100,
            )
        )
    return accounts([(i, v, None, b) for i, (v, b) in zip(ids, accs, strict=True)]), subscriptions(
        subs
    )


def _as_ofs():
    return st.tuples(st.sampled_from(MONTHS[3:]), st.integers(1, 3))


@FAST
@given(monthly_data(), _as_ofs())
def test_retention_bounds(data, when):
    accs, rows = data
    ds = dataset(accs, mrr=rows.vstack(monthly([("a0", "2024-12", 0)])))
    wr = window_retention(ds, month_key(when[0]), when[1], by=["vertical"])
    for r in wr.iter_rows(named=True):
        if r["accounts"] == 0:
            assert r["nrr"] is None
            continue
        assert 0 <= r["grr"] <= 1 + 1e-12
        assert r["grr"] <= r["nrr"] + 1e-12
        assert 0 <= r["logo_retention"] <= 1
        dec = 1 + (r["expansion"] - r["contraction"] - r["churned"]) / r["starting_mrr"]
        assert abs(dec - r["nrr"]) < 1e-9


@FAST
@given(monthly_data())
def test_movements_add_up_to_the_cent(data):
    accs, rows = data
    ds = dataset(accs, mrr=rows)
    mov = mrr_movements(ds, ds.default_as_of, by=["size_band"])
    for r in mov.iter_rows(named=True):
        cents = {k: round(r[k] * 100) for k in r if isinstance(r[k], float) and k != "quick_ratio"}
        moved = cents["starting_mrr"] + cents["new"] + cents["reactivation"] + cents["expansion"]
        assert moved - cents["contraction"] - cents["churn"] == cents["ending_mrr"]


@FAST
@given(subscription_data())
def test_snapshot_matches_the_definition(data):
    accs, subs = data
    ds = dataset(accs, subs=subs.vstack(subscriptions([("end", "a0", "2024-12-31", None, 0)])))
    expected: dict[tuple[str, str], float] = {}
    for r in subs.iter_rows(named=True):
        for month in range(1, 13):
            last = dt.date(2024, month, calendar.monthrange(2024, month)[1])
            active = r["start_date"] <= last and (r["end_date"] is None or r["end_date"] >= last)
            if active and r["mrr"] > 0:
                key = (r["account_id"], f"2024-{month:02d}")
                expected[key] = round(expected.get(key, 0) + r["mrr"], 2)
    got = {k: round(v, 2) for k, v in snapshot_dict(ds).items()}
    assert got == expected


def _outputs(ds):
    return (
        segment_scorecard(ds, NO_BOOT, month_key("2024-12"), 6, by=["vertical", "size_band"]),
        mrr_movements(ds, month_key("2024-12"), by=["vertical"]),
        cohort_curves(ds, month_key("2024-12"), "quarter", by=["size_band"]),
    )


@FAST
@given(subscription_data(), st.randoms(use_true_random=False))
def test_row_order_and_duplicates_change_nothing(data, rnd):
    accs, subs = data
    pad = subscriptions([("end", "a0", "2024-12-31", None, 0)])
    base = _outputs(dataset(accs, subs=subs.vstack(pad)))
    order = list(range(subs.height))
    rnd.shuffle(order)
    acc_order = list(range(accs.height))
    rnd.shuffle(acc_order)
    shuffled = dataset(accs[acc_order], subs=pl.concat([pad, subs[order]]))
    doubled = dataset(pl.concat([accs, accs]), subs=pl.concat([subs, pad, subs, pad]))
    for other in (_outputs(shuffled), _outputs(doubled)):
        for a, b in zip(base, other, strict=True):
            assert_frame_equal(a, b)
