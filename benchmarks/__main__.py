"""Run every ``benchmarks/bench_*.py`` (or the ones named): ``python -m benchmarks [name ...]``.

Each benchmark module has ``main(argv) -> int`` and prints its own table.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = [m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_")]
    wanted = [a for a in argv if not a.startswith("-")] or names
    rc = 0
    for name in sorted(wanted):
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name} ==", flush=True)
        rc |= int(module.main([a for a in argv if a.startswith("-")]) or 0)
    return rc


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
