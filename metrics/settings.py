"""Every threshold and default of METRICS.md in one typed object.

Stored as JSON in the ``settings`` table under key ``'metrics'``:
``MetricSettings.model_dump(mode="json")`` to write, ``MetricSettings.model_validate``
to read. Unknown keys are ignored so an older or newer settings row still loads.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Dimension = Literal["vertical", "sub_industry", "size_band", "region", "use_case", "lead_source"]
CohortPeriod = Literal["month", "quarter", "year"]
MAX_BOUNDS = 19
"""Bounds of a numeric attribute's bands at most: 20 bands."""


class MetricSettings(BaseModel):
    """Thresholds and defaults of the metric definitions (METRICS.md)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    window_months: int = Field(12, ge=1, le=120, description="Retention window W in months.")
    min_accounts: int = Field(
        10, ge=1, description="Below this starting cohort size a segment is 'insufficient data'."
    )
    core_nrr: float = Field(1.20, gt=0, description="Core ICP: NRR at least this ...")
    core_grr: float = Field(0.90, gt=0, le=1, description="... and GRR at least this.")
    healthy_nrr: float = Field(1.00, gt=0, description="Healthy: NRR at least this.")
    watch_nrr: float = Field(
        0.90, gt=0, description="Watch: NRR at least this; below it, Accidental ICP."
    )
    gross_margin: float = Field(0.80, gt=0, le=1, description="Default gross margin for CLV.")
    gross_margin_overrides: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="Per-segment gross margin: {dimension: {value: margin}}.",
    )
    clv_horizon_months: int = Field(
        120, ge=1, description="Cap on the lifetime 1/c of the simple CLV, in months."
    )
    cohort_clv_years: int = Field(10, ge=1, le=50, description="Horizon H of the cohort CLV.")
    discount_rate: float = Field(0.10, ge=0, lt=1, description="Yearly discount rate d.")
    target_ltv_cac: float = Field(
        3.0, gt=0, le=100, description="Target LTV:CAC: allowable CAC = CLV / this."
    )
    cohort_period: CohortPeriod = Field("quarter", description="Default cohort period.")
    size_band_smb_below: int = Field(200, ge=1, description="Employees below this: SMB.")
    size_band_mid_below: int = Field(
        2000, ge=1, description="Employees below this (and not SMB): Mid-Market; else Enterprise."
    )
    bootstrap_samples: int = Field(1000, ge=0, le=20000, description="Bootstrap resamples.")
    bootstrap_seed: int = Field(20070101, description="Seed of the bootstrap, for repeatability.")
    confidence: float = Field(0.95, gt=0, lt=1, description="Level of the bootstrap intervals.")
    declared_icp: dict[str, list[str]] = Field(
        default_factory=dict,
        description="The company's declared ICP: {dimension: [values]}.",
    )
    attribute_bands: dict[str, list[float]] = Field(
        default_factory=dict,
        description="Bands of numeric custom attributes: {attribute: [ascending bounds]}; "
        "a banded attribute is a segment dimension named '<attribute>_band'.",
    )
    cycle_increase: float = Field(
        0.20, ge=0, description="Drift: days to close up at least this fraction."
    )
    alpha: float = Field(
        0.05,
        gt=0,
        lt=1,
        description="False discovery rate: an alert or flag tested across segments is raised "
        "only when its Benjamini-Hochberg q-value is at most this.",
    )
    min_deals: int = Field(
        10,
        ge=1,
        description="Below this many closed deals a segment's win rate and days to close are "
        "shown greyed and drive no flag or alert.",
    )
    cohort_drop: float = Field(
        0.05, ge=0, description="Drift: recent cohorts below the base by at least this."
    )
    nrr_falling_months: int = Field(
        3, ge=1, description="Drift: months of falling (rising segment: rising) trailing NRR."
    )
    nrr_drop: float = Field(
        0.05, ge=0, description="Drift: total fall (rising segment: rise) of trailing NRR."
    )
    contraction_multiple: float = Field(
        1.5, ge=1, description="Drift: last quarter's contraction rate vs its 4-quarter average."
    )
    bookings_falling_quarters: int = Field(
        2, ge=1, description="Drift: quarters of falling Core ICP bookings share."
    )
    grr_floor: float = Field(
        0.90, gt=0, le=1, description="Diagnostics: GRR below this is a warning (rules 7, 9)."
    )
    logo_gap: float = Field(
        0.10, ge=0, description="Masked churn: logo retention below the company's by this."
    )
    acv_increase: float = Field(
        0.20, ge=0, description="ACV up, NRR down: average deal size up at least this fraction."
    )

    @model_validator(mode="before")
    @classmethod
    def _legacy_names(cls, data: Any) -> Any:
        # Rows saved before the false-discovery rule call alpha "significance".
        if isinstance(data, dict) and "significance" in data and "alpha" not in data:
            data = {**data, "alpha": data["significance"]}
        return data

    @field_validator("attribute_bands")
    @classmethod
    def _bounds_ascend(cls, bands: dict[str, list[float]]) -> dict[str, list[float]]:
        for name, bounds in bands.items():
            if not 1 <= len(bounds) <= MAX_BOUNDS:
                raise ValueError(f"{name}: give between 1 and {MAX_BOUNDS} bounds")
            if not all(math.isfinite(b) for b in bounds):
                raise ValueError(f"{name}: every bound must be a finite number")
            if any(lo >= hi for lo, hi in pairwise(bounds)):
                raise ValueError(f"{name}: bounds must be in ascending order, each once")
        return bands

    @model_validator(mode="after")
    def _ordered(self) -> MetricSettings:
        if not self.watch_nrr <= self.healthy_nrr <= self.core_nrr:
            raise ValueError("thresholds must satisfy watch_nrr <= healthy_nrr <= core_nrr")
        if self.size_band_smb_below > self.size_band_mid_below:
            raise ValueError("size_band_smb_below must not exceed size_band_mid_below")
        return self

    def margin_for(self, segment: dict[str, str]) -> float:
        """Gross margin of a segment: the most specific override (last dimension first)."""
        for dim in reversed(list(segment)):
            value = self.gross_margin_overrides.get(dim, {}).get(segment[dim])
            if value is not None:
                return value
        return self.gross_margin
