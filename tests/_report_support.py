"""Shared, run-once fixtures for the report and demo tests.

The full pipeline (notebooks 01-04 with papermill + the report) takes about a minute, so it is run
once per test process through the real CLI (``s3audit demo --out DIR``) and shared by
tests/test_report*.py and tests/test_demo*.py.
"""
from __future__ import annotations

import atexit
import contextlib
import io
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from s3audit.paths import SAMPLES_DIR


@dataclass(frozen=True)
class DemoRun:
    out: Path
    exit_code: int
    stdout: str
    stderr: str

    @property
    def html(self) -> str:
        return (self.out / "report.html").read_text(encoding="utf-8")

    @property
    def work(self) -> Path:
        return self.out / "work"


@lru_cache(maxsize=1)
def demo_run() -> DemoRun:
    """Run ``s3audit demo --out <tmp>`` once per process (with a fixed key: stable tokens)."""
    from s3audit.cli import main

    out = Path(tempfile.mkdtemp(prefix="s3audit-demo-"))
    atexit.register(shutil.rmtree, out, True)
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["demo", "--out", str(out), "--key", "test-key"])
    return DemoRun(out, code, stdout.getvalue(), stderr.getvalue())


@lru_cache(maxsize=1)
def sample_events() -> pd.DataFrame:
    """The bundled samples, classified (cached: read-only use)."""
    from s3audit import classify, load_events

    return classify(load_events(SAMPLES_DIR / "events.jsonl.gz"))
