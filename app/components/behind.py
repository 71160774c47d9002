"""Links to the accounts behind a number: every page's click-through builds its URL here.

The ``/accounts`` page reads these parameters back with ``from_query`` (the segment
as ``<dimension>=<value>``, ``as_of``, ``window``, and ``movement``, ``cohort`` and
``age`` or ``deals``), so a link says exactly which number it explains.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.views import query as urlstate
from app.views.params import ViewParams

PATH = "/accounts"


def accounts_href(
    p: ViewParams,
    conditions: Mapping[str, str],
    *,
    movement: str | None = None,
    month: str | None = None,
    cohort: str | None = None,
    age: int | None = None,
    deals: Sequence[str] = (),
) -> str:
    """The ``/accounts`` URL of the segment ``conditions`` at the as-of month and window of
    ``p``: its window-retention accounts, or a ``movement`` in ``month``, a ``cohort`` cell
    at ``age``, or its ``deals``."""
    params: dict[str, object] = {**conditions}
    if movement is not None:
        params.update(movement=movement, as_of=month or p.as_of_label)
    elif cohort is not None:
        params.update(cohort=cohort, age=age, as_of=p.as_of_label)
    else:
        params.update(as_of=p.as_of_label, window=p.window, deals=",".join(deals))
    return PATH + urlstate.search(params)
