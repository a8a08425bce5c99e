"""The end of every load: batches -> the typed, filtered event frame with its ``attrs``."""
from __future__ import annotations

import logging
from collections.abc import Collection

import numpy as np
import pandas as pd

from s3audit.loader.errors import SkipLog
from s3audit.loader.facts import ATTRS_KEY
from s3audit.loader.frame import (FILTER_NAMES, apply_filters, assemble, empty_frame, fall_back_time,
                                  refit_extra_columns)
from s3audit.loader.reader import Reader

logger = logging.getLogger(__name__)


def keep_set(keep: str | Collection[str]) -> set[str]:
    """The filters switched off by ``keep`` (``"all"``, one name or several); ValueError on an unknown name."""
    if isinstance(keep, str):
        keep = FILTER_NAMES if keep == "all" else (keep,)
    unknown = set(keep) - set(FILTER_NAMES)
    if unknown:
        raise ValueError(f"unknown filter(s) in keep: {sorted(unknown)}; choose from {list(FILTER_NAMES)} or 'all'")
    return set(keep)


def source_set(event_sources: str | Collection[str]) -> set[str]:
    """The ``eventSource`` values to keep: one name (a str) or several.

    >>> sorted(source_set("s3.amazonaws.com")), sorted(source_set(["a", "b"]))
    (['s3.amazonaws.com'], ['a', 'b'])
    """
    if isinstance(event_sources, str):
        return {event_sources}
    sources = set(event_sources)
    if not all(isinstance(x, str) for x in sources):
        raise TypeError(f"event_sources must be strings, got {sorted(map(repr, sources))}")
    return sources


def finish_frame(reader: Reader, skips: SkipLog, *, keep: set[str], event_sources: set[str],
                 counts: dict[str, int], filtered_while_reading: bool = True) -> pd.DataFrame:
    """The event frame of the batches ``reader`` holds: :func:`~s3audit.loader.frame.assemble`,
    the ``@timestamp`` fallback, the filters, and ``df.attrs`` as :func:`s3audit.load_events`
    documents them. ``counts``: what the type filters (:func:`~s3audit.loader.frame.filter_batch`)
    already dropped from the batches (``filtered_while_reading``); otherwise every filter runs
    here. Categorical columns keep only the categories their rows use."""
    coerced: dict[str, int] = {}
    exact: dict[str, bool] = {}
    distinct: dict[str, bool] = {}
    df = assemble(reader.batches, coerced, exact, reader.fast.facts.mixed, distinct)
    rows_read = reader.rows_read
    time_fallback = fall_back_time(df)
    done = set(FILTER_NAMES[:-1]) if filtered_while_reading else set()
    assembled = len(df)
    df, filtered = apply_filters(df, keep=keep | done, event_sources=event_sources, counts=counts,
                                 ids_distinct=distinct.get("eventID", False))
    if len(df) < assembled:  # rows dropped after the columns were built: as if they had never been read
        df = refit_extra_columns(df)
    if not len(df):
        df = empty_frame()
    drop_unused_categories(df)
    df.attrs.update({
        "filtered": filtered,
        "skipped": skips.entries,
        "skipped_total": skips.total,
        "time_from_timestamp": time_fallback,
        "coerced": coerced,
        "rows_read": rows_read,
        "sources": reader.sources,
        "ignored_files": reader.ignored_files,
        # facts for s3audit.pattern's mask (see s3audit.loader.facts)
        ATTRS_KEY: reader.fast.facts.to_attrs({c: exact.get(c, False) for c in df.columns if c != "raw"},
                                             {c: str(df[c].dtype) for c in df.columns if c != "raw"}),
    })
    _log(df, reader)
    return df


def drop_unused_categories(df: pd.DataFrame) -> None:
    """Remove, in place, the categories no row uses (left by rows the filters dropped), so that
    ``value_counts`` and ``groupby`` show only values that occur."""
    for name in df.columns:
        column = df[name]
        if not isinstance(column.dtype, pd.CategoricalDtype) or not len(column.cat.categories):
            continue
        codes = column.cat.codes.to_numpy()
        used = np.bincount(codes[codes >= 0], minlength=len(column.cat.categories)) > 0
        if not used.all():
            df[name] = column.cat.remove_unused_categories()


def _log(df: pd.DataFrame, reader: Reader) -> None:
    a = df.attrs
    if a["skipped_total"]:
        first = a["skipped"][0] if a["skipped"] else {}
        logger.warning(
            "skipped %d bad input(s) while loading events; first: %s:%s: %s (all listed in df.attrs['skipped'])",
            a["skipped_total"], first.get("source"), first.get("line"), first.get("reason"),
        )
    if a["time_from_timestamp"]:
        logger.warning(
            "%d event(s) have no eventTime (records processed by Logstash or similar); their @timestamp "
            "was used instead (count in df.attrs['time_from_timestamp'])", a["time_from_timestamp"],
        )
    if a["coerced"]:
        logger.warning("values that could not take their column's type were set to NA: %s "
                       "(df.attrs['coerced'])", a["coerced"])
    logger.info("loaded %d events from %d source(s); read %d, filtered %s; fast-path fallback lines: %d",
                len(df), len(a["sources"]), a["rows_read"], a["filtered"], reader.fast.fallback_lines)
