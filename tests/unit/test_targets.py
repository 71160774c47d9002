"""Targets and fit by hand: the most specific rated segment, expected value, fit, the list."""

from __future__ import annotations

import polars as pl
import pytest

from metrics.months import month_key
from metrics.scorecard import segment_scorecard
from metrics.settings import MetricSettings
from metrics.targets import account_fit, target_accounts, targeting_segments
from tests.unit.builders import accounts, dataset, monthly, opportunities, series

SETTINGS = MetricSettings(min_accounts=2, min_deals=3, bootstrap_samples=0)
M = month_key("2024-06")


def targets_ds():
    """V1/S1: 4 loyal customers, 4 closed deals (2 won); V1/S2: 2 customers (b2 churns), one
    closed deal; V2: 2 customers, one closed deal. p1, s1, q1, r1 never buy."""
    full = [100] * 30  # 2022-01 .. 2024-06
    rows = [
        *(r for a in ("a1", "a2", "a3", "a4", "b1", "c1", "c2") for r in series(a, "2022-01", full))
    ]
    rows += series("b2", "2022-01", [100] * 24)  # last active 2023-12
    accs = accounts(
        [
            *((a, "V1", "S1") for a in ("a1", "a2", "a3", "a4", "p1", "s1")),
            *((a, "V1", "S2") for a in ("b1", "b2", "q1")),
            *((a, "V2", "T") for a in ("c1", "c2", "r1")),
        ]
    )
    nb = "new_business"
    opps = opportunities(
        [
            ("w1", "a3", nb, "2023-06-01", "2023-08-01", "won", 1200),
            ("w2", "a4", nb, "2023-06-01", "2023-08-01", "won", 1200),
            ("l1", "p1", nb, "2023-06-01", "2023-09-01", "lost", 1200),
            ("l2", "p1", nb, "2023-10-01", "2024-01-01", "lost", 1200),
            ("l3", "q1", nb, "2023-10-01", "2024-01-01", "lost", 1200),
            ("l4", "r1", nb, "2023-10-01", "2024-02-01", "lost", 1200),
            ("o1", "b2", nb, "2024-05-01", None, "open", 1200),  # churned, back in the pipeline
            ("o2", "a1", nb, "2024-05-01", None, "open", 1200),  # active: not a target
            ("o3", "q1", "expansion", "2024-05-01", None, "open", 1200),  # not new business
        ]
    )
    return dataset(accs, mrr=monthly(rows), opps=opps, settings=SETTINGS)


def clv_of(ds, by, **where):
    sc = segment_scorecard(ds, SETTINGS, M, 12, by=by, intervals=False)
    return sc.filter(**where)["clv"].item() if where else sc["clv"].item()


def test_targeting_segments_by_hand():
    ds = targets_ds()
    segs = targeting_segments(ds, SETTINGS, M, 12)
    rated = {r["segment"]: r for r in segs.filter("rated").iter_rows(named=True)}
    # S2 (1 closed deal), V2 (1) and T (1) have fewer than min_deals = 3.
    assert sorted(rated) == ["Company", "V1", "V1 / S1"]
    assert rated["V1 / S1"]["win_rate"] == 0.5  # 2 won of 4
    assert rated["V1"]["win_rate"] == 0.4  # 2 of 5
    assert rated["Company"]["win_rate"] == pytest.approx(1 / 3)  # 2 of 6
    ev_s1 = 0.5 * clv_of(ds, ["vertical", "sub_industry"], sub_industry="S1")
    ev_v1 = 0.4 * clv_of(ds, ["vertical"], vertical="V1")
    assert rated["V1 / S1"]["expected_value"] == pytest.approx(ev_s1)
    assert rated["V1"]["expected_value"] == pytest.approx(ev_v1)
    best = max(ev_s1, ev_v1)  # the company does not set the scale
    assert rated["V1"]["fit_score"] == pytest.approx(100 * ev_v1 / best)
    assert rated["V1 / S1"]["fit_score"] == pytest.approx(100 * ev_s1 / best)
    assert (
        segs.filter(~pl.col("rated"))["fit_score"].null_count()
        == segs.filter(~pl.col("rated")).height
    )


def test_each_account_takes_its_most_specific_rated_segment():
    fit = account_fit(targets_ds(), SETTINGS, M, 12)
    seg = dict(fit.select("account_id", "segment").iter_rows())
    assert seg["p1"] == "V1 / S1" and seg["a1"] == "V1 / S1"
    assert seg["q1"] == "V1" and seg["b1"] == "V1"  # S2 not rated: its vertical
    assert seg["r1"] == "Company"  # neither T nor V2 rated


def test_target_list_by_hand():
    ds = targets_ds()
    pockets = pl.DataFrame(
        {
            "round": [1, 2],
            "pocket": ["V1 / S2", "V1"],
            "conditions": [
                [
                    {"dimension": "vertical", "value": "V1"},
                    {"dimension": "sub_industry", "value": "S2"},
                ],
                [{"dimension": "vertical", "value": "V1"}],
            ],
        }
    )
    got = target_accounts(ds, SETTINGS, M, 12, pockets)
    assert got.columns == [
        "account_id",
        "account_name",
        "vertical",
        "sub_industry",
        "segment",
        "tier",
        "clv",
        "win_rate",
        "expected_value",
        "fit_score",
        "pocket",
        "open_opportunity",
    ]
    # Prospects p1, s1, q1, r1 and the churned b2 with an open deal; active a1 is out.
    rows = {r["account_id"]: r for r in got.iter_rows(named=True)}
    assert sorted(rows) == ["b2", "p1", "q1", "r1", "s1"]
    assert [rows[a]["segment"] for a in ("p1", "s1", "q1", "b2", "r1")] == [
        "V1 / S1",
        "V1 / S1",
        "V1",
        "V1",
        "Company",
    ]
    assert [rows[a]["pocket"] for a in ("p1", "s1", "q1", "b2", "r1")] == [
        "V1",
        "V1",
        "V1 / S2",
        "V1 / S2",
        None,
    ]
    assert [a for a in rows if rows[a]["open_opportunity"]] == ["b2"]
    ev = got.get_column("expected_value").to_list()
    assert ev == sorted(ev, reverse=True)
    company_ev = clv_of(ds, ()) / 3
    assert rows["r1"]["expected_value"] == pytest.approx(company_ev)
    # S1 keeps all its revenue; the company loses b2: NRR 700 / 800 = 87.5%.
    assert (rows["p1"]["tier"], rows["r1"]["tier"]) == ("healthy", "accidental_icp")
