"""Benchmarks run as scripts read their command line (``python benchmarks/bench_pull.py --fresh 5``)."""
from __future__ import annotations

import importlib
import sys

import pytest


@pytest.mark.parametrize("name", ["bench_pull", "bench_pattern", "bench_classify", "bench_load"])
def test_main_without_argv_reads_the_command_line(monkeypatch, capsys, name: str) -> None:
    module = importlib.import_module(f"benchmarks.{name}")
    monkeypatch.setattr(sys, "argv", [f"{name}.py", "--help"])
    with pytest.raises(SystemExit) as info:  # (ignoring the command line would start the benchmark)
        module.main()
    assert info.value.code == 0 and "usage:" in capsys.readouterr().out
