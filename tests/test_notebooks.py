"""The notebooks are part of the product: committed clean, thin, and they run headless.

Every notebook is executed in order with papermill on the bundled samples (offline, dry run),
each step handing its results to the next through one temporary Workspace.
"""
from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path

import pytest

from s3audit.paths import NOTEBOOKS_DIR, PROJECT_ROOT

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
EXPECTED = ["01_pull_events", "02_access_sources", "03_design_filter", "04_deploy_alarm"]


def _code_cells(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def test_all_four_notebooks_exist() -> None:
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


def test_committed_notebooks_carry_no_outputs() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "*.ipynb"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert tracked, "no notebook is tracked by git"
    dirty = []
    for name in tracked:
        for cell in _code_cells(PROJECT_ROOT / name):
            if cell.get("outputs") or cell.get("execution_count") is not None:
                dirty.append(name)
                break
    assert not dirty, f"strip outputs before committing (nbstripout): {dirty}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_thin_and_parameterised(path: Path) -> None:
    cells = _code_cells(path)
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: needs exactly one cell tagged 'parameters'"
    params = ast.parse(_source(tagged[0]))
    assert "WORKDIR" in {t.id for n in params.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    for cell in cells:
        source = "\n".join(
            line for line in _source(cell).splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        tree = ast.parse(source)
        logic = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef, ast.Try, ast.Lambda))]
        assert not logic, f"{path.name}: logic belongs in the package, found {type(logic[0]).__name__} in:\n{source}"


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    papermill = pytest.importorskip("papermill")
    workdir = tmp_path_factory.mktemp("work")
    outdir = tmp_path_factory.mktemp("executed")
    done: dict[str, Path] = {}
    for path in NOTEBOOKS:
        out = outdir / path.name
        papermill.execute_notebook(
            str(path), str(out), parameters={"WORKDIR": str(workdir)},
            cwd=str(NOTEBOOKS_DIR), kernel_name="python3", progress_bar=False,
        )
        done[path.stem] = out
    done["__workdir__"] = workdir
    return done


@pytest.mark.notebook
@pytest.mark.parametrize("stem", EXPECTED)
def test_notebook_runs_headless_without_errors(executed: dict[str, Path], stem: str) -> None:
    cells = _code_cells(executed[stem])
    errors = [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    assert all(c.get("execution_count") for c in cells), f"{stem}: a cell did not run"


@pytest.mark.notebook
def test_notebooks_hand_over_through_the_workspace(executed: dict[str, Path]) -> None:
    workdir = executed["__workdir__"]
    produced = {p.name for p in workdir.iterdir()}
    assert "events.parquet" in produced, produced
    assert any(name.startswith("design") for name in produced), produced
