"""Upload (``/upload``, admins): drop export files, check them, import them, roll back.

Flow: dropping files starts a check job (detected kind and column mapping per file,
every problem listed, nothing written); the kind and each column's mapping can be
changed and the files checked again; "Import" starts an import job that loads them in
one transaction; the history lists every batch with a rollback behind a
confirmation. Checks and imports run as jobs in their own process with limits
(``db.importer.jobs``), never in the web worker: a progress bar follows the job
(read, validate, load, commit) and the job's id is kept in the browser's session
storage, so a reload shows the same job again. The files live with their job in the
warehouse. Every callback checks the admin role on the server.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import flask
from dash import ALL, Input, Output, State, callback, ctx, dcc, html

from app import auth
from app.commands import imports
from app.commands.imports import KINDS, ImportFile, ImportRefused
from app.components.csv_export import to_csv
from app.components.viewpage import current
from app.components.widgets import page_header
from app.views import formats as fmt
from app.views.warm import is_warm

dash.register_page(
    __name__, path="/upload", name="Upload", title="Upload · ICP Lens", order=6, role="admin"
)


class ids:
    """Component ids of this page."""

    UPLOAD = "up-upload"
    FILES = "up-files"
    REPORT = "up-report"
    REPORT_GRID = "up-report-grid"
    REPORT_DOWNLOAD_BUTTON = "up-report-download-button"
    REPORT_DOWNLOAD = "up-report-download"
    REVALIDATE = "up-revalidate"
    IMPORT = "up-import"
    RESULT = "up-result"
    HISTORY = "up-history"
    ROLLBACK = "up-rollback"
    CONFIRM = "up-confirm"
    DEMO_ASK = "up-demo-ask"
    DEMO_REPLACE = "up-demo-replace"
    DEMO_KEEP = "up-demo-keep"
    DEMO_CANCEL = "up-demo-cancel"
    CONFIRM_TEXT = "up-confirm-text"
    CONFIRM_YES = "up-confirm-yes"
    CONFIRM_NO = "up-confirm-no"
    JOB = "up-job"
    WAITED = "up-waited"
    POLL = "up-poll"
    PROGRESS = "up-progress"
    PROGRESS_BAR = "up-progress-bar"
    ROLLBACK_RESULT = "up-rollback-result"
    PROBLEMS = "up-problems"
    KIND = "up-kind"
    MAP = "up-map"


IGNORE = "(ignore)"
KEEP = "(custom attribute)"
PROBLEM_COLUMNS = (("file", "File"), ("row", "Row"), ("column", "Column"), ("value", "Value"),
                   ("expected", "Problem"))


def _files(contents: list[str] | None, names: list[str] | None) -> list[Any]:
    files = []
    for content, name in zip(contents or [], names or [], strict=True):
        _header, _, payload = content.partition(",")
        files.append(ImportFile(name, base64.b64decode(payload)))
    return files


def _choices(kinds: list[str] | None, kind_ids: list[dict] | None, maps: list[str] | None,
             map_ids: list[dict] | None) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    chosen_kinds = {i["file"]: k for i, k in zip(kind_ids or [], kinds or [], strict=True) if k}
    mappings: dict[str, dict[str, str]] = {}
    for i, target in zip(map_ids or [], maps or [], strict=True):
        mapping = mappings.setdefault(i["file"], {})
        if target and target not in (IGNORE, KEEP):
            mapping[i["source"]] = target
    return chosen_kinds, mappings


def mapping_editor(plan: Any) -> list[Any]:
    """Per file: its detected kind and, per source column, the canonical column it feeds."""
    cards = []
    for f in plan.files:
        canonical = imports.canonical_columns(f.kind)
        kept = {a.header: a for a in f.attributes}
        sources = (
            list(f.mapping) + [c for c in f.ignored if c not in f.mapping] + list(kept)
        )
        if not sources:
            # A missing required column leaves no mapping: offer every header of the file.
            sources = list(f.headers)
        rows = [
            html.Tr(
                [
                    html.Td(source),
                    html.Td(
                        dcc.Dropdown(
                            id={"type": ids.MAP, "file": f.name, "source": source},
                            # An extra column of accounts is kept unless mapped.
                            options=[KEEP if source in kept else IGNORE, *canonical],
                            value=f.mapping.get(source, KEEP if source in kept else IGNORE),
                            clearable=False,
                        ),
                        style={"minWidth": "220px"},
                    ),
                ]
            )
            for source in sources
        ]
        status = (
            html.Span(fmt.plural(f.problem_count, "problem"), className="text-danger")
            if f.problem_count else html.Span("valid", className="text-success")
        )
        cards.append(
            dbc.Card(
                dbc.CardBody(
                    [
                        html.Div(
                            [
                                html.Strong(f.name, className="me-2"),
                                html.Span(f"{fmt.plural(f.rows, 'row')} · ", className="hint"),
                                status,
                            ],
                            className="mb-2",
                        ),
                        dbc.Row(
                            dbc.Col(
                                [
                                    html.Label("Kind of export"),
                                    dcc.Dropdown(
                                        id={"type": ids.KIND, "file": f.name},
                                        options=list(KINDS),
                                        value=f.kind,
                                        clearable=False,
                                    ),
                                ],
                                md=6,
                            ),
                            className="mb-2",
                        ),
                        html.Ul([html.Li(n) for n in f.notices], className="hint")
                        if f.notices else None,
                        attributes_note(f.attributes),
                        html.P("The kind of this file was not recognised from its header: "
                               "choose it above, then check again to map its columns.",
                               className="text-danger")
                        if f.kind is None else None,
                        dbc.Table(
                            [html.Thead(html.Tr([html.Th("Column in the file"),
                                                 html.Th("Feeds")])),
                             html.Tbody(rows)],
                            size="sm", className="mb-0",
                        ),
                    ]
                ),
                className="mb-2",
            )
        )
    return cards


def attributes_note(attributes: list[Any]) -> html.P | None:
    """Which custom attributes of an accounts file became dimensions, and which did not."""
    if not attributes:
        return None
    dims = [a.describe() for a in attributes if a.dimension]
    kept = [a.describe() for a in attributes if not a.dimension]
    parts = []
    if dims:
        parts.append("Custom attributes that become dimensions: " + ", ".join(dims) + ".")
    if kept:
        parts.append("Kept but not segmentable: " + ", ".join(kept) + ".")
    return html.P(" ".join(parts), className="hint attributes-note")


def report(plan: Any) -> list[Any]:
    """The validation report: a summary line and every problem in a grid."""
    if plan.ok:
        summary = dbc.Alert(
            ("The file is valid: " if len(plan.files) == 1
             else f"All {len(plan.files)} files are valid: ")
            + f"{fmt.plural(sum(f.rows for f in plan.files), 'row')} ready to import.",
            color="success",
        )
    else:
        listed = len(plan.problems)
        more = f" (the first {fmt.count(listed)} listed)" if listed < plan.problem_count else ""
        summary = dbc.Alert(
            f"{fmt.plural(plan.problem_count, 'problem')}{more}: nothing will be imported until "
            "they are fixed in the files (or the mapping) and the files checked again.",
            color="danger",
        )
    rows = [{k: ("" if v is None else str(v)) for k, v in p.to_dict().items()}
            for p in plan.problems]
    grid = dag.AgGrid(
        id=ids.REPORT_GRID,
        rowData=rows,
        columnDefs=[
            {"field": k, "headerName": h, "tooltipField": k,
             # The problem is a sentence: give it room and wrap it.
             **({"flex": 3, "wrapText": True, "autoHeight": True} if k == "expected"
                else {"flex": 1})}
            for k, h in PROBLEM_COLUMNS
        ],
        defaultColDef={"sortable": True, "resizable": True, "filter": True},
        dashGridOptions={"pagination": True, "paginationPageSize": 20,
                         "paginationPageSizeSelector": False, "domLayout": "autoHeight"},
        className="ag-theme-alpine",
        dangerously_allow_code=False,
    ) if rows else None
    return [summary, grid]


def history_rows() -> list[dict[str, Any]]:
    """Import batches, newest first, as grid rows."""
    rows = []
    for b in imports.history():
        rows.append(
            {
                "batch_id": b["batch_id"],
                "when": b["created_at"].strftime("%Y-%m-%d %H:%M") if b.get("created_at") else "",
                "who": b.get("created_by"),
                "status": b.get("status"),
                "files": ", ".join(f["file_name"] for f in b.get("files", [])),
                "message": b.get("message") or "",
                **{
                    key: b.get(f"rows_{key}")
                    for key in ("inserted", "updated", "unchanged")
                },
                **{
                    f"{key}_fmt": fmt.count(b.get(f"rows_{key}"))
                    for key in ("inserted", "updated", "unchanged")
                },
            }
        )
    return rows


# Counts sort as numbers and read with separators (13,985); files and message wrap to
# as many lines as they need instead of being cut.
_WRAP = {"wrapText": True, "autoHeight": True, "cellClass": "cell-wrap"}
HISTORY_COLUMNS = [
    {"field": "batch_id", "headerName": "Batch", "maxWidth": 90},
    {"field": "when", "headerName": "When", "minWidth": 140},
    {"field": "who", "headerName": "Who"},
    {"field": "status", "headerName": "Status", "maxWidth": 120},
    {"field": "files", "headerName": "Files", "minWidth": 220, "flex": 2, **_WRAP},
    *(
        {"field": key, "headerName": label, "maxWidth": 120, "type": "rightAligned",
         "valueFormatter": {"function": f"params.data.{key}_fmt"}}
        for key, label in (("inserted", "Inserted"), ("updated", "Updated"),
                           ("unchanged", "Unchanged"))
    ),
    {"field": "message", "headerName": "Message", "minWidth": 260, "flex": 3, **_WRAP},
]


def layout(**_query: str) -> html.Div:
    """The drop zone, the plan, the import and the history."""
    header = page_header(
        "Upload exports",
        "Drop your CRM and billing exports (accounts, subscriptions or monthly MRR, "
        "opportunities, and optionally spend; CSV or XLSX). Nothing is written until every "
        "file is valid.",
    )
    user = auth.current_user()
    if user is None or not user.can("admin"):
        return html.Div([header, dbc.Alert("Uploading data needs the admin role.",
                                           color="warning")])
    max_mb = imports.upload_cap_mb()
    return html.Div(
        [
            header,
            dcc.Upload(
                id=ids.UPLOAD,
                children=html.Div(
                    [html.Strong("Drag and drop export files here"),
                     html.Span(" or click to choose them"),
                     html.Div(f"Several files at once; up to {max_mb} MB each.", className="hint")]
                ),
                multiple=True,
                max_size=max_mb * 1024 * 1024,
                className="upload-zone mb-3",
            ),
            dcc.Store(id=ids.JOB, storage_type="session"),
            dcc.Store(id=ids.WAITED),
            dcc.Interval(id=ids.POLL, interval=500, disabled=False),
            html.Div(
                [html.Div(id=ids.PROGRESS, className="hint mb-1"),
                 dbc.Progress(id=ids.PROGRESS_BAR, value=0, striped=True, animated=True,
                              className="mb-3")],
                id="up-progress-panel", className="d-none",
            ),
            dcc.Loading(
                html.Div(
                    [
                        html.Div(id=ids.FILES),
                        html.Div(
                            [
                                dbc.Button("Check again with these kinds and columns",
                                           id=ids.REVALIDATE, color="secondary", outline=True,
                                           className="me-2"),
                                dbc.Button("Import", id=ids.IMPORT, color="primary",
                                           disabled=True, className="me-2"),
                                dbc.Button("Download the report (CSV)",
                                           id=ids.REPORT_DOWNLOAD_BUTTON, color="link"),
                                dcc.Download(id=ids.REPORT_DOWNLOAD),
                            ],
                            id="up-actions",
                            className="mb-2 d-none",
                        ),
                        html.Div(id=ids.REPORT),
                        html.Div(id=ids.RESULT),
                    ]
                ),
                type="circle",
                delay_show=300,
            ),
            html.Div(
                [
                    html.Div("Import history", className="section-title"),
                    dag.AgGrid(
                        id=ids.HISTORY,
                        rowData=history_rows(),
                        columnDefs=HISTORY_COLUMNS,
                        defaultColDef={"resizable": True, "sortable": True},
                        columnSize="responsiveSizeToFit",
                        dashGridOptions={"rowSelection": {"mode": "singleRow"},
                                         "domLayout": "autoHeight", "pagination": True,
                                         "paginationPageSize": 10,
                                         "paginationPageSizeSelector": False,
                                         "tooltipShowDelay": 300},
                        className="ag-theme-alpine mb-2",
                        dangerously_allow_code=False,
                    ),
                    dbc.Button("Roll back the selected batch", id=ids.ROLLBACK, color="danger",
                               outline=True, size="sm"),
                    html.Div(id=ids.ROLLBACK_RESULT, className="mt-2"),
                ],
                className="panel mt-3",
            ),
            dbc.Modal(
                [
                    dbc.ModalHeader(dbc.ModalTitle("Roll back this import?")),
                    dbc.ModalBody(id=ids.CONFIRM_TEXT),
                    dbc.ModalFooter(
                        [dbc.Button("Cancel", id=ids.CONFIRM_NO, color="secondary"),
                         dbc.Button("Roll back", id=ids.CONFIRM_YES, color="danger")]
                    ),
                ],
                id=ids.CONFIRM,
                is_open=False,
            ),
            dbc.Modal(
                [
                    dbc.ModalHeader(dbc.ModalTitle("Replace the demo data?")),
                    dbc.ModalBody(
                        "The warehouse holds the demo company. Replacing it removes every demo "
                        "row in the same transaction as your import, so the pages show only "
                        "your data (rolling your import back brings the demo back). Keeping "
                        "both mixes the two companies on every page."
                    ),
                    dbc.ModalFooter(
                        [dbc.Button("Cancel", id=ids.DEMO_CANCEL, color="secondary"),
                         dbc.Button("Keep both", id=ids.DEMO_KEEP, color="secondary",
                                    outline=True),
                         dbc.Button("Replace the demo", id=ids.DEMO_REPLACE, color="primary")]
                    ),
                ],
                id=ids.DEMO_ASK,
                is_open=False,
            ),
        ]
    )


STAGE_WORDS = {
    "queued": "Starting",
    "read": "Reading and checking the files",
    "validate": "Checking references between the files and the warehouse",
    "load": "Writing the rows",
    "commit": "Committing",
    "done": "Done",
}
STAGE_SHARE = {"queued": (0, 2), "read": (2, 55), "validate": (55, 60), "load": (60, 95),
               "commit": (95, 99), "done": (100, 100)}
# After an import the result waits until the landing page's new numbers are computed
# (app/views/warm.py), so the scorecard opened next is drawn from the cache; never longer
# than this (a worker that died while warming).
WARM_WAIT_S = 60
WARMING_WORDS = "Imported; computing the dashboard's new numbers"


def progress_of(job: dict[str, Any]) -> tuple[str, int]:
    """The job's progress in words and as a percentage of the whole job."""
    stage = job.get("stage") or "queued"
    low, high = STAGE_SHARE.get(stage, (0, 99))
    step = (job.get("progress") or {}).get(stage) or {}
    total = step.get("total") or 0
    share = step.get("done", 0) / total if total else 0.0
    percent = int(low + (high - low) * share)
    words = STAGE_WORDS.get(stage, stage)
    detail = step.get("detail")
    count = f" ({step['done']} of {total})" if total and stage in ("read", "load") else ""
    text = f"{words}{count}{': ' + detail if detail else ''} · {job['seconds']:.0f} s"
    return text, percent


def import_summary(result: dict[str, Any]) -> dbc.Alert:
    """What an import job changed, in words."""
    batch = result.get("batch_id")
    return dbc.Alert(
        [
            html.Strong("Imported. " if result.get("changed") else "Nothing changed. "),
            f"{fmt.count(result['inserted'])} rows inserted, {fmt.count(result['updated'])} "
            f"updated, {fmt.count(result['unchanged'])} unchanged",
            f" (batch {batch})." if batch is not None else ".",
            html.Ul([html.Li(f"{f['name']} ({f['kind']}): {fmt.count(f['inserted'])} inserted, "
                             f"{fmt.count(f['updated'])} updated, "
                             f"{fmt.count(f['unchanged'])} unchanged")
                     for f in result.get("files", [])], className="mb-0 mt-1"),
            html.Div(f"The demo data was replaced ({fmt.count(result['demo_rows_removed'])} "
                     f"demo rows removed); rolling back batch {batch} brings it back.",
                     className="mt-1")
            if result.get("demo_rows_removed") else None,
        ],
        color="success",
        id="up-result-summary",
    )


POLL_OUTPUTS = {
    "files": Output(ids.FILES, "children"),
    "report": Output(ids.REPORT, "children"),
    "import_disabled": Output(ids.IMPORT, "disabled"),
    "actions": Output("up-actions", "className"),
    "result": Output(ids.RESULT, "children"),
    "history": Output(ids.HISTORY, "rowData", allow_duplicate=True),
    "progress": Output(ids.PROGRESS, "children"),
    "bar": Output(ids.PROGRESS_BAR, "value"),
    "panel": Output("up-progress-panel", "className"),
    "poll": Output(ids.POLL, "disabled"),
    "waited": Output(ids.WAITED, "data"),
}


def still_warming(job_id: int, waited: dict | None) -> dict | None:
    """While the new data version's landing views are not yet warm: since when this page
    has waited for job ``job_id`` ({job, since}, server time); None once they are (or
    after WARM_WAIT_S)."""
    now = time.time()
    since = waited["since"] if waited and waited.get("job") == job_id else now
    if now - since >= WARM_WAIT_S or is_warm(current().version):
        return None
    return {"job": job_id, "since": since}


@callback(
    output=POLL_OUTPUTS,
    inputs={"_tick": Input(ids.POLL, "n_intervals"), "state": Input(ids.JOB, "data"),
            "waited": State(ids.WAITED, "data")},
    prevent_initial_call="initial_duplicate",
)
@auth.require_role("admin")
def follow_job(_tick: int | None, state: dict | None, waited: dict | None) -> dict[str, Any]:
    """Follow the page's job: its progress while it runs, then what it found or did."""
    out = dict.fromkeys(POLL_OUTPUTS, dash.no_update)
    job = imports.status(state["job"]) if state and state.get("job") else None
    if job is None:
        return {**out, "poll": True, "panel": "d-none"}
    if job["status"] == "running":
        text, percent = progress_of(job)
        return {**out, "progress": text, "bar": percent, "panel": "", "poll": False}
    out.update(poll=True, panel="d-none", progress="", bar=100)
    if job["status"] == "failed":
        return {**out, "result": dbc.Alert(job["error"], color="danger", id="up-job-failed"),
                "history": history_rows(), "import_disabled": True}
    result = job["result"] or {}
    if "plan" in result:
        view = imports.plan_view(result["plan"])
        return {**out, "files": mapping_editor(view), "report": report(view),
                "import_disabled": not view.ok, "actions": "mb-2", "result": None}
    if "rejected" in result:
        view = imports.plan_view(result["rejected"])
        return {**out, "report": report(view), "result": None, "history": history_rows(),
                "import_disabled": False}
    done = result["import"]
    if done.get("changed"):
        waiting = still_warming(state["job"], waited)
        if waiting is not None:
            return {**out, "progress": WARMING_WORDS, "bar": 99, "panel": "", "poll": False,
                    "waited": waiting}
    return {**out, "result": import_summary(done), "history": history_rows(),
            "import_disabled": False}


@callback(
    Output(ids.JOB, "data", allow_duplicate=True),
    Output(ids.RESULT, "children", allow_duplicate=True),
    # What the last check said goes while the files are checked again.
    Output(ids.FILES, "children", allow_duplicate=True),
    Output(ids.REPORT, "children", allow_duplicate=True),
    Output(ids.IMPORT, "disabled", allow_duplicate=True),
    Input(ids.UPLOAD, "contents"),
    Input(ids.REVALIDATE, "n_clicks"),
    State(ids.UPLOAD, "filename"),
    State(ids.JOB, "data"),
    State({"type": ids.KIND, "file": ALL}, "value"),
    State({"type": ids.KIND, "file": ALL}, "id"),
    State({"type": ids.MAP, "file": ALL, "source": ALL}, "value"),
    State({"type": ids.MAP, "file": ALL, "source": ALL}, "id"),
    prevent_initial_call=True,
)
@auth.require_role("admin")
def check_files(
    contents: list[str] | None, _revalidate: int | None, names: list[str] | None,
    state: dict | None, kinds: list[str], kind_ids: list[dict], maps: list[str],
    map_ids: list[dict],
) -> tuple:
    """Start checking the dropped files (or the same files again with the kinds and
    columns chosen on the page): kinds, mappings, every problem; nothing written."""
    user = auth.current_user().email
    cleared = (None, None, True)
    try:
        if ctx.triggered_id == ids.REVALIDATE and state and state.get("files"):
            chosen_kinds, mappings = _choices(kinds, kind_ids, maps, map_ids)
            job = imports.start_check(user, from_job=state["files"], kinds=chosen_kinds,
                                      mappings=mappings)
            return {"job": job, "files": state["files"]}, None, *cleared
        if not contents:
            return dash.no_update, None, *cleared
        job = imports.start_check(user, _files(contents, names))
    except ImportRefused as exc:
        return dash.no_update, dbc.Alert(str(exc), color="danger"), *cleared
    return {"job": job, "files": job}, None, *cleared


@callback(
    Output(ids.JOB, "data", allow_duplicate=True),
    Output(ids.DEMO_ASK, "is_open"),
    Input(ids.IMPORT, "n_clicks"),
    Input(ids.DEMO_REPLACE, "n_clicks"),
    Input(ids.DEMO_KEEP, "n_clicks"),
    State(ids.JOB, "data"),
    State({"type": ids.KIND, "file": ALL}, "value"),
    State({"type": ids.KIND, "file": ALL}, "id"),
    State({"type": ids.MAP, "file": ALL, "source": ALL}, "value"),
    State({"type": ids.MAP, "file": ALL, "source": ALL}, "id"),
    prevent_initial_call=True,
)
@auth.require_role("admin")
def import_files(
    _n: int, _replace: int | None, _keep: int | None, state: dict | None,
    kinds: list[str], kind_ids: list[dict], maps: list[str], map_ids: list[dict],
) -> tuple:
    """Start importing the checked files in a job (one transaction); while the warehouse
    holds the demo, ask first whether to replace it or keep both."""
    if not state or not state.get("files"):
        return dash.no_update, False
    if ctx.triggered_id == ids.IMPORT and imports.holds_demo():
        return dash.no_update, True
    chosen_kinds, mappings = _choices(kinds, kind_ids, maps, map_ids)
    job = imports.start_import(
        auth.current_user().email, state["files"], kinds=chosen_kinds, mappings=mappings,
        keep_demo=ctx.triggered_id == ids.DEMO_KEEP,
        # Once it commits, the tier history is recorded and the views warmed in this app.
        around=flask.current_app._get_current_object().app_context,
    )
    return {"job": job, "files": state["files"]}, False


@callback(
    Output(ids.DEMO_ASK, "is_open", allow_duplicate=True),
    Input(ids.DEMO_CANCEL, "n_clicks"),
    prevent_initial_call=True,
)
def keep_asking(_n: int) -> bool:
    """Cancel closes the question and imports nothing."""
    return False


@callback(
    Output(ids.REPORT_DOWNLOAD, "data"),
    Input(ids.REPORT_DOWNLOAD_BUTTON, "n_clicks"),
    State(ids.REPORT_GRID, "rowData"),
    prevent_initial_call=True,
)
@auth.require_role("admin")
def download_report(_n: int, rows: list[dict] | None) -> dict:
    """The validation report as CSV, safe to open in a spreadsheet."""
    body = [[r.get(k) for k, _h in PROBLEM_COLUMNS] for r in rows or []]
    return dcc.send_string(to_csv([h for _k, h in PROBLEM_COLUMNS], body),
                           filename="import-problems.csv")


@callback(
    Output(ids.CONFIRM, "is_open"),
    Output(ids.CONFIRM_TEXT, "children"),
    Input(ids.ROLLBACK, "n_clicks"),
    Input(ids.CONFIRM_NO, "n_clicks"),
    State(ids.HISTORY, "selectedRows"),
    prevent_initial_call=True,
)
def ask_rollback(_open: int | None, _cancel: int | None, selected: list[dict] | None) -> tuple:
    """Open the confirmation for the selected batch (or close it on Cancel)."""
    if ctx.triggered_id == ids.CONFIRM_NO or not selected:
        return False, dash.no_update
    b = selected[0]
    return True, (
        f"Batch {b['batch_id']} ({b['files']}, {b['when']} by {b['who']}) will be undone: the "
        f"{b['inserted']} rows it inserted are deleted and the {b['updated']} it updated are "
        "restored as they were. Every page is recomputed."
    )


@callback(
    Output(ids.ROLLBACK_RESULT, "children"),
    Output(ids.HISTORY, "rowData", allow_duplicate=True),
    Output(ids.CONFIRM, "is_open", allow_duplicate=True),
    Input(ids.CONFIRM_YES, "n_clicks"),
    State(ids.HISTORY, "selectedRows"),
    prevent_initial_call=True,
)
@auth.require_role("admin")
def rollback(_n: int, selected: list[dict] | None) -> tuple:
    """Roll back the selected batch, after the confirmation."""
    if not selected:
        return dbc.Alert("Select a batch first.", color="warning"), dash.no_update, False
    batch_id = int(selected[0]["batch_id"])
    try:
        result = imports.roll_back(
            batch_id, auth.current_user().email, flask.current_app._get_current_object().app_context
        )
    except ImportRefused as exc:
        return dbc.Alert(str(exc), color="danger"), history_rows(), False
    return dbc.Alert(result.message.capitalize() + ".", color="success"), history_rows(), False
