"""environment.yml (conda) and pyproject.toml (pip) must declare the same runtime set."""
from __future__ import annotations

import re
import tomllib

import yaml

from s3audit.paths import PROJECT_ROOT

_REQ = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(.*?)\s*$")


def _parse(requirement: str) -> tuple[str, str]:
    match = _REQ.match(requirement)
    assert match, f"cannot parse requirement {requirement!r}"
    name, bound = match.groups()
    return name.lower().replace("_", "-"), bound.replace(" ", "")


def _pyproject_runtime() -> dict[str, str]:
    data = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    return dict(_parse(r) for r in data["project"]["dependencies"])


def _conda_runtime() -> tuple[dict[str, str], str]:
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())
    assert env["channels"][0] == "conda-forge"
    plain = [d for d in env["dependencies"] if isinstance(d, str)]
    python = next(d for d in plain if d.startswith("python"))
    deps = dict(_parse(d) for d in plain if not d.startswith(("python", "pip")) or d.startswith("pip "))
    return deps, python


def test_environment_yml_lists_the_same_runtime_dependencies_as_pyproject() -> None:
    pip_deps = _pyproject_runtime()
    conda_deps, _ = _conda_runtime()
    assert sorted(conda_deps) == sorted(pip_deps), (
        "environment.yml and pyproject.toml runtime dependencies drifted: "
        f"only in pyproject: {sorted(set(pip_deps) - set(conda_deps))}, "
        f"only in environment.yml: {sorted(set(conda_deps) - set(pip_deps))}"
    )
    mismatched = {n: (pip_deps[n], conda_deps[n]) for n in pip_deps if pip_deps[n] != conda_deps[n]}
    assert not mismatched, f"version bounds differ (pyproject, environment.yml): {mismatched}"


def test_environment_yml_python_matches_requires_python() -> None:
    data = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    floor = data["project"]["requires-python"].removeprefix(">=")
    _, python = _conda_runtime()
    assert python.split("=")[-1].startswith(floor), (python, floor)


def test_environment_yml_installs_the_package_itself() -> None:
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())
    pip_block = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert any(line.startswith("-e .") for line in pip_block)
