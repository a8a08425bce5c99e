"""Workspace: the hand-over folder between notebooks."""
from __future__ import annotations

import pandas as pd
import pytest

from s3audit.workspace import Workspace


def test_frame_round_trip_keeps_rows_dtypes_and_attrs_with_timestamps(tmp_path) -> None:
    ws = Workspace(tmp_path)
    frame = pd.DataFrame({"eventName": pd.Categorical(["GetObject", "PutObject"]), "n": [1, 2]})
    frame.attrs["coverage"] = [{"start": pd.Timestamp("2026-11-01", tz="UTC"), "rows": 2}]
    ws.save_frame("events", frame)
    back = ws.load_frame("events")
    pd.testing.assert_frame_equal(back, frame, check_categorical=False)
    assert back.attrs["coverage"][0]["rows"] == 2
    assert back.attrs["coverage"][0]["start"].startswith("2026-11-01")


def test_missing_artefact_is_a_clear_file_not_found(tmp_path) -> None:
    ws = Workspace(tmp_path)
    assert not ws.has("events.parquet")
    with pytest.raises(FileNotFoundError):
        ws.load_frame("events")


def test_environment_variable_chooses_the_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("S3AUDIT_WORKDIR", str(tmp_path / "w"))
    ws = Workspace()
    ws.save_json("design", {"pattern": "{ $.a = 1 }"})
    assert (tmp_path / "w" / "design.json").exists()
    assert ws.load_json("design") == {"pattern": "{ $.a = 1 }"}
