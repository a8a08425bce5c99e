"""Replay a metric filter and its CloudWatch alarm over history: "how often would it have fired?".

Metric filters are not retroactive (filter-pattern-spec.md section 8), so before deploying, the
only way to know how noisy an alarm is, is to replay it here:

1. **The metric filter.** Every event the pattern matches publishes one observation of the metric
   value (``"1"`` by default, or a number taken from the event with ``"$.path"``). A matching
   event whose referenced value is missing or not numeric counts as matched but publishes nothing
   (D-> OQ-22, spec section 11). In a minute in which logs were ingested but nothing matched, the
   filter publishes ``default_value`` (the deployed filter uses 0); with ``default_value=None``
   it publishes nothing. A minute without ingested logs publishes nothing.
2. **The metric.** The ``Sum`` statistic per ``period`` seconds; periods are aligned to multiples
   of ``period`` since the Unix epoch (D-> as GetMetricStatistics aligns them; the alarm's own
   alignment is not documented). A period without any datapoint is *missing*.
3. **The alarm**, evaluated at the end of each period as CloudWatch documents it (CloudWatch
   user guide, "Configuring how CloudWatch alarms treat missing data"): CloudWatch fetches an
   *evaluation range* of recent periods, longer than ``evaluation_periods`` (N).

   * If the range holds at least N real datapoints, the most recent N real datapoints decide,
     and ``treat_missing`` is not used: ALARM when at least ``datapoints_to_alarm`` (M) of them
     breach, else OK.
   * Otherwise the missing slots are filled, as few as possible, according to ``treat_missing``:
     ``breaching`` counts them as breaching, ``notBreaching`` as not breaching. ``missing``
     and ``ignore`` decide on the real datapoints of the range: ALARM when at least M of them
     breach, OK when one of them does not breach; otherwise (no real datapoint, or only
     breaching ones but fewer than M) ``missing`` goes to ``INSUFFICIENT_DATA`` and
     ``ignore`` keeps the current state.

   These rules reproduce every row of both example tables of the user guide's section "How
   alarm state is evaluated when data is missing" (N = M = 3 and M = 2 of N = 3, range of 5;
   awsdocs/amazon-cloudwatch-user-guide ``doc_source/AlarmThatSendsEmail.md``). One
   revision of that page also lists ``X - - - -`` as ALARM under ``missing`` while the same
   table lists ``- - - - X`` as INSUFFICIENT_DATA; no rule that ignores the datapoints'
   positions gives both; the other stored revision lists only the second (D-> followed here).
   The size of the evaluation range for other settings is not documented: D-> N + 2 periods,
   as in those examples (pass ``evaluation_range`` to change it). A new alarm starts in
   ``INSUFFICIENT_DATA``.

Examples
--------
>>> import pandas as pd
>>> events = pd.DataFrame({"eventTime": pd.to_datetime(
...     ["2024-01-01T00:01:00Z", "2024-01-01T00:07:00Z", "2024-01-01T00:12:00Z"]),
...     "eventID": ["a", "b", "c"]})
>>> result = backtest(pd.Series([True, False, True]), events, period=300)
>>> result[["matches", "value"]].to_dict("list")
{'matches': [1, 0, 1], 'value': [1.0, 0.0, 1.0]}
>>> list(result["state"])
['ALARM', 'OK', 'ALARM']
>>> [alarm["events"] for alarm in result.attrs["alarms"]]
[['a'], ['c']]
"""
from __future__ import annotations

import logging
import math
import operator
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "COMPARISONS",
    "STATES",
    "TREAT_MISSING",
    "BacktestError",
    "alarm_events",
    "alarms_frame",
    "backtest",
    "plot_backtest",
]

log = logging.getLogger(__name__)

STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
TREAT_MISSING = ("notBreaching", "breaching", "ignore", "missing")
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": operator.ge,
    "GreaterThanThreshold": operator.gt,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}
_COLUMNS = ["period_start", "period_end", "events", "matches", "value", "datapoint",
            "breaching", "state"]


class BacktestError(ValueError):
    """Invalid backtest input or alarm settings (the message names the setting)."""


def _mask_for(pattern: Any, events: pd.DataFrame) -> np.ndarray:
    """The rows the metric filter matches: a pattern text, a compiled pattern, or a mask."""
    if isinstance(pattern, str):
        from s3audit.pattern import compile_pattern

        pattern = compile_pattern(pattern)
    if not isinstance(pattern, (pd.Series, np.ndarray, list)) and callable(
        getattr(pattern, "mask", None)
    ):
        mask = pattern.mask(events)
    else:
        mask = pattern
    if isinstance(mask, pd.Series) and not mask.index.equals(events.index):
        raise BacktestError("the boolean mask is not aligned with the events' index")
    values = np.asarray(mask)
    if values.shape != (len(events),):
        raise BacktestError(f"the mask has shape {values.shape}, expected ({len(events)},)")
    if values.dtype != bool:
        if pd.isna(values).any():
            raise BacktestError("the mask holds missing values; it must be True/False per event")
        values = values.astype(bool)
    return values


def _metric_values(metric_value: str | float, events: pd.DataFrame) -> np.ndarray:
    """The number each event would publish (NaN where a referenced value is unusable)."""
    if isinstance(metric_value, (int, float)) and not isinstance(metric_value, bool):
        return np.full(len(events), float(metric_value))
    text = str(metric_value).strip()
    if not text.startswith("$"):
        try:
            return np.full(len(events), float(text))
        except ValueError:
            raise BacktestError(
                f"metric_value {metric_value!r} is neither a number nor a $.path reference"
            ) from None
    if not text.startswith("$."):
        raise BacktestError(
            f"metric_value {metric_value!r}: JSON patterns reference values as $.path"
        )
    column = text[2:].replace("[", ".").replace("]", "")
    if column not in events.columns:
        log.warning("metric_value %s: no column %r in the events; nothing is published", text, column)
        return np.full(len(events), np.nan)
    return pd.to_numeric(events[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _epoch_seconds(moment: Any) -> int:
    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return int(stamp.as_unit("ns").value // 10**9)


def _check_settings(period: int, threshold: float, evaluation_periods: int,
                    datapoints_to_alarm: int, treat_missing: str, comparison: str,
                    evaluation_range: int | None) -> int:
    if not isinstance(period, (int, np.integer)) or period < 10:
        raise BacktestError(f"period must be whole seconds >= 10, got {period!r}")
    if period >= 60 and period % 60:
        raise BacktestError(f"period must be 10, 20, 30 or a multiple of 60 seconds, got {period}")
    if period < 60 and period not in (10, 20, 30):
        raise BacktestError(f"period must be 10, 20, 30 or a multiple of 60 seconds, got {period}")
    if evaluation_periods < 1:
        raise BacktestError(f"evaluation_periods must be >= 1, got {evaluation_periods}")
    if not 1 <= datapoints_to_alarm <= evaluation_periods:
        raise BacktestError(
            f"datapoints_to_alarm must be between 1 and evaluation_periods "
            f"({evaluation_periods}), got {datapoints_to_alarm}"
        )
    if treat_missing not in TREAT_MISSING:
        raise BacktestError(f"treat_missing must be one of {TREAT_MISSING}, got {treat_missing!r}")
    if comparison not in COMPARISONS:
        raise BacktestError(f"comparison must be one of {tuple(COMPARISONS)}, got {comparison!r}")
    if not math.isfinite(float(threshold)):
        raise BacktestError(f"threshold must be a finite number, got {threshold!r}")
    span = evaluation_periods + 2 if evaluation_range is None else int(evaluation_range)
    if span < evaluation_periods:
        raise BacktestError(
            f"evaluation_range ({span}) must be at least evaluation_periods ({evaluation_periods})"
        )
    return span


def _next_state(previous: str, window: Sequence[float | None], *, n: int, m: int,
                treat_missing: str, breaches: Callable[[float], bool]) -> tuple[str, list[int]]:
    """One alarm evaluation over the evaluation range (oldest first; None = missing).

    Returns the new state and the offsets (into ``window``) of the breaching real datapoints
    that the decision used.
    """
    real = [(i, v) for i, v in enumerate(window) if v is not None]
    if len(real) >= n:
        used = real[-n:]
        hits = [i for i, v in used if breaches(v)]
        return ("ALARM" if len(hits) >= m else "OK"), hits
    hits = [i for i, v in real if breaches(v)]
    filled = n - len(real)
    if treat_missing == "breaching":
        return ("ALARM" if len(hits) + filled >= m else "OK"), hits
    if treat_missing == "notBreaching":
        return ("ALARM" if len(hits) >= m else "OK"), hits
    # "missing" and "ignore": the real datapoints decide when they can
    if len(hits) >= m:
        return "ALARM", hits
    if len(hits) < len(real):
        return "OK", hits
    return ("INSUFFICIENT_DATA" if treat_missing == "missing" else previous), hits


def backtest(
    pattern: Any,
    events: pd.DataFrame,
    *,
    period: int = 300,
    threshold: float = 1,
    evaluation_periods: int = 1,
    datapoints_to_alarm: int = 1,
    treat_missing: str = "notBreaching",
    comparison: str = "GreaterThanOrEqualToThreshold",
    metric_value: str | float = "1",
    default_value: float | None = 0.0,
    evaluation_range: int | None = None,
    start: Any = None,
    end: Any = None,
    time_column: str = "eventTime",
    always_ingesting: bool = False,
) -> pd.DataFrame:
    """Replay a metric filter and its alarm over ``events``: one row per alarm period.

    Parameters
    ----------
    pattern : str, FilterPattern or boolean Series/array
        The metric filter pattern (compiled with :func:`s3audit.compile_pattern` and evaluated
        with ``FilterPattern.mask``), or the match mask itself, aligned with ``events``.
    events : DataFrame
        Events from :func:`s3audit.load_events`: everything the log group ingested in the window
        (the non-matching events matter: they make the filter publish ``default_value``).
    period, threshold, evaluation_periods, datapoints_to_alarm, treat_missing, comparison
        The alarm's settings, as ``PutMetricAlarm`` names them (statistic ``Sum``).
    metric_value : str or float
        The filter's metric value: ``"1"`` (count), another number, or ``"$.path"``.
    default_value : float or None
        The filter's default value (s3audit deploys 0); None for a filter without one.
    evaluation_range : int, optional
        Periods CloudWatch looks back over when datapoints are missing (default N + 2).
    start, end : timestamp-like, optional
        Extend the replayed window beyond the first/last event (the periods are still aligned).
    time_column : str
        The event time column.
    always_ingesting : bool
        The log group receives events every minute (e.g. the trail also logs management
        events), so with a ``default_value`` every period has a datapoint. By default only the
        minutes holding one of ``events`` count as ingested; then a period with no event is
        missing, and CloudWatch's look-back over missing datapoints can keep an alarm on longer
        (or merge two alarms) than a log group that ingests other events would.

    Returns
    -------
    DataFrame
        Columns ``period_start``, ``period_end``, ``events`` (events ingested), ``matches``
        (events matched), ``value`` (the Sum datapoint, NaN when missing), ``datapoint``,
        ``breaching`` (NA when missing) and ``state`` (``OK``, ``ALARM``,
        ``INSUFFICIENT_DATA``: the state after evaluating at the end of the period).
        ``attrs["alarms"]`` lists each transition into ALARM: ``time`` (end of the period that
        triggered it), ``period_start``, ``value``, ``matches``, ``events`` (the eventIDs of
        the matching events in the breaching periods that decided it, or index labels when
        there is no ``eventID`` column). ``attrs["settings"]`` records the settings,
        ``attrs["matched"]`` the matching events, ``attrs["matched_without_value"]`` the
        matching events that published nothing, ``attrs["skipped_no_time"]`` the events
        without a time.

    Raises
    ------
    BacktestError
        Invalid settings or a mask that does not fit the events.

    Examples
    --------
    >>> import pandas as pd
    >>> times = pd.to_datetime(["2024-01-01T00:00:30Z", "2024-01-01T00:05:30Z",
    ...                         "2024-01-01T00:10:30Z"])
    >>> events = pd.DataFrame({"eventTime": times, "eventID": ["a", "b", "c"]})
    >>> r = backtest(pd.Series([True, True, False]), events, evaluation_periods=2,
    ...              datapoints_to_alarm=2)
    >>> list(r["state"])
    ['OK', 'ALARM', 'OK']
    """
    span = _check_settings(period, threshold, evaluation_periods, datapoints_to_alarm,
                           treat_missing, comparison, evaluation_range)
    if time_column not in events.columns:
        raise BacktestError(f"the events have no {time_column!r} column")
    mask = _mask_for(pattern, events)
    values = _metric_values(metric_value, events)
    times = pd.to_datetime(events[time_column], utc=True)
    has_time = times.notna().to_numpy()
    skipped = int((~has_time).sum())
    if skipped:
        log.warning("backtest: %d events have no %s and are left out", skipped, time_column)
    seconds = (times[has_time].dt.as_unit("ns").astype("int64") // 10**9).to_numpy()
    if len(seconds) == 0 and start is None:
        result = pd.DataFrame({c: pd.Series(dtype=object) for c in _COLUMNS})
        result.attrs.update(alarms=[], settings={}, matched=0, matched_without_value=0,
                            skipped_no_time=skipped)
        return result
    mask_t = mask[has_time]
    values_t = values[has_time]
    ids = (events["eventID"] if "eventID" in events.columns else events.index.to_series())
    ids_t = np.asarray(ids)[has_time]

    bounds = [int(seconds.min()), int(seconds.max())] if len(seconds) else []
    if start is not None:
        bounds.append(_epoch_seconds(start))
    if end is not None:
        bounds.append(_epoch_seconds(end) - 1)  # the end is exclusive
    first = (min(bounds) // period) * period
    count = int((max(bounds) - first) // period) + 1
    slot = (seconds - first) // period

    ingested = np.bincount(slot, minlength=count)
    matched = np.bincount(slot[mask_t], minlength=count)
    publishes = mask_t & ~np.isnan(values_t)
    sums = np.bincount(slot[publishes], weights=values_t[publishes], minlength=count)
    has_match_point = np.bincount(slot[publishes], minlength=count) > 0
    if default_value is None:
        datapoint = has_match_point
    elif always_ingesting:
        # every minute publishes: the match values, or default_value where nothing matched
        minute = (seconds - first) // 60
        matched_minutes = np.unique(minute[publishes])
        per_slot = np.bincount((matched_minutes * 60) // period, minlength=count)
        sums = sums + (period // 60 - per_slot) * float(default_value) if period >= 60 else sums
        datapoint = np.ones(count, dtype=bool)
    else:
        # minutes with ingested logs but no publishing match publish default_value once
        minute = (seconds - first) // 60
        minutes_ingested = np.unique(minute)
        minutes_matched = np.unique(minute[publishes])
        quiet = np.setdiff1d(minutes_ingested, minutes_matched, assume_unique=True)
        quiet_slot = (quiet * 60) // period
        sums = sums + np.bincount(quiet_slot, minlength=count) * float(default_value)
        datapoint = has_match_point | (np.bincount(quiet_slot, minlength=count) > 0)

    compare = COMPARISONS[comparison]
    breaches = lambda v: compare(v, float(threshold))  # noqa: E731
    points: list[float | None] = [float(s) if d else None for s, d in zip(sums, datapoint)]
    states: list[str] = []
    alarms: list[dict[str, Any]] = []
    state = "INSUFFICIENT_DATA"
    order = np.argsort(slot, kind="stable")
    slot_sorted = slot[order]
    for k in range(count):
        lo = max(0, k - span + 1)
        new_state, hits = _next_state(state, points[lo:k + 1], n=evaluation_periods,
                                      m=datapoints_to_alarm, treat_missing=treat_missing,
                                      breaches=breaches)
        if new_state == "ALARM" and state != "ALARM":
            hit_slots = [lo + i for i in hits]
            behind: list[Any] = []
            for s in hit_slots:
                a, b = np.searchsorted(slot_sorted, [s, s + 1])
                rows = order[a:b]
                behind += [ids_t[r] for r in rows if mask_t[r]]
            alarms.append({
                "time": pd.Timestamp((first + (k + 1) * period) * 10**9, tz="UTC"),
                "period_start": pd.Timestamp((first + k * period) * 10**9, tz="UTC"),
                "value": points[k],
                "matches": int(matched[k]),
                "events": [str(x) for x in behind],
            })
        state = new_state
        states.append(state)

    starts = pd.to_datetime((first + np.arange(count) * period) * 10**9, utc=True)
    value_col = pd.Series([np.nan if p is None else p for p in points], dtype=float)
    breaching = pd.array([pd.NA if p is None else bool(breaches(p)) for p in points],
                         dtype="boolean")
    result = pd.DataFrame({
        "period_start": starts,
        "period_end": starts + pd.Timedelta(seconds=period),
        "events": ingested.astype(int),
        "matches": matched.astype(int),
        "value": value_col,
        "datapoint": datapoint.astype(bool),
        "breaching": breaching,
        "state": pd.Categorical(states, categories=list(STATES)),
    })
    result.attrs.update(
        alarms=alarms,
        settings=dict(period=period, threshold=threshold, evaluation_periods=evaluation_periods,
                      datapoints_to_alarm=datapoints_to_alarm, treat_missing=treat_missing,
                      comparison=comparison, metric_value=str(metric_value),
                      default_value=default_value, evaluation_range=span,
                      always_ingesting=always_ingesting),
        matched=int(mask_t.sum()),
        matched_without_value=int((mask_t & np.isnan(values_t)).sum()),
        skipped_no_time=skipped,
    )
    log.info("backtest: %d periods, %d matches, %d alarms", count, int(mask_t.sum()), len(alarms))
    return result


def alarm_events(result: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """The events behind each ALARM transition of a :func:`backtest` result.

    Returns the rows of ``events`` with an ``alarm`` column (1 = first alarm) and ``alarm_time``.

    Examples
    --------
    >>> import pandas as pd
    >>> events = pd.DataFrame({"eventTime": pd.to_datetime(["2024-01-01T00:01:00Z"]),
    ...                        "eventID": ["a"]})
    >>> alarm_events(backtest(pd.Series([True]), events), events)["alarm"].tolist()
    [1]
    """
    key = events["eventID"].astype(str) if "eventID" in events.columns else events.index.astype(str)
    parts = []
    for number, alarm in enumerate(result.attrs.get("alarms", []), start=1):
        rows = events[np.asarray(pd.Series(key).isin(alarm["events"]))].copy()
        rows.insert(0, "alarm", number)
        rows.insert(1, "alarm_time", alarm["time"])
        parts.append(rows)
    if not parts:
        empty = events.iloc[0:0].copy()
        empty.insert(0, "alarm", pd.Series(dtype=int))
        empty.insert(1, "alarm_time", pd.Series(dtype="datetime64[ns, UTC]"))
        return empty
    return pd.concat(parts)


def alarms_frame(result: pd.DataFrame) -> pd.DataFrame:
    """The ALARM transitions of a :func:`backtest` result as a table (one row per alarm).

    Examples
    --------
    >>> import pandas as pd
    >>> events = pd.DataFrame({"eventTime": pd.to_datetime(["2024-01-01T00:01:00Z"]),
    ...                        "eventID": ["a"]})
    >>> alarms_frame(backtest(pd.Series([True]), events))[["value", "events", "event_ids"]]
       value  events event_ids
    0    1.0       1         a
    """
    rows = [{"time": a["time"], "period_start": a["period_start"], "value": a["value"],
             "matches": a["matches"], "events": len(a["events"]),
             "event_ids": ", ".join(a["events"][:5]) + (" ..." if len(a["events"]) > 5 else "")}
            for a in result.attrs.get("alarms", [])]
    return pd.DataFrame(rows, columns=["time", "period_start", "value", "matches", "events",
                                       "event_ids"])


def plot_backtest(result: pd.DataFrame, ax: Axes | None = None, *, title: str | None = None) -> Axes:
    """Plot a :func:`backtest` result: the metric per period, the threshold, the ALARM periods.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> events = pd.DataFrame({"eventTime": pd.to_datetime(["2024-01-01T00:01:00Z"]),
    ...                        "eventID": ["a"]})
    >>> plot_backtest(backtest(pd.Series([True]), events)).get_ylabel()
    'metric (Sum per period)'
    """
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3.2))
    settings = result.attrs.get("settings", {})
    if len(result):
        # one artist per series (a bar per period is far too slow for months of 5-minute periods)
        period = pd.Timedelta(seconds=float(settings.get("period", 300)))
        starts = pd.to_datetime(result["period_start"]).dt.tz_convert("UTC").dt.tz_localize(None)
        edges = mdates.date2num(list(starts) + [starts.iloc[-1] + period])
        ax.stairs(result["value"].fillna(0.0).to_numpy(dtype=float), edges, fill=True,
                  color="#4c72b0", label="metric (Sum)")
        for state, colour in (("ALARM", "#d62728"), ("INSUFFICIENT_DATA", "#bbbbbb")):
            flags = (result["state"] == state).to_numpy()
            if flags.any():
                ax.fill_between(edges, 0, 1, where=np.append(flags, flags[-1]), step="post",
                                transform=ax.get_xaxis_transform(), color=colour, alpha=0.18,
                                linewidth=0, label=state)
        ax.xaxis_date()
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    if "threshold" in settings:
        ax.axhline(float(settings["threshold"]), color="#d62728", linestyle="--", linewidth=1,
                   label=f"threshold {settings['threshold']:g}")
    alarms = len(result.attrs.get("alarms", []))
    ax.set_ylabel("metric (Sum per period)")
    ax.set_title(title or f"Alarm backtest: {alarms} alarm{'s' if alarms != 1 else ''}")
    ax.legend(loc="upper right", fontsize="small")
    return ax
