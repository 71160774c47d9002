"""ICP priority (METRICS.md): rated segments ranked by CLV, NRR, logo retention, then TAM."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from metrics.icp import RATED

# The ranking keys in order, each with how its value reads in a reason sentence.
KEYS = (("clv", "CLV"), ("nrr", "NRR"), ("logo_retention", "logo retention"), ("tam", "TAM"))
MONEY_KEYS = ("clv", "tam")


def money_text(x: pl.Expr) -> pl.Expr:
    """Money as a reader sees it: $1.2M, $50K, $800; n/a when unknown."""
    return (
        pl.when(x.is_null())
        .then(pl.lit("n/a"))
        .when(x.abs() >= 1e6)
        .then(pl.format("${}M", (x / 1e6).round(1)))
        .when(x.abs() >= 1e3)
        .then(pl.format("${}K", (x / 1e3).round(0).cast(pl.Int64)))
        .otherwise(pl.format("${}", x.round(0).cast(pl.Int64)))
    )


def pct_text(x: pl.Expr) -> pl.Expr:
    """A fraction as a whole percentage (107%); n/a when unknown."""
    return (
        pl.when(x.is_null())
        .then(pl.lit("n/a"))
        .otherwise(pl.format("{}%", (x * 100).round(0).cast(pl.Int64)))
    )


def _text(key: str, x: pl.Expr) -> pl.Expr:
    return money_text(x) if key in MONEY_KEYS else pct_text(x)


def _against(offset: int, verb: str) -> pl.Expr:
    """The phrase "<verb> <neighbour> on <first key that differs> (<mine> against <theirs>)".

    ``offset`` 1 compares with the segment ranked just above, -1 just below; null
    when there is no such neighbour or nothing differs.
    """
    out = pl.lit(None, pl.String)
    for key, name in reversed(KEYS):
        mine, theirs = pl.col(key), pl.col(key).shift(offset)
        out = (
            pl.when(mine.ne_missing(theirs))
            .then(
                pl.format(
                    f"{verb} {{}} on {name} ({{}} against {{}})",
                    pl.col("segment").shift(offset),
                    _text(key, mine),
                    _text(key, theirs),
                )
            )
            .otherwise(out)
        )
    return out


def icp_priority(
    scorecard: pl.DataFrame, by: Sequence[str], min_tam: float | None = None
) -> pl.DataFrame:
    """Rated segments of a ``segment_scorecard`` frame in priority order, with the reason.

    Ranked by CLV, then NRR, then logo retention (descending, unknown last); TAM
    breaks the remaining ties, and ``min_tam`` (when given) keeps only segments
    with at least that TAM. Columns: ``rank, <by>, segment, tier, clv, nrr,
    logo_retention, tam, reason`` where ``reason`` says which number puts it
    behind the segment above and ahead of the one below.
    """
    label = pl.concat_str([pl.col(d) for d in by], separator=" / ") if by else pl.lit("Company")
    rows = scorecard.filter(pl.col("tier").is_in(list(RATED)))
    if min_tam is not None:
        rows = rows.filter(pl.col("tam") >= min_tam)
    keys = [k for k, _ in KEYS]
    rows = rows.sort(keys, descending=True, nulls_last=True, maintain_order=True).select(
        pl.int_range(1, pl.len() + 1).alias("rank"),
        *by,
        label.alias("segment"),
        "tier",
        *keys,
    )
    behind, ahead = _against(1, "behind"), _against(-1, "ahead of")
    reason = pl.format("Ranks {} of {}: ", pl.col("rank"), pl.len()) + pl.concat_str(
        [behind, ahead], separator=", ", ignore_nulls=True
    )
    only = pl.format("Ranks {} of {}: the only rated segment", pl.col("rank"), pl.len())
    tied = pl.format("Ranks {} of {}: ties with its neighbours", pl.col("rank"), pl.len())
    return rows.with_columns(
        pl.when(pl.len() == 1)
        .then(only)
        .when(behind.is_null() & ahead.is_null())
        .then(tied)
        .otherwise(reason + pl.lit("."))
        .alias("reason")
    )
