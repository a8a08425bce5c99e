"""Run every ``benchmarks/bench_*.py`` (or the ones named): ``python -m benchmarks [name ...] [options]``.

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
    # benchmark names come first; everything after them goes to each benchmark's own parser
    wanted = []
    while argv and argv[0] in names:
        wanted.append(argv.pop(0))
    rc = 0
    for name in wanted or sorted(names):
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name} ==", flush=True)
        rc |= int(module.main(list(argv)) or 0)
    return rc


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
