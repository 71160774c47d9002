"""Where the data ends: a cancellation that has happened is an event, a future end date
is not; an as-of month past the data names the last complete month."""

from __future__ import annotations

import datetime as dt

import pytest

from metrics.errors import MetricsError
from metrics.frames import Frames
from metrics.model import build_dataset
from metrics.months import month_key
from tests.unit.builders import accounts, no_opportunities, subscriptions

ACCS = accounts([("a", "X"), ("b", "X"), ("c", "X")])
# New subscriptions until June; cancellations until the end of November.
SUBS = subscriptions(
    [
        ("s1", "a", "2026-01-01", "2026-09-30", 100),
        ("s2", "b", "2026-03-01", "2026-11-30", 200),
        ("s3", "c", "2026-06-01", "2027-05-31", 300),
    ]
)


def _ds(today: dt.date):
    frames = Frames(accounts=ACCS, opportunities=no_opportunities(), subscriptions=SUBS)
    return build_dataset(frames, today=today)


def test_past_cancellations_extend_the_data() -> None:
    ds = _ds(dt.date(2026, 12, 1))
    assert ds.default_as_of == month_key("2026-11")
    assert ds.as_of("2026-11") == month_key("2026-11")


def test_future_end_dates_do_not() -> None:
    # On 2026-10-15 the November cancellation has not happened: the data ends at the
    # September one, the last complete month.
    ds = _ds(dt.date(2026, 10, 15))
    assert ds.default_as_of == month_key("2026-09")
    with pytest.raises(MetricsError, match="last complete month is 2026-09"):
        ds.as_of("2026-11")


def test_as_of_list_is_never_empty() -> None:
    from app.views.context import Context
    from metrics.settings import MetricSettings

    # Revenue starts in the data's last, partial month: the default month is still offered.
    late = subscriptions([("s", "a", "2024-03-05", None, 100)])
    frames = Frames(accounts=ACCS, opportunities=no_opportunities(), subscriptions=late)
    ds = build_dataset(frames, today=dt.date(2024, 3, 20))
    ctx = Context("t", MetricSettings(), ds)
    assert ctx.months_available() == ["2024-02"]
    # A longer history: from the default down to the month after the first with revenue.
    ctx = Context("t", MetricSettings(), _ds(dt.date(2026, 12, 1)))
    months = ctx.months_available()
    assert months[0] == "2026-11" and months[-1] == "2026-02"
