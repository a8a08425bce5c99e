"""s3audit test-pattern: output, exit status 0 on a valid pattern, 2 on PatternError."""
from __future__ import annotations

import json

from s3audit.cli import main


def _events(tmp_path):
    path = tmp_path / "events.jsonl"
    base = {"eventVersion": "1.09", "eventSource": "s3.amazonaws.com", "eventCategory": "Data",
            "managementEvent": False, "eventTime": "2026-11-02T10:00:00Z", "sourceIPAddress": "192.0.2.1",
            "requestParameters": {"bucketName": "b", "key": "k"}}
    rows = [
        dict(base, eventID="e1", eventName="GetObject", vpcEndpointId="vpce-1",
             additionalEventData={"bytesTransferredOut": 100}),
        dict(base, eventID="e2", eventName="GetObject", additionalEventData={"bytesTransferredOut": 5000}),
        dict(base, eventID="e3", eventName="PutObject", vpcEndpointId="vpce-2"),
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_valid_pattern(tmp_path, capsys):
    path = _events(tmp_path)
    rc = main(["test-pattern", '{ $.eventName = "GetObject" && $.vpcEndpointId != "vpce-2" }', str(path),
               "--metric-value", "$.additionalEventData.bytesTransferredOut"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "matches   : 1 of 3 events (33.3%)" in out
    assert "sum of $.additionalEventData.bytesTransferredOut = 100" in out
    assert '        2  $.eventName = "GetObject"' in out
    assert '        1  $.vpcEndpointId != "vpce-2"' in out
    assert '"eventID":"e1"' in out and '"eventID":"e2"' not in out
    assert "[ne-missing]" in out and "(1 of 3 events)" in out


def test_term_pattern_counts(tmp_path, capsys):
    rc = main(["test-pattern", "GetObject -vpce", str(_events(tmp_path)), "--show", "0"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "matches   : 1 of 3 events" in out
    assert "        2  GetObject" in out


def test_invalid_pattern_exits_2_with_a_caret(tmp_path, capsys):
    rc = main(["test-pattern", "{ $.a IS NOT NULL }", str(_events(tmp_path))])
    err = capsys.readouterr().err
    assert rc == 2
    assert "IS NOT is not supported" in err
    assert "        ^^^^^^" in err


def test_unloadable_input_exits_1(tmp_path, capsys):
    rc = main(["test-pattern", "{ $.a = 1 }", str(tmp_path / "missing.jsonl")])
    assert rc == 1
    assert "cannot load events" in capsys.readouterr().err


def test_events_the_loader_left_out_are_reported(tmp_path, capsys):
    """'matches: 0 of 0 events' for a file whose only event is not an S3 data event said nothing
    about why; the counts the loader left out (and the bad lines it skipped) are printed."""
    path = tmp_path / "iam.jsonl"
    iam = {"eventVersion": "1.09", "eventSource": "iam.amazonaws.com", "eventName": "ListUsers",
           "eventTime": "2026-11-02T10:00:00Z", "eventID": "i1"}
    path.write_text(json.dumps(iam) + "\n{not json\n")
    assert main(["test-pattern", '{ $.eventName = "ListUsers" }', str(path)]) == 0
    out = capsys.readouterr().out
    assert "matches   : 0 of 0 events" in out
    assert "left out  : 1 non s3, 1 unreadable input(s) skipped; --all-events keeps" in out
    assert main(["test-pattern", '{ $.eventName = "ListUsers" }', str(path), "--all-events"]) == 0
    out = capsys.readouterr().out
    assert "matches   : 1 of 1 events" in out and "left out  : 1 unreadable input(s) skipped\n" in out
    assert main(["test-pattern", '{ $.eventName = "GetObject" }', str(_events(tmp_path))]) == 0
    assert "left out" not in capsys.readouterr().out  # nothing left out, nothing said
