"""The accounts (or deals) behind a number: one view per list, each saying what it sums to.

A list names its segment by the params' filters, one value per dimension (none:
the company). Which list a URL or command asks for follows from the params:
``deals`` picks the deals, ``movement`` that movement's accounts in the as-of month,
``cohort`` and ``age`` a cohort cell, and otherwise it is the segment's starting
cohort of window retention (:func:`accounts`). Each view's ``note`` is the number
its rows add up to, in the words of the page that shows that number.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from app.views import formats as fmt
from app.views.columns import column, columns
from app.views.context import Context
from app.views.definitions import name
from app.views.errors import ViewError
from app.views.params import ViewParams
from app.views.registry import VIEWS, view
from app.views.view import View
from metrics import accounts as lists
from metrics.movements import MOVEMENTS
from metrics.targets import account_fit

ACCOUNT_KEYS = ("account_id", "account_name")
RETENTION_KEYS = ("start_mrr", "end_mrr", "status")
MOVEMENT_KEYS = ("month", "movement", "previous_mrr", "mrr", "amount")
COHORT_KEYS = ("cohort", "first_month", "start_mrr", "mrr_at_age", "status")
DEAL_KEYS = (
    "opportunity_id", "status", "created_date", "close_date", "days_to_close", "amount",
    "fit_score",
)


def segment_conditions(p: ViewParams) -> dict[str, str]:
    """The segment as conditions ``{dimension: value}``: a list takes one value each."""
    several = [d for d, values in p.filters if len(values) != 1]
    if several:
        raise ViewError(f"a list of accounts takes one {several[0]}, not several")
    return p.segment()


def _list_view(
    view_name: str, p: ViewParams, frame: pl.DataFrame, keys: Sequence[str], note: str
) -> View:
    # The segment's dimensions sit between the account and the numbers, in the frame's order.
    dims = [c for c in frame.columns if c in p.segment()]
    cols = (*columns(*ACCOUNT_KEYS), *(column(d) for d in dims), *columns(*keys))
    return View(view_name, p, frame, cols, note=note)


def _ratio_note(metric: str, end: float, start: float, n: int) -> str:
    """'NRR 84% = $412K / $490K over 37 accounts'."""
    ratio = end / start if start else None
    return (
        f"{metric} {fmt.pct(ratio)} = {fmt.money(end)} / {fmt.money(start)} over "
        f"{fmt.plural(n, 'account')}"
    )


def retention_note(frame: pl.DataFrame, end_key: str = "end_mrr") -> str:
    """NRR, GRR and logo retention as sums of the starting cohort's rows."""
    n = frame.height
    if n == 0:
        return "No account in the starting cohort: NRR, GRR and logo retention are undefined."
    start = frame["start_mrr"].sum()
    end = frame[end_key].sum()
    gross = frame.select(pl.min_horizontal("start_mrr", end_key).sum()).item()
    kept = frame.filter(pl.col(end_key) > 0).height
    grr = gross / start if start else None
    return (
        f"{_ratio_note('NRR', end, start, n)}; GRR {fmt.pct(grr)} = {fmt.money(gross)} / "
        f"{fmt.money(start)}; logo retention {fmt.pct(kept / n)} = {kept} / {n} still active"
    )


@view("retention_accounts", uses=("as_of", "window", "filters"))
def retention_accounts(ctx: Context, p: ViewParams) -> View:
    """The segment's starting cohort: start MRR, end MRR and status of each account."""
    frame = lists.retention_accounts(ctx.dataset, segment_conditions(p), p.as_of, p.window)
    return _list_view("retention_accounts", p, frame, RETENTION_KEYS, retention_note(frame))


def movement_note(frame: pl.DataFrame, month: str) -> str:
    """Each movement's MRR in the month and the accounts moving it."""
    sums = frame.group_by("movement").agg(pl.len().alias("n"), pl.col("amount").sum())
    found = {r["movement"]: r for r in sums.iter_rows(named=True)}
    parts = [
        f"{name(m)} {fmt.money(found[m]['amount'])} over {fmt.plural(found[m]['n'], 'account')}"
        for m in MOVEMENTS
        if m in found
    ]
    return f"In {month}: " + ("; ".join(parts) if parts else "no MRR movement")


@view("movement_accounts", uses=("as_of", "filters", "movement"))
def movement_accounts(ctx: Context, p: ViewParams) -> View:
    """The accounts moving MRR in the as-of month (one movement, or all of them)."""
    frame = lists.movement_accounts(ctx.dataset, segment_conditions(p), p.as_of, p.movement)
    note = movement_note(frame, p.as_of_label)
    return _list_view("movement_accounts", p, frame, MOVEMENT_KEYS, note)


@view("cohort_accounts", uses=("as_of", "period", "filters", "cohort", "age"))
def cohort_accounts(ctx: Context, p: ViewParams) -> View:
    """A cohort's accounts at one age: MRR in the first month and at that age."""
    if p.cohort is None or p.age is None:
        raise ViewError("a cohort cell needs a cohort (like 2024Q1) and an age in months")
    frame = lists.cohort_accounts(
        ctx.dataset, segment_conditions(p), p.as_of, p.period, p.cohort, p.age
    )
    note = f"Cohort {p.cohort} at age {fmt.months(p.age)}: " + retention_note(frame, "mrr_at_age")
    return _list_view("cohort_accounts", p, frame, COHORT_KEYS, note)


def deals_note(frame: pl.DataFrame, statuses: Sequence[str]) -> str:
    """The count and amount of each status, and the win rate when won and lost are listed."""
    counts = {s: frame.filter(pl.col("status") == s) for s in statuses}
    parts = [
        f"{fmt.plural(f.height, s + ' deal')} ({fmt.money(f['amount'].sum())})"
        for s, f in counts.items()
    ]
    if "won" in counts and "lost" in counts:
        won, closed = counts["won"].height, counts["won"].height + counts["lost"].height
        rate = fmt.pct(won / closed) if closed else fmt.MISSING
        parts.insert(0, f"Win rate {rate} = {won} won / {closed} closed")
    return "; ".join(parts)


@view("deal_list", uses=("as_of", "window", "filters", "deals"))
def deal_list(ctx: Context, p: ViewParams) -> View:
    """The segment's new-business deals: won and lost in the window, open at the as-of month."""
    statuses = p.deals or lists.DEAL_STATUSES
    frame = lists.deal_list(ctx.dataset, segment_conditions(p), p.as_of, p.window, None)
    frame = frame.filter(pl.col("status").is_in(statuses))
    # Each deal's account fit (METRICS.md "Targets and fit"), computed once per as-of/window.
    fit = ctx.memo(
        "account_fit",
        p.key(("as_of", "window")),
        lambda: account_fit(ctx.dataset, ctx.settings, p.as_of, p.window).select(
            "account_id", "fit_score"
        ),
    )
    frame = frame.join(fit, on="account_id", how="left", maintain_order="left")
    return _list_view("deal_list", p, frame, DEAL_KEYS, deals_note(frame, statuses))


def accounts(ctx: Context, p: ViewParams) -> View:
    """The list the params pick: deals, a movement, a cohort cell, else window retention."""
    if p.deals:
        return deal_list(ctx, p)
    if p.movement:
        return movement_accounts(ctx, p)
    if p.cohort is not None:
        return cohort_accounts(ctx, p)
    return retention_accounts(ctx, p)


# Served as /api/accounts.json and `icp report accounts`; each list it picks is memoized.
VIEWS["accounts"] = accounts
