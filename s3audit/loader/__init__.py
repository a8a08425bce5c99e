"""Load CloudTrail S3 events from any input into one well-typed DataFrame.

See :func:`load_events` for the contract, :mod:`s3audit.schema` for the columns and
docs/loading.md for the design (fast Arrow path, careful fallback, bad-input handling).
"""
from __future__ import annotations

from collections.abc import Collection
from functools import partial
from typing import Any

import pandas as pd

from s3audit.loader.errors import LoadError, SkipLog
from s3audit.loader.frame import FILTER_NAMES, filter_batch
from s3audit.loader.reader import CHUNK_BYTES, Reader
from s3audit.loader.result import finish_frame, keep_set as _keep_set, source_set as _source_set
from s3audit.loader.stream import TextStream
from s3audit.schema import DEFAULT_EVENT_SOURCES

__all__ = ["FILTER_NAMES", "LoadError", "TextStream", "load_events"]

def load_events(
    source: Any,
    *,
    strict: bool = False,
    keep: str | Collection[str] = (),
    event_sources: str | Collection[str] = DEFAULT_EVENT_SOURCES,
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
    event_sources : str or collection of str, default ("s3.amazonaws.com",)
        Event sources that count as S3 (a str names one). Add ``"s3express.amazonaws.com"`` for directory buckets.
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
    sources = _source_set(event_sources)
    skips = SkipLog(strict=strict, cap=max_skipped)
    counts: dict[str, int] = {}
    # the type filters run on each batch as it is read, so dropped rows never pile up in memory
    reader = Reader(skips, chunk_bytes=chunk_bytes, progress=progress,
                    batch_filter=partial(filter_batch, keep=keep_set, event_sources=sources, counts=counts))
    reader.read(source)
    return finish_frame(reader, skips, keep=keep_set, event_sources=sources, counts=counts)
