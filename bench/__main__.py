"""``python -m bench`` (``make bench``): run every ``bench/bench_*.py`` module's ``main``."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path


def main() -> None:
    """Import each bench_* module in name order and call its ``main()``."""
    folder = Path(__file__).parent
    names = sorted(
        m.name for m in pkgutil.iter_modules([str(folder)]) if m.name.startswith("bench_")
    )
    for name in names:
        print(f"=== {name} ===")
        importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main()
