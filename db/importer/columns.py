"""The canonical columns of each kind of export, their aliases, and header matching.

Aliases are those of DATA_FORMAT.md plus the headers of common CRM exports
(Salesforce opportunities, HubSpot deals and companies); docs/import.md lists
the extra ones. Headers match case-insensitively after trimming, with runs of
spaces, underscores and hyphens treated alike, so ``Account ID``, ``account_id``
and ``ACCOUNT-ID`` are one name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

KINDS = ("accounts", "subscriptions", "mrr_monthly", "opportunities", "spend")
"""Import kinds in load order: accounts first, their references after, spend (optional,
referring to no account) last."""
REFERENCING = ("subscriptions", "mrr_monthly", "opportunities")
"""The kinds whose rows name an account."""


@dataclass(frozen=True)
class Column:
    """A canonical column and the headers accepted for it, best match first."""

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class KindSpec:
    """The columns of one kind of export and how its rows are keyed."""

    kind: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    one_of: tuple[str, ...] = ()
    """At least one of these columns must be present (subscriptions: mrr or arr)."""

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


SPECS: dict[str, KindSpec] = {
    "accounts": KindSpec(
        "accounts",
        (
            Column(
                "account_id",
                (
                    "Account ID",
                    "Id",
                    "Customer ID",
                    "company_id",
                    "Company ID",
                    "Record ID",
                    "Account Id 18",
                ),
                True,
            ),
            Column(
                "account_name", ("Account Name", "Name", "Company", "Company name", "Customer Name")
            ),
            Column("vertical", ("Industry", "Vertical", "Sector"), True),
            Column(
                "sub_industry", ("Sub-Industry", "Sub Industry", "Subindustry", "Industry Detail")
            ),
            Column("size_band", ("Segment", "Company Size Band", "Tier", "Size Band")),
            Column(
                "employees",
                ("Employees", "Number of Employees", "Employee Count", "NumberOfEmployees"),
            ),
            Column(
                "region",
                ("Region", "Geo", "Billing Country", "Country", "Country/Region", "BillingCountry"),
            ),
            Column("use_case", ("Use Case", "Primary Use Case")),
            Column(
                "lead_source",
                (
                    "Lead Source",
                    "Source",
                    "Channel",
                    "Original Source",
                    "Original Source Type",
                    "LeadSource",
                ),
            ),
            Column("created_date", ("Created Date", "Create Date", "CreatedDate")),
        ),
        key=("account_id",),
    ),
    "subscriptions": KindSpec(
        "subscriptions",
        (
            Column(
                "subscription_id",
                ("Subscription ID", "Id", "Contract ID", "Subscription Number"),
                True,
            ),
            Column("account_id", ("Account ID", "Customer ID", "Company ID"), True),
            Column("product", ("Product", "Plan", "Plan Name", "Product Name")),
            Column(
                "start_date",
                (
                    "Start Date",
                    "Contract Start",
                    "Service Start",
                    "Contract Start Date",
                    "Subscription Start Date",
                ),
                True,
            ),
            Column(
                "end_date",
                (
                    "End Date",
                    "Contract End",
                    "Cancel Date",
                    "Canceled At",
                    "Cancelled At",
                    "Contract End Date",
                    "Subscription End Date",
                ),
            ),
            Column("mrr", ("MRR", "Monthly Recurring Revenue")),
            Column("arr", ("ARR", "ACV", "Annual Value", "Annual Recurring Revenue")),
        ),
        key=("subscription_id",),
        one_of=("mrr", "arr"),
    ),
    "mrr_monthly": KindSpec(
        "mrr_monthly",
        (
            Column("account_id", ("Account ID", "Customer ID"), True),
            Column("month", ("Month", "Period", "Date"), True),
            Column("mrr", ("MRR", "Monthly Recurring Revenue"), True),
        ),
        key=("account_id", "month"),
    ),
    "opportunities": KindSpec(
        "opportunities",
        (
            Column(
                "opportunity_id",
                ("Opportunity ID", "Id", "Deal ID", "Record ID", "Opportunity Id 18"),
                True,
            ),
            Column(
                "account_id",
                (
                    "Account ID",
                    "Associated Company ID",
                    "Associated Company IDs",
                    "Associated Company ID (Primary)",
                    "Company ID",
                    "AccountId",
                ),
                True,
            ),
            Column("opportunity_type", ("Type", "Opportunity Type", "Deal Type")),
            Column("created_date", ("Created Date", "Create Date", "CreatedDate"), True),
            Column("close_date", ("Close Date", "Closed Date", "CloseDate")),
            Column(
                "status", ("Stage", "Status", "Deal Stage", "Is Won", "StageName", "IsWon"), True
            ),
            Column("amount", ("Amount", "ACV", "Deal Amount"), True),
            Column("lead_source", ("Lead Source", "Source", "Original Source", "LeadSource")),
        ),
        key=("opportunity_id",),
    ),
}
# The spend file names segments by the accounts' dimension columns, under the same
# aliases (DATA_FORMAT.md), except "Channel": in a spend file that is the channel.
_SPEND_DIMENSIONS = tuple(
    Column(c.name, tuple(a for a in c.aliases if a != "Channel"))
    for c in SPECS["accounts"].columns
    if c.name in ("vertical", "sub_industry", "size_band", "region", "use_case", "lead_source")
)
SPECS["spend"] = KindSpec(
    "spend",
    (
        Column("month", ("Month", "Period", "Date"), True),
        Column("amount", ("Amount", "Spend", "Cost"), True),
        Column("category", ("Category", "Department", "Function")),
        Column("channel", ("Channel", "Campaign", "Program")),
        *_SPEND_DIMENSIONS,
    ),
    key=("month", "line"),
)


def normalize(header: str) -> str:
    """A header reduced to lower-case words separated by single spaces."""
    return re.sub(r"[\s_\-]+", " ", header.strip().lower().lstrip("\ufeff")).strip()


def _lookup(spec: KindSpec) -> dict[str, tuple[str, int]]:
    """Normalized header -> (canonical column, priority); lower priority wins."""
    table: dict[str, tuple[str, int]] = {}
    for col in spec.columns:
        for rank, name in enumerate((col.name, *col.aliases)):
            key = normalize(name)
            if key not in table or table[key][1] > rank:
                table[key] = (col.name, rank)
    return table


_LOOKUPS = {kind: _lookup(spec) for kind, spec in SPECS.items()}


@dataclass(frozen=True)
class ColumnMapping:
    """How one file's headers map to one kind's canonical columns."""

    kind: str
    mapping: dict[str, str]
    """Source header -> canonical column, in file order."""
    ignored: tuple[str, ...]
    missing: tuple[str, ...]
    """Required columns (or an ``a or b`` alternative) no header provides."""

    @property
    def complete(self) -> bool:
        return not self.missing


def map_columns(
    kind: str, headers: Iterable[str], explicit: Mapping[str, str] | None = None
) -> ColumnMapping:
    """Map ``headers`` to ``kind``'s columns; ``explicit`` (source -> canonical) wins.

    An explicit target that is not a column of ``kind`` (e.g. ``""``) ignores
    the header. When two headers match one canonical column, the canonical name
    itself and then the earlier alias wins; the other is ignored.
    """
    spec = SPECS[kind]
    lookup = _LOOKUPS[kind]
    headers = list(headers)
    explicit = {h: c for h, c in (explicit or {}).items() if h in headers}
    best: dict[str, tuple[int, str]] = {
        canonical: (-1, header) for header, canonical in explicit.items() if canonical in spec.names
    }
    for position, header in enumerate(headers):
        hit = None if header in explicit else lookup.get(normalize(header))
        if hit is None or hit[0] in explicit.values():
            continue
        canonical, rank = hit
        score = rank * 10_000 + position
        if canonical not in best or best[canonical][0] > score:
            best[canonical] = (score, header)
    chosen = {header: canonical for canonical, (_, header) in best.items()}
    mapping = {h: chosen[h] for h in headers if h in chosen}
    ignored = tuple(h for h in headers if h not in chosen)
    missing = [c for c in spec.required if c not in best]
    if spec.one_of and not any(c in best for c in spec.one_of):
        missing.append(" or ".join(spec.one_of))
    return ColumnMapping(kind, mapping, ignored, tuple(missing))


def detect_kind(
    headers: Iterable[str], explicit: Mapping[str, str] | None = None
) -> ColumnMapping | None:
    """The kind whose required columns the headers provide, best match first; None if none."""
    headers = list(headers)
    complete = [m for m in (map_columns(k, headers, explicit) for k in KINDS) if m.complete]
    if not complete:
        return None
    # The kind explaining the most headers wins: an opportunities export also
    # satisfies no other kind, but a bare "Id, Account ID, ..." could; more
    # matched columns is the better reading.
    return max(complete, key=lambda m: (len(m.mapping), -KINDS.index(m.kind)))


def header_score(headers: Iterable[str]) -> int:
    """How many headers name a known column of any kind (used to choose a CSV delimiter)."""
    known = set().union(*(_LOOKUPS[k].keys() for k in KINDS))
    return sum(1 for h in headers if normalize(h) in known)


def closest_kind(headers: Iterable[str]) -> ColumnMapping:
    """The kind the headers come closest to, for a 'missing columns' report."""
    headers = list(headers)
    return max(
        (map_columns(k, headers) for k in KINDS),
        key=lambda m: (len(m.mapping) - len(m.missing), -KINDS.index(m.kind)),
    )
