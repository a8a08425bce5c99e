"""``s3audit pull`` end to end against the fake service (real polling, small data)."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from s3audit.cli import main
from _insights_support import GROUP, T0, fake_service, load, truth_ids


@pytest.fixture()
def aws_env(monkeypatch):
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def test_pull_writes_parquet_and_counts_write_csv(tmp_path, aws_env, capsys) -> None:
    with fake_service(max_limit=100_000, page_size=10_000) as fake:
        msgs = load(fake, 300, T0, T0 + timedelta(hours=2), seed=1)
        out = tmp_path / "events.parquet"
        rc = main(["pull", "--log-group", GROUP, "--start", "2026-10-01T00:00Z", "--end", "2026-10-01T02:00:00+00:00",
                   "--endpoint-url", fake.endpoint_url, "--out", str(out), "--no-progress"])
        assert rc == 0
        df = pd.read_parquet(out)
        assert set(df["eventID"]) == truth_ids(msgs, T0, T0 + timedelta(hours=2))
        assert "complete: True" in capsys.readouterr().out
        csv = tmp_path / "counts.csv"
        rc = main(["pull", "--log-group", GROUP, "--start", "2026-10-01T00:00Z", "--end", "2026-10-01T02:00Z",
                   "--endpoint-url", fake.endpoint_url, "--count-by", "eventName", "--out", str(csv), "--no-progress"])
        assert rc == 0
        counts = pd.read_csv(csv)
        assert counts["count"].sum() == len(df) and set(counts.columns) == {"eventName", "count"}


def test_pull_refuses_times_without_zone_and_reports_aws_errors(tmp_path, aws_env, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["pull", "--log-group", GROUP, "--start", "2026-10-01T00:00", "--end", "2026-10-02T00:00Z"])
    assert info.value.code == 2
    assert "no time zone" in capsys.readouterr().err
    with fake_service() as fake:
        load(fake, 10, T0, T0 + timedelta(hours=1))
        rc = main(["pull", "--log-group", "missing-group", "--start", "2026-10-01T00:00Z", "--end",
                   "2026-10-01T01:00Z", "--endpoint-url", fake.endpoint_url, "--no-progress",
                   "--out", str(tmp_path / "x.parquet")])
        assert rc == 2
        assert "missing-group" in capsys.readouterr().err
        assert not (tmp_path / "x.parquet").exists()
