"""Alerts and flags as values (METRICS.md, "ICP drift alerts", "Accidental ICP flag",
"Evidence: intervals, tests and many segments at once").

Rules build them; pages, the CLI and exports read their fields or ``to_dict()``.
Evidence stays a plain dict because each rule has its own numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from metrics.stats import bh_qvalues

AlertKind = Literal["warning", "opportunity"]
AlertStatus = Literal["raised", "possible"]


@dataclass(frozen=True)
class Alert:
    """One drift alert or diagnostic of one segment (or of the company)."""

    type: str
    segment: dict[str, str]
    segment_label: str
    started: str
    explanation: str
    evidence: dict[str, Any]
    series: list[dict[str, Any]] = field(default_factory=list)
    # A rising segment is an opportunity; every other rule warns.
    kind: AlertKind = "warning"
    # "possible": a threshold rule whose point estimate crosses but whose interval
    # does not exclude the threshold; shown, never counted.
    status: AlertStatus = "raised"

    @property
    def raised(self) -> bool:
        """Whether the alert counts (in the navigation badge and the alert totals)."""
        return self.status == "raised"

    def to_dict(self) -> dict[str, Any]:
        """The alert as JSON-ready data (the keys of docs/metrics-api.md)."""
        return {
            "type": self.type,
            "segment": dict(self.segment),
            "segment_label": self.segment_label,
            "started": self.started,
            "explanation": self.explanation,
            "evidence": dict(self.evidence),
            "series": list(self.series),
            "kind": self.kind,
            "status": self.status,
        }


@dataclass(frozen=True)
class Flag:
    """One Accidental ICP flag of one segment."""

    segment: dict[str, str]
    segment_label: str
    reason: str
    severity: Literal["high", "medium", "low"]
    severity_score: float
    explanation: str
    evidence: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The flag as JSON-ready data (the keys of docs/metrics-api.md)."""
        return {
            "segment": dict(self.segment),
            "segment_label": self.segment_label,
            "reason": self.reason,
            "severity": self.severity,
            "severity_score": self.severity_score,
            "explanation": self.explanation,
            "evidence": dict(self.evidence),
        }


@dataclass(frozen=True)
class Candidate:
    """One segment tested by a rule: its p-value and what it would raise.

    ``item`` is None when the rule's size condition (e.g. "up by 20%") is not
    met: the segment still counts in the family the q-values adjust over.
    """

    p_value: float
    item: Alert | Flag | None


def significant(tested: Sequence[Candidate], alpha: float) -> list[Any]:
    """The items whose Benjamini-Hochberg q-value, across every tested segment, is <= alpha.

    Each kept item's evidence gains ``q_value``.
    """
    qs = bh_qvalues([t.p_value for t in tested])
    return [
        replace(t.item, evidence={**t.item.evidence, "q_value": q})
        for t, q in zip(tested, qs, strict=True)
        if t.item is not None and q <= alpha
    ]
