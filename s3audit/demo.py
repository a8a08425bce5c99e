"""The whole investigation headless: notebooks 01–04 with papermill, then the shared report.

``run_pipeline`` executes the notebooks in order, each with ``WORKDIR`` pointing at one
workspace folder so they hand over through it (01 ``events`` -> 02 ``classified`` -> 03
``design`` / ``alarm-spec`` -> 04 ``deploy-plan``; 04 always as a dry run), writes the executed
notebooks next to the report, and renders ``report.html`` from the workspace
(:func:`s3audit.report.build_report`). ``s3audit demo`` and ``make demo`` run it on the bundled
samples; ``s3audit report`` on samples or a log group.

The executed notebooks keep their outputs *unredacted* (they are the author's working copy);
only the HTML report is meant to be shared.

Examples
--------
>>> from s3audit.demo import run_pipeline              # doctest: +SKIP
>>> result = run_pipeline("reports")                   # doctest: +SKIP
>>> print("\\n".join(result.summary_lines()))           # doctest: +SKIP
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s3audit.paths import NOTEBOOKS_DIR
from s3audit.report import ReportResult, build_report

log = logging.getLogger(__name__)

__all__ = ["NOTEBOOKS", "NotebookRun", "PipelineError", "PipelineResult", "run_notebooks",
           "run_pipeline"]

NOTEBOOKS = ("01_pull_events", "02_access_sources", "03_design_filter", "04_deploy_alarm")
# parameters forced on notebook 04: the demo and the report never change an AWS account
SAFE_PARAMETERS: dict[str, dict[str, Any]] = {"04_deploy_alarm": {"DRY_RUN": True}}


class PipelineError(RuntimeError):
    """A notebook failed; ``notebook`` names it and ``output`` is the executed copy to open."""

    def __init__(self, message: str, *, notebook: str, output: Path | None) -> None:
        super().__init__(message)
        self.notebook = notebook
        self.output = output


@dataclass
class NotebookRun:
    """One executed notebook."""

    notebook: str
    status: str  # "ok", "missing", "failed"
    seconds: float = 0.0
    output: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"notebook": self.notebook, "status": self.status, "seconds": round(self.seconds, 1),
                "parameters": ", ".join(f"{k}={v!r}" for k, v in self.parameters.items()
                                        if k != "WORKDIR") or "(defaults)"}


@dataclass
class PipelineResult:
    """What :func:`run_pipeline` did: the notebook runs and the report."""

    runs: list[NotebookRun]
    report: ReportResult
    workdir: Path

    @property
    def problems(self) -> list[str]:
        """What the report could not render (see :attr:`ReportResult.problems`)."""
        return self.report.problems

    @property
    def missing(self) -> list[str]:
        return [r.notebook for r in self.runs if r.status == "missing"]

    def summary_lines(self) -> list[str]:
        lines = [f"notebooks: " + ", ".join(f"{r.notebook} {r.status} ({r.seconds:.0f}s)" for r in self.runs)]
        if self.missing:
            lines.append("NOT RUN (notebook missing): " + ", ".join(self.missing))
        executed = [r.output for r in self.runs if r.output]
        if executed:
            lines.append(f"executed notebooks (unredacted, for you): {Path(executed[0]).parent}/")
        return lines + self.report.summary_lines()


def _declared_parameters(path: Path) -> set[str]:
    """Names assigned in the notebook's ``parameters`` cell."""
    import ast
    import json

    nb = json.loads(path.read_text())
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            tree = ast.parse(src)
            return {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
                    if isinstance(t, ast.Name)}
    return set()


def run_notebooks(out: str | os.PathLike[str], workdir: str | os.PathLike[str], *,
                  parameters: Mapping[str, Mapping[str, Any]] | None = None,
                  notebooks_dir: str | os.PathLike[str] = NOTEBOOKS_DIR,
                  kernel_name: str = "python3", progress: bool = True) -> list[NotebookRun]:
    """Execute notebooks 01–04 in order with papermill (the executed copies go to ``out``).

    Parameters
    ----------
    out : path
        Folder for the executed ``.ipynb`` files.
    workdir : path
        The Workspace folder passed to every notebook as ``WORKDIR``.
    parameters : mapping notebook-stem -> {name: value}, optional
        Extra parameters per notebook; names a notebook does not declare are refused.
        Notebook 04 always runs with ``DRY_RUN=True``.

    Returns
    -------
    list of NotebookRun
        One per notebook, ``missing`` for a notebook not found.

    Raises
    ------
    PipelineError
        A notebook raised; the executed copy (with the traceback) is in ``out``.
    ValueError
        A parameter a notebook does not declare.
    """
    import papermill
    from tqdm.auto import tqdm

    out, workdir, folder = Path(out), Path(workdir), Path(notebooks_dir)
    out.mkdir(parents=True, exist_ok=True)
    workdir.mkdir(parents=True, exist_ok=True)
    runs: list[NotebookRun] = []
    for stem in tqdm(NOTEBOOKS, desc="notebooks", unit="nb", disable=not progress):
        path = folder / f"{stem}.ipynb"
        if not path.exists():
            log.warning("notebook %s is missing: skipped", path)
            runs.append(NotebookRun(stem, "missing"))
            continue
        params: dict[str, Any] = {"WORKDIR": str(workdir.resolve())}
        params.update((parameters or {}).get(stem, {}))
        params.update(SAFE_PARAMETERS.get(stem, {}))
        declared = _declared_parameters(path)
        unknown = sorted(set(params) - declared)
        if unknown:
            raise ValueError(f"{stem} has no parameter(s) {', '.join(unknown)} "
                             f"(it declares: {', '.join(sorted(declared))})")
        target = out / path.name
        started = time.perf_counter()
        try:
            papermill.execute_notebook(str(path), str(target), parameters=params, cwd=str(folder),
                                       kernel_name=kernel_name, progress_bar=False)
        except papermill.PapermillExecutionError as exc:
            runs.append(NotebookRun(stem, "failed", time.perf_counter() - started, str(target), params))
            raise PipelineError(f"notebook {stem} failed in cell {exc.exec_count}: {exc.ename}: "
                                f"{exc.evalue} (see {target})", notebook=stem, output=target) from exc
        runs.append(NotebookRun(stem, "ok", time.perf_counter() - started, str(target), params))
        log.info("ran %s in %.1fs", stem, runs[-1].seconds)
    return runs


def run_pipeline(out: str | os.PathLike[str], *, source: str | Sequence[str] = "samples",
                 start: str | None = None, end: str | None = None, profile: str | None = None,
                 redact: bool = True, key: bytes | str | None = None,
                 redaction: Mapping[str, Any] | None = None, progress: bool = True,
                 workdir: str | os.PathLike[str] | None = None) -> PipelineResult:
    """Run notebooks 01–04 headless and write the report into ``out``.

    Parameters
    ----------
    out : path
        Output folder: executed notebooks, ``work/`` (the workspace) and ``report.html``.
    source : str or list of str
        ``"samples"`` (default), a path, or CloudWatch Logs log group name(s) (then ``start`` and
        ``end`` are required; ``profile`` optional). Passed to notebook 01 as ``SOURCE``.
    redact : bool
        Shareable redacted report (default) or an internal unredacted one.
    key, redaction
        See :func:`s3audit.report.build_report`.

    Returns
    -------
    PipelineResult
    """
    out = Path(out)
    work = Path(workdir) if workdir else out / "work"
    is_logs = source != "samples" and not (isinstance(source, str) and Path(source).exists())
    if is_logs and not (start and end):
        raise ValueError("a log group needs a window: start and end (ISO times with a zone)")
    first: dict[str, Any] = {"SOURCE": list(source) if not isinstance(source, str) else source}
    if start:
        first["START"] = start
    if end:
        first["END"] = end
    if profile:
        first["PROFILE"] = profile
    params: dict[str, dict[str, Any]] = {"01_pull_events": first}
    if is_logs:  # the metric filter goes on the log group the events came from (the first one)
        params["03_design_filter"] = {"LOG_GROUP": source if isinstance(source, str) else list(source)[0]}
    if profile:
        params["02_access_sources"] = {"PROFILE": profile}
        params["04_deploy_alarm"] = {"PROFILE": profile}
    runs = run_notebooks(out, work, parameters=params, progress=progress)
    if isinstance(source, str) and source == "samples":
        description = "bundled samples (data/samples/events.jsonl.gz), read by notebook 01"
    elif is_logs:
        groups = [source] if isinstance(source, str) else list(source)
        description = f"CloudWatch Logs {', '.join(groups)} from {start} to {end} (Logs Insights pull)"
    else:
        description = f"{source}"
    report = build_report(work, out, redact=redact, key=key, redaction=redaction,
                          pipeline=[r.to_dict() for r in runs], data_source=description)
    if any(r.status == "missing" for r in runs):
        report.problems.append("notebooks not run (missing): "
                               + ", ".join(r.notebook for r in runs if r.status == "missing"))
    return PipelineResult(runs=runs, report=report, workdir=work)
