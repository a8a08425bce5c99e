"""Small helpers for notebook 04 and the CLI: which spec, which session, online or offline.

Kept here so the notebook stays free of logic.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s3audit.deploy.spec import DeploySpec, load_spec

if TYPE_CHECKING:  # pragma: no cover
    import boto3

log = logging.getLogger(__name__)

SPEC_ARTEFACT = "alarm-spec"  # what notebook 03 saves (Workspace.save_json / a .yaml next to it)


def example_spec_path() -> Path:
    from s3audit.paths import PACKAGE_DATA_DIR

    return PACKAGE_DATA_DIR / "example-alarm-spec.yaml"


def resolve_spec(spec: str | os.PathLike[str] | None = None, workdir: str | os.PathLike[str] | None = None) -> tuple[DeploySpec, str]:
    """The spec to deploy and where it came from.

    Order: an explicit path; else the workspace's ``alarm-spec.json`` / ``alarm-spec.yaml``
    (written by notebook 03); else the bundled example for the samples.

    Examples
    --------
    >>> spec, origin = resolve_spec(None, "/nonexistent")
    >>> origin.startswith("bundled example")
    True
    """
    if spec is not None:
        return load_spec(spec), str(spec)
    from s3audit.workspace import Workspace

    ws = Workspace(workdir)
    for name in (f"{SPEC_ARTEFACT}.json", f"{SPEC_ARTEFACT}.yaml", f"{SPEC_ARTEFACT}.yml"):
        if (ws.path / name).exists():
            return load_spec(ws.path / name), f"workspace {ws.path / name} (notebook 03)"
    path = example_spec_path()
    return load_spec(path), f"bundled example {path} (notebook 03 left no alarm-spec in {ws.path})"


def make_session(profile: str | None = None, region: str | None = None) -> boto3.Session:
    """A ``boto3.Session`` as boto3 reads the environment (``AWS_ENDPOINT_URL`` included).

    Parameters
    ----------
    profile, region : str, optional
        Override the profile and Region boto3 would pick (``AWS_PROFILE``, ``AWS_REGION``...).

    Examples
    --------
    >>> make_session(region="eu-west-1").region_name
    'eu-west-1'
    """
    import boto3

    return boto3.Session(profile_name=profile, region_name=region)


def offline_reason(session: Any, offline: bool | None = None, *, probe_timeout: float = 3.0) -> str | None:
    """Why a plan must be made offline, or None to read the account.

    ``offline=True`` -> always offline; ``False`` -> never; ``None`` (auto) -> offline when boto3
    finds no credentials or no region, or when the AWS endpoint cannot be reached (one quick
    ``sts:GetCallerIdentity`` probe). Any other AWS answer (e.g. invalid credentials) is raised:
    it is a problem to fix, not a reason to pretend.

    Examples
    --------
    >>> offline_reason(make_session(region="eu-west-1"), offline=True)
    'OFFLINE requested'
    """
    if offline is True:
        return "OFFLINE requested"
    if offline is False:
        return None
    if session.get_credentials() is None:
        return "no AWS credentials found (boto3's usual chain)"
    if not session.region_name:
        return "no AWS region configured"
    from botocore.config import Config
    from botocore.exceptions import ConnectionError as BotoConnectionError

    client = session.client("sts", config=Config(connect_timeout=probe_timeout, read_timeout=probe_timeout,
                                                 retries={"max_attempts": 1, "mode": "standard"}))
    try:
        client.get_caller_identity()
    except BotoConnectionError as exc:
        return f"AWS endpoint not reachable ({type(exc).__name__})"
    return None
