"""More diagnostics from the ICP framework (METRICS.md, rules 7-11), raised with the
drift alerts.

Rules 7-9 compare a segment's metric with a threshold: raised when the point
estimate crosses it and the 95% interval excludes it, otherwise "possible" (shown,
never counted). Rules 10-11 are trend tests whose p-values the caller adjusts
across segments (``metrics.alerts.significant``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from metrics.alerts import Alert, Candidate
from metrics.icp import pct
from metrics.model import Dataset, Segments
from metrics.months import last_complete_quarter_end, quarter_label
from metrics.retention import money, nrr_change_z, window_pairs
from metrics.secondary import closed_between, new_business
from metrics.settings import MetricSettings
from metrics.stats import (
    mann_whitney,
    p_text,
    ratio_interval,
    segment_rng,
    wilson_interval,
    z_test,
)

DIAGNOSTIC_TYPES = (
    "grr_warning",
    "masked_churn",
    "pricing_signal",
    "acv_up_nrr_down",
    "rising_segment",
)


def _interval_text(low: float | None, high: float | None) -> str:
    return "no interval" if low is None else f"95% interval {pct(low)[:-1]}-{pct(high)}"


def _threshold_alert(
    kind: str,
    row: Mapping[str, Any],
    sentence: str,
    evidence: dict[str, Any],
    excludes: bool,
    series: list[dict[str, Any]],
) -> Alert:
    """A rule 7-9 alert: raised when the interval excludes the threshold, else possible."""
    caveat = "" if excludes else ", though the interval includes the threshold: may be noise"
    return Alert(
        kind,
        row["_segment"],
        row["_label"],
        row["_window_start"],
        f"{sentence}{caveat}.",
        {**evidence, "interval_excludes_threshold": excludes},
        series,
        status="raised" if excludes else "possible",
    )


def _grr_intervals(
    ds: Dataset, settings: MetricSettings, as_of: int, window: int, segs: Segments, wanted: set
) -> dict[int, tuple[float | None, float | None]]:
    """GRR interval of each wanted segment, keyed by its accounts (as NRR's)."""
    if not wanted or settings.bootstrap_samples <= 0:
        return {seg: (None, None) for seg in wanted}
    pairs = segs.attach(window_pairs(ds, as_of - window, as_of)).sort("seg", "idx")
    out: dict[int, tuple[float | None, float | None]] = {seg: (None, None) for seg in wanted}
    for (seg,), part in pairs.partition_by("seg", as_dict=True).items():
        if int(seg) not in wanted:
            continue
        s = part.get_column("s").to_numpy().astype(np.float64)
        e = part.get_column("e").to_numpy().astype(np.float64)
        rng = segment_rng(settings.bootstrap_seed, "grr", part.get_column("idx").to_numpy())
        out[int(seg)] = ratio_interval(
            np.minimum(s, e), s, settings.bootstrap_samples, rng, settings.confidence
        )
    return out


def threshold_alerts(
    ds: Dataset,
    settings: MetricSettings,
    as_of: int,
    window: int,
    segs: Segments,
    rated: dict[int, dict],
    company: Mapping[str, Any],
) -> list[Alert]:
    """GRR warning (7), masked churn (8) and pricing signal (9), raised or possible."""
    floor, cl = settings.grr_floor, company.get("logo_retention")
    leaky = {seg for seg, r in rated.items() if r["grr"] is not None and r["grr"] < floor}
    grr_ci = _grr_intervals(ds, settings, as_of, window, segs, leaky)
    out = []
    for seg, row in rated.items():
        label, grr, nrr, logo = row["_label"], row["grr"], row["nrr"], row["logo_retention"]
        company_bar = {"group": "Company", "grr": company.get("grr"), "logo_retention": cl}
        bars = [{"group": label, "grr": grr, "logo_retention": logo}, company_bar]
        if seg in leaky:
            low, high = grr_ci[seg]
            excludes = high is not None and high < floor
            grr_ev = {
                "grr": grr,
                "grr_low": low,
                "grr_high": high,
                "threshold": floor,
                "nrr": nrr,
                "test": "95% interval of GRR over accounts (as NRR's)",
            }
            out.append(
                _threshold_alert(
                    "grr_warning",
                    row,
                    f"{label} keeps {pct(grr)} of its starting revenue before expansion (GRR, "
                    f"{_interval_text(low, high)}), under the {pct(floor)} floor, with NRR "
                    f"{pct(nrr)}: expansion can mask a leaky base",
                    grr_ev,
                    excludes,
                    bars,
                )
            )
            if cl is not None and logo is not None and logo >= cl:
                out.append(
                    _threshold_alert(
                        "pricing_signal",
                        row,
                        f"{label} keeps {pct(logo)} of its customers (company {pct(cl)}) but only "
                        f"{pct(grr)} of their starting revenue (GRR, {_interval_text(low, high)}): "
                        "customers stay but pay less, so pricing or packaging may be misaligned",
                        {**grr_ev, "logo_retention": logo, "company_logo_retention": cl},
                        excludes,
                        bars,
                    )
                )
        gap_line = None if cl is None else cl - settings.logo_gap
        if (
            nrr is not None
            and nrr >= settings.healthy_nrr
            and gap_line is not None
            and logo is not None
            and logo <= gap_line
        ):
            low, high = wilson_interval(row["retained"], row["accounts"], settings.confidence)
            out.append(
                _threshold_alert(
                    "masked_churn",
                    row,
                    f"{label} keeps {pct(nrr)} of its revenue (NRR) but only {pct(logo)} of its "
                    f"customers ({_interval_text(low, high)}), "
                    f"{(cl - logo) * 100:.0f} points under "
                    f"the company's {pct(cl)}: a few expanding accounts hide many lost ones",
                    {
                        "nrr": nrr,
                        "logo_retention": logo,
                        "logo_retention_low": low,
                        "logo_retention_high": high,
                        "company_logo_retention": cl,
                        "threshold": gap_line,
                        "accounts": row["accounts"],
                        "retained": row["retained"],
                        "test": "Wilson score interval of logo retention",
                    },
                    high is not None and high < gap_line,
                    bars,
                )
            )
    return out


def acv_up_nrr_down_alerts(
    ds: Dataset,
    settings: MetricSettings,
    as_of: int,
    window: int,
    segs: Segments,
    rated: dict[int, dict],
    trend: dict[int, pl.DataFrame],
) -> list[Candidate]:
    """Average deal size of the last two quarters up on the four before while trailing
    NRR fell over the same quarters (rule 10).

    NRR is compared at the end of the four quarters and at the end of the last
    quarter. Both parts must hold, so the test is their intersection-union: the
    larger of a one-sided Mann-Whitney on won amounts (recent > before) and a
    one-sided z-test of the NRR fall over accounts.
    """
    lq = last_complete_quarter_end(as_of) // 3
    t0, t1 = (lq - 1) * 3 - 1, lq * 3 + 2
    change = nrr_change_z(ds, window, t0, t1, segs)
    won = (
        new_business(ds, segs)
        .filter(closed_between((lq - 5) * 3, t1) & (pl.col("status") == "won"))
        .with_columns((pl.col("close_month") // 3).alias("q"), money(pl.col("amount")))
    )
    out = []
    for (seg,), part in won.partition_by("seg", as_dict=True).items():
        seg = int(seg)
        if seg not in rated or seg not in change or seg not in trend:
            continue
        q = part.get_column("q").to_numpy()
        amount = part.get_column("amount").to_numpy().astype(np.float64)
        recent, base = amount[q >= lq - 1], amount[q < lq - 1]
        deal_test = mann_whitney(recent, base, "greater")
        nrr = dict(
            zip(
                *trend[seg].select("month_key", "nrr").to_dict(as_series=False).values(),
                strict=True,
            )
        )
        if deal_test is None or nrr.get(t0) is None or nrr.get(t1) is None:
            continue
        nrr_test = z_test(change[seg], "less")
        p = max(deal_test["p_value"], nrr_test["p_value"])
        acv_r, acv_b = float(recent.mean()), float(base.mean())
        increase, drop = acv_r / acv_b - 1.0, nrr[t0] - nrr[t1]
        if increase < settings.acv_increase or drop < settings.nrr_drop:
            out.append(Candidate(p, None))
            continue
        row = rated[seg]
        label = row["_label"]
        recent_q, base_q = (
            [quarter_label(lq - 1), quarter_label(lq)],
            [quarter_label(x) for x in range(lq - 5, lq - 1)],
        )
        alert = Alert(
            "acv_up_nrr_down",
            row["_segment"],
            label,
            recent_q[0],
            f"{label} deals average {acv_r:,.0f} in {recent_q[0]}-{recent_q[1]}, up "
            f"{pct(increase)} on the four quarters before, while its trailing NRR fell from "
            f"{pct(nrr[t0])} to {pct(nrr[t1])}: bigger deals are not staying ({p_text(p)}).",
            {
                "avg_deal_size_recent": acv_r,
                "avg_deal_size_base": acv_b,
                "increase": increase,
                "won_recent": int(recent.size),
                "won_base": int(base.size),
                "nrr_start": nrr[t0],
                "nrr_end": nrr[t1],
                "drop": drop,
                "recent_quarters": recent_q,
                "base_quarters": base_q,
                "threshold": settings.acv_increase,
                "nrr_threshold": settings.nrr_drop,
                "test": "intersection-union: Mann-Whitney U, one-sided (recent deal amounts > "
                "before) and z-test, one-sided, of the NRR fall over accounts; p is the larger",
                "statistic": nrr_test["statistic"],
                "deal_size_statistic": deal_test["statistic"],
                "deal_size_p_value": deal_test["p_value"],
                "nrr_p_value": nrr_test["p_value"],
                "p_value": p,
            },
            _deal_sizes_by_quarter(part, lq),
        )
        out.append(Candidate(p, alert))
    return out


def _deal_sizes_by_quarter(part: pl.DataFrame, lq: int) -> list[dict[str, Any]]:
    by_q = (
        part.group_by("q")
        .agg(pl.col("amount").mean().alias("avg_deal_size"), pl.len().alias("won"))
        .sort("q")
    )
    return [
        {"quarter": quarter_label(r["q"]), "avg_deal_size": r["avg_deal_size"], "won": r["won"]}
        for r in by_q.iter_rows(named=True)
        if lq - 5 <= r["q"] <= lq
    ]


def rising_segment_alerts(
    settings: MetricSettings,
    window: int,
    trend: dict[int, pl.DataFrame],
    change_z: dict[int, float],
    rated: dict[int, dict],
) -> list[Candidate]:
    """Trailing NRR rising N months running and by >= nrr_drop: an opportunity (rule 11).

    Candidate like the falling trend, one-sided the other way (a rise).
    """
    n = settings.nrr_falling_months
    out = []
    for seg, rows in trend.items():
        if seg not in rated or seg not in change_z:
            continue
        last = rows.get_column("nrr").to_list()[-(n + 1) :]
        test = z_test(change_z[seg], "greater")
        if (
            len(last) < n + 1
            or any(v is None for v in last)
            or not all(last[i] < last[i + 1] for i in range(n))
            or last[-1] - last[0] < settings.nrr_drop
        ):
            out.append(Candidate(test["p_value"], None))
            continue
        months = rows.get_column("month").to_list()[-(n + 1) :]
        row = rated[seg]
        label = row["_label"]
        alert = Alert(
            "rising_segment",
            row["_segment"],
            label,
            months[1],
            f"{label} trailing {window}-month NRR has risen {n} months running, from "
            f"{pct(last[0])} in {months[0]} to {pct(last[-1])} in {months[-1]} "
            f"({p_text(test['p_value'])}): a candidate for more ICP investment.",
            {
                "nrr": dict(zip(months, last, strict=True)),
                "rise": last[-1] - last[0],
                "threshold": settings.nrr_drop,
                "months_rising": n,
                "test": f"rose {n} months running and by at least {pct(settings.nrr_drop)}; "
                f"z-test, one-sided, of the rise from {months[0]} to {months[-1]} over "
                "accounts (delta method)",
                "statistic": test["statistic"],
                "p_value": test["p_value"],
            },
            rows.select("month", "nrr").to_dicts(),
            kind="opportunity",
        )
        out.append(Candidate(test["p_value"], alert))
    return out
