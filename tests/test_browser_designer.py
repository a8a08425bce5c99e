"""The real thing: notebook 03 in JupyterLab and in Voila, driven by headless Chromium.

Starts JupyterLab (or Voila) on 127.0.0.1 (a free port, a token, ``--no-browser``, a temporary
root holding a copy of notebook 03 and a temporary workspace), opens the notebook in Debian's
Chromium through Playwright (``executable_path``: Playwright never downloads a browser here), runs
all cells (Voila runs them while rendering), ticks one access source's checkbox in the designer and
checks that the pattern and the alert count shown change to exactly what the model computes for
the same choice.

Without Chromium the test is skipped, unless ``S3AUDIT_REQUIRE_BROWSER=1`` (CI), then it fails.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from s3audit.paths import NOTEBOOKS_DIR, PROJECT_ROOT

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
NOTEBOOK = "03_design_filter.ipynb"
TIMEOUT_MS = 180_000


def _unavailable(reason: str) -> None:
    if os.environ.get("S3AUDIT_REQUIRE_BROWSER") == "1":
        pytest.fail(f"S3AUDIT_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _chromium() -> str:
    for candidate in (shutil.which("chromium"), "/usr/bin/chromium", shutil.which("chromium-browser")):
        if candidate and os.path.exists(candidate):
            return candidate
    _unavailable("Debian's chromium is not installed (apt-get install chromium)")
    raise AssertionError("unreachable")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _copy_with_one_source_left_to_tick(source: Path, target: Path) -> None:
    """Copy notebook 03, leaving the EC2 source out of its default exclusions.

    The shipped defaults already exclude every legitimate source of the samples (what remains,
    the intrusion, is `external` and too varied to exclude within the quotas), so the browser
    has a source to tick only once one exclusion is left out of the starting state.
    """
    notebook = json.loads(source.read_text())
    cell = next(c for c in notebook["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    text = "".join(cell["source"])
    kept = [line for line in text.splitlines(keepends=True) if not line.lstrip().startswith('"ec2":')]
    assert len(kept) == len(text.splitlines()) - 1, "notebook 03 no longer excludes ec2 by default"
    cell["source"] = kept
    target.write_text(json.dumps(notebook))


@pytest.fixture(params=["jupyterlab", "voila"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict]:
    """JupyterLab or Voila on a free loopback port with a token, over a temporary root."""
    kind = request.param
    if kind == "voila":
        try:
            import voila  # noqa: F401
        except ImportError:
            _unavailable("voila is not installed (pip install -e '.[dev]')")
    root = tmp_path / "root"
    work = tmp_path / "work"
    root.mkdir()
    work.mkdir()
    _copy_with_one_source_left_to_tick(NOTEBOOKS_DIR / NOTEBOOK, root / NOTEBOOK)
    port = _free_port()
    token = os.urandom(16).hex()
    env = dict(os.environ)
    env.update({
        "S3AUDIT_WORKDIR": str(work),          # notebook 03's WORKDIR = None resolves here
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings"),
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT)] + [p for p in [env.get("PYTHONPATH")] if p]),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    })
    if kind == "jupyterlab":
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",  # never asks PyPI about extensions
        ]
        page = f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK}?token={token}"
    else:
        command = [
            sys.executable, "-m", "voila", "--no-browser", f"--port={port}",
            "--Voila.ip=127.0.0.1", f"--token={token}", "--show_tracebacks=True", NOTEBOOK,
        ]
        page = f"http://127.0.0.1:{port}/?token={token}"
    log_path = tmp_path / f"{kind}.log"
    log_file = log_path.open("w")
    proc = subprocess.Popen(command, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not _listening(port):
            if proc.poll() is not None:
                raise AssertionError(f"{kind} exited: {log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{kind} did not start: {log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield {"kind": kind, "page": page, "work": work, "root": root, "log": log_path}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the server and the kernels it started
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log_file.close()


def _wait_for(predicate, timeout: float, what: str, poll: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(poll)


def test_ticking_a_source_updates_pattern_and_alert_count_in_the_browser(server: dict) -> None:
    executable = _chromium()
    try:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright (the Python package) is not installed")

    from s3audit.design import FilterDesign, PatternQuotaError, design_events

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(server["page"])  # Voila runs every cell while it renders the page
            if server["kind"] == "jupyterlab":
                page.wait_for_selector(".jp-Notebook .jp-Cell")
                # a fresh JupyterLab may ask which kernel to start: take the notebook's (python3)
                try:
                    page.wait_for_selector(".jp-Dialog .jp-mod-accept", timeout=15_000)
                    page.click(".jp-Dialog .jp-mod-accept")
                except PlaywrightTimeout:
                    pass
                # the kernel must be up before "Run All Cells"
                page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
                page.click(".lm-MenuBar-item:has-text('Run')")
                page.click("li.lm-Menu-item[data-command='runmenu:run-all']")

            # the last cell writes the design: all cells ran
            design_file = server["work"] / "design.json"
            try:
                _wait_for(design_file.exists, TIMEOUT_MS / 1000, "notebook 03 to write design.json")
                page.wait_for_selector(".s3audit-designer .s3audit-pattern pre", state="attached")
            except (AssertionError, PlaywrightTimeout):
                page.screenshot(path=str(server["root"].parent / "failure.png"), full_page=True)
                raise AssertionError(
                    f"notebook 03 did not finish in {server['kind']}; page text: "
                    f"{page.inner_text('body')[:2000]}\nserver log: "
                    f"{server['log'].read_text()[-2000:]}") from None
            page.locator(".s3audit-designer").scroll_into_view_if_needed()
            shown_text = lambda: (page.text_content(".s3audit-pattern pre") or "").strip()  # noqa: E731

            events, _ = design_events(server["work"])
            model = FilterDesign.from_file(design_file, events)
            assert shown_text() == model.pattern
            count = page.get_attribute(".s3audit-alert-count [data-alerts]", "data-alerts")
            assert int(count) == len(model.alerts())

            # tick the first source that is not excluded yet, still has alerting reads, and can
            # be excluded within CloudWatch's quotas
            table = model.sources()
            before = model.pattern
            for label in table[(~table["excluded"]) & (table["alarming"] > 0)]["source"]:
                model.exclude_source(label, "ticked in the filter designer")
                try:
                    expected_pattern = model.pattern
                    break
                except PatternQuotaError:
                    model.remove(label)
            else:
                pytest.fail(f"no source can be ticked: {table.to_dict('records')}")
            expected_count = len(model.alerts())
            assert expected_pattern != before

            box = page.locator(f".s3audit-source-{label} input[type='checkbox']")
            box.scroll_into_view_if_needed()
            box.click()
            _wait_for(lambda: shown_text() == expected_pattern,
                      60, f"the pattern to show {label} excluded")
            _wait_for(lambda: page.get_attribute(".s3audit-alert-count [data-alerts]", "data-alerts")
                      == str(expected_count), 30, "the alert count to follow the pattern")
            assert expected_count < int(count)
            assert page.is_checked(f".s3audit-source-{label} input[type='checkbox']")
        finally:
            browser.close()
