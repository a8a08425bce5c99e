"""Backtest: the metric filter + alarm replayed against hand-computed periods."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from s3audit.backtesting import (
    BacktestError,
    _next_state,
    alarm_events,
    backtest,
    plot_backtest,
)

T0 = pd.Timestamp("2024-03-01T00:00:00Z")


def frame(spec: list[tuple[float, bool]], **extra: list) -> tuple[pd.DataFrame, pd.Series]:
    """Events at ``minutes`` after T0 with a match flag each; returns (events, mask)."""
    times = [T0 + pd.Timedelta(minutes=m) for m, _ in spec]
    events = pd.DataFrame({"eventTime": times, "eventID": [f"e{i}" for i in range(len(spec))],
                           **extra})
    return events, pd.Series([hit for _, hit in spec], index=events.index)


def test_one_row_per_period_with_sums_and_default_value():
    # periods of 5 min: [0,5) 2 matches + 1 other, [5,10) nothing, [10,15) 1 other, [15,20) 1 match
    events, mask = frame([(0.5, True), (1, False), (4.9, True), (12, False), (19, True)])
    r = backtest(mask, events, period=300)
    assert list(r["period_start"]) == [T0 + pd.Timedelta(minutes=5 * k) for k in range(4)]
    assert list(r["events"]) == [3, 0, 1, 1]
    assert list(r["matches"]) == [2, 0, 0, 1]
    assert r["value"].tolist()[0] == 2.0 and np.isnan(r["value"][1])
    assert r["value"].tolist()[2:] == [0.0, 1.0]  # the quiet period gets the default value 0
    assert list(r["datapoint"]) == [True, False, True, True]
    assert list(r["breaching"].astype(object)) == [True, pd.NA, False, True]
    # period 1 is missing: the most recent real datapoint (period 0, breaching) still decides
    assert list(r["state"]) == ["ALARM", "ALARM", "OK", "ALARM"]
    alarms = r.attrs["alarms"]
    assert [a["time"] for a in alarms] == [T0 + pd.Timedelta(minutes=5), T0 + pd.Timedelta(minutes=20)]
    assert [a["events"] for a in alarms] == [["e0", "e2"], ["e4"]]
    assert [a["value"] for a in alarms] == [2.0, 1.0]
    assert r.attrs["matched"] == 3


def test_without_default_value_quiet_periods_are_missing():
    events, mask = frame([(0, True), (7, False), (12, False), (22, True)])
    r = backtest(mask, events, period=300, default_value=None, evaluation_range=1)
    assert list(r["datapoint"]) == [True, False, False, False, True]
    # evaluation range of one period: missing -> notBreaching -> OK
    assert list(r["state"]) == ["ALARM", "OK", "OK", "OK", "ALARM"]
    assert len(r.attrs["alarms"]) == 2


def test_periods_align_to_epoch_multiples():
    events, mask = frame([(3, True), (4, True)])
    r = backtest(mask, events, period=600)
    assert r["period_start"][0] == T0  # 00:03 falls in [00:00, 00:10)
    assert r["matches"].tolist() == [2]


def test_m_of_n_needs_m_breaching_of_the_last_n():
    # N=3, M=2, one datapoint per 5 minutes: X 0 X 0 0 X X
    flags = [True, False, True, False, False, True, True]
    events, mask = frame([(5 * k + 1, hit) for k, hit in enumerate(flags)])
    r = backtest(mask, events, evaluation_periods=3, datapoints_to_alarm=2)
    # windows: [X] fill 2 notBreaching -> OK; [X0] -> OK; [X0X] -> ALARM; [0X0] OK; [X00] OK;
    # [00X] OK; [0XX] ALARM
    assert list(r["state"]) == ["OK", "OK", "ALARM", "OK", "OK", "OK", "ALARM"]
    assert [a["events"] for a in r.attrs["alarms"]] == [["e0", "e2"], ["e5", "e6"]]


def test_threshold_and_comparison():
    events, mask = frame([(0, True), (1, True), (6, True)])
    r = backtest(mask, events, threshold=2)
    assert list(r["state"]) == ["ALARM", "OK"]
    r = backtest(mask, events, threshold=2, comparison="GreaterThanThreshold")
    assert list(r["state"]) == ["OK", "OK"]
    r = backtest(mask, events, threshold=2, comparison="LessThanThreshold")
    assert list(r["state"]) == ["OK", "ALARM"]


def test_metric_value_from_a_field_and_events_without_it():
    events, mask = frame([(0, True), (1, True), (2, True), (6, True)],
                         **{"additionalEventData.bytesTransferredOut": [100.0, None, 50.0, 10.0]})
    r = backtest(mask, events, metric_value="$.additionalEventData.bytesTransferredOut",
                 threshold=120)
    assert r["value"].tolist() == [150.0, 10.0]
    assert list(r["state"]) == ["ALARM", "OK"]
    assert r.attrs["matched_without_value"] == 1  # counted as matched, published nothing
    assert r["matches"].tolist() == [3, 1]


# The user guide's example tables ("How alarm state is evaluated when data is missing",
# awsdocs/amazon-cloudwatch-user-guide doc_source/AlarmThatSendsEmail.md): an evaluation range of
# 5 datapoints, oldest first; 0 = not breaching, X = breaching, - = missing. Columns: MISSING,
# IGNORE ("keep" = retain the current state), BREACHING, NOT BREACHING.
DOCUMENTED_TABLES = {
    (3, 3): [
        ("0-X-X", "OK", "OK", "OK", "OK"),
        ("0----", "OK", "OK", "OK", "OK"),
        ("-----", "INSUFFICIENT_DATA", "keep", "ALARM", "OK"),
        ("0XX-X", "ALARM", "ALARM", "ALARM", "ALARM"),
        ("----X", "INSUFFICIENT_DATA", "keep", "ALARM", "OK"),
    ],
    (2, 3): [  # M = 2 of N = 3
        ("0-X-X", "ALARM", "ALARM", "ALARM", "ALARM"),
        ("00X0X", "ALARM", "ALARM", "ALARM", "ALARM"),
        ("0-X--", "OK", "OK", "ALARM", "OK"),
        ("----0", "OK", "OK", "ALARM", "OK"),
        ("----X", "INSUFFICIENT_DATA", "keep", "ALARM", "OK"),
    ],
}
TABLE_CASES = [
    pytest.param(m, n, window, treat, previous,
                 previous if expected == "keep" else expected, id=f"{m}of{n}-{window}-{treat}-{previous}")
    for (m, n), rows in DOCUMENTED_TABLES.items()
    for window, *states in rows
    for treat, expected in zip(("missing", "ignore", "breaching", "notBreaching"), states)
    for previous in ("OK", "ALARM", "INSUFFICIENT_DATA")
]


@pytest.mark.parametrize("m, n, window, treat, previous, expected", TABLE_CASES)
def test_missing_data_rules_reproduce_the_documented_tables(m, n, window, treat, previous,
                                                            expected):
    points = [None if c == "-" else (5.0 if c == "X" else 0.0) for c in window]
    state, _ = _next_state(previous, points, n=n, m=m, treat_missing=treat,
                           breaches=lambda v: v >= 1)
    assert state == expected


def test_missing_data_decision_does_not_depend_on_where_the_real_datapoints_are():
    # the rule counts real datapoints; it must not care which slots of the range they occupy
    for window in ("X----", "--X--", "----X"):
        points = [None if c == "-" else 5.0 for c in window]
        for treat, expected in (("missing", "INSUFFICIENT_DATA"), ("ignore", "OK")):
            state, _ = _next_state("OK", points, n=3, m=3, treat_missing=treat,
                                   breaches=lambda v: v >= 1)
            assert state == expected, (window, treat)


def test_treat_missing_end_to_end_over_a_gap():
    # X at period 0, then four empty periods, then a quiet (0) period; N=M=1, range 3
    events, mask = frame([(1, True), (26, False)])
    expected = {
        # periods 1-2 still see the breaching datapoint of period 0 within the range of 3
        "notBreaching": ["ALARM", "ALARM", "ALARM", "OK", "OK", "OK"],
        "breaching": ["ALARM", "ALARM", "ALARM", "ALARM", "ALARM", "OK"],
        "ignore": ["ALARM", "ALARM", "ALARM", "ALARM", "ALARM", "OK"],
        "missing": ["ALARM", "ALARM", "ALARM", "INSUFFICIENT_DATA", "INSUFFICIENT_DATA", "OK"],
    }
    for treat, states in expected.items():
        r = backtest(mask, events, treat_missing=treat)
        assert list(r["state"]) == states, treat
        assert len(r.attrs["alarms"]) == 1


def test_breaching_missing_data_alarms_before_any_match():
    events, mask = frame([(1, False), (16, False)])
    r = backtest(mask, events, treat_missing="breaching", evaluation_range=1)
    assert list(r["state"]) == ["OK", "ALARM", "ALARM", "OK"]
    assert r.attrs["alarms"][0]["events"] == []  # fired on missing data, no event behind it


def test_start_and_end_extend_the_window():
    events, mask = frame([(12, True)])
    r = backtest(mask, events, start=T0, end=T0 + pd.Timedelta(minutes=30), default_value=None,
                 treat_missing="missing")
    assert len(r) == 6
    assert list(r["state"]) == ["INSUFFICIENT_DATA", "INSUFFICIENT_DATA", "ALARM", "ALARM",
                                "ALARM", "INSUFFICIENT_DATA"]


def test_events_without_time_are_counted_not_silently_dropped():
    events, mask = frame([(1, True), (2, True)])
    events.loc[1, "eventTime"] = pd.NaT
    r = backtest(mask, events)
    assert r.attrs["skipped_no_time"] == 1
    assert r["matches"].tolist() == [1]


def test_empty_history():
    events = pd.DataFrame({"eventTime": pd.Series([], dtype="datetime64[ns, UTC]"),
                           "eventID": pd.Series([], dtype=str)})
    r = backtest(pd.Series([], dtype=bool), events)
    assert len(r) == 0 and r.attrs["alarms"] == []


@pytest.mark.parametrize("kwargs, message", [
    ({"period": 45}, "period"),
    ({"period": 90}, "multiple of 60"),
    ({"evaluation_periods": 0}, "evaluation_periods"),
    ({"evaluation_periods": 2, "datapoints_to_alarm": 3}, "datapoints_to_alarm"),
    ({"treat_missing": "notbreaching"}, "treat_missing"),
    ({"comparison": ">="}, "comparison"),
    ({"metric_value": "bytes"}, "metric_value"),
    ({"evaluation_range": 0, "evaluation_periods": 2, "datapoints_to_alarm": 1}, "evaluation_range"),
])
def test_invalid_settings_are_named(kwargs, message):
    events, mask = frame([(1, True)])
    with pytest.raises(BacktestError, match=message):
        backtest(mask, events, **kwargs)


def test_mask_must_fit_the_events():
    events, _ = frame([(1, True), (2, False)])
    with pytest.raises(BacktestError, match="shape"):
        backtest(np.array([True]), events)
    with pytest.raises(BacktestError, match="aligned"):
        backtest(pd.Series([True, False], index=[5, 6]), events)


def test_alarm_events_and_plot():
    events, mask = frame([(1, True), (2, False), (11, True), (16, False), (21, True)])
    r = backtest(mask, events, evaluation_range=1)
    rows = alarm_events(r, events)
    # ALARM, OK (missing, range of one period), ALARM, OK (0), ALARM
    assert list(r["state"]) == ["ALARM", "OK", "ALARM", "OK", "ALARM"]
    assert rows[["alarm", "eventID"]].values.tolist() == [[1, "e0"], [2, "e2"], [3, "e4"]]
    ax = plot_backtest(r)
    alarm_fill = [c for c in ax.collections if c.get_label() == "ALARM"]
    assert len(alarm_fill) == 1 and len(alarm_fill[0].get_paths()) == 3  # three ALARM runs
    assert ax.get_title() == "Alarm backtest: 3 alarms"
    assert any(line.get_ydata()[0] == 1 for line in ax.get_lines())  # the threshold line


def test_always_ingesting_gives_every_period_a_datapoint():
    # X, nothing, X: with only these events the gap is missing and the look-back keeps ALARM;
    # a log group that ingests every minute reports 0 there, so the alarm fires twice
    events, mask = frame([(1, True), (11, True)])
    sparse = backtest(mask, events)
    assert list(sparse["state"]) == ["ALARM", "ALARM", "ALARM"] and len(sparse.attrs["alarms"]) == 1
    busy = backtest(mask, events, always_ingesting=True)
    assert list(busy["datapoint"]) == [True, True, True]
    assert busy["value"].tolist() == [1.0, 0.0, 1.0]
    assert list(busy["state"]) == ["ALARM", "OK", "ALARM"] and len(busy.attrs["alarms"]) == 2
    # a non-zero default value is published once per quiet minute
    ticks = backtest(mask, events, always_ingesting=True, default_value=0.5, threshold=100)
    assert ticks["value"].tolist() == [1.0 + 4 * 0.5, 5 * 0.5, 1.0 + 4 * 0.5]
