"""The accounts behind a number, through the views: every list sums to the number the
scorecard, cohorts or movements view shows for the same params, and the params pick
the list (URL and command line alike)."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.views import VIEWS, ViewError
from app.views.context import frame_context
from app.views.params import from_query, resolve
from metrics.model import Frames
from metrics.movements import MOVEMENTS
from tests.unit.builders import monthly, opportunities, series
from tests.unit.test_properties import FAST, MONTHS, NO_BOOT, monthly_data

TOL = 1e-9


@st.composite
def data_with_deals(draw):
    """Monthly MRR of a few accounts and new-business deals on them."""
    accs, mrr = draw(monthly_data())
    ids = accs["account_id"].to_list()
    day = st.dates(dt.date(2023, 10, 1), dt.date(2024, 12, 31))
    deals = []
    for k in range(draw(st.integers(0, 10))):
        created = draw(day)
        status = draw(st.sampled_from(["won", "lost", "open"]))
        close = None if status == "open" else created + dt.timedelta(draw(st.integers(0, 200)))
        deals.append(
            (f"o{k}", draw(st.sampled_from(ids)), "new_business", created.isoformat(),
             close and close.isoformat(), status, draw(st.integers(1, 5000)))
        )
    # A zero row in December: every drawn as-of month lies within the data.
    mrr = mrr.vstack(monthly([(ids[0], "2024-12", 0)]))
    frames = Frames(accounts=accs, opportunities=opportunities(deals), mrr_monthly=mrr)
    return frame_context(frames, NO_BOOT)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= TOL * max(1.0, abs(b))


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


@FAST
@given(data_with_deals(), st.sampled_from(MONTHS[3:]), st.integers(1, 3))
def test_retention_and_deal_lists_sum_to_the_scorecard(ctx, as_of, window) -> None:
    p = resolve(ctx, as_of=as_of, window=window, by=("vertical",))
    board = VIEWS["scorecard"](ctx, p).frame
    for row in board.iter_rows(named=True):
        segment = p.with_(filters={"vertical": [row["vertical"]]})
        listed = VIEWS["accounts"](ctx, segment).frame
        start, end = listed["start_mrr"].sum(), listed["end_mrr"].sum()
        assert listed.height == row["accounts"]
        assert _close(_ratio(end, start), row["nrr"])
        gross = listed.select(pl.min_horizontal("start_mrr", "end_mrr").sum()).item()
        assert _close(_ratio(gross, start), row["grr"])
        kept = listed.filter(pl.col("end_mrr") > 0).height
        assert _close(_ratio(kept, listed.height), row["logo_retention"])
        assert set(listed["vertical"]) <= {row["vertical"]}

        deals = VIEWS["accounts"](ctx, segment.with_(deals=("won", "lost"))).frame
        won = deals.filter(pl.col("status") == "won").height
        lost = deals.filter(pl.col("status") == "lost").height
        assert (won, lost) == (row["won"], row["lost"])
        assert _close(_ratio(won, won + lost), row["win_rate"])


@FAST
@given(data_with_deals(), st.sampled_from(MONTHS[1:]))
def test_movement_lists_sum_to_the_month_of_the_movements_view(ctx, month) -> None:
    for vertical in ctx.dimension_values("vertical"):
        p = resolve(ctx, as_of=month, by=(), filters={"vertical": [vertical]})
        bridge = VIEWS["movements"](ctx, p).frame.filter(pl.col("month") == month)
        for movement in MOVEMENTS:
            listed = VIEWS["accounts"](ctx, p.with_(movement=movement)).frame
            assert set(listed["movement"]) <= {movement}
            assert set(listed["month"]) <= {month}
            expected = bridge[movement].sum() if bridge.height else 0.0
            assert _close(listed["amount"].sum(), expected)


@FAST
@given(data_with_deals(), st.sampled_from(MONTHS[2:]), st.sampled_from(["month", "quarter"]))
def test_cohort_cells_sum_to_the_cohorts_view(ctx, as_of, period) -> None:
    p = resolve(ctx, as_of=as_of, by=(), period=period)
    curves = VIEWS["cohorts"](ctx, p).frame
    for row in curves.iter_rows(named=True):
        cell = resolve(ctx, as_of=as_of, by=(), cohort=row["cohort"], age=row["age"])
        assert cell.period == period
        listed = VIEWS["accounts"](ctx, cell).frame
        assert listed.height == row["accounts"]
        start, at_age = listed["start_mrr"].sum(), listed["mrr_at_age"].sum()
        assert _close(_ratio(at_age, start), row["nrr"])
        kept = listed.filter(pl.col("mrr_at_age") > 0).height
        assert _close(_ratio(kept, listed.height), row["logo_retention"])


HAND = Frames(
    accounts=pl.DataFrame(
        {
            "account_id": ["a", "b", "c"],
            "account_name": ["Alpha", "Beta", "Gamma"],
            "vertical": ["X", "X", "Y"],
        }
    ),
    opportunities=opportunities(
        [
            ("o1", "a", "new_business", "2024-01-05", "2024-02-10", "won", 1000),
            ("o2", "b", "new_business", "2024-01-05", "2024-03-10", "lost", 500),
            ("o3", "b", "new_business", "2024-03-01", None, "open", 700),
        ]
    ),
    # a: 100 -> 150 (expands), b: 100 -> 0 (churns in April), c: 40 flat.
    mrr_monthly=monthly(
        [
            *series("a", "2024-01", [100, 100, 150, 150]),
            *series("b", "2024-01", [100, 100, 100]),
            *series("c", "2024-01", [40, 40, 40, 40]),
        ]
    ),
)


@pytest.fixture(scope="module")
def hand():
    return frame_context(HAND, NO_BOOT)


def test_the_notes_state_the_number_each_list_explains(hand) -> None:
    p = resolve(hand, as_of="2024-04", window=3, by=(), filters={"vertical": ["X"]})
    retention = VIEWS["accounts"](hand, p)
    # Starting cohort at 2024-01: a 100 -> 150, b 100 -> 0: NRR 150 / 200.
    assert retention.name == "retention_accounts"
    assert retention.keys == [
        "account_id", "account_name", "vertical", "start_mrr", "end_mrr", "status",
    ]
    assert retention.frame["status"].to_list() == ["expanded", "churned"]
    assert retention.note.startswith("NRR 75% = $150 / $200 over 2 accounts; GRR 50%")
    assert "logo retention 50% = 1 / 2" in retention.note
    assert [c.kind for c in retention.columns[3:]] == ["money", "money", "text"]

    churn = VIEWS["accounts"](hand, p.with_(movement="churn"))
    assert churn.name == "movement_accounts"
    assert churn.note == "In 2024-04: Churn $100 over 1 account"
    assert churn.frame["account_id"].to_list() == ["b"]

    deals = VIEWS["accounts"](hand, p.with_(deals=("won", "lost")))
    assert deals.name == "deal_list"
    assert deals.note == (
        "Win rate 50% = 1 won / 2 closed; 1 won deal ($1K); 1 lost deal ($500)"
    )
    opened = VIEWS["accounts"](hand, p.with_(deals=("open",)))
    assert opened.frame["opportunity_id"].to_list() == ["o3"]

    cell = resolve(hand, as_of="2024-04", by=(), cohort="2024Q1", age=3)
    cohort = VIEWS["accounts"](hand, cell)
    assert cohort.name == "cohort_accounts"
    assert cohort.note.startswith(
        "Cohort 2024Q1 at age 3 months: NRR 79% = $190 / $240 over 3 accounts"
    )


def test_the_url_picks_the_list_and_rejects_what_it_cannot_use(hand) -> None:
    p = from_query(hand, {"cohort": "2024-01", "age": "2", "vertical": "Y", "as_of": "2024-04"})
    assert (p.cohort, p.age, p.period, p.segment()) == ("2024-01", 2, "month", {"vertical": "Y"})
    assert from_query(hand, {"deals": "lost,won"}).deals == ("won", "lost")
    assert from_query(hand, {"movement": "expansion"}).movement == "expansion"
    problems = {
        "movement": ({"movement": "growth"}, "use one of new, reactivation"),
        "deals": ({"deals": "won,pending"}, "deals 'pending'"),
        "age alone": ({"age": "3"}, "needs both a cohort"),
        "age": ({"cohort": "2024Q1", "age": "three"}, "age='three' is not a number"),
        "two lists": ({"movement": "churn", "deals": "won"}, "pick one list"),
        "cohort label": ({"cohort": "Q1-2024", "age": "1"}, "not a cohort label"),
    }
    for query, message in problems.values():
        with pytest.raises(Exception, match=re.escape(message)):
            from_query(hand, query)
    several = resolve(hand, by=(), filters={"vertical": ["X", "Y"]})
    with pytest.raises(ViewError, match="takes one vertical"):
        VIEWS["accounts"](hand, several)
