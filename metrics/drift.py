"""ICP drift alerts (METRICS.md, "ICP drift alerts"): six kinds, each with its evidence,
its test, when it started and a small series to chart, plus the diagnostics 7-11 of
``metrics.diagnostics``. Each kind's p-values are adjusted across the segments it
tests (Benjamini-Hochberg) and an alert is raised only when q <= alpha."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from metrics.alerts import Alert, Candidate, significant
from metrics.cohorts import account_runs, cohort_members, cohort_table
from metrics.diagnostics import (
    DIAGNOSTIC_TYPES,
    acv_up_nrr_down_alerts,
    rising_segment_alerts,
    threshold_alerts,
)
from metrics.icp import RATED, TIER_NAMES, days, pct
from metrics.model import Dataset, Segments, segment_label, segments
from metrics.months import last_complete_quarter_end, month_label, quarter_label
from metrics.movements import mrr_movements, run_movements
from metrics.retention import nrr_change_z, trailing_nrr
from metrics.scorecard import segment_scorecard
from metrics.secondary import closed_between, new_business, secondary_by_quarter
from metrics.settings import MetricSettings
from metrics.stats import (
    fisher_exact,
    mann_whitney,
    p_text,
    poisson_greater,
    ratio_change_z,
    z_test,
)

ALERT_TYPES = (
    "sales_cycle_lengthening",
    "recent_cohorts_worse",
    "bookings_mix_off_icp",
    "nrr_trending_down",
    "contraction_rising",
    "win_rate_trap",
    *DIAGNOSTIC_TYPES,
)
COHORT_AGES = (3, 6)


def _seg_rows(df: pl.DataFrame, segs: Segments) -> dict[int, pl.DataFrame]:
    """Labelled rows split per segment number."""
    keyed = (
        df.join(segs.labels, on=list(segs.by), how="left")
        if segs.by
        else df.with_columns(pl.lit(0, pl.UInt32).alias("seg"))
    )
    return {int(k[0]): v.drop("seg") for k, v in keyed.partition_by("seg", as_dict=True).items()}


def sales_cycle_alerts(
    ds: Dataset, settings: MetricSettings, as_of: int, segs: Segments, rated: dict[int, dict]
) -> list[Candidate]:
    """Days to close of the last two quarters against the four before: up >= 20%.

    Every rated segment with won deals on both sides is tested (one-sided
    Mann-Whitney); only those up by ``cycle_increase`` would raise an alert.
    """
    lq = last_complete_quarter_end(as_of) // 3
    won = (
        new_business(ds, segs)
        .filter(closed_between((lq - 5) * 3, lq * 3 + 2) & (pl.col("status") == "won"))
        .with_columns((pl.col("close_month") // 3).alias("q"))
    )
    by_q = _seg_rows(secondary_by_quarter(ds, as_of, 8, segs=segs), segs)
    out = []
    for (seg,), part in won.partition_by("seg", as_dict=True).items():
        seg = int(seg)
        if seg not in rated:
            continue
        q = part.get_column("q").to_numpy()
        d = part.get_column("days_to_close").to_numpy().astype(float)
        recent, base = d[q >= lq - 1], d[q < lq - 1]
        if recent.size == 0 or base.size == 0:
            continue
        med_r, med_b = float(np.median(recent)), float(np.median(base))
        test = mann_whitney(recent, base, "greater")
        if test is None:
            continue
        increase = med_r / med_b - 1.0 if med_b > 0 else None
        if increase is None or increase < settings.cycle_increase:
            out.append(Candidate(test["p_value"], None))
            continue
        first_up = next(
            (
                qq
                for qq in (lq - 1, lq)
                if (
                    d[q == qq].size
                    and np.median(d[q == qq]) >= med_b * (1 + settings.cycle_increase)
                )
            ),
            lq - 1,
        )
        row = rated[seg]
        label = row["_label"]
        series = by_q[seg].select("quarter", "days_to_close", "won").to_dicts()
        alert = Alert(
            "sales_cycle_lengthening",
            row["_segment"],
            label,
            quarter_label(first_up),
            f"{label} deals now take {days(med_r)} days to close (median of the last two "
            f"quarters) against {days(med_b)} days in the four quarters before, up "
            f"{pct(increase)} (Mann-Whitney {p_text(test['p_value'])}).",
            {
                "days_to_close_recent": med_r,
                "days_to_close_base": med_b,
                "increase": increase,
                "won_recent": int(recent.size),
                "won_base": int(base.size),
                "recent_quarters": [quarter_label(lq - 1), quarter_label(lq)],
                "base_quarters": [quarter_label(x) for x in range(lq - 5, lq - 1)],
                "threshold": settings.cycle_increase,
                "test": "Mann-Whitney U, one-sided (recent > base)",
                "statistic": test["statistic"],
                "p_value": test["p_value"],
            },
            series,
        )
        out.append(Candidate(test["p_value"], alert))
    return out


def _at_age(runs: pl.DataFrame, members: pl.DataFrame, as_of: int, k: int) -> pl.DataFrame:
    """Per account old enough to reach age k: ``seg, idx, first_month, s, e`` (e = MRR at k)."""
    e = runs.filter((pl.col("a0") <= k) & (pl.col("a1") >= k)).select(
        "idx", pl.col("mrr").alias("e")
    )
    return (
        members.filter(pl.col("first_month") + k <= as_of)
        .join(e, on="idx", how="left")
        .with_columns(pl.col("e").fill_null(0))
    )


def recent_cohort_alerts(
    ds: Dataset, settings: MetricSettings, as_of: int, segs: Segments, rated: dict[int, dict]
) -> list[Candidate]:
    """Cohorts of the last two quarters below the installed base at ages 3 and 6 months.

    For each age k, the recent cohorts are the two latest quarterly cohorts whose
    accounts have all reached age k; the base is every earlier cohort of the same
    segment. Raised when recent logo retention (or NRR) is below the base's by at
    least ``cohort_drop`` at both ages and the drop is significant at the older age:
    a one-sided Fisher exact test on accounts kept when logo retention dropped,
    else a one-sided Mann-Whitney on MRR(k)/MRR(0). A segment with neither drop is
    still tested (Fisher on logos) so that it counts in the family of q-values.
    """
    runs = account_runs(ds, as_of, segs)
    members = cohort_members(ds, as_of, segs)
    stats: dict[int, dict[int, dict[str, Any]]] = {}
    for k in COHORT_AGES:
        # Latest quarter start c with all its accounts at age k: c + 2 + k <= as_of.
        newest = (as_of - 2 - k) - (as_of - 2 - k) % 3
        at_k = _at_age(runs, members, as_of, k).with_columns(
            (pl.col("first_month") - pl.col("first_month") % 3).alias("c")
        )
        at_k = at_k.filter(pl.col("c") <= newest).with_columns(
            (pl.col("c") >= newest - 3).alias("recent")
        )
        for (seg,), part in at_k.partition_by("seg", as_dict=True).items():
            rec, base = part.filter("recent"), part.filter(~pl.col("recent"))
            if rec.height == 0 or base.height == 0:
                continue
            stats.setdefault(int(seg), {})[k] = {
                "recent": rec,
                "base": base,
                "cohorts": [quarter_label((newest - 3) // 3), quarter_label(newest // 3)],
            }
    out = []
    for seg, per_age in stats.items():
        if seg not in rated or set(per_age) != set(COHORT_AGES):
            continue
        ev: dict[str, Any] = {"ages": list(COHORT_AGES)}
        logo_drop = nrr_drop = True
        for k in COHORT_AGES:
            r, b = per_age[k]["recent"], per_age[k]["base"]
            lr, lb = _logo(r), _logo(b)
            nr, nb = _nrr(r), _nrr(b)
            ev[f"logo_retention_recent_{k}m"], ev[f"logo_retention_base_{k}m"] = lr, lb
            ev[f"nrr_recent_{k}m"], ev[f"nrr_base_{k}m"] = nr, nb
            ev[f"accounts_recent_{k}m"], ev[f"accounts_base_{k}m"] = r.height, b.height
            logo_drop &= lr <= lb - settings.cohort_drop
            nrr_drop &= nr is not None and nb is not None and nr <= nb - settings.cohort_drop
        k = COHORT_AGES[-1]
        r, b = per_age[k]["recent"], per_age[k]["base"]
        if logo_drop or not nrr_drop:
            kept_r, kept_b = int((r.get_column("e") > 0).sum()), int((b.get_column("e") > 0).sum())
            result = fisher_exact(kept_r, r.height - kept_r, kept_b, b.height - kept_b, "less")
            test = f"Fisher exact, one-sided (recent logo retention < base) at {k} months"
        else:
            result = mann_whitney(_ratios(r), _ratios(b), "less")
            test = f"Mann-Whitney U, one-sided (recent < base), MRR at {k} months / first MRR"
        if result is None:
            continue
        p = result["p_value"]
        if not (logo_drop or nrr_drop):
            out.append(Candidate(p, None))
            continue
        ev.update(
            {
                "recent_cohorts": per_age[k]["cohorts"],
                "threshold": settings.cohort_drop,
                "worse_on": [n for n, f in (("logo_retention", logo_drop), ("nrr", nrr_drop)) if f],
                "test": test,
                "statistic": result["statistic"],
                "p_value": p,
            }
        )
        row = rated[seg]
        label = row["_label"]
        c1, c2 = per_age[k]["cohorts"]
        sentence = (
            f"{label} customers won in {c1} and {c2} keep {pct(ev[f'logo_retention_recent_{k}m'])} "
            f"of logos and {pct(ev[f'nrr_recent_{k}m'])} of revenue at {k} months, against "
            f"{pct(ev[f'logo_retention_base_{k}m'])} and {pct(ev[f'nrr_base_{k}m'])} for earlier "
            f"cohorts at the same age ({p_text(p)})."
        )
        # The curves of the cohorts the sentence and the test describe (those at age k).
        series = _recent_vs_base_curves(runs, members, as_of, seg, per_age[k])
        alert = Alert("recent_cohorts_worse", row["_segment"], label, c1, sentence, ev, series)
        out.append(Candidate(p, alert))
    return out


def _logo(df: pl.DataFrame) -> float:
    return float((df.get_column("e") > 0).mean())


def _nrr(df: pl.DataFrame) -> float | None:
    s = df.get_column("s").sum()
    return float(df.get_column("e").sum() / s) if s > 0 else None


def _ratios(df: pl.DataFrame) -> np.ndarray:
    return (df.get_column("e") / df.get_column("s")).to_numpy()


def _recent_vs_base_curves(
    runs: pl.DataFrame, members: pl.DataFrame, as_of: int, seg: int, youngest: dict[str, Any]
) -> list[dict[str, Any]]:
    recent_ids = youngest["recent"].get_column("idx")
    base_ids = youngest["base"].get_column("idx")
    group = (
        pl.when(pl.col("idx").is_in(recent_ids.implode()))
        .then(pl.lit("recent"))
        .when(pl.col("idx").is_in(base_ids.implode()))
        .then(pl.lit("base"))
    )
    mem = members.filter(pl.col("seg") == seg).with_columns(group.alias("group"))
    mem = mem.filter(pl.col("group").is_not_null())
    ag = runs.filter(pl.col("seg") == seg).with_columns(group.alias("group"))
    ag = ag.filter(pl.col("group").is_not_null() & (pl.col("a0") <= 12))
    table = cohort_table(ag, mem, as_of, None, ["group"]).filter(pl.col("age") <= 12)
    return table.select("group", "age", "logo_retention", "nrr", "accounts").to_dicts()


def bookings_mix_alerts(
    ds: Dataset,
    settings: MetricSettings,
    as_of: int,
    segs: Segments,
    core: list[int],
    names: dict[int, str],
) -> list[Candidate]:
    """Share of new-business bookings from Core ICP segments falling quarter over quarter.

    Company-level (one test): the fall of the share from the first to the last of
    the quarters compared, by a z-test over deals (``core_share_fall_z``).
    """
    n = settings.bookings_falling_quarters
    quarters = max(8, n + 1)
    by_q = secondary_by_quarter(ds, as_of, quarters, segs=segs)
    keyed = (
        by_q.join(segs.labels, on=list(segs.by), how="left")
        if segs.by
        else by_q.with_columns(pl.lit(0, pl.UInt32).alias("seg"))
    )
    mix = (
        keyed.group_by("quarter_key", "quarter")
        .agg(
            pl.col("bookings").filter(pl.col("seg").is_in(core)).sum().alias("core_bookings"),
            pl.col("bookings").sum(),
        )
        .sort("quarter_key")
        .with_columns(
            pl.when(pl.col("bookings") > 0)
            .then(pl.col("core_bookings") / pl.col("bookings"))
            .alias("core_share")
        )
    )
    shares = mix.get_column("core_share").to_list()[-(n + 1) :]
    if not core or len(shares) < n + 1 or any(s is None for s in shares):
        return []
    if not all(shares[i] > shares[i + 1] for i in range(n)):
        return []
    qs = mix.get_column("quarter").to_list()[-(n + 1) :]
    keys = mix.get_column("quarter_key").to_list()[-(n + 1) :]
    z = core_share_fall_z(ds, segs, core, keys[0], keys[-1])
    if z is None:
        return []
    test = z_test(z, "less")
    sentence = (
        f"Core ICP segments brought {pct(shares[-1])} of new-business bookings in {qs[-1]}, "
        f"down from {' and '.join(f'{pct(s)} in {q}' for s, q in zip(shares[-2::-1], qs[-2::-1], strict=True))}."
    )
    evidence = {
        "core_share": dict(zip(qs, shares, strict=True)),
        "core_segments": [names[c] for c in core],
        "falling_quarters": n,
        "test": f"share fell quarter over quarter for {n} quarters running; z-test, "
        f"one-sided, of the fall from {qs[0]} to {qs[-1]} over won deals (delta method)",
        "statistic": test["statistic"],
        "p_value": test["p_value"],
    }
    alert = Alert(
        "bookings_mix_off_icp",
        {},
        "Company",
        qs[1],
        sentence,
        evidence,
        mix.select("quarter", pl.col("core_bookings"), "bookings", "core_share").to_dicts(),
    )
    return [Candidate(test["p_value"], alert)]


def core_share_fall_z(
    ds: Dataset, segs: Segments, core: list[int], first: int, last: int
) -> float | None:
    """z of the change in the Core ICP share of won new-business amounts, quarter
    ``first`` to quarter ``last`` (quarter keys), each won deal one unit."""
    won = (
        new_business(ds, segs)
        .filter(closed_between(first * 3, last * 3 + 2) & (pl.col("status") == "won"))
        .with_columns((pl.col("close_month") // 3).alias("q"))
        .filter(pl.col("q").is_in([first, last]))
    )
    amount = won.get_column("amount").to_numpy().astype(np.float64)
    is_core = won.get_column("seg").is_in(core).to_numpy()
    at_first = won.get_column("q").to_numpy() == first
    s0, s1 = np.where(at_first, amount, 0.0), np.where(at_first, 0.0, amount)
    return ratio_change_z(s0, s0 * is_core, s1, s1 * is_core)


def nrr_trend_alerts(
    settings: MetricSettings,
    window: int,
    trend: dict[int, pl.DataFrame],
    change_z: dict[int, float],
    rated: dict[int, dict],
) -> list[Candidate]:
    """Trailing NRR computed monthly falling N months running and by >= nrr_drop.

    ``trend`` holds each segment's trailing NRR by month and ``change_z`` the z of
    its change over the last N months (``nrr_change_z``): every rated segment with
    both is tested, one-sided (a fall).
    """
    n = settings.nrr_falling_months
    out = []
    for seg, rows in trend.items():
        last = rows.get_column("nrr").to_list()[-(n + 1) :]
        if seg not in rated or seg not in change_z:
            continue
        test = z_test(change_z[seg], "less")
        if (
            len(last) < n + 1
            or any(v is None for v in last)
            or not all(last[i] > last[i + 1] for i in range(n))
            or last[0] - last[-1] < settings.nrr_drop
        ):
            out.append(Candidate(test["p_value"], None))
            continue
        months = rows.get_column("month").to_list()[-(n + 1) :]
        row = rated[seg]
        label = row["_label"]
        alert = Alert(
            "nrr_trending_down",
            row["_segment"],
            label,
            months[1],
            f"{label} trailing {window}-month NRR has fallen {n} months running, from "
            f"{pct(last[0])} in {months[0]} to {pct(last[-1])} in {months[-1]} "
            f"({p_text(test['p_value'])}).",
            {
                "nrr": dict(zip(months, last, strict=True)),
                "drop": last[0] - last[-1],
                "threshold": settings.nrr_drop,
                "months_falling": n,
                "test": f"fell {n} months running and by at least {pct(settings.nrr_drop)}; "
                f"z-test, one-sided, of the fall from {months[0]} to {months[-1]} over "
                "accounts (delta method)",
                "statistic": test["statistic"],
                "p_value": test["p_value"],
            },
            rows.select("month", "nrr").to_dicts(),
        )
        out.append(Candidate(test["p_value"], alert))
    return out


def contraction_alerts(
    ds: Dataset, settings: MetricSettings, as_of: int, segs: Segments, rated: dict[int, dict]
) -> list[Candidate]:
    """Last quarter's contraction / starting MRR at least 1.5x its four-quarter average.

    The rise must also be significant: the number of account-months that
    contracted in the last quarter against the four quarters' mean count, under a
    one-sided Poisson test, so a couple of small cuts in a quiet segment raise
    nothing. Every rated segment with contractions before is tested.
    """
    lq = last_complete_quarter_end(as_of) // 3
    first = (lq - 4) * 3
    if first < ds.first_month:
        return []
    mov = mrr_movements(ds, lq * 3 + 2, start=first, segs=segs).with_columns(
        (pl.col("month_key") // 3).alias("quarter_key")
    )
    events = (
        run_movements(segs.attach(ds.runs))
        .filter(pl.col("month").is_between(first, lq * 3 + 2) & (pl.col("contraction") > 0))
        .group_by("seg", (pl.col("month") // 3).alias("quarter_key"))
        .agg(pl.len().alias("contractions"))
        .collect()
    )
    events = segs.label_rows(events) if segs.by else events.drop("seg")
    q = (
        mov.group_by(*segs.by, "quarter_key")
        .agg(
            pl.col("contraction").sum(),
            pl.col("starting_mrr").sort_by("month_key").first().alias("starting_mrr"),
        )
        .join(events, on=[*segs.by, "quarter_key"], how="left")
        .with_columns(pl.col("contractions").fill_null(0))
        .with_columns(
            pl.when(pl.col("starting_mrr") > 0)
            .then(pl.col("contraction") / pl.col("starting_mrr"))
            .alias("contraction_rate"),
            pl.col("quarter_key")
            .map_elements(quarter_label, return_dtype=pl.String)
            .alias("quarter"),
        )
        .sort("quarter_key")
    )
    out = []
    for seg, rows in _seg_rows(q, segs).items():
        if seg not in rated or rows.height != 5:
            continue
        rates = rows.get_column("contraction_rate").to_list()
        if any(r is None for r in rates):
            continue
        counts = rows.get_column("contractions").to_list()
        p = poisson_greater(int(counts[-1]), float(np.mean(counts[:4])))
        if p is None:
            continue
        avg = float(np.mean(rates[:4]))
        if avg <= 0 or rates[-1] < settings.contraction_multiple * avg:
            out.append(Candidate(p, None))
            continue
        row = rated[seg]
        label = row["_label"]
        multiple = rates[-1] / avg
        alert = Alert(
            "contraction_rising",
            row["_segment"],
            label,
            quarter_label(lq),
            f"{label} customers cut {rates[-1] * 100:.1f}% of their starting MRR in "
            f"{quarter_label(lq)}, {multiple:.1f}x the average of {avg * 100:.1f}% over the four "
            "quarters before; contraction usually comes before churn.",
            {
                "contraction_rate": rates[-1],
                "average_rate": avg,
                "multiple": multiple,
                "threshold": settings.contraction_multiple,
                "contractions_last_quarter": int(counts[-1]),
                "contractions_average": float(np.mean(counts[:4])),
                "test": "Poisson, one-sided: contracting account-months in the last quarter "
                "against the mean of the four quarters before",
                "statistic": int(counts[-1]),
                "p_value": p,
            },
            rows.select(
                "quarter", "contraction", "starting_mrr", "contraction_rate", "contractions"
            ).to_dicts(),
        )
        out.append(Candidate(p, alert))
    return out


def win_rate_trap_alerts(
    settings: MetricSettings, company: Mapping[str, Any], rated: dict[int, dict]
) -> list[Candidate]:
    """Win rate above the company's in a segment rated Watch or Accidental ICP.

    Every Watch or Accidental ICP segment with at least ``min_deals`` closed deals
    is tested: Fisher exact, one-sided, its win rate against the rest of the company's.
    """
    cwr = company.get("win_rate")
    won_all, lost_all = company.get("won") or 0, company.get("lost") or 0
    out = []
    for row in rated.values():
        if row["tier"] not in ("watch", "accidental_icp") or cwr is None:
            continue
        if row["won"] + row["lost"] < settings.min_deals:
            continue
        test = fisher_exact(
            row["won"], row["lost"], won_all - row["won"], lost_all - row["lost"], "greater"
        )
        if test is None:
            continue
        wr = row["win_rate"]
        if wr <= cwr:
            out.append(Candidate(test["p_value"], None))
            continue
        label = row["_label"]
        alert = Alert(
            "win_rate_trap",
            row["_segment"],
            label,
            row["_window_start"],
            f"{label} wins {pct(wr)} of deals (company {pct(cwr)}) but is rated "
            f"{TIER_NAMES[row['tier']]} with NRR {pct(row['nrr'])}: the easy wins do not "
            f"keep their revenue ({p_text(test['p_value'])}).",
            {
                "win_rate": wr,
                "company_win_rate": cwr,
                "won": row["won"],
                "lost": row["lost"],
                "tier": row["tier"],
                "nrr": row["nrr"],
                "test": "Fisher exact, one-sided (segment win rate > rest of company)",
                "statistic": test["statistic"],
                "p_value": test["p_value"],
            },
            [
                {"group": label, "win_rate": wr, "won": row["won"], "lost": row["lost"]},
                {"group": "Company", "win_rate": cwr, "won": won_all, "lost": lost_all},
            ],
        )
        out.append(Candidate(test["p_value"], alert))
    return out


def drift_alerts(
    ds: Dataset,
    settings: MetricSettings,
    as_of: int,
    window: int,
    by: Sequence[str] = ("vertical",),
    scorecard: pl.DataFrame | None = None,
    company: Mapping[str, Any] | None = None,
) -> list[Alert]:
    """All drift alerts and diagnostics for the segments of ``by`` (rated segments only).

    Each type's p-values are adjusted across the segments it tested
    (Benjamini-Hochberg) and only alerts with q <= ``alpha`` are kept; threshold
    diagnostics (7-9) come back raised or "possible" (see ``Alert.status``).
    Sorted by type (ALERT_TYPES order), then segment.

    ``scorecard`` and ``company`` (from ``segment_scorecard`` / ``company_summary``
    at the same as-of and window) are reused when given.
    """
    m = ds.month(as_of)
    segs = segments(ds, by)
    if scorecard is None:
        scorecard = segment_scorecard(ds, settings, m, window, by=by, intervals=False)
    if company is None:
        company = segment_scorecard(ds, settings, m, window, by=(), intervals=False).row(0, named=True)
    keyed = _seg_rows(scorecard, segs)
    rated: dict[int, dict] = {}
    names: dict[int, str] = {}
    for seg, frame in keyed.items():
        row = frame.row(0, named=True)
        names[seg] = segment_label(row, segs.by)
        if row["tier"] in RATED:
            row["_label"] = names[seg]
            row["_segment"] = {d: row[d] for d in segs.by}
            row["_window_start"] = month_label(m - window + 1)
            rated[seg] = row
    core = [s for s, r in rated.items() if r["tier"] == "core_icp"]
    n = settings.nrr_falling_months
    # One trailing-NRR series and one test of its last n months serve the falling
    # (rule 4) and the rising (rule 11) trend.
    trend = _seg_rows(trailing_nrr(ds, m, window, max(12, n + 1), segs=segs), segs)
    change_z = nrr_change_z(ds, window, m - n, m, segs)
    families = [
        sales_cycle_alerts(ds, settings, m, segs, rated),
        recent_cohort_alerts(ds, settings, m, segs, rated),
        bookings_mix_alerts(ds, settings, m, segs, core, names),
        nrr_trend_alerts(settings, window, trend, change_z, rated),
        contraction_alerts(ds, settings, m, segs, rated),
        win_rate_trap_alerts(settings, company, rated),
        acv_up_nrr_down_alerts(ds, settings, m, window, segs, rated, trend),
        rising_segment_alerts(settings, window, trend, change_z, rated),
    ]
    alerts = [a for tested in families for a in significant(tested, settings.alpha)]
    alerts += threshold_alerts(ds, settings, m, window, segs, rated, company)
    return sorted(alerts, key=lambda a: (ALERT_TYPES.index(a.type), a.segment_label))
