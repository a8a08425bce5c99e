"""The README is the newcomer's manual: its Python example must run as written."""
from __future__ import annotations

import os
import re

import pytest

from s3audit.paths import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text()


def test_readme_shows_the_two_commands() -> None:
    assert "make demo" in README and "make test" in README


def test_readme_python_example_runs(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert blocks, "the README lost its Python example"
    monkeypatch.chdir(PROJECT_ROOT)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    plan_text = capsys.readouterr().out
    assert "offline" in plan_text.lower(), plan_text
    assert namespace["design"].alerts().shape[0] > 0


def test_readme_links_point_to_files() -> None:
    for target in re.findall(r"\]\(((?:docs|data)/[^)#]+)\)", README):
        assert (PROJECT_ROOT / target).exists(), target
