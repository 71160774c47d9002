"""Check one file's cells against its kind and turn them into canonical columns.

Every check is a polars expression over the whole file; the problems come out
as rows (spreadsheet row, column as named in the file, the cell, what was
expected), counted in full and listed up to a cap. Checks that need other files
or the warehouse (unknown accounts, ids repeated across files) live in plan.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import polars as pl

from db.importer.attributes import (
    Attribute,
    attribute_stats,
    attributes_json,
    typed_attributes,
)
from db.importer.columns import SPECS, normalize
from db.importer.read import RawTable
from db.importer.values import (
    MAX_NAME_CHARS,
    MAX_TEXT_CHARS,
    PLAIN_AMOUNT,
    PLAIN_COUNT,
    SHORT_AMOUNT,
    cleaned,
    looks_like_formula,
    parse_count,
    parse_date,
    parse_flag,
    parse_money,
    plain_iso_stat,
    slash_order,
    slash_stats,
    text_problem,
)
from metrics.frames import COLUMNS, SCHEMAS, SIZE_BANDS, size_band_of

MAX_LISTED = 1_000
"""Problems listed in a report; the total is always counted."""

ROW = "__row"

_DTYPES = {
    **{c: t for cols in SCHEMAS.values() for c, t in cols.items() if t != pl.String},
    # Money is validated in integer cents (``arr`` is read, then becomes ``mrr``).
    **dict.fromkeys(("mrr", "arr", "amount"), pl.Int64),
}
MONEY_COLUMNS = frozenset({"mrr", "amount"})
ID_COLUMNS = frozenset({"account_id", "subscription_id", "opportunity_id"})
DIMENSION_COLUMNS = frozenset({"vertical", "sub_industry", "region", "use_case", "lead_source"})
"""Text columns whose values are segments (size_band is coded: its values are checked as codes)."""
TEXT_COLUMNS = DIMENSION_COLUMNS | {"account_name", "product", "channel"}
CATEGORY_EXPECTED = "sales or marketing (empty = marketing)"

_SIZE_BANDS = {  # the spellings of each of metrics.frames.SIZE_BANDS that exports use
    "SMB": ("smb", "small", "smallbusiness", "smallmediumbusiness", "sb", "smbsmall"),
    "Mid-Market": ("midmarket", "mid", "mm", "medium", "midsize", "commercial"),
    "Enterprise": ("enterprise", "ent", "large", "largeenterprise", "strategic"),
}
_STATUS_WORDS = {
    "open": "open",
    "won": "won",
    "lost": "lost",
    "closedwon": "won",
    "closedlost": "lost",
}
STATUS_EXPECTED = "open, won or lost (or a CRM stage such as Closed Won / Closed Lost)"
TYPE_EXPECTED = (
    "new_business, expansion or renewal (CRM values such as New Business, "
    "Existing Business - Upgrade, Upsell or Renewal are read too)"
)


@dataclass(frozen=True)
class SizeBands:
    """Employee bounds deriving ``size_band`` when a file has none (METRICS settings)."""

    smb_below: int = 200
    mid_below: int = 2000


@dataclass
class Checked:
    """One file checked: its canonical frame and its problems."""

    kind: str
    frame: pl.DataFrame
    """COLUMNS of the kind plus ``__row``; values of problem cells are null."""
    problems: pl.DataFrame
    """row, column, value, expected: at most MAX_LISTED, ordered by row."""
    problem_count: int
    notices: list[str] = field(default_factory=list)
    attributes: list[Attribute] = field(default_factory=list)
    """Custom attributes (accounts): the frame also holds each as a typed column."""


def problem_frame(rows: list[dict[str, object]] | None = None) -> pl.DataFrame:
    """An (empty) frame of problems with the report's columns."""
    schema = {"row": pl.Int64, "column": pl.String, "value": pl.String, "expected": pl.String}
    return pl.DataFrame(rows or [], schema=schema, orient="row")


def _letters(e: pl.Expr) -> pl.Expr:
    return e.str.to_lowercase().str.replace_all(r"[^a-z]", "")


def _size_band(value: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    key = _letters(value)
    parsed = pl.lit(None, pl.String)
    for band, words in _SIZE_BANDS.items():
        parsed = pl.when(key.is_in(words)).then(pl.lit(band)).otherwise(parsed)
    problem = pl.when(value.is_not_null() & parsed.is_null()).then(
        pl.lit(", ".join(SIZE_BANDS[:-1]) + " or " + SIZE_BANDS[-1])
    )
    return parsed, problem


def _derived_band(employees: pl.Expr, bands: SizeBands) -> pl.Expr:
    return size_band_of(employees, bands.smb_below, bands.mid_below)


def _opportunity_type(value: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    key = _letters(value)
    parsed = (
        pl.when(value.is_null())
        .then(pl.lit("new_business"))
        .when(key.str.contains("renew"))
        .then(pl.lit("renewal"))
        .when(key.str.starts_with("new") | key.is_in(("nb", "newlogo")))
        .then(pl.lit("new_business"))
        .when(key.str.contains("existing|upsell|upgrade|expansion|crosssell|addon|upsale"))
        .then(pl.lit("expansion"))
    )
    return parsed, pl.when(parsed.is_null()).then(pl.lit(TYPE_EXPECTED))


def _category(value: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    key = _letters(value)
    parsed = (
        pl.when(value.is_null())
        .then(pl.lit("marketing"))
        .when(key.is_in(("sales", "sale", "salesteam")))
        .then(pl.lit("sales"))
        .when(key.is_in(("marketing", "mktg", "mkt", "demandgen", "demandgeneration")))
        .then(pl.lit("marketing"))
    )
    return parsed, pl.when(parsed.is_null()).then(pl.lit(CATEGORY_EXPECTED))


def _is_flag_header(header: str) -> bool:
    """True for an 'Is Won' style column: a flag, read with the close date."""
    return normalize(header).replace(" ", "") in ("iswon", "won", "closedwon")


def _status(value: pl.Expr, header: str) -> tuple[pl.Expr, pl.Expr]:
    """(status or a flag for 'Is Won', problem): a Stage column maps any other stage to open."""
    head = normalize(header).replace(" ", "")
    if _is_flag_header(header):
        return parse_flag(value)
    key = _letters(value)
    known = pl.lit(None, pl.String)
    for word, status in _STATUS_WORDS.items():
        known = pl.when(key == word).then(pl.lit(status)).otherwise(known)
    if "stage" in head:
        staged = (
            pl.when(value.is_null())
            .then(None)
            .when(key.str.starts_with("closedwon") | (key == "won"))
            .then(pl.lit("won"))
            .when(key.str.starts_with("closedlost") | (key == "lost"))
            .then(pl.lit("lost"))
            .otherwise(pl.lit("open"))
        )
        return staged, pl.lit(None, pl.String)
    return known, pl.when(value.is_not_null() & known.is_null()).then(pl.lit(STATUS_EXPECTED))


CODED_COLUMNS: dict[str, Callable[[pl.Expr, str], tuple[pl.Expr, pl.Expr]]] = {
    "size_band": lambda value, _header: _size_band(value),
    "opportunity_type": lambda value, _header: _opportunity_type(value),
    "status": _status,
    "category": lambda value, _header: _category(value),
}
"""Columns holding a few codes: parsed once per distinct value (``_per_distinct``)."""


def _per_distinct(
    value: pl.Expr,
    distinct: list[str | None],
    parse: Callable[[pl.Expr], tuple[pl.Expr, pl.Expr]],
) -> tuple[pl.Expr, pl.Expr]:
    """``parse`` (value -> (parsed, problem)) evaluated on a column's distinct values, then
    looked up per row: a few hundred regex replacements instead of one per row."""
    table = pl.DataFrame({"v": distinct}, schema={"v": pl.String})
    parsed, problem = parse(pl.col("v"))
    table = table.select("v", parsed.alias("parsed"), problem.cast(pl.String).alias("problem"))
    known = table.filter(pl.col("v").is_not_null())
    empty = table.filter(pl.col("v").is_null())

    def lookup(name: str) -> pl.Expr:
        column = known.get_column(name)
        # No lookup where it would change nothing: no value has a problem (the usual
        # case), or every value is already as parsed (``won``, ``SMB``).
        if column.null_count() == column.len():
            mapped = pl.lit(None, column.dtype)
        elif column.dtype == pl.String and column.equals(known.get_column("v")):
            mapped = value
        else:
            mapped = value.replace_strict(
                known.get_column("v"), column, default=None, return_dtype=column.dtype
            )
        when_empty = empty.get_column(name)[0] if empty.height else None
        return pl.when(value.is_null()).then(pl.lit(when_empty, column.dtype)).otherwise(mapped)

    return lookup("parsed"), lookup("problem")


NOT_PLAIN_ASCII = r"[^\x20-\x7E]"
"""Any character but printable ASCII: every character ``text_problem`` refuses is one."""
_ASCII_CONTROLS = [*map(chr, range(0x20)), "\x7f"]
_UPPER_ASCII = [chr(c) for c in range(ord("A"), ord("Z") + 1)]


def _not_plain_ascii(value: pl.Expr) -> pl.Expr:
    """``value.str.contains(NOT_PLAIN_ASCII)`` in two cheaper scans: a character beyond
    ASCII takes more than one byte; the others outside printable ASCII are controls."""
    return (value.str.len_chars() != value.str.len_bytes()) | value.str.contains_any(
        _ASCII_CONTROLS
    )


def check_table(
    raw: RawTable,
    kind: str,
    mapping: dict[str, str],
    bands: SizeBands | None = None,
    extras: Mapping[str, str] | None = None,
) -> Checked:
    """Parse and check ``raw`` as ``kind`` under ``mapping`` (source header -> canonical);
    ``extras`` (source header -> name) are kept as custom attributes."""
    extras = dict(extras or {})
    bands = bands or SizeBands()
    spec = SPECS[kind]
    source = {canonical: header for header, canonical in mapping.items()}
    position = {h: i for i, h in enumerate(raw.headers)}

    def raw_col(canonical: str) -> str:
        return f"c{position[source[canonical]]}"

    # Pass 1 (one plan): row numbers, trimmed cells, wholly empty rows dropped (blank
    # lines, trailing ",,,," rows of spreadsheet exports; rows keep their numbers, so
    # later problems still point at the right row), cleaned values of mapped columns.
    # Each cell is trimmed once, into a column of its own: the filter is a barrier to
    # common subexpressions, so trimming in both the filter and the cleaning ran twice.
    cells = list(raw.frame.columns)
    stripped = {c: pl.col(f"s_{c}") for c in cells}
    blank = pl.all_horizontal(pl.col(c).is_null() | (stripped[c] == "") for c in cells)
    frame = (
        raw.frame.lazy()
        .with_columns(
            pl.int_range(raw.first_row, raw.first_row + pl.len(), dtype=pl.Int64).alias(ROW),
            *(pl.col(c).str.strip_chars().alias(f"s_{c}") for c in cells),
        )
        .filter(~blank)
        .with_columns(cleaned(stripped[raw_col(c)]).alias(f"v_{c}") for c in source)
        .with_columns(
            cleaned(stripped[f"c{position[h]}"]).alias(f"a_{name}") for h, name in extras.items()
        )
        .drop(f"s_{c}" for c in cells)
        .collect()
    )
    skipped = raw.frame.height - frame.height

    def v(c: str) -> pl.Expr:
        return pl.col(f"v_{c}") if c in source else pl.lit(None, pl.String)

    values: dict[str, pl.Expr] = {}
    problems: dict[str, pl.Expr] = {}
    staged: dict[str, pl.Expr] = {}

    def stage(name: str, e: pl.Expr) -> pl.Expr:
        """An intermediate result of a parse, computed first as column ``__name`` (pass 3)."""
        staged[f"__{name}"] = e
        return pl.col(f"__{name}")

    date_columns = [
        c for c in ("created_date", "start_date", "end_date", "close_date", "month") if c in source
    ]
    money_columns = [c for c in spec.names if c in source and (c in MONEY_COLUMNS or c == "arr")]
    coded = [c for c in CODED_COLUMNS if c in source]
    cells_of_extras = {name: pl.col(f"a_{name}") for name in extras.values()}
    texts = {
        c: v(c)
        for c in spec.names
        if c in source
        and c not in date_columns
        and c not in money_columns
        and c != "employees"
        and c not in CODED_COLUMNS
    } | {f"a.{name}": cell for name, cell in cells_of_extras.items()}
    single_key = [spec.key[0]] if len(spec.key) == 1 and spec.key[0] in texts else []
    # Pass 2 (one select): what decides how each column is parsed (plain ISO dates,
    # plain amounts of at most three decimals, plain counts), the distinct values of
    # coded columns, and whether a text column holds anything but printable ASCII or a
    # cell longer than the caps, every column measured at once.
    stats = (
        frame.select(
            *(plain_iso_stat(v(c), c) for c in date_columns),
            *(
                (v(c).is_null() | v(c).str.contains(SHORT_AMOUNT)).all().alias(f"{c}.short")
                for c in money_columns
            ),
            *(
                (v(c).is_null() | v(c).str.contains(PLAIN_COUNT)).all().alias(f"{c}.plain")
                for c in ("employees",)
                if c in source
            ),
            *(v(c).unique().implode().alias(f"{c}.distinct") for c in coded),
            *attribute_stats(cells_of_extras),
            *(_not_plain_ascii(e).any().alias(f"{c}.unusual") for c, e in texts.items()),
            *(v(c).str.contains_any(_UPPER_ASCII).any().alias(f"{c}.upper") for c in single_key),
            *(e.str.len_bytes().max().alias(f"{c}.bytes") for c, e in texts.items()),
        ).row(0, named=True)
        if date_columns or money_columns or coded or texts or "employees" in source
        else {}
    )
    # Pass 2b, only for the columns pass 2 found irregular (most files have none): the
    # day/month order of dates other than plain ISO, and whether longer amounts are plain.
    # Such dates are measured (and parsed, below) once per distinct value, with how many
    # rows hold it and the first of them: a file has thousands of dates, not millions,
    # and their patterns cost microseconds a cell.
    slashed = {
        c: frame.group_by(f"v_{c}").agg(pl.len().alias("__n"), pl.col(ROW).min().alias("__first"))
        for c in date_columns
        if not stats[f"{c}.plain_iso"]
    }
    for c, dates in slashed.items():
        stats |= dates.select(
            slash_stats(pl.col(f"v_{c}"), c, pl.col("__n"), pl.col("__first"))
        ).row(0, named=True)
    long_money = [c for c in money_columns if not stats[f"{c}.short"]]
    if long_money:
        stats |= frame.select(
            (v(c).is_null() | v(c).str.contains(PLAIN_AMOUNT)).all().alias(f"{c}.plain")
            for c in long_money
        ).row(0, named=True)

    def folding_may_change(c: str) -> bool:
        """False when case-folding changes no id of column ``c``: printable ASCII without
        an upper-case letter (numbers, lower-case keys) holds no two ids differing only by
        case, so ``case_variants`` need not fold a copy of every id to find none."""
        return c not in single_key or bool(stats[f"{c}.unusual"] or stats[f"{c}.upper"])

    def text_check(c: str, limit: int, *, identifier: bool = False) -> pl.Expr:
        """``text_problem`` of text column ``c``; none at all for a column of printable
        ASCII within the cap (no NUL, control or invisible character, no cell too long):
        most columns of most files, spared three scans of every cell."""
        if not stats[f"{c}.unusual"] and (stats[f"{c}.bytes"] or 0) <= limit:
            return pl.lit(None, pl.String)
        return text_problem(texts[c], limit, identifier=identifier)

    attributes, typed = typed_attributes(extras, cells_of_extras, stats)
    column_problems: list[dict[str, object]] = []
    orders = {c: slash_order(stats, c) for c in date_columns}
    # A column with no deciding date takes its order from the file's other date
    # columns (an export uses one date format throughout); only a file where no
    # date decides it is ambiguous.
    deciding = [o for o in orders.values() if o.ambiguous_row is None and o.decided]
    for c in date_columns:
        order = orders[c]
        if not order.decided and deciding:
            order = replace(order, month_first=deciding[0].month_first, decided=True)
        if order.ambiguous_row is not None and not order.decided:
            amb = frame.filter(pl.col(ROW) == order.ambiguous_row).select(raw_col(c)).item()
            column_problems.append(
                {
                    "row": order.ambiguous_row,
                    "column": source[c],
                    "value": amb,
                    "expected": (
                        f"dates whose day/month order is clear: no date in column '{source[c]}' has a day "
                        "above 12 to tell DD/MM/YYYY from MM/DD/YYYY; export dates as YYYY-MM-DD"
                    ),
                }
            )
        if c in slashed and slashed[c].height <= frame.height // 2:
            values[c], problems[c] = _per_distinct(
                v(c),
                slashed[c].get_column(f"v_{c}").to_list(),
                lambda e, order=order, c=c: parse_date(e, order, year_month=c == "month"),
            )
        else:
            values[c], problems[c] = parse_date(v(c), order, year_month=c == "month")
        if c == "month":
            values[c] = values[c].dt.truncate("1mo")

    for c in spec.names:
        if c in values or c not in source:
            continue
        if c in money_columns:
            short = bool(stats[f"{c}.short"])
            values[c], problems[c] = parse_money(
                v(c),
                decimal_comma=raw.decimal_comma,
                plain_only=short or bool(stats[f"{c}.plain"]),
                short_only=short,
                stage=lambda name, e, c=c: stage(f"{c}.{name}", e),
            )
        elif c == "employees":
            values[c], problems[c] = parse_count(v(c), plain_only=bool(stats[f"{c}.plain"]))
        elif c in CODED_COLUMNS:
            parse = CODED_COLUMNS[c]
            values[c], problems[c] = _per_distinct(
                v(c), stats[f"{c}.distinct"], lambda e, c=c, parse=parse: parse(e, source[c])
            )
        elif c in ID_COLUMNS:
            problems[c] = (
                pl.when(v(c).str.starts_with("="))
                .then(pl.lit("an id, not a formula"))
                .otherwise(text_check(c, MAX_NAME_CHARS, identifier=True))
            )
            # A refused id is no id: it is neither looked up nor compared with the others.
            values[c] = pl.when(problems[c].is_null()).then(v(c))
        else:
            values[c] = v(c)
            problems[c] = text_check(
                c, MAX_NAME_CHARS if c in DIMENSION_COLUMNS else MAX_TEXT_CHARS
            )

    # Pass 3 (one lazy plan, collected below with the cross-column checks): common
    # subexpressions (each parse feeds both value and problem) run once.
    parsed = frame.lazy()
    for name, e in staged.items():  # in order: each may read the ones before it
        parsed = parsed.with_columns(e.alias(name))
    parsed = parsed.with_columns(
        *(e.alias(f"p_{c}") for c, e in values.items()),
        *(e.alias(f"e_{c}") for c, e in problems.items()),
        *(text_check(f"a.{name}", MAX_NAME_CHARS).alias(f"e_{name}") for name in cells_of_extras),
    )

    def p(c: str) -> pl.Expr:
        return pl.col(f"p_{c}") if c in values else pl.lit(None, _DTYPES.get(c, pl.String))

    derived: dict[str, pl.Expr] = {}
    more: list[tuple[str, pl.Expr]] = [
        (c, pl.when(v(c).is_null()).then(pl.lit("a value (this column is required)")))
        for c in spec.required
        if c in source
    ]
    if kind == "accounts":
        derived["sub_industry"] = pl.coalesce(p("sub_industry"), pl.lit("Unspecified"))
        employees = p("employees") if "employees" in values else pl.lit(None, pl.Int64)
        derived["size_band"] = pl.coalesce(p("size_band"), _derived_band(employees, bands))
    if kind == "spend":
        # Spend rows have no id: a row is its month and its number in the file.
        derived["line"] = pl.col(ROW)
        derived["category"] = pl.coalesce(p("category"), pl.lit("marketing"))
    if kind == "subscriptions":
        mrr = p("mrr") if "mrr" in values else pl.lit(None, pl.Int64)
        arr = p("arr") if "arr" in values else pl.lit(None, pl.Int64)
        # ARR to MRR rounds half up to the cent.
        derived["mrr"] = pl.coalesce(mrr, (arr + 6) // 12)
        money_col = "mrr" if "mrr" in source else "arr"
        more.append(
            (
                "end_date",
                pl.when(p("end_date") < p("start_date")).then(
                    pl.format(
                        "an end date on or after the start date {}",
                        p("start_date").dt.to_string("%Y-%m-%d"),
                    )
                ),
            )
        )
        more.append(
            (
                money_col,
                pl.when(
                    pl.all_horizontal(v(c).is_null() for c in ("mrr", "arr") if c in source)
                ).then(pl.lit("an MRR or ARR amount (required)")),
            )
        )
    if kind == "opportunities":
        if _is_flag_header(source["status"]):
            derived["status"] = (
                pl.when(p("status").is_null())
                .then(None)
                .when(p("close_date").is_null())
                .then(pl.lit("open"))
                .when(p("status"))
                .then(pl.lit("won"))
                .otherwise(pl.lit("lost"))
            )
        status = derived.get("status", p("status"))
        close_ok = pl.col("e_close_date").is_null() if "close_date" in problems else pl.lit(True)
        more.append(
            (
                "close_date",
                pl.when(p("close_date") < p("created_date")).then(
                    pl.format(
                        "a close date on or after the created date {}",
                        p("created_date").dt.to_string("%Y-%m-%d"),
                    )
                ),
            )
        )
        more.append(
            (
                "status",
                pl.when(status.is_in(("won", "lost")) & p("close_date").is_null() & close_ok).then(
                    pl.format(
                        "a close date for a {} opportunity ('{}' is empty)",
                        status,
                        pl.lit(source.get("close_date", "close_date")),
                    )
                ),
            )
        )

    out_exprs = []
    for c in COLUMNS[kind]:
        if c in derived:
            out_exprs.append(derived[c].alias(c))
        elif c in values:
            out_exprs.append(p(c).alias(c))
        elif c == "opportunity_type":
            out_exprs.append(pl.lit("new_business").alias(c))
        elif c == "attributes":
            out_exprs.append(
                attributes_json([a.name for a in attributes], skip_empty=kind == "spend")
            )
        else:
            out_exprs.append(pl.lit(None, _DTYPES.get(c, pl.String)).alias(c))
    full = (
        parsed.with_columns(e.alias(f"x{i}_{c}") for i, (c, e) in enumerate(more))
        .with_columns(typed)
        .with_columns(out_exprs)
    )
    # (column as named in the file, its raw cells, the problem column); a check on an
    # absent column (end_date, close_date) never fires and is left out.
    checks = (
        [(source[c], raw_col(c), f"e_{c}") for c in problems]
        + [(source[c], raw_col(c), f"x{i}_{c}") for i, (c, _) in enumerate(more) if c in source]
        + [(h, f"c{position[h]}", f"e_{name}") for h, name in extras.items()]
    )
    text_cols = [c for c in source if c in TEXT_COLUMNS]
    # One run (collect_all shares the plan): the canonical frame, the problems per check
    # and formula-like text per column (``rows`` keeps the select non-empty), and the
    # rows holding a problem, for the listing.
    flagged_rows = full.filter(
        pl.any_horizontal(pl.col(name).is_not_null() for *_, name in checks) if checks else False
    ).select(ROW, *dict.fromkeys(raw for _, raw, _ in checks), *(name for *_, name in checks))
    canonical, totals, problem_rows = pl.collect_all(
        [
            full.select(*COLUMNS[kind], *(a.name for a in attributes), ROW),
            full.select(
                pl.len().alias("rows"),
                *(pl.col(name).is_not_null().sum().alias(name) for *_, name in checks),
                *(looks_like_formula(v(c)).sum().alias(f"formula.{c}") for c in text_cols),
            ),
            flagged_rows,
        ]
    )
    counts = totals.row(0, named=True)

    notices = [f"{skipped:,} empty row{'s' if skipped != 1 else ''} skipped"] if skipped else []
    flagged = {source[c]: counts[f"formula.{c}"] for c in text_cols if counts[f"formula.{c}"]}
    if flagged:
        listed = ", ".join(f"'{h}' ({n:,})" for h, n in flagged.items())
        notices.append(
            f"text starting with =, +, - or @ kept as plain text (a spreadsheet would run it as a formula): {listed}"
        )

    collected, count = _collect(problem_rows, checks, counts)
    if column_problems:
        collected = pl.concat([problem_frame(column_problems), collected])
        count += len(column_problems)
    dup_problems, dup_count = duplicate_keys(
        canonical, spec.key, {k: source.get(k, k) for k in spec.key}
    )
    case_problems, case_count = (
        case_variants(canonical, spec.key[0], source[spec.key[0]])
        if len(spec.key) == 1 and folding_may_change(spec.key[0])
        else (problem_frame(), 0)
    )
    collected = (
        pl.concat([collected, dup_problems, case_problems])
        .sort("row", "column", nulls_last=True)
        .head(MAX_LISTED)
    )
    return Checked(kind, canonical, collected, count + dup_count + case_count, notices, attributes)


def _collect(
    frame: pl.DataFrame, checks: list[tuple[str, str, str]], counts: dict[str, object]
) -> tuple[pl.DataFrame, int]:
    """Every problem cell as (row, column, value, expected), counted, listed up to the cap.

    ``checks``: (column as named in the file, its raw cells, problem column) triples;
    ``counts``: problems per problem column. Only checks that found something are
    filtered for their rows.
    """
    listed: list[pl.DataFrame] = []
    total = 0
    for header, raw, name in checks:
        n = int(counts[name] or 0)
        if not n:
            continue
        total += n
        listed.append(
            frame.filter(pl.col(name).is_not_null())
            .head(MAX_LISTED)
            .select(
                pl.col(ROW).alias("row"),
                pl.lit(header).alias("column"),
                pl.col(raw).alias("value"),
                pl.col(name).alias("expected"),
            )
        )
    return (pl.concat(listed) if listed else problem_frame()), total


def _all_distinct(frame: pl.DataFrame, values: pl.Expr) -> bool:
    """True when ``values`` (no nulls) are all distinct, told by their hashes: equal values
    hash alike, so as many distinct hashes as values proves it. False may also mean two
    values share a hash: the caller then looks at the values themselves. Counting hashes
    takes half the time of counting (or finding repeated) strings."""
    return bool(frame.select(values.hash().n_unique() == values.len()).item())


def duplicate_keys(
    frame: pl.DataFrame, key: tuple[str, ...], headers: dict[str, str]
) -> tuple[pl.DataFrame, int]:
    """Rows whose key repeats another row's, each named with the rows sharing it."""
    present = pl.all_horizontal(pl.col(k).is_not_null() for k in key)
    keys = pl.col(key[0]) if len(key) == 1 else pl.struct(key)
    if _all_distinct(frame, keys.filter(present)):
        return problem_frame(), 0
    dup = frame.filter(present & pl.struct(key).is_duplicated())
    if dup.is_empty():
        return problem_frame(), 0
    # Ten rows are named; keeping them all would copy a list of every row sharing the key
    # into each of those rows (an id repeated 60,000 times: billions of entries).
    rows = dup.group_by(key).agg(pl.col(ROW).sort().head(10).alias("rows"))
    dup = dup.join(rows, on=key, nulls_equal=True)
    shown = (
        pl.format("{}", pl.col(key[0]).cast(pl.String))
        if len(key) == 1
        else pl.concat_str([pl.col(k).cast(pl.String) for k in key], separator=" / ")
    )
    listed = (
        dup.sort(ROW)
        .head(MAX_LISTED)
        .select(
            pl.col(ROW).alias("row"),
            pl.lit(headers[key[0]]).alias("column"),
            shown.alias("value"),
            pl.format(
                "a unique {} (the same one is on rows {})",
                pl.lit(" + ".join(key)),
                pl.col("rows").cast(pl.List(pl.String)).list.join(", "),
            ).alias("expected"),
        )
    )
    return listed, dup.height


def case_variants(frame: pl.DataFrame, key: str, header: str) -> tuple[pl.DataFrame, int]:
    """Rows whose id differs from another row's only by case (``A001`` / ``a001``), each
    named with the other spelling and its rows.

    Two such ids are two rows in the warehouse but one id to anyone reading them, and
    to any spreadsheet or CRM lookup that ignores case: a mistake of the export.
    Linear: spellings are grouped per case-folded id, rows are never joined pairwise.
    """
    ids = (
        frame.select(ROW, key)
        .drop_nulls(key)
        .with_columns(pl.col(key).str.to_lowercase().alias("__folded"))
    )
    # Two spellings of one id need one of them to change when folded: ids without
    # upper-case letters (numbers, lower-case keys) cannot clash. Otherwise the common
    # case, no clash, costs a count of distinct hashes (of two spellings of one id, only
    # one can be in the file when the folded ids are all distinct).
    if not ids.select((pl.col(key) != pl.col("__folded")).any()).item():
        return problem_frame(), 0
    if (
        _all_distinct(ids, pl.col("__folded"))
        or ids.select(pl.col(key).n_unique() == pl.col("__folded").n_unique()).item()
    ):
        return problem_frame(), 0
    ids = ids.filter(pl.col(key).n_unique().over("__folded") > 1)
    spellings = ids.group_by("__folded", key).agg(
        pl.col(ROW).min().alias("__first"), pl.col(ROW).sort().head(10).alias("__rows")
    )
    # Each spelling is named with the earliest other one.
    two = (
        spellings.sort("__first")
        .group_by("__folded", maintain_order=True)
        .agg(pl.col(key).head(2).alias("__spellings"), pl.col("__rows").head(2).alias("__both"))
    )
    clashing = (
        ids.join(two, on="__folded")
        .with_columns(
            pl.when(pl.col(key) == pl.col("__spellings").list.first())
            .then(pl.lit(1))
            .otherwise(pl.lit(0))
            .alias("__other")
        )
        .with_columns(pl.col("__both").list.get(pl.col("__other")).alias("__rows"))
    )
    listed = (
        clashing.sort(ROW)
        .head(MAX_LISTED)
        .select(
            pl.col(ROW).alias("row"),
            pl.lit(header).alias("column"),
            pl.col(key).alias("value"),
            pl.format(
                "a unique {} ignoring case ('{}' is on {})",
                pl.lit(key),
                pl.col("__spellings").list.get(pl.col("__other")),
                pl.format(
                    "{} {}",
                    pl.when(pl.col("__rows").list.len() > 1)
                    .then(pl.lit("rows"))
                    .otherwise(pl.lit("row")),
                    pl.col("__rows").cast(pl.List(pl.String)).list.join(", "),
                ),
            ).alias("expected"),
        )
    )
    return listed, clashing.height
