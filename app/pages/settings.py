"""Settings (``/settings``): ICP thresholds and the declared ICP (analysts and admins),
gross margins, discount rate and horizons (admins).

Saving runs ``app.commands.settings.SaveSettings``: the ``settings`` row
``'metrics'`` (the metrics layer's MetricSettings as JSON) and the data version
bump in one transaction, so every cached view is recomputed with the new settings
at the next request. A refused save lists every problem at once.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, dcc, html

from app import auth
from app.commands import CommandError
from app.commands.settings import SaveSettings
from app.components.viewpage import current
from app.components.widgets import (
    metric_label,
    option_key,
    option_value,
    page_header,
    value_options,
)
from app.views import MetricSettings, band_labels, band_name, bounds_text, parse_bounds
from app.views.context import warehouse_engine
from app.views.query import dimension_label

dash.register_page(
    __name__, path="/settings", name="Settings",
    title="Settings · ICP Lens", order=7, role="analyst",
)


class ids:
    """Component ids of this page."""

    CORE_NRR = "st-core-nrr"
    CORE_GRR = "st-core-grr"
    HEALTHY_NRR = "st-healthy-nrr"
    WATCH_NRR = "st-watch-nrr"
    MIN_ACCOUNTS = "st-min-accounts"
    WINDOW = "st-window"
    SAVE_ICP = "st-save-icp"
    ICP_RESULT = "st-icp-result"
    GROSS_MARGIN = "st-gross-margin"
    MARGINS = "st-margins"
    DISCOUNT = "st-discount"
    TARGET_LTV_CAC = "st-target-ltv-cac"
    CLV_YEARS = "st-clv-years"
    HORIZON = "st-horizon"
    SAVE_ECONOMICS = "st-save-economics"
    ECONOMICS_RESULT = "st-economics-result"
    BAND = "st-band"
    SAVE_BANDS = "st-save-bands"
    BANDS_RESULT = "st-bands-result"

    @staticmethod
    def band(attribute: str) -> dict[str, str]:
        """Id of the bounds field of a numeric attribute."""
        return {"type": ids.BAND, "attr": attribute}

    DECLARED = "st-declared"

    @staticmethod
    def declared(dim: str) -> dict[str, str]:
        """Id of the declared-ICP dropdown of a dimension (built-in or custom attribute)."""
        return {"type": ids.DECLARED, "dim": dim}


PERCENT_FIELDS = {
    ids.CORE_NRR: "core_nrr",
    ids.CORE_GRR: "core_grr",
    ids.HEALTHY_NRR: "healthy_nrr",
    ids.WATCH_NRR: "watch_nrr",
}


def _percent_input(id_: str, value: float, label: Any) -> dbc.Col:
    return dbc.Col(
        [
            html.Label(label, htmlFor=id_),
            dbc.InputGroup(
                [dbc.Input(id=id_, type="number", value=round(value * 100, 2), min=0, step=0.5),
                 dbc.InputGroupText("%")]
            ),
        ],
        md=3,
    )


def _number_input(id_: str, value: float, label: str, step: float = 1, md: int = 3) -> dbc.Col:
    return dbc.Col(
        [html.Label(label, htmlFor=id_), dbc.Input(id=id_, type="number", value=value, min=0, step=step)],
        md=md,
    )


def _margin_rows(settings: MetricSettings) -> list[dict[str, Any]]:
    overrides = settings.gross_margin_overrides.get("vertical", {})
    return [
        {"vertical": v, "margin": round(overrides[v] * 100, 2) if v in overrides else None}
        for v in current().dimension_values("vertical")
    ]


def _icp_form(settings: MetricSettings) -> html.Div:
    declared = [
        dbc.Col(
            [
                html.Label(dimension_label(d)),
                dcc.Dropdown(
                    id=ids.declared(d),
                    options=value_options(current().dimension_values(d)),
                    value=[option_key(v) for v in settings.declared_icp.get(d, [])],
                    multi=True,
                    placeholder="Any",
                ),
            ],
            md=4,
            className="mb-2",
        )
        for d in current().dimensions
    ]
    return html.Div(
        [
            html.Div("ICP tiers and thresholds", className="section-title"),
            html.P(
                [metric_label("tier", "st", "Tiers"), ": Core ICP needs both NRR and GRR at "
                 "their thresholds; Healthy, Watch and Accidental ICP follow NRR."],
                className="hint",
            ),
            dbc.Row(
                [
                    _percent_input(ids.CORE_NRR, settings.core_nrr, "Core ICP: NRR at least"),
                    _percent_input(ids.CORE_GRR, settings.core_grr, "Core ICP: GRR at least"),
                    _percent_input(ids.HEALTHY_NRR, settings.healthy_nrr, "Healthy: NRR at least"),
                    _percent_input(ids.WATCH_NRR, settings.watch_nrr,
                                   "Watch: NRR at least (below: Accidental ICP)"),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    _number_input(ids.MIN_ACCOUNTS, settings.min_accounts,
                                  "min_accounts: smallest segment rated"),
                    _number_input(ids.WINDOW, settings.window_months, "Default window (months)"),
                ],
                className="g-3 mb-3",
            ),
            html.Div("Declared ICP", className="section-title"),
            html.P("The segment the company says it targets; the Revenue page checks it "
                   "against the rest. Leave a dimension empty for any value.", className="hint"),
            dbc.Row(declared, className="g-3 mb-2"),
            dbc.Button("Save thresholds and declared ICP", id=ids.SAVE_ICP, color="primary"),
            html.Div(id=ids.ICP_RESULT, className="mt-2"),
        ],
        className="panel",
    )


def _bands_form(settings: MetricSettings) -> html.Div:
    dataset = current().dataset
    numeric = dataset.numeric_attributes if dataset is not None else ()
    rows = [
        dbc.Row(
            [
                dbc.Col(html.Label(f"{dimension_label(a)} ({a})"), md=3),
                dbc.Col(
                    dbc.Input(
                        id=ids.band(a),
                        type="text",
                        value=bounds_text(settings.attribute_bands.get(a, [])),
                        placeholder="e.g. 10, 50, 200 (empty: not banded)",
                    ),
                    md=4,
                ),
                dbc.Col(
                    html.Span(
                        " · ".join(band_labels(settings.attribute_bands[a]))
                        + f"  (segment by {band_name(a)})"
                        if a in settings.attribute_bands
                        else "not banded",
                        className="hint",
                    ),
                    md=5,
                ),
            ],
            className="g-2 mb-2 align-items-center",
        )
        for a in numeric
    ]
    body = (
        [*rows, dbc.Button("Save bands", id=ids.SAVE_BANDS, color="primary")]
        if rows
        else [
            html.P(
                "No numeric custom attribute in the data. An extra column of numbers in "
                "the accounts file (seats, employees at signup, ...) can be banded here.",
                className="hint",
            )
        ]
    )
    return html.Div(
        [
            html.Div("Bands of numeric attributes", className="section-title"),
            html.P(
                "Bounds in ascending order, separated by commas: 10, 50 makes the bands "
                "< 10, 10–50 and ≥ 50 (a band holds its lower bound). A banded attribute is "
                "a segment dimension named <attribute>_band on every page.",
                className="hint",
            ),
            *body,
            html.Div(id=ids.BANDS_RESULT, className="mt-2"),
        ],
        className="panel",
    )


def _economics_form(settings: MetricSettings) -> html.Div:
    return html.Div(
        [
            html.Div("Economics (admins)", className="section-title"),
            html.P([metric_label("clv", "st", "CLV"), " uses the gross margin, the discount rate "
                    "and the horizon below."], className="hint"),
            dbc.Row(
                [
                    _percent_input(ids.GROSS_MARGIN, settings.gross_margin, "Default gross margin"),
                    _percent_input(ids.DISCOUNT, settings.discount_rate, "Yearly discount rate"),
                    _number_input(ids.CLV_YEARS, settings.cohort_clv_years,
                                  "Cohort CLV horizon (years)"),
                    _number_input(ids.HORIZON, settings.clv_horizon_months,
                                  "Simple CLV lifetime cap (months)"),
                    _number_input(ids.TARGET_LTV_CAC, settings.target_ltv_cac,
                                  "Target LTV:CAC (allowable CAC = CLV / this)", step=0.1),
                ],
                className="g-3 mb-3",
            ),
            html.Label("Gross margin per vertical (empty = the default)"),
            dag.AgGrid(
                id=ids.MARGINS,
                rowData=_margin_rows(settings),
                columnDefs=[
                    {"field": "vertical", "headerName": "Vertical"},
                    {"field": "margin", "headerName": "Gross margin (%)", "editable": True,
                     "cellDataType": "number"},
                ],
                columnSize="responsiveSizeToFit",
                dashGridOptions={"domLayout": "autoHeight", "singleClickEdit": True,
                                 "stopEditingWhenCellsLoseFocus": True},
                className="ag-theme-alpine mb-3",
                dangerously_allow_code=False,
            ),
            dbc.Button("Save economics", id=ids.SAVE_ECONOMICS, color="primary"),
            html.Div(id=ids.ECONOMICS_RESULT, className="mt-2"),
        ],
        className="panel",
    )


def layout(**_query: str) -> html.Div:
    """The settings forms the user may change."""
    header = page_header(
        "Settings",
        "Thresholds and assumptions behind every number. Saving recomputes all pages.",
    )
    user = auth.current_user()
    if user is None or not user.can("analyst"):
        return html.Div([header, dbc.Alert("Settings need the analyst or admin role.",
                                           color="warning")])
    settings = current().settings
    forms = [_icp_form(settings), _bands_form(settings)]
    if user.can("admin"):
        forms.append(_economics_form(settings))
    return html.Div([header, *forms])


# Form labels of the fields, for the messages of a refused save.
LABELS = {
    "core_nrr": "Core ICP NRR",
    "core_grr": "Core ICP GRR",
    "healthy_nrr": "Healthy NRR",
    "watch_nrr": "Watch NRR",
    "min_accounts": "Smallest segment rated",
    "window_months": "Default window",
    "gross_margin": "Default gross margin",
    "discount_rate": "Discount rate",
    "cohort_clv_years": "Cohort CLV horizon",
    "clv_horizon_months": "Simple CLV lifetime cap",
    "target_ltv_cac": "Target LTV:CAC",
    "gross_margin_overrides": "Gross margin per vertical",
    "attribute_bands": "Bands of numeric attributes",
}


def _save(changes: dict[str, Any]) -> dbc.Alert:
    command = SaveSettings(warehouse_engine(), changes, auth.current_user().email, LABELS)
    try:
        command.run()
    except CommandError as exc:
        return dbc.Alert(f"Not saved: {exc}", color="danger")
    return dbc.Alert("Saved. Every page now uses these settings.", color="success",
                     duration=6000)


def _fraction(value: float | None) -> float | None:
    """A percent field as a fraction; None (an empty field) stays None."""
    return None if value is None else float(value) / 100


@callback(
    Output(ids.ICP_RESULT, "children"),
    Input(ids.SAVE_ICP, "n_clicks"),
    State(ids.CORE_NRR, "value"),
    State(ids.CORE_GRR, "value"),
    State(ids.HEALTHY_NRR, "value"),
    State(ids.WATCH_NRR, "value"),
    State(ids.MIN_ACCOUNTS, "value"),
    State(ids.WINDOW, "value"),
    State(ids.declared(ALL), "value"),
    State(ids.declared(ALL), "id"),
    prevent_initial_call=True,
)
@auth.require_role("analyst")
def save_icp(
    _n: int, core_nrr: float | None, core_grr: float | None, healthy_nrr: float | None,
    watch_nrr: float | None, min_accounts: int | None, window: int | None,
    declared: list[list[str] | None], fields: list[dict[str, str]],
) -> dbc.Alert:
    """Save the tier thresholds, min_accounts, the default window and the declared ICP
    (one dropdown per dimension of the data, custom attributes included)."""
    ctx = current()
    dims = [f["dim"] for f in fields]
    known = {d: [*ctx.dimension_values(d), *ctx.settings.declared_icp.get(d, [])] for d in dims}
    return _save(
        {
            "core_nrr": _fraction(core_nrr),
            "core_grr": _fraction(core_grr),
            "healthy_nrr": _fraction(healthy_nrr),
            "watch_nrr": _fraction(watch_nrr),
            "min_accounts": min_accounts,
            "window_months": window,
            "declared_icp": {
                d: [option_value(k, known[d]) for k in keys]
                for d, keys in zip(dims, declared, strict=True) if keys
            },
        }
    )


@callback(
    Output(ids.ECONOMICS_RESULT, "children"),
    Input(ids.SAVE_ECONOMICS, "n_clicks"),
    State(ids.GROSS_MARGIN, "value"),
    State(ids.DISCOUNT, "value"),
    State(ids.CLV_YEARS, "value"),
    State(ids.HORIZON, "value"),
    State(ids.TARGET_LTV_CAC, "value"),
    State(ids.MARGINS, "rowData"),
    prevent_initial_call=True,
)
@auth.require_role("admin")
def save_economics(
    _n: int, gross_margin: float | None, discount: float | None, clv_years: int | None,
    horizon: int | None, target_ltv_cac: float | None, margins: list[dict[str, Any]],
) -> dbc.Alert:
    """Save the gross margins, discount rate, CLV horizons and target LTV:CAC."""
    stored = current().settings.gross_margin_overrides
    overrides = {
        r["vertical"]: _fraction(float(r["margin"]))
        for r in margins or []
        if r.get("margin") not in (None, "")
    }
    return _save(
        {
            "gross_margin": _fraction(gross_margin),
            "discount_rate": _fraction(discount),
            "cohort_clv_years": clv_years,
            "clv_horizon_months": horizon,
            "target_ltv_cac": target_ltv_cac,
            "gross_margin_overrides": {**stored, "vertical": overrides},
        }
    )


@callback(
    Output(ids.BANDS_RESULT, "children"),
    Input(ids.SAVE_BANDS, "n_clicks"),
    State(ids.band(ALL), "value"),
    State(ids.band(ALL), "id"),
    prevent_initial_call=True,
)
@auth.require_role("analyst")
def save_bands(_n: int, texts: list[str | None], fields: list[dict[str, str]]) -> dbc.Alert:
    """Save the bounds of the numeric attributes on the form (an empty field: not banded);
    bands of attributes the data no longer holds are kept."""
    bands = dict(current().settings.attribute_bands)
    problems = []
    for text, field in zip(texts, fields, strict=True):
        name = field["attr"]
        try:
            bounds = parse_bounds(text)
        except ValueError as exc:
            problems.append(f"{dimension_label(name)}: {exc}")
            continue
        if bounds:
            bands[name] = bounds
        else:
            bands.pop(name, None)
    if problems:
        return dbc.Alert(f"Not saved: {'; '.join(problems)}", color="danger")
    return _save({"attribute_bands": bands})
