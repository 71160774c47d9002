"""The board pack: the scorecard's story on a few printed pages, rendered from the views.

:func:`board_html` builds one self-contained HTML page from the views the scorecard
shows: the company's headline KPIs, the segment table with each segment's change since
the previous month recorded, the ICP map exactly as the page draws it (its Plotly
figure, drawn by plotly.js inlined in the page), the Accidental ICP flags and the
raised alerts with their evidence, and unit economics when an ``economics`` view
exists and has rows (its columns as the view names and formats them). Headless
Chromium (Debian's, through Playwright) prints it to PDF (:func:`board_pdf`) or
screenshots the scorecard part (:func:`scorecard_png`): the text stays text, and the
chart is the browser's own SVG. The page loads nothing: every request it would make
is refused.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import plotly
from plotly.utils import PlotlyJSONEncoder

from app.components.benchmarks import benchmark_text
from app.components.scorecard_parts import BANDED, COLUMNS, KPIS, since_text, view_parts
from app.views import USER_ERRORS, VIEWS, definitions
from app.views import formats as fmt
from app.views import query as urlstate
from app.views.context import Context
from app.views.evidence import alerts, flags
from app.views.params import ViewParams
from app.views.view import View
from db.config import get_config

PAGE_WIDTH_PX = 960  # Letter landscape, 0.5 in margins: 10 in of 96 CSS px
MAP_WIDTH_PX = PAGE_WIDTH_PX - 8
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]
RENDER_TIMEOUT_MS = 60_000
# One Chromium at a time per process: a board pack takes a core for a few seconds.
_render_lock = threading.Lock()


class BoardPackError(Exception):
    """The board pack cannot be rendered here (no Chromium); the message says what to do."""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


STYLE = """
@page { size: Letter landscape; margin: 0.45in 0.5in 0.55in 0.5in; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "Liberation Sans", Arial, Helvetica, sans-serif; color: #1f2933;
       font-size: 10pt; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body.screen { width: 1000px; padding: 20px; background: #fff; }
h1 { font-size: 17pt; margin: 0 0 2px; }
h2 { font-size: 12.5pt; margin: 14px 0 6px; border-bottom: 1px solid #d7dbe0; padding-bottom: 3px; }
.sub { color: #5f6b7a; margin: 0 0 10px; }
.demo { background: #eef4fb; color: #1d4f8a; padding: 4px 8px; margin-bottom: 8px; font-size: 9pt; }
.kpis { display: grid; grid-template-columns: repeat(6, 1fr); gap: 8px; margin-bottom: 8px; }
.kpi { border: 1px solid #d7dbe0; border-radius: 6px; padding: 6px 8px; break-inside: avoid; }
.kpi .name { font-size: 8.5pt; color: #5f6b7a; text-transform: uppercase; letter-spacing: .03em; }
.kpi .value { font-size: 17pt; font-weight: 700; margin: 1px 0; }
.kpi .note, .kpi .bench { font-size: 7.8pt; color: #5f6b7a; }
.bm-best { color: #1b7f4b; } .bm-good { color: #2b6cb0; } .bm-watch { color: #b26b00; }
.bm-bad { color: #c0392b; }
table { width: 100%; border-collapse: collapse; font-size: 9pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th { text-align: left; font-weight: 600; color: #5f6b7a; border-bottom: 1.5px solid #9aa1a9;
     padding: 4px 5px; vertical-align: bottom; }
td { border-bottom: 1px solid #e4e7eb; padding: 3px 5px; vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; }
td .then { display: block; font-size: 7.5pt; color: #7b8794; white-space: nowrap; }
tr.insufficient td { color: #9aa1a9; font-style: italic; }
.tier { font-weight: 700; white-space: nowrap; }
.tier-core_icp { color: #1b7f4b; } .tier-healthy { color: #2b6cb0; } .tier-watch { color: #b26b00; }
.tier-accidental_icp { color: #c0392b; } .tier-insufficient_data { color: #9aa1a9; }
.hint { font-size: 8pt; color: #5f6b7a; margin-top: 4px; }
.map { break-inside: avoid; break-before: page; }
.item { break-inside: avoid; border-left: 3px solid #9aa1a9; padding: 3px 8px; margin: 0 0 7px; }
.item.high, .item.warning { border-left-color: #c0392b; }
.item.medium { border-left-color: #b26b00; }
.item.opportunity { border-left-color: #1b7f4b; }
.item .head { font-weight: 700; }
.item .test { font-size: 8pt; color: #5f6b7a; }
section { break-inside: auto; }
"""


def _kpis(ctx: Context, kpis: dict[str, tuple[str, str, str]]) -> str:
    cards = []
    for key in KPIS:
        value, css, note = kpis[key]
        bench = benchmark_text(key, ctx.settings) or ""
        cards.append(
            f'<div class="kpi"><div class="name">{_e(definitions.name(key))}</div>'
            f'<div class="value {_e(css.removeprefix("kpi-value "))}">{_e(value)}</div>'
            f'<div class="note">{_e(note)}</div><div class="bench">{_e(bench)}</div></div>'
        )
    return f'<div class="kpis">{"".join(cards)}</div>'


def _cell(text: str, then: str | None = None, css: str = "num") -> str:
    extra = f'<span class="then">{_e(then)}</span>' if then else ""
    return f'<td class="{css}">{_e(text)}{extra}</td>'


def _scorecard_table(ctx: Context, p: ViewParams, rows: list[dict[str, Any]]) -> str:
    """The page's segment table, best NRR first, with the value of the previous month."""
    head = [f"<th>{_e(urlstate.dimension_label(p.by[0]))}</th>"]
    head += [f'<th class="num">{_e(definitions.name(k))}</th>' for k, _kind, _g in COLUMNS]
    head.append(f"<th>{_e(definitions.name('tier'))}</th>")
    ordered = sorted(rows, key=lambda r: (r["nrr"] is None, -(r["nrr"] or 0)))
    body = []
    for r in ordered:
        cells = [f"<td>{_e(r['segment'])}</td>"]
        for key, _kind, _group in COLUMNS:
            css = f"num bm-{r.get(f'{key}_band') or 'none'}" if key in BANDED else "num"
            if key == "nrr":
                cells.append(_cell(r["nrr_cell"], r["nrr_tip"], css))
            else:
                cells.append(_cell(r[f"{key}_fmt"], css=css))
        cells.append(
            f'<td class="tier tier-{_e(r["tier"])}">{_e(r["tier_cell"])}'
            + (f'<span class="then">{_e(r["tier_tip"])}</span>' if r.get("tier_tip") else "")
            + "</td>"
        )
        css = ' class="insufficient"' if r["tier"] == "insufficient_data" else ""
        body.append(f"<tr{css}>{''.join(cells)}</tr>")
    return (
        f"<table><thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        f'<div class="hint">{_e(since_text(rows))} Grey rows have fewer than '
        f"{ctx.settings.min_accounts} accounts in their starting cohort: not rated.</div>"
    )


def _map(figure: dict[str, Any]) -> str:
    figure = {**figure, "layout": {**figure["layout"], "width": MAP_WIDTH_PX}}
    spec = json.dumps(figure, cls=PlotlyJSONEncoder).replace("</", "<\\/")
    return (
        '<section class="map"><h2>ICP map</h2><div id="icp-map"></div>'
        f"<script>window.icpPlots = (window.icpPlots || 0) + 1; (function () {{"
        f"const f = {spec};"
        "Plotly.newPlot('icp-map', f.data, f.layout, {staticPlot: true, displayModeBar: false})"
        ".then(() => { window.icpPlotted = (window.icpPlotted || 0) + 1; });"
        "})();</script>"
        '<div class="hint">NRR against CLV; bubble size TAM, colour tier. The segments '
        "farthest from the middle are named.</div></section>"
    )


def _label(key: str) -> str:
    """An alert type or flag reason in words: grr_warning -> GRR warning."""
    if key in definitions.ALERT_TYPES:
        return definitions.ALERT_TYPES[key][0]
    return fmt.TIER_LABELS.get(key) or key.replace("_", " ").capitalize()


def evidence_line(evidence: dict[str, Any]) -> str:
    """An alert's test in one line: 'Fisher exact, one-sided: p < 0.001, q = 0.003'."""
    if evidence.get("p_value") is None:
        return ""

    def stat(name: str, value: float) -> str:
        text = fmt.probability(value)
        return f"{name} {text}" if text.startswith("<") else f"{name} = {text}"

    parts = [stat("p", evidence["p_value"])]
    if evidence.get("q_value") is not None:
        parts.append(stat("q", evidence["q_value"]))
    return f"{evidence.get('test') or 'test'}: {', '.join(parts)}"


def _evidence(ctx: Context, p: ViewParams, shown: set[str]) -> str:
    """The Accidental ICP flags and the raised alerts of the segments ``shown`` in the
    table (drilled into a vertical: its sub-industries), each with its evidence sentence."""

    def ours(item: dict[str, Any]) -> bool:
        return str(item["segment"].get(p.by[0])) in shown

    items = []
    for f in filter(ours, flags(ctx, p).records()):
        items.append(
            f'<div class="item {_e(f["severity"])}"><div class="head">Accidental ICP flag · '
            f"{_e(f['severity'])} · {_e(f['segment_label'])} ({_e(_label(f['reason']))})</div>"
            f"<div>{_e(f['explanation'])}</div></div>"
        )
    raised = [a for a in alerts(ctx, p).records() if a["status"] == "raised" and ours(a)]
    for a in raised:
        tested = evidence_line(a.get("evidence") or {})
        test = f'<div class="test">{_e(tested)}</div>' if tested else ""
        items.append(
            f'<div class="item {_e(a["kind"])}"><div class="head">{_e(a["kind"].title())} · '
            f"{_e(_label(a['type']))} · {_e(a['segment_label'])}, since {_e(a['started'])}</div>"
            f"<div>{_e(a['explanation'])}</div>{test}</div>"
        )
    if not items:
        items.append('<div class="hint">No Accidental ICP flag and no raised alert.</div>')
    return f"<section><h2>Flags and raised alerts</h2>{''.join(items)}</section>"


def economics_view(ctx: Context, p: ViewParams) -> View | None:
    """The unit economics view of ``p`` when there is one, it has rows and spend was
    imported (without spend it holds only the allowable CAC, which the pack leaves out)."""
    if "economics" not in VIEWS:
        return None
    try:
        view = VIEWS["economics"](ctx, p)
    except USER_ERRORS:
        return None
    frame = view.frame
    spent = "spend" in frame.columns and frame["spend"].fill_nan(None).drop_nulls().sum() > 0
    return view if frame.height and spent else None


def view_table(view: View) -> str:
    """Any view as a table: the columns its text table shows (``brief``, else all) under
    their labels, values formatted by their kinds, rows in the view's order."""
    if view.sort:
        view = view.sorted_by(view.sort)
    shown = [view.column(k) for k in view.brief] if view.brief else list(view.columns)
    head = "".join(f'<th class="{"num" if c.numeric else ""}">{_e(c.label)}</th>' for c in shown)
    body = "".join(
        "<tr>"
        + "".join(_cell(fmt.by_kind(c.kind, r[c.key]), css="num" if c.numeric else "")
                  for c in shown)
        + "</tr>"
        for r in view.rows()
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _title(ctx: Context, p: ViewParams) -> str:
    what = urlstate.dimension_label(p.by[0]).lower()
    where = f" in {p.segment()['vertical']}" if p.segment().get("vertical") else ""
    demo = (
        '<div class="demo">Demo data: these numbers describe a made-up company.</div>'
        if ctx.demo else ""
    )
    return (
        f"{demo}<h1>ICP Lens board pack: as of {_e(p.as_of_label)}</h1>"
        f'<p class="sub">Trailing {_e(fmt.months(p.window))} to {_e(p.as_of_label)}; segments '
        f"by {_e(what)}{_e(where)}. Every number is the dashboard's (METRICS.md).</p>"
    )


def board_html(ctx: Context, p: ViewParams, sections: Iterable[str] | None = None) -> str:
    """The board pack of the scorecard view ``p`` as one self-contained HTML page;
    ``sections`` picks some of ``scorecard``, ``map``, ``evidence``, ``economics``."""
    wanted = set(sections or ("scorecard", "map", "evidence", "economics"))
    rows, figure, kpis = view_parts(ctx, p)
    parts = [_title(ctx, p)]
    if "scorecard" in wanted:
        parts += [_kpis(ctx, kpis), "<h2>Segment scorecard</h2>", _scorecard_table(ctx, p, rows)]
    if "map" in wanted:
        parts.append(_map(figure))
    if "evidence" in wanted:
        parts.append(_evidence(ctx, p, {r["segment"] for r in rows}))
    economics = economics_view(ctx, p) if "economics" in wanted else None
    if economics is not None:
        parts.append(f"<section><h2>Unit economics</h2>{view_table(economics)}</section>")
    library = ""
    if "map" in wanted:
        source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        library = f"<script>{source.read_text(encoding='utf-8')}</script>"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>ICP Lens board pack {_e(p.as_of_label)}</title><style>{STYLE}</style>"
        f"{library}</head><body>{''.join(parts)}</body></html>"
    )


Job = tuple[str, Callable[[Any], bytes], int]
"""A page to render: its HTML, what to capture of it (PDF or screenshot), its width."""


def _render(*jobs: Job) -> list[bytes]:
    """Load each page in one headless Chromium, wait for its charts, capture it."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    chromium = get_config().icp_chromium
    if not Path(chromium).exists():
        raise BoardPackError(
            f"the board pack is printed by Chromium, and there is none at {chromium}: "
            "install Debian's chromium (apt-get install chromium) or set ICP_CHROMIUM"
        )
    with _render_lock, sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            raise BoardPackError(f"Chromium at {chromium} did not start: {exc}") from None
        try:
            out = []
            for page_html, capture, width in jobs:
                page = browser.new_page(viewport={"width": width, "height": 800})
                # Self-contained: nothing the page names is fetched.
                page.route("**/*", lambda route: route.abort())
                page.set_content(page_html, wait_until="load", timeout=RENDER_TIMEOUT_MS)
                page.wait_for_function(
                    "(window.icpPlotted || 0) >= (window.icpPlots || 0)",
                    timeout=RENDER_TIMEOUT_MS,
                )
                out.append(capture(page))
                page.close()
            return out
        finally:
            browser.close()


def _pdf_job(ctx: Context, p: ViewParams) -> Job:
    footer = (
        '<div style="font-size:7pt;color:#7b8794;width:100%;padding:0 0.5in;'
        'font-family:Liberation Sans,Arial,sans-serif;display:flex;justify-content:space-between">'
        f"<span>ICP Lens board pack · as of {_e(p.as_of_label)}</span>"
        '<span>page <span class="pageNumber"></span> of <span class="totalPages"></span></span>'
        "</div>"
    )

    def pdf(page: Any) -> bytes:
        return page.pdf(
            print_background=True, prefer_css_page_size=True, display_header_footer=True,
            header_template="<span></span>", footer_template=footer,
        )

    return board_html(ctx, p), pdf, PAGE_WIDTH_PX


def _png_job(ctx: Context, p: ViewParams) -> Job:
    page_html = board_html(ctx, p, sections=("scorecard",))
    page_html = page_html.replace("<body>", '<body class="screen">')
    return page_html, lambda page: page.locator("body").screenshot(type="png"), 1040


def board_pdf(ctx: Context, p: ViewParams) -> bytes:
    """The board pack of ``p`` as PDF: Letter landscape, page numbers in the footer."""
    return _render(_pdf_job(ctx, p))[0]


def scorecard_png(ctx: Context, p: ViewParams) -> bytes:
    """The headline KPIs and the segment table of ``p`` as a PNG (for slides and chats)."""
    return _render(_png_job(ctx, p))[0]


def board_pack(ctx: Context, p: ViewParams) -> tuple[bytes, bytes]:
    """The board pack's PDF and the scorecard's PNG, rendered by one Chromium."""
    pdf, png = _render(_pdf_job(ctx, p), _png_job(ctx, p))
    return pdf, png


def file_name(p: ViewParams, suffix: str) -> str:
    """A download's name: icp-board-pack-2026-11-w12-vertical.pdf."""
    return f"icp-board-pack-{p.slug(('as_of', 'window', 'by', 'filters'))}.{suffix}"
