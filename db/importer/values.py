"""Parsing cell text into dates, money, integers and flags, as polars expressions.

Each parser returns a pair of expressions: the parsed value (null when empty or
invalid) and the problem (null when fine, else what was expected, in words).
Nothing here loops over rows in Python. Digits are ASCII ``0-9`` only: a regex
``\\d`` would also match Arabic-Indic or full-width digits, which the casts then
turn into an empty value instead of a problem.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

EMPTY = ("", "null", "n/a", "-")
"""Cell texts that mean 'no value' (compared case-insensitively after trimming)."""

_TIME = r"(?:[T ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:\s?[AaPp][Mm])?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?$"
ISO = r"^([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})" + _TIME
SLASH = r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})" + _TIME
DOT = r"^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})" + _TIME
SERIAL = r"^[0-9]{1,7}(?:\.[0-9]+)?$"
PLAIN_ISO = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
YEAR_MONTH = r"^([0-9]{4})[-/]([0-9]{1,2})$"
# Excel counts days from 1899-12-30 (its serial 60 is the nonexistent 1900-02-29).
EXCEL_EPOCH_DAYS = -25569
MIN_YEAR, MAX_YEAR = 1900, 2199
_FIRST_DAY, _LAST_DAY = dt.date(MIN_YEAR, 1, 1), dt.date(MAX_YEAR, 12, 31)
"""Dates of those years: compared as dates, not by extracting every date's year."""
SERIAL_MIN, SERIAL_MAX = 18_264, 109_574
"""Excel serials accepted as dates: 1950-01-01 to 2199-12-31."""

DATE_EXPECTED = (
    "a date: YYYY-MM-DD, MM/DD/YYYY or DD/MM/YYYY (one order per column), DD.MM.YYYY "
    "or an Excel date"
)
MONEY_EXPECTED = "an amount such as 1234.50, 1,234.50, $1,234.50 or 1 234,50 €"
MAX_CENTS = 10**14 - 1
"""The largest amount the warehouse holds, in cents: money columns are NUMERIC(14, 2)."""
MONEY_TOO_LARGE = (
    "an amount below 1,000,000,000,000 once rounded to the cent "
    "(the warehouse keeps 12 digits before the decimal point)"
)
OTHER_DIGITS = r"[\p{Nd}--[0-9]]"
"""A decimal digit other than ASCII 0-9 (Arabic-Indic, full-width, Devanagari, ...)."""


def ascii_digits(what: str) -> pl.Expr:
    """The problem of a ``what`` written with digits other than 0-9."""
    return pl.lit(f"{what} written with the digits 0-9 (this one has other digits)")


MAX_NAME_CHARS = 200
"""Characters in an id, a dimension value or a custom attribute: a segment label, an index key."""
MAX_TEXT_CHARS = 32_767
"""Characters in any other text cell: Excel's own limit for a cell."""
INVISIBLE = r"[\p{Cc}\p{Cf}]"
"""Control and format characters: zero-width spaces and joiners, byte-order marks, word
joiners, direction marks and overrides, tabs and line breaks -- invisible, so two ids
that look the same would be two ids."""


def text_problem(value: pl.Expr, limit: int, *, identifier: bool = False) -> pl.Expr:
    """The problem of a cleaned text cell (null when fine): a NUL, which the warehouse
    cannot store, more than ``limit`` characters, and for an id an invisible character."""
    problem = pl.when(value.str.contains("\x00", literal=True)).then(
        pl.lit("text without NUL characters (\\x00, which the warehouse cannot store)")
    )
    if identifier:
        problem = problem.when(value.str.contains(INVISIBLE)).then(
            pl.lit(
                "an id without invisible characters (zero-width spaces or joiners, byte-order "
                "marks, direction marks, control characters)"
            )
        )
    return problem.when(value.str.len_chars() > limit).then(
        pl.format(
            "at most {} characters (this one has {})",
            pl.lit(f"{limit:,}"),
            value.str.len_chars().cast(pl.String),
        )
    )


def _case_variants(word: str) -> list[str]:
    out = [""]
    for ch in word:
        out = [w + c for w in out for c in {ch.lower(), ch.upper()}]
    return out


# Every spelling of the empty-markers, so a cell is looked up as it is instead of
# lower-casing every cell of the file first (half the cost of cleaning).
_EMPTY_SPELLINGS = sorted({v for word in EMPTY for v in _case_variants(word)})


def cleaned(stripped: pl.Expr) -> pl.Expr:
    """The trimmed cell ``stripped``, null when it is empty or an empty-marker (NULL, N/A, -)."""
    return pl.when(stripped.is_in(_EMPTY_SPELLINGS)).then(None).otherwise(stripped)


def looks_like_formula(value: pl.Expr) -> pl.Expr:
    """True for text a spreadsheet would run as a formula (=, +, -, @ first)."""
    return value.str.contains(r"^[=+\-@]")


@dataclass(frozen=True)
class DateOrder:
    """How a column's d/d/yyyy dates are read, decided from the whole column."""

    month_first: bool
    minority: bool
    """True when the column also holds dates only valid in the other order."""
    ambiguous_row: int | None
    """Row of the first date readable both ways when nothing in the column decides."""
    decided: bool = False
    """True when some date in the column is only valid in one order."""
    plain_iso_only: bool = False
    """True when every value is a plain ``YYYY-MM-DD``: parsed by the fast path alone."""


def plain_iso_stat(value: pl.Expr, name: str) -> pl.Expr:
    """True when every value of a date column is a plain ``YYYY-MM-DD`` (or empty), named
    ``name.plain_iso``: such a column holds no d/d/yyyy date, so ``slash_stats`` need not
    run on it."""
    # A plain ISO date is 10 bytes: other lengths fail without the pattern, and the
    # pattern runs once per distinct date (a file has thousands of dates, not millions).
    # (The distinct dates are named once: an eager select would find them twice.)
    ten = value.str.len_bytes() == 10
    return (
        (value.is_null() | ten).all() & value.filter(ten).unique().str.contains(PLAIN_ISO).all()
    ).alias(f"{name}.plain_iso")


def slash_stats(value: pl.Expr, name: str, rows: pl.Expr, first: pl.Expr) -> list[pl.Expr]:
    """Aggregates deciding a column's d/d/yyyy order (``slash_order`` reads them with
    ``plain_iso_stat``), named ``name`` + suffix, over the column's distinct values:
    ``rows`` holding each, ``first`` the number of the first of those rows."""
    # Only cells holding a slash can match; the others skip the regex.
    parts = pl.when(value.str.contains("/", literal=True)).then(value).str.extract_groups(SLASH)
    a = parts.struct.field("1").cast(pl.Int32)
    b = parts.struct.field("2").cast(pl.Int32)
    return [
        rows.filter((a > 12) & (b <= 12)).sum().alias(f"{name}.day_first"),
        rows.filter((b > 12) & (a <= 12)).sum().alias(f"{name}.month_first"),
        first.filter((a != b) & (a <= 12) & (b <= 12)).min().alias(f"{name}.ambiguous"),
    ]


def slash_order(stats: dict[str, object], name: str) -> DateOrder:
    """Decide MM/DD or DD/MM for a column from its ``slash_stats``: a part above 12
    settles it; none settling it is ambiguous. A column of plain ISO dates alone
    (``plain_iso_stat``) has no d/d/yyyy date: its ``slash_stats`` are not read."""
    plain = bool(stats[f"{name}.plain_iso"])
    if plain:
        return DateOrder(True, False, None, False, True)
    day_first = int(stats[f"{name}.day_first"] or 0)
    month_first = int(stats[f"{name}.month_first"] or 0)
    if day_first or month_first:
        return DateOrder(
            month_first >= day_first, bool(day_first and month_first), None, True, plain
        )
    ambiguous = stats[f"{name}.ambiguous"]
    return DateOrder(True, False, None if ambiguous is None else int(ambiguous), False, plain)


def _ymd(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    text = pl.format(
        "{}-{}-{}",
        y,
        m.cast(pl.String).str.pad_start(2, "0"),
        d.cast(pl.String).str.pad_start(2, "0"),
    )
    return text.str.to_date("%Y-%m-%d", strict=False)


def parse_date(
    value: pl.Expr, order: DateOrder | None = None, *, year_month: bool = False
) -> tuple[pl.Expr, pl.Expr]:
    """(date, problem) for cleaned cell text ``value``.

    ``order`` is the column's d/d/yyyy reading (see :func:`slash_order`);
    ``year_month`` also accepts ``YYYY-MM`` (read as the month's first day).
    """
    order = order or DateOrder(True, False, None)
    if order.plain_iso_only and not year_month:
        # Most exports write plain ISO dates: one strict parse instead of five.
        parsed = value.str.to_date("%Y-%m-%d", strict=False, cache=False)
        in_range = parsed.is_between(_FIRST_DAY, _LAST_DAY)
        problem = (
            pl.when(value.is_null())
            .then(None)
            .when(parsed.is_null())
            .then(pl.lit(DATE_EXPECTED))
            .when(~in_range)
            .then(pl.lit(f"a date between {MIN_YEAR} and {MAX_YEAR}"))
        )
        # No problem exactly where the date parsed within range (null where it did not).
        return pl.when(in_range).then(parsed), problem
    iso = value.str.extract_groups(ISO)
    slash = value.str.extract_groups(SLASH)
    dot = value.str.extract_groups(DOT)
    ym = value.str.extract_groups(YEAR_MONTH)
    s1, s2 = slash.struct.field("1"), slash.struct.field("2")
    month_part, day_part = (s1, s2) if order.month_first else (s2, s1)
    serial = pl.when(value.str.contains(SERIAL)).then(
        value.cast(pl.Float64, strict=False).floor().cast(pl.Int32)
    )
    # Serials before 1950 are far more likely a year or a typo than a date.
    from_serial = pl.when(serial.is_between(SERIAL_MIN, SERIAL_MAX)).then(
        (serial + EXCEL_EPOCH_DAYS).cast(pl.Date)
    )
    parsed = pl.coalesce(
        _ymd(iso.struct.field("1"), iso.struct.field("2"), iso.struct.field("3")),
        _ymd(slash.struct.field("3"), month_part.cast(pl.Int32), day_part.cast(pl.Int32)),
        _ymd(
            dot.struct.field("3"),
            dot.struct.field("2").cast(pl.Int32),
            dot.struct.field("1").cast(pl.Int32),
        ),
        _ymd(ym.struct.field("1"), ym.struct.field("2").cast(pl.Int32), pl.lit(1))
        if year_month
        else pl.lit(None, pl.Date),
        from_serial,
    )
    in_range = parsed.is_between(_FIRST_DAY, _LAST_DAY)
    expected = "a month (YYYY-MM) or " + DATE_EXPECTED if year_month else DATE_EXPECTED
    other_order = (
        (month_part.cast(pl.Int32) > 12) & (day_part.cast(pl.Int32) <= 12)
        if order.minority
        else pl.lit(False)
    )
    order_name = "MM/DD/YYYY" if order.month_first else "DD/MM/YYYY"
    problem = (
        pl.when(value.is_null())
        .then(None)
        .when(looks_like_formula(value))
        .then(pl.lit("a date, not a formula"))
        .when(value.str.contains(OTHER_DIGITS))
        .then(ascii_digits("a date"))
        .when(other_order)
        .then(
            pl.lit(f"a date in the column's {order_name} order (this one only reads the other way)")
        )
        .when(parsed.is_null())
        .then(pl.lit(expected))
        .when(~in_range)
        .then(pl.lit(f"a date between {MIN_YEAR} and {MAX_YEAR}"))
    )
    return pl.when(problem.is_null()).then(parsed), problem


_CURRENCY = r"(?i)(?:[$€£¥]|\b(?:usd|eur|gbp|chf|cad|aud|jpy)\b)"
_SPACES = r"[\s\u00a0\u202f']"


def _cents(int_part: pl.Expr, frac: pl.Expr) -> pl.Expr:
    """Integer cents from digit strings, the third decimal rounding half up.

    The first three decimals as one number (``"5"`` is 500, ``"12345"`` is 123) plus 5,
    divided by 10: the cents, one more when the third decimal is 5 or above. One slice
    and one cast of the decimals, where two of each took twice as long.
    """
    thousandths = (frac.fill_null("") + "000").str.slice(0, 3).cast(pl.Int64, strict=False)
    return int_part.cast(pl.Int64, strict=False) * 100 + (thousandths + 5) // 10


PLAIN_AMOUNT = r"^[0-9]{1,12}(\.[0-9]+)?$"
SHORT_AMOUNT = r"^[0-9]{1,12}(\.[0-9]{1,3})?$"
"""A plain amount with at most three decimals: read exactly as a float (see ``parse_money``)."""


Stage = Callable[[str, pl.Expr], pl.Expr]
"""Names an intermediate result (``stage(name, expr)``) and returns the expression to read
it with: a caller that computes it first, as a column, spares polars computing it once per
use (it shares no subexpression nested in another shared one)."""


def _unstaged(_name: str, expr: pl.Expr) -> pl.Expr:
    return expr


def parse_money(
    value: pl.Expr,
    *,
    decimal_comma: bool,
    plain_only: bool = False,
    short_only: bool = False,
    stage: Stage = _unstaged,
) -> tuple[pl.Expr, pl.Expr]:
    """(amount in integer cents, problem) for cleaned cell text ``value``.

    Thousands separators may be commas, dots, spaces or apostrophes; the decimal
    mark is the last dot or comma. ``decimal_comma`` (semicolon files) reads a
    lone comma as the decimal mark (``1234,5``); elsewhere ``1,234`` is a
    thousands group. Negative amounts (``-5``, ``(5)``, ``5-``) are problems.
    ``plain_only`` (every value matches PLAIN_AMOUNT, checked by the caller)
    takes a fast path of two extractions; ``short_only`` (every value matches
    SHORT_AMOUNT) a faster one of a cast. Other amounts take the general path, whose
    intermediate results go through ``stage``.
    """
    if short_only:
        # Below 10^12 with at most three decimals, the amount in thousandths is below
        # 2^53 and the float read of the text, times 1000, is within 0.13 of it (two
        # roundings of half an ulp): rounded, it is exact. Then half up to the cent.
        thousandths = (value.cast(pl.Float64, strict=False) * 1000).round().cast(pl.Int64)
        cents = (thousandths + 5) // 10
        problem = pl.when(cents > MAX_CENTS).then(pl.lit(MONEY_TOO_LARGE))
        return pl.when(problem.is_null()).then(cents), problem
    if plain_only:
        # Digits, then an optional fraction: a split, no regex (half the cost).
        parts = value.str.split_exact(".", 1)
        cents = _cents(parts.struct.field("field_0"), parts.struct.field("field_1"))
        problem = pl.when(cents > MAX_CENTS).then(pl.lit(MONEY_TOO_LARGE))
        return pl.when(problem.is_null()).then(cents), problem
    core = stage("core", value.str.replace_all(_CURRENCY, "").str.replace_all(_SPACES, ""))
    negative = core.str.contains(r"^-|-$|^\(.*\)$")
    unsigned = stage("unsigned", core.str.replace_all(r"^[-(]|[-)]$", ""))
    dot_plain = unsigned.str.contains(r"^[0-9]+(\.[0-9]+)?$")
    us_groups = unsigned.str.contains(r"^[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$")
    eu_groups = unsigned.str.contains(r"^[0-9]{1,3}(\.[0-9]{3})+(,[0-9]+)?$")
    comma_decimal = unsigned.str.contains(r"^[0-9]+,[0-9]+$")
    as_us = unsigned.str.replace_all(",", "")
    as_eu = unsigned.str.replace_all(r"\.", "").str.replace(",", ".")
    if decimal_comma:
        normal = (
            pl.when(comma_decimal | eu_groups).then(as_eu).when(dot_plain | us_groups).then(as_us)
        )
    else:
        normal = (
            pl.when(dot_plain | us_groups).then(as_us).when(eu_groups | comma_decimal).then(as_eu)
        )
    normal = stage("normal", normal)
    int_part = stage("int", normal.str.extract(r"^([0-9]+)", 1))
    cents = stage("cents", _cents(int_part, normal.str.extract(r"\.([0-9]+)$", 1)))
    problem = (
        pl.when(value.is_null())
        .then(None)
        .when(value.str.starts_with("="))
        .then(pl.lit("an amount, not a formula"))
        .when(value.str.contains(OTHER_DIGITS))
        .then(ascii_digits("an amount"))
        .when(negative & normal.is_not_null())
        .then(pl.lit("an amount of 0 or more (negative amounts are not accepted)"))
        .when(normal.is_null())
        .then(pl.lit(MONEY_EXPECTED))
        .when((int_part.str.len_chars() > 12) | (cents > MAX_CENTS))
        .then(pl.lit(MONEY_TOO_LARGE))
    )
    return pl.when(problem.is_null()).then(cents), problem


PLAIN_COUNT = r"^[0-9]{1,9}$"


def parse_count(value: pl.Expr, *, plain_only: bool = False) -> tuple[pl.Expr, pl.Expr]:
    """(whole number >= 0, problem), accepting thousands separators and a zero fraction.

    ``plain_only`` (every value matches PLAIN_COUNT, checked by the caller): each value
    is its number, and none is a problem.
    """
    if plain_only:
        return value.cast(pl.Int64, strict=False), pl.lit(None, pl.String)
    core = value.str.replace_all(r"[,\s\u00a0\u202f']", "").str.replace(r"\.0+$", "")
    parsed = pl.when(core.str.contains(PLAIN_COUNT)).then(core.cast(pl.Int64, strict=False))
    problem = (
        pl.when(value.is_null())
        .then(None)
        .when(core.str.contains(r"^-[0-9]"))
        .then(pl.lit("a whole number of 0 or more"))
        .when(core.str.contains(OTHER_DIGITS))
        .then(ascii_digits("a whole number"))
        .when(parsed.is_null())
        .then(pl.lit("a whole number such as 250"))
    )
    return pl.when(problem.is_null()).then(parsed), problem


_TRUE = ("true", "yes", "y", "1", "t", "won", "x")
_FALSE = ("false", "no", "n", "0", "f")


def parse_flag(value: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(boolean, problem) for true/false, yes/no, 1/0 cells."""
    low = value.str.to_lowercase()
    parsed = (
        pl.when(low.is_in(_TRUE)).then(pl.lit(True)).when(low.is_in(_FALSE)).then(pl.lit(False))
    )
    problem = pl.when(value.is_not_null() & parsed.is_null()).then(pl.lit("true or false"))
    return parsed, problem


def cents_text(cents: pl.Expr) -> pl.Expr:
    """Integer cents as exact decimal text (``123456`` -> ``"1234.56"``) for COPY."""
    return pl.format("{}.{}", cents // 100, (cents % 100).cast(pl.String).str.pad_start(2, "0"))
