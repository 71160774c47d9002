"""The caps every upload is read within (docs/import.md, "Caps")."""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class ReadLimits:
    """Caps applied before and while reading; defaults come from db.config."""

    max_bytes: int = 50 * MB
    max_rows: int = 2_000_000
    max_unzipped_bytes: int = 1024 * MB
    max_ratio: float = 200.0
    max_zip_entries: int = 1_000
    max_cells: int = 40_000_000
    max_columns: int = 2_000
    max_header_chars: int = MB
    """Characters in a CSV's header line: a longer first line is not a header."""

    @classmethod
    def from_config(cls) -> ReadLimits:
        """Limits from the environment (ICP_UPLOAD_MAX_MB, ICP_MAX_ROWS)."""
        from db.config import get_config

        cfg = get_config()
        return cls(max_bytes=cfg.icp_upload_max_mb * MB, max_rows=cfg.icp_max_rows)


def size_text(n: int) -> str:
    """A byte count in words: ``1.5 MB`` from a megabyte up, else ``2,000 bytes``."""
    return f"{n / MB:.1f} MB" if n >= MB else f"{n:,} bytes"
