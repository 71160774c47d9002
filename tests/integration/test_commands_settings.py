"""SaveSettings: every problem in one refusal, or the settings and the data version
bump committed together."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.commands import CommandError
from app.commands.settings import SaveSettings
from db.queries import load_settings, read_data_version


def test_save_merges_changes_and_bumps_the_data_version(db: sa.Engine) -> None:
    SaveSettings(db, {"min_accounts": 4}, user="ana").run()
    saved = SaveSettings(db, {"declared_icp": {"vertical": ["Retail"]}}, user="ana").run()

    stored = load_settings(db)
    assert stored == saved
    assert stored.min_accounts == 4 and stored.declared_icp == {"vertical": ["Retail"]}
    assert read_data_version(db) == 2
    with db.connect() as conn:
        assert conn.scalar(sa.text("SELECT updated_by FROM settings")) == "ana"


def test_a_refused_save_lists_every_problem_and_writes_nothing(db: sa.Engine) -> None:
    command = SaveSettings(
        db,
        {"core_nrr": None, "watch_nrr": None, "min_accounts": 0, "discount_rate": 1.5},
        user="ana",
        labels={"core_nrr": "Core ICP NRR", "watch_nrr": "Watch NRR"},
    )
    with pytest.raises(CommandError) as refused:
        command.run()
    assert refused.value.problems == [
        "Core ICP NRR is empty",
        "Watch NRR is empty",
        "min_accounts: Input should be greater than or equal to 1",
        "discount_rate: Input should be less than 1",
    ]
    assert read_data_version(db) == 0
    with db.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM settings")) == 0
