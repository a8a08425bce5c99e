"""Hand-over between notebooks: each step saves what the next one reads.

Notebooks take a ``WORKDIR`` parameter (default ``reports/work`` in the checkout, or the
``S3AUDIT_WORKDIR`` environment variable). Frames are stored as parquet, documents as JSON or
YAML. Nothing here talks to AWS.

Examples
--------
>>> import tempfile, pandas as pd
>>> ws = Workspace(tempfile.mkdtemp())
>>> _ = ws.save_json("design", {"pattern": "{ $.eventName = \\"GetObject\\" }"})
>>> ws.load_json("design")["pattern"]
'{ $.eventName = "GetObject" }'
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pandas as pd

from s3audit.paths import PROJECT_ROOT

log = logging.getLogger(__name__)

DEFAULT_WORKDIR = PROJECT_ROOT / "reports" / "work"


class Workspace:
    """A folder where the investigation's steps leave their results for the next step."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        chosen = path or os.environ.get("S3AUDIT_WORKDIR") or DEFAULT_WORKDIR
        self.path = Path(chosen).expanduser().resolve()

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"

    def file(self, name: str) -> Path:
        """The path of an artefact (the folder is created on demand)."""
        self.path.mkdir(parents=True, exist_ok=True)
        return self.path / name

    def has(self, name: str) -> bool:
        return (self.path / name).exists()

    # frames ---------------------------------------------------------------------------------
    def save_frame(self, name: str, frame: pd.DataFrame) -> Path:
        """Store a frame as ``<name>.parquet``; ``frame.attrs`` goes to ``<name>.attrs.json``."""
        target = self.file(f"{name}.parquet")
        # attrs go to their own JSON file: pandas would embed them in the parquet metadata and
        # fails there on values JSON cannot hold (timestamps in a coverage ledger, for example).
        bare = frame.copy(deep=False)
        bare.attrs = {}
        bare.to_parquet(target, index=False)
        attrs_file = self.file(f"{name}.attrs.json")
        attrs_file.write_text(json.dumps(frame.attrs, default=str, indent=1))
        log.info("saved %d rows to %s", len(frame), target)
        return target

    def load_frame(self, name: str) -> pd.DataFrame:
        """Read a frame saved by :meth:`save_frame` (``FileNotFoundError`` if absent)."""
        frame = pd.read_parquet(self.path / f"{name}.parquet")
        attrs_file = self.path / f"{name}.attrs.json"
        if attrs_file.exists():
            frame.attrs.update(json.loads(attrs_file.read_text()))
        return frame

    # documents ------------------------------------------------------------------------------
    def save_json(self, name: str, document: Any) -> Path:
        target = self.file(f"{name}.json")
        target.write_text(json.dumps(document, indent=2, default=str) + "\n")
        return target

    def load_json(self, name: str) -> Any:
        return json.loads((self.path / f"{name}.json").read_text())
