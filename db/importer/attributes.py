"""Custom attributes: the accounts file's extra columns, named, typed and kept.

A header that names no canonical column of the accounts file is a custom attribute
(DATA_FORMAT.md): named by its words in lower case joined by ``_`` (``Sales Motion``
is ``sales_motion``, the name ``--by`` and the URL use), numeric when every value is a
plain number, and kept in ``accounts.attributes`` (JSONB). A text attribute with at
most ``MAX_DIMENSION_VALUES`` values is a segment dimension (``metrics.attributes``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from db.importer.columns import SPECS, normalize
from metrics.attributes import MAX_DIMENSION_VALUES, RESERVED

# A plain number in ASCII digits (other Unicode digits would read as text, see PITFALLS).
NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$"
_KNOWN_HEADERS = {
    kind: frozenset(
        normalize(name) for col in SPECS[kind].columns for name in (col.name, *col.aliases)
    )
    for kind in ("accounts", "spend")
}


@dataclass(frozen=True)
class Attribute:
    """One custom attribute of a file: its header, name, type and distinct values."""

    header: str
    name: str
    numeric: bool
    values: int

    @property
    def dimension(self) -> bool:
        """True when the attribute is a segment dimension (text, few enough values)."""
        return not self.numeric and self.values <= MAX_DIMENSION_VALUES

    def describe(self) -> str:
        """The attribute in words, for the report: ``'Plan' as plan (3 values)``."""
        shown = self.header if self.header == self.name else f"{self.header} as {self.name}"
        if self.numeric:
            return f"{shown} (a number: band it in the settings to segment by it)"
        more = "" if self.dimension else f", more than {MAX_DIMENSION_VALUES}"
        return f"{shown} ({self.values:,} value{'s' if self.values != 1 else ''}{more})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values, ``dimension`` included."""
        return {**self.__dict__, "dimension": self.dimension}


def attribute_name(header: str) -> str:
    """The attribute's name: the header's words in lower case joined by ``_``."""
    return re.sub(r"[^a-z0-9]+", "_", normalize(header)).strip("_")


def extra_columns(
    kind: str, ignored: Sequence[str], explicit: Collection[str] = ()
) -> tuple[dict[str, str], list[str]]:
    """(header -> attribute name, notices) for the ``ignored`` headers of an accounts or a
    spend file (in a spend file an extra column names a custom attribute's segment).

    Kept: headers that name no accounts column and were not ignored on purpose
    (``explicit``: headers the user mapped by hand); a header whose name is reserved or
    taken by an earlier one stays ignored, with a notice saying why.
    """
    if kind not in _KNOWN_HEADERS:
        return {}, []
    kept: dict[str, str] = {}
    notices = []
    for header in ignored:
        if header in explicit or header.startswith("(unnamed column"):
            continue
        if normalize(header) in _KNOWN_HEADERS[kind]:
            continue  # another header of the file already gives that column
        name = attribute_name(header)
        taken = next((h for h, n in kept.items() if n == name), None)
        if not name or name in RESERVED:
            notices.append(
                f"column '{header}' ignored: '{name}' is a reserved name; rename the column "
                "to keep it as a custom attribute"
            )
        elif taken is not None:
            notices.append(f"column '{header}' ignored: its name '{name}' is also '{taken}''s")
        else:
            kept[header] = name
    return kept, notices


def attribute_stats(cells: Mapping[str, pl.Expr]) -> list[pl.Expr]:
    """Per attribute name of ``cells`` (its cleaned cells): numeric or not, distinct values."""
    return [
        e
        for name, cell in cells.items()
        for e in (
            (cell.is_null() | cell.str.contains(NUMBER)).all().alias(f"{name}.numeric"),
            cell.drop_nulls().n_unique().alias(f"{name}.values"),
        )
    ]


def typed_attributes(
    extras: Mapping[str, str], cells: Mapping[str, pl.Expr], stats: Mapping[str, Any]
) -> tuple[list[Attribute], list[pl.Expr]]:
    """The attributes of a file and their typed columns (Float64 or text), named by name."""
    attributes = [
        Attribute(header, name, bool(stats[f"{name}.numeric"]), int(stats[f"{name}.values"]))
        for header, name in extras.items()
    ]
    exprs = [
        (cells[a.name].cast(pl.Float64) if a.numeric else cells[a.name]).alias(a.name)
        for a in attributes
    ]
    return attributes, exprs


def attributes_json(names: Sequence[str], skip_empty: bool = False) -> pl.Expr:
    """The ``attributes`` column: the typed attribute columns ``names`` as a JSON object
    (null without attributes; with ``skip_empty`` also null where every one is empty:
    a spend row that names no custom attribute)."""
    if not names:
        return pl.lit(None, pl.String).alias("attributes")
    encoded = pl.struct(list(names)).struct.json_encode()
    if not skip_empty:
        return encoded.alias("attributes")
    return (
        pl.when(pl.any_horizontal(pl.col(n).is_not_null() for n in names))
        .then(encoded)
        .alias("attributes")
    )
