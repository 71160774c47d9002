"""Views as text: JSON, CSV and an aligned table, for the CLI, downloads and the API.

JSON and CSV keep the column keys and raw numbers (ratios as fractions, money as
plain numbers, days as numbers; undefined values null / empty); the table shows
values as the pages do, by column kind (``app.views.formats``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from app.views import formats
from app.views.view import View

# Text cells a spreadsheet would run as a formula (PITFALLS.md): prefixed with a quote,
# unless the text is a plain number ("-250.00" is a value, not a formula).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralised(text: str) -> str:
    """``text`` safe to open in a spreadsheet: a formula-looking cell gets a leading quote."""
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def to_json(view: View) -> str:
    """The view's records as indented JSON (nested evidence kept for flags and alerts)."""
    return json.dumps(view.records(), indent=2, default=str)


def csv_cell(value: Any) -> Any:
    """A CSV cell: numbers as they are, text neutralised against formulas, nested as JSON."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    if isinstance(value, str):
        return neutralised(value)
    return value


def to_csv(view: View, comment: bool = False, line_end: str = "\n") -> str:
    """The view's rows as CSV under the column keys.

    ``comment`` starts the file with a ``#`` line naming the view's parameters (the
    downloads do, so a file says what it holds).
    """
    buf = io.StringIO()
    if comment:
        buf.write(f"# {view.name}: {view.describe()}{line_end}")
        if view.note:
            buf.write(f"# {view.note}{line_end}")
    writer = csv.writer(buf, lineterminator=line_end)
    writer.writerow(view.keys)
    for row in view.rows():
        writer.writerow([csv_cell(row[k]) for k in view.keys])
    return buf.getvalue()


def to_table(view: View) -> str:
    """The view as aligned text, formatted as the pages show it, under a line of params."""
    head = f"{view.name}: {view.describe()}" + (f"\n{view.note}" if view.note else "")
    if view.items is not None:
        return "\n".join([head, "", _items_text(view)])
    if view.sort:
        view = view.sorted_by(view.sort)
    rows = view.rows()
    cols = [view.column(k) for k in view.brief] if view.brief else list(view.columns)
    cells = [[formats.by_kind(c.kind, r[c.key]) for c in cols] for r in rows]
    titles = [c.label for c in cols]
    widths = [max([len(t)] + [len(row[i]) for row in cells]) for i, t in enumerate(titles)]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if c.numeric else v.ljust(w)
            for v, w, c in zip(values, widths, cols, strict=True)
        ).rstrip()

    out = [head, "", line(titles), line(["-" * w for w in widths])]
    out += [line(c) for c in cells]
    if not rows:
        out.append("(no rows)")
    return "\n".join(out)


def _label(key: str) -> str:
    """A reason or alert type as words: accidental_icp -> Accidental ICP."""
    return formats.TIER_LABELS.get(key) or key.replace("_", " ")


def _items_text(view: View) -> str:
    if not view.items:
        return f"No {view.name}."
    lines = []
    for item in view.records():
        shown = {k: _label(v) if k in ("reason", "type") else v for k, v in item.items()}
        lines.append(view.heading.format(**shown))
        lines.append(f"  {item['explanation']}")
        evidence = item.get("evidence") or {}
        p, q = evidence.get("p_value"), evidence.get("q_value")
        if p is not None:
            q_text = f", q = {q:.4f}" if q is not None else ""
            lines.append(f"  test: {evidence.get('test')}, p = {p:.4f}{q_text}")
    return "\n".join(lines)
