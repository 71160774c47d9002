"""The digest: what changed since an import, as an HTML email, plain text and JSON.

:func:`build_digest` gathers it from the views: the segments whose tier changed since
the record of an earlier import (``app.views.history``; by default the version recorded
before the current one), the alerts raised now that were not raised then, the top
pockets (``discover``) and targets (``targets``) when there are any, and a link to the
dashboard (ICP_PUBLIC_URL). :func:`to_html`, :func:`to_text` and :func:`to_json`
render it; ``app.commands.digest`` sends it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from app.views import definitions
from app.views import formats as fmt
from app.views import query as urlstate
from app.views.context import Context
from app.views.discovery import discover
from app.views.evidence import alerts
from app.views.history import (
    baseline,
    changes_since,
    raised_before,
    recorded_text,
    segment_key,
)
from app.views.params import ViewParams, resolve
from app.views.targets import targets
from app.views.view import View

TOP_POCKETS = 3
TOP_TARGETS = 5
MOVED = ("up", "down", "changed")


@dataclass(frozen=True)
class Digest:
    """What a digest says: at ``params`` (the default as-of and window), against
    ``since`` (the record compared with, None when there is none)."""

    params: ViewParams
    since: dict[str, Any] | None
    changes: View
    alerts: tuple[dict[str, Any], ...]
    pockets: View
    targets: View
    url: str | None
    demo: bool

    @property
    def since_text(self) -> str:
        """What the digest compares with, in words."""
        if self.since is None:
            return "nothing: no earlier import is recorded"
        return f"the {recorded_text(self.since)} (as of {self.since['month']})"

    @property
    def compared(self) -> str:
        """The digest's first sentence: what it compares with."""
        if self.since is None:
            return "No earlier import is recorded: there are no tier changes to report yet."
        return f"Compared with {self.since_text}."

    @property
    def subject(self) -> str:
        """The email's subject line."""
        news = []
        if self.since is not None:
            moved = self.changes.frame.height
            news.append(f"{moved} tier change{'s' if moved != 1 else ''}")
        if self.alerts or not news:
            news.append(f"{len(self.alerts)} new alert{'s' if len(self.alerts) != 1 else ''}")
        return f"ICP Lens digest, as of {self.params.as_of_label}: {', '.join(news)}"

    def link(self, path: str = "/", **query: Any) -> str | None:
        """A link into the dashboard at this digest's as-of month (None without a URL)."""
        if not self.url:
            return None
        search = urlstate.search({**query, "as_of": self.params.as_of_label})
        return self.url.rstrip("/") + quote(path) + search


def build_digest(ctx: Context, since_batch: int | None = None, url: str | None = None) -> Digest:
    """The digest of ``ctx`` against the record of import ``since_batch`` (default: the
    record before the current version)."""
    p = resolve(ctx)
    since = baseline(ctx, since_batch)
    version = None if since is None else since["data_version"]
    changes = changes_since(ctx, version)
    moved = changes.frame.filter(changes.frame["tier_change"].is_in(MOVED))
    changes = View(changes.name, p, moved, changes.columns, brief=changes.brief)
    before = set() if version is None else raised_before(ctx, version)
    raised = tuple(
        a for a in alerts(ctx, p.with_(by=("vertical",))).records()
        if a["status"] == "raised" and (segment_key(a["segment"]), a["type"]) not in before
    )
    pockets = discover(ctx, p)
    found = targets(ctx, p)
    return Digest(
        params=p,
        since=since,
        changes=changes,
        alerts=raised,
        pockets=_head(pockets, TOP_POCKETS),
        targets=_head(found, TOP_TARGETS),
        url=url,
        demo=ctx.demo,
    )


def _head(view: View, n: int) -> View:
    return View(view.name, view.params, view.frame.head(n), view.columns, brief=view.brief)


def _alert_title(alert: dict[str, Any]) -> str:
    title = definitions.ALERT_TYPES.get(alert["type"], (alert["type"],))[0]
    return f"{alert['kind'].title()} · {title} · {alert['segment_label']}, since {alert['started']}"


def _change_line(r: dict[str, Any]) -> str:
    return (
        f"{r['segment_label']}: {fmt.tier(r['previous_tier'])} → {fmt.tier(r['tier'])} "
        f"(NRR {fmt.pct(r['previous_nrr'])} → {fmt.pct(r['nrr'])}, {fmt.points(r['nrr_change'])})"
    )


def _pocket_line(r: dict[str, Any]) -> str:
    return (
        f"{fmt.conditions(r['conditions'])}: {fmt.count(r['accounts'])} accounts, NRR "
        f"{fmt.pct(r['nrr'])} ({fmt.factor(r['lift'])} the company's), CLV {fmt.money(r['clv'])}"
    )


def _target_line(r: dict[str, Any]) -> str:
    return (
        f"{r['account_name']} ({r['segment']}): expected value {fmt.money(r['expected_value'])}, "
        f"fit {fmt.number(r['fit_score'])}"
    )


def to_text(d: Digest) -> str:
    """The digest as plain text (the email's text part, the webhook's ``text``)."""
    out = [d.subject, d.compared]
    if d.demo:
        out.append("Demo data: these numbers describe a made-up company.")
    sections = [
        ("Tier changes", [_change_line(r) for r in d.changes.rows()],
         "No segment changed tier." if d.since is not None else None),
        ("New alerts", [f"{_alert_title(a)}\n  {a['explanation']}" for a in d.alerts],
         "No new alert."),
        ("Top pockets", [_pocket_line(r) for r in d.pockets.rows()], None),
        ("Top targets", [_target_line(r) for r in d.targets.rows()], None),
    ]
    for title, lines, empty in sections:
        if not lines and empty is None:
            continue
        out += ["", title, *(f"- {line}" for line in lines or [empty])]
    if d.url:
        out += ["", f"Open the scorecard: {d.link()}"]
    return "\n".join(out) + "\n"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


CELL = "padding:4px 8px;border-bottom:1px solid #e4e7eb;text-align:left;"
TIER_COLOURS = {
    "core_icp": "#1b7f4b", "healthy": "#2b6cb0", "watch": "#b26b00",
    "accidental_icp": "#c0392b", "insufficient_data": "#9aa1a9",
}


def _tier(key: str | None) -> str:
    colour = TIER_COLOURS.get(key or "", "#1f2933")
    return f'<b style="color:{colour}">{_e(fmt.tier(key))}</b>'


def _table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f'<th style="{CELL}color:#5f6b7a;">{_e(h)}</th>' for h in head)
    body = "".join("<tr>" + "".join(f'<td style="{CELL}">{c}</td>' for c in r) + "</tr>"
                   for r in rows)
    return (
        '<table style="border-collapse:collapse;font-size:14px;margin:4px 0 12px;">'
        f"<tr>{th}</tr>{body}</table>"
    )


def _segment_cell(d: Digest, r: dict[str, Any]) -> str:
    conditions = {k: r[k] for k in ("vertical", "sub_industry") if r.get(k)}
    href = d.link("/segment", **conditions)
    name = _e(r["segment_label"])
    return f'<a href="{_e(href)}">{name}</a>' if href else name


def to_html(d: Digest) -> str:
    """The digest as an HTML email (inline styles: mail clients drop style sheets)."""
    parts = [
        '<div style="font-family:Arial,Helvetica,sans-serif;color:#1f2933;max-width:760px;">',
        f'<h1 style="font-size:20px;margin:0 0 4px;">{_e(d.subject)}</h1>',
        f'<p style="color:#5f6b7a;margin:0 0 12px;">{_e(d.compared)} Window '
        f"{_e(fmt.months(d.params.window))}.</p>",
    ]
    if d.demo:
        parts.append('<p style="background:#eef4fb;padding:4px 8px;">Demo data: these numbers '
                     "describe a made-up company.</p>")
    rows = d.changes.rows()
    if d.since is not None:
        parts.append('<h2 style="font-size:16px;">Tier changes</h2>')
    if rows:
        parts.append(_table(
            ["Segment", "Tier then", "Tier now", "NRR then", "NRR now", "Change"],
            [[_segment_cell(d, r), _tier(r["previous_tier"]), _tier(r["tier"]),
              _e(fmt.pct(r["previous_nrr"])), _e(fmt.pct(r["nrr"])),
              _e(fmt.points(r["nrr_change"]))] for r in rows],
        ))
    elif d.since is not None:
        parts.append("<p>No segment changed tier.</p>")
    parts.append('<h2 style="font-size:16px;">New alerts</h2>')
    if d.alerts:
        parts += [
            f'<p style="border-left:3px solid #c0392b;padding-left:8px;"><b>{_e(_alert_title(a))}'
            f"</b><br>{_e(a['explanation'])}</p>"
            for a in d.alerts
        ]
    else:
        parts.append("<p>No new alert.</p>")
    if d.pockets.frame.height:
        parts.append('<h2 style="font-size:16px;">Top pockets</h2>')
        parts.append(_table(
            ["Pocket", "Accounts", "NRR", "Lift", "CLV"],
            [[_e(fmt.conditions(r["conditions"])), _e(fmt.count(r["accounts"])),
              _e(fmt.pct(r["nrr"])), _e(fmt.factor(r["lift"])), _e(fmt.money(r["clv"]))]
             for r in d.pockets.rows()],
        ))
    if d.targets.frame.height:
        parts.append('<h2 style="font-size:16px;">Top targets</h2>')
        parts.append(_table(
            ["Account", "Segment", "Expected value", "Fit"],
            [[_e(r["account_name"]), _e(r["segment"]), _e(fmt.money(r["expected_value"])),
              _e(fmt.number(r["fit_score"]))] for r in d.targets.rows()],
        ))
    if d.url:
        parts.append(f'<p><a href="{_e(d.link())}">Open the scorecard</a></p>')
    parts.append("</div>")
    return "".join(parts)


def to_json(d: Digest) -> dict[str, Any]:
    """The digest as JSON (the webhook's body): raw numbers under the views' keys, as
    ``icp report --format json`` prints them, and the plain text as ``text``."""
    since = None
    if d.since is not None:
        since = {
            "data_version": d.since["data_version"],
            "batch_id": d.since["batch_id"],
            "event": d.since["event"],
            "as_of": d.since["month"],
            "recorded_at": d.since["recorded_at"].isoformat(),
        }
    return {
        "subject": d.subject,
        "as_of": d.params.as_of_label,
        "window": d.params.window,
        "since": since,
        "tier_changes": d.changes.records(),
        "alerts": [
            {k: a[k] for k in ("type", "kind", "segment", "segment_label", "started",
                               "explanation")}
            for a in d.alerts
        ],
        "pockets": d.pockets.records(),
        "targets": d.targets.records(),
        "url": d.link(),
        "demo": d.demo,
        "text": to_text(d),
    }
