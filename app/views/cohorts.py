"""Cohort views: retention curves by cohort and age."""

from __future__ import annotations

from app.views.columns import columns
from app.views.context import Context
from app.views.params import ViewParams
from app.views.registry import view
from app.views.view import View
from metrics.cohorts import cohort_curves, complete_ages

__all__ = ["COHORT_KEYS", "cohorts", "complete_ages"]

COHORT_KEYS = ("cohort", "age", "accounts", "nrr", "grr", "logo_retention")


@view("cohorts", uses=("as_of", "period", "filters"))
def cohorts(ctx: Context, p: ViewParams) -> View:
    """Cohort NRR, GRR and logo retention by cohort and age in months, for the segment."""
    frame = cohort_curves(ctx.dataset, p.as_of, p.period, filters=p.filters_map())
    return View("cohorts", p, frame, columns(*COHORT_KEYS))
