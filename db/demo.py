"""Demo data: a seeded generator of the export files, with stories planted in them.

``write_demo_files`` writes ``accounts.csv``, ``subscriptions.csv``,
``opportunities.csv`` and ``spend.csv`` with the canonical headers of DATA_FORMAT.md; ``load_demo``
writes them and imports them through ``db.importer.run_import``, the path RevOps
uses. The same seed and as-of month always give byte-identical files: every draw
comes from one ``numpy.random.Generator`` in a fixed order, and nothing reads the
clock except the default as-of month.

The stories (docs/demo-stories.md has the measured numbers):

- Financial Services / Credit Unions expand to about 130% NRR with GRR above 90%,
  while Financial Services / Insurance loses about a quarter of its logos a year.
- Retail & E-commerce is the Accidental ICP: the highest win rate and the shortest
  cycles, more new logos than its share of the base, and NRR below 90%.
- Professional Services / Accounting and / Marketing Agencies start at the same
  deal size, but Accounting's lifetime value is 3-5x higher.
- Healthcare drifts: its deals closing in the last two quarters take far longer,
  and its newest cohorts cancel during onboarding.
- Government has six customers: too few to rate.
- A pocket no single dimension shows: Mid-Market accounts that bought for Data
  Integration have taken to the Data Connectors add-on since it launched 18 months
  before the as-of month, and expand to about 150% NRR (outside Retail and
  Insurance, whose story is that they leave).
  ICP discovery finds it first.

The company's declared ICP (``DECLARED_ICP``) is what leadership believes:
Financial Services and Healthcare. It holds while the warehouse holds the demo
(``db.queries.load_settings``), and goes with it when real data replaces the demo.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import sqlalchemy as sa

from metrics.frames import SIZE_BANDS
from metrics.months import month_key, month_label

FIRST_MONTH = 2019 * 12  # month key of 2019-01, the first month with revenue
DEFAULT_SEED = 7
TARGET_CUSTOMERS = 1_300  # customers ever; prospects bring the total to about 2,500
FILE_NAMES = {
    "accounts": "accounts.csv",
    "subscriptions": "subscriptions.csv",
    "opportunities": "opportunities.csv",
    "spend": "spend.csv",
}

# Median MRR, spread of log MRR, employee range and median sales cycle (days) per band.
_BAND_MRR = (650.0, 2_600.0, 8_000.0)
_BAND_SIGMA = (0.35, 0.30, 0.30)
_BAND_EMPLOYEES = ((8, 199), (200, 1_999), (2_000, 45_000))
_BAND_CYCLE = (32.0, 68.0, 125.0)
# Bigger customers are stickier: a band's multiplier on its profile's churn.
_BAND_CHURN = (1.0, 0.8, 0.5)
_CORE_PRODUCT = ("Lens Starter", "Lens Growth", "Lens Enterprise")
_ADDONS = ("Add-on: Seats", "Add-on: Data Connectors", "Add-on: Forecasting")

_REGIONS = (("North America", 0.55), ("EMEA", 0.27), ("APAC", 0.13), ("LATAM", 0.05))
_USE_CASES = (
    ("Revenue Analytics", 0.30),
    ("Workflow Automation", 0.25),
    ("Compliance Reporting", 0.15),
    ("Customer Onboarding", 0.18),
    ("Data Integration", 0.12),
)
_LEAD_SOURCES = (
    ("Inbound", 0.35),
    ("Outbound", 0.25),
    ("Partner", 0.15),
    ("Event", 0.12),
    ("Referral", 0.13),
)
_NAME_FIRST = (
    "Apex", "Beacon", "Cedar", "Summit", "Harbor", "Northwind", "Bluebird", "Granite", "Riverside",
    "Pioneer", "Evergreen", "Silverline", "Lakeshore", "Ironwood", "Crescent", "Meridian", "Oakridge",
    "Redwood", "Sterling", "Trident", "Vantage", "Westfield", "Keystone", "Horizon", "Maple",
    "Sunrise", "Clearwater", "Falcon", "Liberty", "Orchard", "Copper", "Juniper", "Atlas", "Cobalt",
)  # fmt: skip
_NAME_SECOND = (
    "Valley", "Point", "Ridge", "Bay", "Park", "Creek", "Hill", "Lake", "Field", "Stone", "Bridge",
    "Gate", "Forest", "Port", "Crest", "Harbor", "Grove", "Mesa", "Glen", "Shore",
)  # fmt: skip

# The drifting vertical: deals closing in its last DRIFT_MONTHS months take
# DRIFT_CYCLE times longer, and accounts it won in the last DRIFT_COHORT_MONTHS
# months cancel during onboarding with chance DRIFT_EARLY_CHURN. 7 months hold the
# last two complete quarters whatever month the data ends in; 13 months also hold
# the two quarters of cohorts old enough to be compared at 6 months.
DRIFT_VERTICAL = "Healthcare"
DRIFT_MONTHS = 7
DRIFT_CYCLE = 2.4
DRIFT_COHORT_MONTHS = 13
DRIFT_EARLY_CHURN = 0.40
# Contraction is spread over more, smaller cuts (each 7-20% of the core plan) than
# a profile's ``contraction`` chance alone suggests, so a quarter's contraction is
# not one lumpy event that trips the "contraction rising" alert by chance.
CONTRACTION_SPREAD = 2.5
# Upsells likewise come as more, smaller steps than a profile's ``expansion``
# chance: the same growth, but one lucky account does not make a segment's NRR.
EXPANSION_STEPS = 2.0
REACTIVATION = 0.15  # chance a churned account comes back, once, 3-18 months later
# The pocket: accounts matching POCKET buy the Data Connectors add-on in steps of
# POCKET_STEP of their MRR, with chance POCKET_CHANCE a month, from POCKET_MONTHS
# before the as-of month. Its draws come from a second generator, so the other
# stories keep every draw they had, and its add-ons are not part of what the main
# simulation sees (renewals, ceilings), which therefore runs exactly as before.
POCKET = {"size_band": "Mid-Market", "use_case": "Data Integration"}
POCKET_MONTHS = 18
POCKET_CHANCE = 0.20
POCKET_STEP = (0.15, 0.30)
POCKET_PRODUCT = "Add-on: Data Connectors"
# Where the pocket does not reach: the segments whose story is that they leave.
POCKET_EXCLUDED = {"Retail & E-commerce", "Insurance"}
# Spend (the optional spend file): what a new customer of each vertical costs to win,
# split into marketing and sales spend on the vertical and company-level brand spend.
# Its draws come from a third generator. The story: the core ICP's LTV:CAC is several
# times the Accidental ICP's, though Retail costs less to win.
SPEND_CAC = {
    "Financial Services": 55_000.0,
    "Healthcare": 55_000.0,
    "Technology": 45_000.0,
    "Manufacturing": 60_000.0,
    "Education": 60_000.0,
    "Professional Services": 30_000.0,
    "Retail & E-commerce": 40_000.0,
    "Government": 80_000.0,
}
SPEND_SPLIT = {"marketing": 0.55, "sales": 0.30}  # of a vertical's cost; the rest is brand
SPEND_CHANNELS = ("Paid search", "Events", "Content", "Partners")
# What leadership says the ICP is (the demo's declared ICP, METRICS.md "declared ICP").
DECLARED_ICP = {"vertical": ["Financial Services", "Healthcare"]}


@dataclass(frozen=True)
class Profile:
    """How one sub-industry buys and stays: the knobs the stories are planted with."""

    vertical: str
    sub_industry: str
    name_suffix: str
    weight: float  # share of new customers (relative)
    size_mix: tuple[float, float, float]  # SMB, Mid-Market, Enterprise
    annual_churn: float  # chance of leaving at each renewal
    expansion: float  # monthly chance of an upsell
    contraction: float  # chance a renewal is smaller
    win_rate: float
    cycle: float  # multiplier on the size band's sales cycle
    trend: float = 1.0  # how much faster than average its new logos grow over time
    fixed_customers: int | None = None  # exact customer count (the segment too small to rate)
    # Accounts stop buying more at this multiple of their first MRR (None: no limit),
    # so a few old accounts do not dominate a segment's revenue by chance.
    ceiling: float | None = 3.0


PROFILES: tuple[Profile, ...] = (
    Profile("Financial Services", "Credit Unions", "Credit Union", 1.4, (0.45, 0.45, 0.10), 0.03, 0.090, 0.04, 0.33, 1.1, ceiling=8.0),
    Profile("Financial Services", "Community Banks", "Bank", 0.7, (0.40, 0.45, 0.15), 0.10, 0.025, 0.10, 0.29, 1.2),
    Profile("Financial Services", "Insurance", "Insurance", 1.5, (0.40, 0.45, 0.15), 0.35, 0.022, 0.10, 0.30, 1.2),
    Profile("Financial Services", "Wealth Management", "Wealth Partners", 0.6, (0.50, 0.40, 0.10), 0.12, 0.025, 0.10, 0.31, 1.0),
    Profile("Healthcare", "Hospitals & Health Systems", "Health System", 1.0, (0.20, 0.50, 0.30), 0.06, 0.035, 0.08, 0.27, 1.2),
    Profile("Healthcare", "Clinics & Physician Groups", "Medical Group", 1.8, (0.60, 0.35, 0.05), 0.09, 0.030, 0.10, 0.30, 1.0),
    Profile("Healthcare", "Health Tech", "Health", 1.0, (0.55, 0.40, 0.05), 0.11, 0.035, 0.10, 0.31, 0.9),
    Profile("Retail & E-commerce", "Online Retail", "Shop", 1.6, (0.75, 0.22, 0.03), 0.27, 0.010, 0.22, 0.49, 0.55, 1.8),
    Profile("Retail & E-commerce", "Consumer Brands", "Brands", 1.0, (0.60, 0.32, 0.08), 0.24, 0.012, 0.20, 0.46, 0.6, 1.8),
    Profile("Retail & E-commerce", "Marketplaces", "Market", 0.8, (0.65, 0.30, 0.05), 0.26, 0.012, 0.20, 0.47, 0.6, 1.8),
    Profile("Technology", "SaaS", "Software", 1.2, (0.55, 0.35, 0.10), 0.10, 0.040, 0.08, 0.32, 0.9),
    Profile("Technology", "Cybersecurity", "Security", 0.7, (0.40, 0.45, 0.15), 0.08, 0.045, 0.08, 0.30, 1.0),
    Profile("Technology", "IT Services", "IT", 0.8, (0.60, 0.35, 0.05), 0.14, 0.025, 0.12, 0.33, 0.9),
    Profile("Manufacturing", "Industrial Equipment", "Industries", 0.8, (0.30, 0.50, 0.20), 0.07, 0.030, 0.06, 0.28, 1.3),
    Profile("Manufacturing", "Automotive Parts", "Auto Parts", 0.6, (0.35, 0.45, 0.20), 0.10, 0.028, 0.08, 0.27, 1.3),
    Profile("Manufacturing", "Electronics", "Electronics", 0.6, (0.40, 0.45, 0.15), 0.09, 0.030, 0.08, 0.29, 1.2),
    # Story 3: one band, one price list and a low ceiling, so the only difference
    # between these two is how long they stay.
    Profile("Professional Services", "Accounting", "CPAs", 2.0, (1.0, 0.0, 0.0), 0.05, 0.025, 0.04, 0.31, 1.0, ceiling=2.0),
    Profile("Professional Services", "Marketing Agencies", "Agency", 1.1, (1.0, 0.0, 0.0), 0.48, 0.010, 0.15, 0.35, 0.9, ceiling=1.5),
    Profile("Professional Services", "Legal", "Law", 0.8, (0.55, 0.38, 0.07), 0.08, 0.035, 0.08, 0.29, 1.1),
    Profile("Professional Services", "Consulting", "Consulting", 0.8, (0.55, 0.38, 0.07), 0.12, 0.035, 0.10, 0.32, 0.9),
    Profile("Education", "Higher Education", "University", 0.7, (0.20, 0.55, 0.25), 0.08, 0.035, 0.08, 0.25, 1.5),
    Profile("Education", "K-12", "School District", 0.6, (0.50, 0.45, 0.05), 0.10, 0.032, 0.10, 0.26, 1.4),
    Profile("Education", "EdTech", "Learning", 0.6, (0.65, 0.30, 0.05), 0.12, 0.035, 0.12, 0.31, 0.9),
    Profile("Government", "Local Government", "County", 0.0, (0.30, 0.60, 0.10), 0.05, 0.010, 0.05, 0.20, 2.0, fixed_customers=4),
    Profile("Government", "State Agencies", "State Agency", 0.0, (0.00, 0.40, 0.60), 0.05, 0.010, 0.05, 0.18, 2.2, fixed_customers=2),
)  # fmt: skip


@dataclass
class _Account:
    idx: int
    profile: Profile
    band: int
    employees: int
    region: str
    use_case: str
    lead_source: str
    created: dt.date | None = None
    first_opp_created: dt.date | None = None


@dataclass
class _Customer:
    """A customer's live state while the months are simulated."""

    account: _Account
    day: int  # day of the month its contract renews
    anchor: int  # month key its current contract started
    churn: float  # its own chance of leaving at a renewal
    early: float  # chance of cancelling in its first three months
    core: list  # [product, start date, mrr] of the main subscription
    addons: list[list] = field(default_factory=list)
    pocket: list[list] = field(default_factory=list)  # the pocket's add-ons (outside total())
    reactivated: bool = False
    last_total: float = 0.0
    initial: float = 0.0  # MRR it started (or came back) with

    def __post_init__(self) -> None:
        self.initial = self.core[2]

    def total(self) -> float:
        return self.core[2] + sum(a[2] for a in self.addons)


@dataclass
class _Rows:
    """Rows gathered while simulating, keyed by the account's index until ids are given."""

    # (idx, product, start, end, mrr)
    subscriptions: list[tuple] = field(default_factory=list)
    # (idx, type, created, close, status, amount)
    opportunities: list[tuple] = field(default_factory=list)


def last_complete_month(today: dt.date | None = None) -> str:
    """``"YYYY-MM"`` of the last complete month before ``today`` (default: the clock's today)."""
    today = today or dt.date.today()
    return month_label(today.year * 12 + today.month - 2)


def demo_month(as_of: str | dt.date | None) -> str:
    """``"YYYY-MM"`` of the demo's last month (see :func:`as_of_key`)."""
    return month_label(as_of_key(as_of))


def as_of_key(as_of: str | dt.date | None) -> int:
    """Month key (year*12 + month - 1) of ``"YYYY-MM"``, a date in the month, or None (default)."""
    if as_of is None:
        as_of = last_complete_month()
    key = month_key(as_of)
    if key < FIRST_MONTH + 36:
        raise ValueError(f"as-of month {as_of!r} leaves less than three years after 2019-01")
    return key


def _day(key: int, day: int) -> dt.date:
    return dt.date(key // 12, key % 12 + 1, day)


def _month_end(key: int) -> dt.date:
    return _day(key + 1, 1) - dt.timedelta(days=1)


def _choice(rng: np.random.Generator, options: Sequence[tuple[str, float]]) -> str:
    weights = np.array([w for _, w in options])
    return options[int(rng.choice(len(options), p=weights / weights.sum()))][0]


class _Generator:
    """One run of the simulation: every draw in a fixed order from one seeded generator."""

    def __init__(self, seed: int, as_of: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.pocket_rng = np.random.default_rng([seed, 1])  # the pocket's own draws
        self.spend_rng = np.random.default_rng([seed, 2])  # the spend file's own draws
        self.starts: list[tuple[int, _Account]] = []
        self.as_of = as_of
        self.extract = _day(as_of + 1, 1)  # the export is taken on the first of the next month
        self.accounts: list[_Account] = []
        self.rows = _Rows()
        # Close dates of won new-business deals per profile: they pace lost deals and pipeline.
        self.wins: dict[Profile, list[dt.date]] = {p: [] for p in PROFILES}
        self.levels: dict[tuple[Profile, str], float] = {}
        self.returning: dict[int, list[_Customer]] = {}
        # Customers' size bands follow each profile's mix closely (golden-ratio sequence),
        # so two segments planted with the same mix start at the same deal size.
        self.band_phase: dict[Profile, float] = {}

    # accounts ---------------------------------------------------------------------------
    def new_account(self, profile: Profile, customer: bool = False) -> _Account:
        rng = self.rng
        if customer:
            phase = (self.band_phase.get(profile, float(rng.random())) + 0.6180339887498949) % 1.0
            self.band_phase[profile] = phase
            band = int(np.searchsorted(np.cumsum(profile.size_mix), phase, side="right"))
        else:
            band = int(rng.choice(3, p=np.array(profile.size_mix)))
        low, high = _BAND_EMPLOYEES[band]
        employees = int(np.exp(rng.uniform(np.log(low), np.log(high))))
        lead = _LEAD_SOURCES
        if profile.vertical == "Retail & E-commerce":
            # Retail buys self-serve: mostly inbound, which is why deals close fast.
            lead = (
                ("Inbound", 0.6),
                ("Outbound", 0.15),
                ("Partner", 0.1),
                ("Event", 0.05),
                ("Referral", 0.1),
            )
        account = _Account(
            idx=len(self.accounts),
            profile=profile,
            band=band,
            employees=employees,
            region=_choice(rng, _REGIONS),
            use_case=_choice(rng, _USE_CASES),
            lead_source=_choice(rng, lead),
        )
        self.accounts.append(account)
        return account

    def base_mrr(self, band: int) -> float:
        value = _BAND_MRR[band] * float(np.exp(self.rng.normal(0.0, _BAND_SIGMA[band])))
        return float(max(50.0, round(value / 5.0) * 5.0))

    def cycle_days(self, profile: Profile, band: int, close: dt.date) -> int:
        days = _BAND_CYCLE[band] * profile.cycle * float(np.exp(self.rng.normal(0.0, 0.35)))
        close_key = close.year * 12 + close.month - 1
        if profile.vertical == DRIFT_VERTICAL and close_key > self.as_of - DRIFT_MONTHS:
            days *= DRIFT_CYCLE
        return max(4, int(round(days)))

    def opportunity(
        self,
        account: _Account,
        kind: str,
        created: dt.date,
        close: dt.date | None,
        status: str,
        amount: float,
    ) -> None:
        self.rows.opportunities.append(
            (account.idx, kind, created, close, status, round(amount, 2))
        )
        if account.first_opp_created is None or created < account.first_opp_created:
            account.first_opp_created = created

    def won_new_business(self, account: _Account, start: dt.date, mrr: float) -> None:
        close = start - dt.timedelta(days=int(self.rng.integers(0, 12)))
        created = close - dt.timedelta(days=self.cycle_days(account.profile, account.band, close))
        self.opportunity(account, "new_business", created, close, "won", 12 * mrr)
        self.wins[account.profile].append(close)

    # customers --------------------------------------------------------------------------
    def start_months(self, profile: Profile, total_weight: float) -> list[int]:
        """Months in which the profile's customers start (new logos grow over time)."""
        rng = self.rng
        months = np.arange(FIRST_MONTH, self.as_of + 1)
        t = (months - FIRST_MONTH) / max(1, len(months) - 1)
        if profile.fixed_customers is not None:
            # Spread over the years before the window so they form a (tiny) starting cohort.
            last = self.as_of - 14
            return sorted(
                int(m) for m in rng.integers(FIRST_MONTH, last, size=profile.fixed_customers)
            )
        growth = 0.4 + 1.2 * t**profile.trend * (1.0 + 0.5 * (profile.trend - 1.0))
        rate = TARGET_CUSTOMERS * profile.weight / total_weight * growth / growth.sum()
        # Whole customers at a steady pace (cumulative rate, floored) rather than Poisson
        # draws, so a segment's recent cohorts are not empty by chance.
        cumulative = np.floor(np.cumsum(rate) + rng.random()).astype(int)
        counts = np.diff(cumulative, prepend=0)
        return [int(m) for m, c in zip(months, counts, strict=True) for _ in range(c)]

    def happens(self, profile: Profile, kind: str, chance: float) -> bool:
        """Whether an event of ``kind`` happens now, by steady-rate (systematic) sampling.

        Each profile and kind keeps a running level that grows by ``chance`` per
        opportunity and fires when it passes 1. Over any year a segment's events then
        land within one or two of their planted rate, so a story carried by 40
        accounts is not drowned by coin-flip noise; which accounts they hit still
        varies with each account's own propensity and the order of renewals.
        """
        level = self.levels.get((profile, kind))
        if level is None:
            level = float(self.rng.random())
        level += chance
        fired = level >= 1.0
        self.levels[(profile, kind)] = level - 1.0 if fired else level
        return fired

    def start_customer(
        self, account: _Account, key: int, day: int | None = None, mrr: float | None = None
    ) -> _Customer:
        """A customer's first (or returning) subscription and its won new-business deal."""
        rng, p = self.rng, account.profile
        if day is None:
            day = int(rng.integers(1, 29))
        if mrr is None:
            mrr = self.base_mrr(account.band)
        early = 0.03 if account.band == 0 else 0.01
        if p.vertical == DRIFT_VERTICAL and key > self.as_of - DRIFT_COHORT_MONTHS:
            early = DRIFT_EARLY_CHURN
        customer = _Customer(
            account=account,
            day=day,
            anchor=key,
            churn=min(
                0.95, p.annual_churn * _BAND_CHURN[account.band] * float(rng.uniform(0.5, 1.5))
            ),
            early=early,
            core=[_CORE_PRODUCT[account.band], _day(key, day), mrr],
        )
        self.won_new_business(account, customer.core[1], mrr)
        return customer

    def step(self, c: _Customer, key: int) -> bool:
        """One month of a customer's life; False when it churned this month."""
        rng, p, account = self.rng, c.account.profile, c.account
        when = _day(key, c.day)
        age = key - c.anchor
        total = c.total()
        churned = False
        if 1 <= age <= 3:
            churned = self.happens(p, f"early {c.early}", c.early / 3)
        elif age % 12 == 0:
            # Customers who have grown into the product leave less often.
            embedded = min(1.0, c.initial / total)
            churned = self.happens(p, "churn", c.churn * embedded)
            if not churned and self.happens(
                p, "contraction", min(0.9, CONTRACTION_SPREAD * p.contraction)
            ):
                if c.addons and rng.random() < 0.5:
                    prod, start, value = c.addons.pop(int(rng.integers(0, len(c.addons))))
                    self.rows.subscriptions.append(
                        (account.idx, prod, start, when - dt.timedelta(days=1), value)
                    )
                else:
                    smaller = max(
                        50.0, round(c.core[2] * float(rng.uniform(0.8, 0.93)) / 5.0) * 5.0
                    )
                    c.core = self.replace(account, c.core, when, smaller)
            self.renewal(account, when, total, churned)
        elif (p.ceiling is None or total < p.ceiling * c.initial) and self.happens(
            p, "expansion", EXPANSION_STEPS * p.expansion
        ):
            delta = max(
                50.0, round(total * float(rng.uniform(0.2, 0.5)) / EXPANSION_STEPS / 5.0) * 5.0
            )
            if rng.random() < 0.5:
                c.addons.append([_ADDONS[int(rng.integers(0, len(_ADDONS)))], when, delta])
            else:
                c.core = self.replace(account, c.core, when, c.core[2] + delta)
            if rng.random() < 0.75:
                close = when - dt.timedelta(days=int(rng.integers(0, 8)))
                created = close - dt.timedelta(days=int(rng.integers(14, 76)))
                self.opportunity(account, "expansion", created, close, "won", 12 * delta)
        if not churned:
            return True
        end = when - dt.timedelta(days=1)
        for prod, start, value in [c.core, *c.addons, *c.pocket]:
            self.rows.subscriptions.append((account.idx, prod, start, end, value))
        c.addons = []
        c.pocket = []
        if not c.reactivated and self.happens(p, "reactivation", REACTIVATION):
            back = key + int(rng.integers(3, 19))
            if back <= self.as_of:
                c.reactivated = True
                c.last_total = total
                self.returning.setdefault(back, []).append(c)
        return False

    def simulate(self, starts: list[tuple[int, _Account]]) -> None:
        """Every customer month by month, so steady-rate sampling follows the calendar."""
        by_month: dict[int, list[_Account]] = {}
        for key, account in starts:
            by_month.setdefault(key, []).append(account)
        active: list[_Customer] = []
        for key in range(FIRST_MONTH, self.as_of + 1):
            active = [c for c in active if self.step(c, key)]
            if key > self.as_of - POCKET_MONTHS:
                for c in active:
                    self.pocket_step(c, key)
            for c in self.returning.pop(key, []):
                mrr = max(
                    50.0, round(c.last_total * float(self.rng.uniform(0.6, 0.95)) / 5.0) * 5.0
                )
                back = self.start_customer(c.account, key, day=c.day, mrr=mrr)
                back.reactivated = True
                active.append(back)
            active.extend(self.start_customer(account, key) for account in by_month.get(key, []))
        for c in active:
            for prod, start, value in [c.core, *c.addons, *c.pocket]:
                self.rows.subscriptions.append((c.account.idx, prod, start, None, value))
            self.open_renewal(c.account, c.anchor, c.day, c.total())

    def pocket_step(self, c: _Customer, key: int) -> None:
        """A pocket account may buy another step of Data Connectors this month (own draws)."""
        account = c.account
        if (
            SIZE_BANDS[account.band] != POCKET["size_band"]
            or account.use_case != POCKET["use_case"]
            or {account.profile.vertical, account.profile.sub_industry} & POCKET_EXCLUDED
        ):
            return
        rng = self.pocket_rng
        if rng.random() >= POCKET_CHANCE:
            return
        base = c.total() + sum(a[2] for a in c.pocket)
        delta = max(50.0, round(base * float(rng.uniform(*POCKET_STEP)) / 5.0) * 5.0)
        when = _day(key, c.day)
        c.pocket.append([POCKET_PRODUCT, when, delta])
        close = when - dt.timedelta(days=int(rng.integers(0, 8)))
        created = close - dt.timedelta(days=int(rng.integers(14, 60)))
        self.opportunity(account, "expansion", created, close, "won", 12 * delta)

    def replace(self, account: _Account, core: list, when: dt.date, mrr: float) -> list:
        """End the core subscription the day before ``when`` and start its successor."""
        self.rows.subscriptions.append(
            (account.idx, core[0], core[1], when - dt.timedelta(days=1), core[2])
        )
        return [core[0], when, mrr]

    def renewal(self, account: _Account, when: dt.date, total: float, churned: bool) -> None:
        """Mid-Market and Enterprise renewals are worked as opportunities; SMB renews silently."""
        if account.band == 0:
            return
        close = when - dt.timedelta(days=int(self.rng.integers(0, 21)))
        created = close - dt.timedelta(days=int(self.rng.integers(45, 100)))
        self.opportunity(
            account, "renewal", created, close, "lost" if churned else "won", 12 * total
        )

    def open_renewal(self, account: _Account, anchor: int, day: int, total: float) -> None:
        """A renewal due within three months of the export is open in the pipeline."""
        if account.band == 0:
            return
        due = anchor + 12 * ((self.as_of - anchor) // 12 + 1)
        created = _day(due, day) - dt.timedelta(days=int(self.rng.integers(60, 100)))
        if created <= self.extract:
            self.opportunity(account, "renewal", created, None, "open", 12 * total)

    # prospects --------------------------------------------------------------------------
    def prospects(self, profile: Profile) -> None:
        """Lost and open new-business deals in proportion to the profile's wins, on prospects."""
        rng = self.rng
        wins = self.wins[profile]
        odds = (1.0 - profile.win_rate) / profile.win_rate
        lost = [close for close in wins for _ in range(int(rng.poisson(odds)))]
        pool = [self.new_account(profile) for _ in range(max(1, round(len(lost) / 2.6)))]
        last_day = _month_end(self.as_of)
        for close in lost:
            account = pool[int(rng.integers(0, len(pool)))]
            close = min(last_day, close + dt.timedelta(days=int(rng.integers(-40, 41))))
            created = close - dt.timedelta(
                days=int(self.cycle_days(profile, account.band, close) * rng.uniform(0.5, 1.2))
            )
            self.opportunity(
                account, "new_business", created, close, "lost", 12 * self.base_mrr(account.band)
            )
        recent = sum(1 for close in wins if close.year * 12 + close.month - 1 > self.as_of - 3)
        for _ in range(int(rng.poisson(0.6 * recent / profile.win_rate + 0.5))):
            account = (
                pool[int(rng.integers(0, len(pool)))]
                if rng.random() < 0.3
                else self.new_account(profile)
            )
            created = self.extract - dt.timedelta(days=int(rng.integers(0, 150)))
            self.opportunity(
                account, "new_business", created, None, "open", 12 * self.base_mrr(account.band)
            )
        for _ in range(int(rng.poisson(0.08 * len(pool)))):
            self.new_account(profile)  # leads never worked: prospects without opportunities

    def run(self) -> dict[str, pl.DataFrame]:
        total_weight = sum(p.weight for p in PROFILES)
        starts = [
            (key, self.new_account(profile, customer=True))
            for profile in PROFILES
            for key in self.start_months(profile, total_weight)
        ]
        self.starts = starts
        self.simulate(starts)
        for profile in PROFILES:
            self.prospects(profile)
        return self.frames()

    def spend(self) -> pl.DataFrame:
        """The spend file: per month, marketing and sales rows per vertical, in step with the
        vertical's new customers of the quarter around it, and company-level brand spend."""
        rng = self.spend_rng
        months = range(FIRST_MONTH, self.as_of + 1)
        verticals = list(SPEND_CAC)
        new = {(v, m): 0 for v in verticals for m in months}
        for key, account in self.starts:
            new[(account.profile.vertical, key)] += 1
        rows: list[tuple] = []
        for m in months:
            brand = 0.0
            for v in verticals:
                # Spend leads and lags the wins a little: the quarter around the month.
                pace = sum(new.get((v, k), 0) for k in (m - 1, m, m + 1)) / 3
                cost = pace * SPEND_CAC[v]
                brand += cost * (1 - sum(SPEND_SPLIT.values()))
                for category, share in SPEND_SPLIT.items():
                    amount = round(cost * share * float(rng.uniform(0.85, 1.15)), 2)
                    if amount > 0:
                        channel = (
                            SPEND_CHANNELS[int(rng.integers(0, len(SPEND_CHANNELS)))]
                            if category == "marketing"
                            else None
                        )
                        rows.append((m, amount, category, channel, v))
            rows.append((m, round(brand * float(rng.uniform(0.9, 1.1)), 2), "marketing", "Brand", None))
        return pl.DataFrame(
            {
                "month": [month_label(r[0]) for r in rows],
                "amount": [f"{r[1]:.2f}" for r in rows],
                "category": [r[2] for r in rows],
                "channel": [r[3] for r in rows],
                "vertical": [r[4] for r in rows],
            },
            schema={c: pl.String for c in ("month", "amount", "category", "channel", "vertical")},
        )

    # output -----------------------------------------------------------------------------
    def created_dates(self) -> None:
        rng = self.rng
        earliest = _day(FIRST_MONTH - 6, 1)
        for account in self.accounts:
            if account.first_opp_created is not None:
                account.created = account.first_opp_created - dt.timedelta(
                    days=int(rng.integers(0, 90))
                )
            else:
                span = (self.extract - earliest).days
                account.created = earliest + dt.timedelta(days=int(rng.integers(0, span)))

    def frames(self) -> dict[str, pl.DataFrame]:
        """The four exports, ids given in order of creation."""
        self.created_dates()
        rng = self.rng
        # The newest deal is created on the export day, so the data ends in the month
        # after the as-of month and the dashboard's default as-of is the as-of month.
        opens = [
            i
            for i, row in enumerate(self.rows.opportunities)
            if row[4] == "open" and row[1] == "new_business"
        ]
        newest = max(opens, key=lambda i: (self.rows.opportunities[i][2], i))
        self.rows.opportunities[newest] = (
            *self.rows.opportunities[newest][:2],
            self.extract,
            *self.rows.opportunities[newest][3:],
        )
        order = sorted(self.accounts, key=lambda a: (a.created, a.idx))
        ids = {a.idx: f"ACC-{n:05d}" for n, a in enumerate(order, start=1)}
        names = [
            f"{_NAME_FIRST[int(rng.integers(0, len(_NAME_FIRST)))]} {_NAME_SECOND[int(rng.integers(0, len(_NAME_SECOND)))]}"
            for _ in order
        ]
        accounts = pl.DataFrame(
            {
                "account_id": [ids[a.idx] for a in order],
                "account_name": [
                    f"{n} {a.profile.name_suffix}" for n, a in zip(names, order, strict=True)
                ],
                "vertical": [a.profile.vertical for a in order],
                "sub_industry": [a.profile.sub_industry for a in order],
                "size_band": [SIZE_BANDS[a.band] for a in order],
                "employees": [a.employees for a in order],
                "region": [a.region for a in order],
                "use_case": [a.use_case for a in order],
                "lead_source": [a.lead_source for a in order],
                "created_date": [a.created for a in order],
            },
            schema_overrides={"created_date": pl.Date, "employees": pl.Int64},
        )
        by_idx = {a.idx: a for a in self.accounts}
        subs = sorted(self.rows.subscriptions, key=lambda r: (r[2], ids[r[0]], r[1]))
        subscriptions = pl.DataFrame(
            {
                "subscription_id": [f"SUB-{n:06d}" for n in range(1, len(subs) + 1)],
                "account_id": [ids[r[0]] for r in subs],
                "product": [r[1] for r in subs],
                "start_date": [r[2] for r in subs],
                "end_date": [r[3] for r in subs],
                "mrr": [f"{r[4]:.2f}" for r in subs],
            },
            schema_overrides={"start_date": pl.Date, "end_date": pl.Date},
        )
        opps = sorted(
            self.rows.opportunities, key=lambda r: (r[2], ids[r[0]], r[1], r[3] or self.extract)
        )
        opportunities = pl.DataFrame(
            {
                "opportunity_id": [f"OPP-{n:06d}" for n in range(1, len(opps) + 1)],
                "account_id": [ids[r[0]] for r in opps],
                "opportunity_type": [r[1] for r in opps],
                "created_date": [r[2] for r in opps],
                "close_date": [r[3] for r in opps],
                "status": [r[4] for r in opps],
                "amount": [f"{r[5]:.2f}" for r in opps],
                "lead_source": [by_idx[r[0]].lead_source for r in opps],
            },
            schema_overrides={"created_date": pl.Date, "close_date": pl.Date},
        )
        return {
            "accounts": accounts,
            "subscriptions": subscriptions,
            "opportunities": opportunities,
            "spend": self.spend(),
        }


def generate_demo(
    seed: int = DEFAULT_SEED, as_of: str | dt.date | None = None
) -> dict[str, pl.DataFrame]:
    """The demo exports as polars frames (money as 2-decimal strings, as written)."""
    return _Generator(seed, as_of_key(as_of)).run()


def write_demo_files(
    out_dir: Path | str, seed: int = DEFAULT_SEED, as_of: str | dt.date | None = None
) -> dict[str, Path]:
    """Write accounts.csv, subscriptions.csv and opportunities.csv into ``out_dir``; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for kind, frame in generate_demo(seed, as_of).items():
        path = out / FILE_NAMES[kind]
        frame.write_csv(path, date_format="%Y-%m-%d")
        paths[kind] = path
    return paths


def load_demo(
    engine: sa.Engine,
    out_dir: Path | str,
    seed: int = DEFAULT_SEED,
    as_of: str | dt.date | None = None,
    if_empty: bool = False,
) -> str:
    """Write the demo exports and import them as demo data (user "demo"); say what happened.

    With ``if_empty`` nothing is written or loaded when the warehouse already
    holds accounts (``make run`` uses it so a restart keeps the user's data).
    """
    from db.importer import ImportFile, run_import
    from db.schema import accounts

    if if_empty:
        with engine.connect() as conn:
            existing = conn.execute(sa.select(sa.func.count()).select_from(accounts)).scalar_one()
        if existing:
            return f"warehouse already has {existing:,} accounts; nothing loaded"
    key = as_of_key(as_of)
    paths = write_demo_files(out_dir, seed=seed, as_of=month_label(key))
    result = run_import(
        [ImportFile.from_path(paths[kind]) for kind in FILE_NAMES], engine, user="demo", demo=True
    )
    rows = ", ".join(f"{f.rows:,} {f.kind}" for f in result.files)
    return (
        f"demo data loaded (seed {seed}, 2019-01 to {month_label(key)}): {rows} "
        f"from {Path(out_dir)}; {result.message}"
    )
