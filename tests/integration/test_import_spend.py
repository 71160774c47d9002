"""The spend file (DATA_FORMAT.md "spend"): a fourth kind, validated, loaded, replaced by
month and rolled back like the others."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from db.importer import ImportFile, ImportRejected, rollback_batch, run_import
from tests.integration.test_import_support import checksums, seed

SPEND = (
    "Month,Spend,Department,Campaign,Industry,Region,Sales Motion\n"
    "2025-01,1000.00,Sales,,Retail,,\n"
    "2025-01,250.50,,Brand,,,\n"
    "2025-01-31,99,marketing,Search,,EMEA,PLG\n"
    "2025-02-14,300,Marketing,,Retail,,\n"
)


def _rows(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "SELECT to_char(month, 'YYYY-MM'), line, amount::text, category, channel, "
                    "vertical, region, attributes::text FROM spend ORDER BY month, line"
                )
            )
        ]


def test_a_spend_file_is_detected_validated_and_loaded(db: sa.Engine) -> None:
    seed(db)
    result = run_import([ImportFile("spend.csv", SPEND.encode())], db, user="revops")
    assert [f.kind for f in result.plan.files] == ["spend"]
    assert result.inserted == 4
    assert _rows(db) == [
        ("2025-01", 1, "1000.00", "sales", None, "Retail", None, None),
        ("2025-01", 2, "250.50", "marketing", "Brand", None, None, None),
        ("2025-01", 3, "99.00", "marketing", "Search", None, "EMEA", '{"sales_motion": "PLG"}'),
        ("2025-02", 1, "300.00", "marketing", None, "Retail", None, None),
    ]
    again = run_import([ImportFile("spend.csv", SPEND.encode())], db, user="revops")
    assert not again.changed and again.unchanged == 4


def test_a_spend_file_replaces_the_spend_of_its_months(db: sa.Engine) -> None:
    seed(db)
    run_import([ImportFile("spend.csv", SPEND.encode())], db, user="revops")
    before = checksums(db, ("spend",))
    january = "month,amount\n2025-01,5000\n"
    result = run_import([ImportFile("jan.csv", january.encode())], db, user="revops")
    assert result.spend_rows_replaced == 2 and result.updated == 1
    assert "2 spend rows of the same months removed" in result.message
    assert _rows(db) == [
        ("2025-01", 1, "5000.00", "marketing", None, None, None, None),
        ("2025-02", 1, "300.00", "marketing", None, "Retail", None, None),  # untouched month
    ]
    undone = rollback_batch(db, result.batch_id, user="revops")
    assert "2 spend rows it replaced are back" in undone.message
    assert checksums(db, ("spend",)) == before


@pytest.mark.parametrize(
    ("line", "column", "value", "expected"),
    [
        ("2025-13,10,,", "month", "2025-13", "a month"),
        ("2025-01,-5,,", "amount", "-5", "an amount of 0 or more"),
        ("2025-01,10,Finance,", "category", "Finance", "sales or marketing"),
        ("2025-01,,,", "amount", "", "required"),
    ],
)
def test_bad_spend_rows_are_named_and_nothing_is_written(
    db: sa.Engine, line: str, column: str, value: str | None, expected: str
) -> None:
    seed(db)
    before = checksums(db, ("spend", "import_changes"))
    text = "month,amount,category,channel\n2025-01,10,sales,\n" + line + "\n"
    with pytest.raises(ImportRejected) as info:
        run_import([ImportFile("spend.csv", text.encode())], db, user="revops")
    problems = info.value.plan.to_dict()["problems"]
    assert problems[0]["file"] == "spend.csv"
    assert problems[0]["row"] == 3 and problems[0]["column"] == column
    assert problems[0]["value"] == value
    assert expected in problems[0]["expected"]
    assert "spend.csv" in str(info.value)
    assert checksums(db, ("spend", "import_changes")) == before
