"""Saving the metric settings: the ``settings`` row ``'metrics'`` and the data version."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from app.errors import CommandError
from db.data_version import bump_data_version
from db.queries import SETTINGS_KEY
from metrics.settings import MetricSettings

# Serializes saves: each merges its changes into the settings stored when it commits.
_SETTINGS_LOCK = "SELECT pg_advisory_xact_lock(hashtext('icp:settings'))"


@dataclass
class SaveSettings:
    """Store ``changes`` (MetricSettings fields) over the stored settings, as ``user``.

    A change whose value is None is a field left empty; ``labels`` names fields
    the way the form does in the messages.
    """

    engine: sa.Engine
    changes: Mapping[str, Any]
    user: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def _merged(self, conn: sa.Connection) -> MetricSettings:
        stored = conn.scalar(
            sa.text("SELECT value FROM settings WHERE key = :k"), {"k": SETTINGS_KEY}
        )
        problems = [
            f"{self.labels.get(name, name)} is empty"
            for name, value in self.changes.items()
            if value is None
        ]
        try:
            merged = MetricSettings.model_validate({**(stored or {}), **self.changes})
        except ValidationError as exc:
            problems += [
                f"{self._label(e['loc'])}: {e['msg']}"
                for e in exc.errors()
                if not (e["loc"] and self.changes.get(str(e["loc"][0]), 0) is None)
            ]
        if problems:
            raise CommandError(problems)
        return merged

    def _label(self, loc: tuple[Any, ...]) -> str:
        if not loc:
            return "settings"
        return ".".join([self.labels.get(str(loc[0]), str(loc[0])), *map(str, loc[1:])])

    def validate(self) -> MetricSettings:
        """The settings as they would be saved; :class:`CommandError` listing every problem."""
        with self.engine.connect() as conn:
            return self._merged(conn)

    def run(self) -> MetricSettings:
        """Save the merged settings and bump the data version in one transaction."""
        self.validate()
        with self.engine.begin() as conn:
            conn.execute(sa.text(_SETTINGS_LOCK))
            merged = self._merged(conn)
            conn.execute(
                sa.text(
                    "INSERT INTO settings (key, value, updated_at, updated_by) "
                    "VALUES (:k, CAST(:v AS jsonb), now(), :u) "
                    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, "
                    "updated_at = now(), updated_by = EXCLUDED.updated_by"
                ),
                {
                    "k": SETTINGS_KEY,
                    "v": json.dumps(merged.model_dump(mode="json")),
                    "u": self.user,
                },
            )
            bump_data_version(conn)
        return merged
