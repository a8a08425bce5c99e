"""Load CloudTrail S3 events from any input into one well-typed DataFrame.

See :func:`load_events` for the contract, :mod:`s3audit.schema` for the columns and
docs/loading.md for the design (fast Arrow path, careful fallback, bad-input handling).
"""
from __future__ import annotations

import logging
from functools import partial
from collections.abc import Collection
from typing import Any

import pandas as pd

from s3audit.loader.errors import LoadError, SkipLog
from s3audit.loader.frame import FILTER_NAMES, apply_filters, assemble, empty_frame, fall_back_time, filter_batch
from s3audit.loader.reader import CHUNK_BYTES, Reader
from s3audit.loader.facts import ATTRS_KEY
from s3audit.schema import DEFAULT_EVENT_SOURCES

__all__ = ["FILTER_NAMES", "LoadError", "load_events"]

logger = logging.getLogger(__name__)


def load_events(
    source: Any,
    *,
    strict: bool = False,
    keep: str | Collection[str] = (),
    event_sources: Collection[str] = DEFAULT_EVENT_SOURCES,
    max_skipped: int = 100,
    progress: bool = False,
    chunk_bytes: int = CHUNK_BYTES,
) -> pd.DataFrame:
    """Load CloudTrail events into the event frame (one row per S3 data event).

    Parameters
    ----------
    source : path, str, dict, or iterable of them
        A file or directory (``.json``/``.jsonl``/``.ndjson``, optionally ``.gz``; JSON lines as
        CloudWatch Logs delivers them, trail files ``{"Records": [...]}``, Logs Insights
        ``GetQueryResults`` exports whose rows carry ``@message``), a JSON text, a record dict,
        or an iterable mixing these (for example the ``@message`` strings of a Logs Insights
        pull). Directories are searched recursively for the suffixes above; other files are
        listed in ``df.attrs["ignored_files"]``.
    strict : bool, default False
        Raise :class:`LoadError` on the first bad input instead of skipping and recording it.
    keep : "all" or collection of str, default ()
        Filters to switch off: ``"network_activity"`` (NetworkActivity copies of calls through
        VPC endpoints), ``"non_s3"`` (events from other sources than ``event_sources``),
        ``"management"`` (management events), ``"duplicates"`` (repeated eventIDs).
    event_sources : collection of str, default ("s3.amazonaws.com",)
        Event sources that count as S3. Add ``"s3express.amazonaws.com"`` for directory buckets.
    max_skipped : int, default 100
        How many skipped inputs are listed in ``df.attrs["skipped"]`` (all are counted).
    progress : bool, default False
        Show a tqdm progress bar per file.
    chunk_bytes : int
        Bytes of JSON lines parsed at a time (bounds the working memory).

    Returns
    -------
    pandas.DataFrame
        One row per event, input order. ``raw`` holds the record's original JSON text; the
        other columns are the record flattened with Logs Insights names; the columns of
        :data:`s3audit.schema.EVENT_COLUMNS` always exist with their dtypes. ``df.attrs``:

        - ``"filtered"``: ``{"network_activity", "non_s3", "management", "duplicates"}`` counts;
        - ``"skipped"``: up to ``max_skipped`` dicts ``{"source", "line", "reason"}``;
          ``"skipped_total"``: how many inputs were skipped in all;
        - ``"time_from_timestamp"``: rows whose ``eventTime`` came from ``@timestamp``;
        - ``"coerced"``: ``{column: n}`` values that could not take the column's dtype (NA);
        - ``"rows_read"``: events read before filtering; ``"sources"``: files read;
          ``"ignored_files"``: files in directories that were not event files.

    Raises
    ------
    LoadError
        A path that does not exist, an unsupported file type (CSV), an unusable source; with
        ``strict=True`` also any malformed line, non-CloudTrail JSON or truncated file.
    ValueError
        An unknown name in ``keep``.

    Examples
    --------
    >>> import s3audit
    >>> df = s3audit.load_events(['{"eventVersion":"1.09","eventSource":"s3.amazonaws.com",'
    ...     '"eventName":"GetObject","eventCategory":"Data","managementEvent":false,'
    ...     '"eventTime":"2026-11-02T10:00:00Z","eventID":"e1",'
    ...     '"requestParameters":{"bucketName":"b","key":"k"}}'])
    >>> df["requestParameters.bucketName"].tolist(), str(df["eventTime"][0])
    (['b'], '2026-11-02 10:00:00+00:00')
    >>> df.attrs["filtered"]
    {'network_activity': 0, 'non_s3': 0, 'management': 0, 'duplicates': 0}
    """
    keep_set = _keep_set(keep)
    sources = set(event_sources)
    skips = SkipLog(strict=strict, cap=max_skipped)
    counts: dict[str, int] = {}
    # the type filters run on each batch as it is read, so dropped rows never pile up in memory
    reader = Reader(skips, chunk_bytes=chunk_bytes, progress=progress,
                    batch_filter=partial(filter_batch, keep=keep_set, event_sources=sources, counts=counts))
    reader.read(source)
    coerced: dict[str, int] = {}
    exact: dict[str, bool] = {}
    df = assemble(reader.batches, coerced, exact, reader.fast.facts.mixed)
    rows_read = reader.rows_read
    time_fallback = fall_back_time(df)
    df, filtered = apply_filters(df, keep=keep_set | set(FILTER_NAMES[:-1]), event_sources=sources, counts=counts)
    if not len(df):
        df = empty_frame()
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


def _keep_set(keep: str | Collection[str]) -> set[str]:
    if isinstance(keep, str):
        keep = FILTER_NAMES if keep == "all" else (keep,)
    unknown = set(keep) - set(FILTER_NAMES)
    if unknown:
        raise ValueError(f"unknown filter(s) in keep: {sorted(unknown)}; choose from {list(FILTER_NAMES)} or 'all'")
    return set(keep)


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
