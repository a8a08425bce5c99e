"""Deterministic, realistic CloudTrail S3 events for one made-up account: the offline samples.

One account (``111122223333``, ``us-east-1``) with a sensitive payroll bucket, a data-lake bucket
and an access-log bucket, over 14 days (default window 2026-10-05 .. 2026-10-18 UTC). Every access
path of ``shared/reference/cloudtrail-s3-sources.md`` appears (see
:data:`s3audit.samples_stories.STORIES`), plus one intrusion story to find: a night-time burst of
large GetObjects from an unknown address with a stolen access key. Network-activity copies and a
few management events are mixed in, as real trails contain them.

The records are built in memory by :func:`generate` (pure: same arguments, same records, on every
platform: one seeded :class:`random.Random`, no set/dict-hash order, no clock) and written by
:func:`generate_samples` in the three shapes AWS delivers them plus a truth side file.

Truth labels (``truth.csv.gz``: eventID, source, story) follow the ordered rules of issue 5 with
``classify(..., own_vpc_endpoints=OWN_VPC_ENDPOINTS)``; the events are built so that the label is
the same without that list. NetworkActivity and management events are labelled ``-``.

Examples
--------
>>> from s3audit.samples import generate
>>> s = generate(2000, seed=7)
>>> len(s.data_records)
2000
>>> sorted(set(s.sources()))[:3]
['anonymous', 'athena', 'aws-internal']
"""
from __future__ import annotations

import datetime as dt
import logging
import random
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s3audit import samples_formats as fmt
from s3audit import samples_stories as st
from s3audit import samples_world as world
from s3audit.paths import SAMPLES_DIR

log = logging.getLogger(__name__)

DEFAULT_EVENTS = 10_000
DEFAULT_SEED = 20261005
DEFAULT_START = dt.datetime(2026, 10, 5, tzinfo=dt.timezone.utc)
DEFAULT_DAYS = 14

ACCOUNT_ID = world.ACCOUNT_ID
REGION = world.REGION
BUCKETS = world.BUCKETS
OWN_VPC_ENDPOINTS = world.OWN_VPC_ENDPOINTS
NO_LABEL = "-"
MIN_EVENTS = st.MIN_EVENTS

#: File names inside a samples directory.
JSONL_NAME = "events.jsonl.gz"
TRAIL_DIR = "trail"
INSIGHTS_NAME = "insights-export.json"
TRUTH_NAME = "truth.csv.gz"
README_NAME = "README.md"

SOURCES: tuple[str, ...] = (
    "anonymous", "aws-service", "aws-internal", "lake-formation", "athena", "glue", "redshift",
    "emr", "service-other", "console", "console-browser", "presigned-url", "cloudshell", "lambda",
    "sagemaker", "vpc-endpoint", "other-vpc-endpoint", "ec2", "aws-network", "external",
)


@dataclass
class Samples:
    """Generated records with their truth, in eventTime order.

    Attributes
    ----------
    records : list of dict
        Every record (data, NetworkActivity and management events), sorted by eventTime.
    truth : list of (eventID, source, story)
        One row per record, same order; ``source`` is ``-`` for non-data events.
    start, end : datetime
        The window.
    seed : int
    """

    records: list[dict[str, Any]]
    truth: list[tuple[str, str, str]]
    start: dt.datetime
    end: dt.datetime
    seed: int

    @property
    def data_records(self) -> list[dict[str, Any]]:
        """The S3 data events (what the loader keeps by default)."""
        return [r for r, (_, src, _) in zip(self.records, self.truth) if src != NO_LABEL]

    def sources(self) -> list[str]:
        """The true source of each data event."""
        return [src for _, src, _ in self.truth if src != NO_LABEL]

    def truth_by_id(self) -> dict[str, tuple[str, str]]:
        """eventID -> (source, story)."""
        return {eid: (src, story) for eid, src, story in self.truth}


@dataclass
class SampleSummary:
    """What :func:`generate_samples` wrote."""

    out_dir: Path
    seed: int
    start: dt.datetime
    end: dt.datetime
    data_events: int
    network_activity: int
    management: int
    trail_files: int
    insights_rows: int
    total_bytes: int
    by_source: dict[str, int] = field(default_factory=dict)
    by_story: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        return (f"{self.data_events} data events (+{self.network_activity} NetworkActivity, "
                f"+{self.management} management) {self.start:%Y-%m-%d}..{self.end:%Y-%m-%d} "
                f"seed {self.seed}: {self.trail_files} trail files, {self.insights_rows} Insights "
                f"rows, {self.total_bytes / 1e6:.2f} MB in {self.out_dir}")


def _epoch(start: dt.datetime | str | None) -> int:
    if start is None:
        start = DEFAULT_START
    if isinstance(start, str):
        start = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
    if start.tzinfo is None:
        start = start.replace(tzinfo=dt.timezone.utc)
    return int(start.timestamp())


def generate(events: int = DEFAULT_EVENTS, *, seed: int = DEFAULT_SEED,
             start: dt.datetime | str | None = None, days: int = DEFAULT_DAYS) -> Samples:
    """Build the sample records in memory (pure and deterministic).

    Parameters
    ----------
    events : int
        Number of S3 data events (NetworkActivity copies and management events come on top).
        At least :data:`MIN_EVENTS` (one or a few per story).
    seed : int
        Same seed, same records.
    start : datetime or ISO string, optional
        Window start (UTC); default 2026-10-05T00:00:00Z.
    days : int
        Window length.

    Returns
    -------
    Samples

    Examples
    --------
    >>> s = generate(500, seed=1)
    >>> s.records == generate(500, seed=1).records
    True
    >>> "intrusion" in {story for _, _, story in s.truth}
    True
    """
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    t0 = _epoch(start)
    rng = random.Random(seed)
    scn = st.Scenario(rng, t0, days)
    for story, n in zip(st.STORIES, st.allocate(events)):
        story.emit(scn, n)
    st.vpce_policy_denied(scn, max(1, events // 2000))
    st.management(scn, max(4, events // 250))
    rows = sorted(scn.rows, key=lambda r: (r[0], r[1]))
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return Samples(
        records=[r[2] for r in rows],
        truth=[(r[2]["eventID"], r[3], r[4]) for r in rows],
        start=epoch + dt.timedelta(seconds=t0),
        end=epoch + dt.timedelta(seconds=t0 + days * st.DAY),
        seed=seed,
    )


def generate_records(events: int = DEFAULT_EVENTS, seed: int = DEFAULT_SEED, **kw: Any
                     ) -> list[dict[str, Any]]:
    """Just the records of :func:`generate` (data + NetworkActivity + management events).

    Examples
    --------
    >>> recs = generate_records(300, seed=3)
    >>> recs[0]["eventSource"]
    's3.amazonaws.com'
    """
    return generate(events, seed=seed, **kw).records


def iter_json_lines(events: int, seed: int = DEFAULT_SEED, *, chunk: int = 50_000,
                    **kw: Any) -> Iterator[str]:
    """Stream ``events`` data events as JSON lines (plus their NetworkActivity/management extras)
    in memory-bounded chunks, for benchmarks needing millions of events.

    Each chunk is an independent sample of the same window with seed ``seed + i``, so chunks
    overlap in time (lines are sorted within a chunk, not across chunks).

    Examples
    --------
    >>> lines = list(iter_json_lines(120, seed=1, chunk=60))
    >>> len(lines) > 120
    True
    """
    if events < MIN_EVENTS:
        raise ValueError(f"need at least {MIN_EVENTS} events to cover every story, got {events}")
    chunk = max(chunk, MIN_EVENTS)
    sizes = [chunk] * (events // chunk)
    rest = events - sum(sizes)
    if rest >= MIN_EVENTS or not sizes:
        sizes.append(rest)
    else:
        sizes[-1] += rest  # a too-small remainder joins the last chunk
    for i, n in enumerate(sizes):
        for rec in generate(n, seed=seed + i, **kw).records:
            yield fmt.dumps(rec)


def _insights_subset(samples: Samples) -> tuple[list[dict[str, Any]], str, str]:
    """The records from 10 minutes before the intrusion's first record to 10 minutes after its
    last: what an analyst's Logs Insights query over that night returns (kept small: the export
    is uncompressed). Returns (records, window start, window end)."""
    intrusion = [r for r, (_, _, story) in zip(samples.records, samples.truth) if story == "intrusion"]
    if not intrusion:
        return [], "-", "-"
    fmt_ = "%Y-%m-%dT%H:%M:%SZ"
    first = dt.datetime.strptime(intrusion[0]["eventTime"], fmt_)
    last = dt.datetime.strptime(intrusion[-1]["eventTime"], fmt_)
    lo = (first - dt.timedelta(minutes=10)).strftime(fmt_)
    hi = (last + dt.timedelta(minutes=10)).strftime(fmt_)
    return [r for r in samples.records if lo <= r["eventTime"] < hi], lo, hi


def _readme(summary: SampleSummary, insights_window: tuple[str, str]) -> str:
    by_source = "\n".join(f"| {k} | {v} |" for k, v in sorted(summary.by_source.items()))
    by_story = "\n".join(f"| {k} | {v} |" for k, v in sorted(summary.by_story.items()))
    return f"""# s3audit sample data

Generated by `s3audit.samples` (seed {summary.seed}) - do not edit by hand. Regenerate with
`make samples` or `s3audit samples --out data/samples` (same seed -> identical files).
Everything here is synthetic: account `{ACCOUNT_ID}`, Region `{REGION}`, addresses outside AWS
from the documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32),
AWS addresses from real published ip-ranges prefixes. See docs/samples.md for the stories.

Window: {summary.start:%Y-%m-%dT%H:%MZ} .. {summary.end:%Y-%m-%dT%H:%MZ} (company local time is
US Eastern, UTC-4). Buckets: `{'`, `'.join(BUCKETS)}`. Own VPC endpoints:
`{'`, `'.join(OWN_VPC_ENDPOINTS)}`.

| File | What |
|---|---|
| `{JSONL_NAME}` | every record, one bare JSON record per line, as CloudTrail sends them to CloudWatch Logs ({summary.data_events} data events + {summary.network_activity} NetworkActivity copies + {summary.management} management events), in eventTime order |
| `{TRAIL_DIR}/AWSLogs/{ACCOUNT_ID}/CloudTrail/{REGION}/YYYY/MM/DD/*.json.gz` | the same records as CloudTrail S3 log files (`{{"Records": [...]}}`), {summary.trail_files} files batched per hour of eventTime (CloudTrail itself delivers about every 5 minutes), named after the delivery time, records unordered inside a file |
| `{INSIGHTS_NAME}` | a Logs Insights `GetQueryResults` response (`fields @timestamp, @message, @ptr \\| sort @timestamp desc`) over eventTime {insights_window[0]} .. {insights_window[1]} (10 minutes either side of the intrusion; the export is uncompressed, so it holds this slice only): {summary.insights_rows} rows |
| `{TRUTH_NAME}` | `eventID,source,story` for every record: the access source issue 5's rules give (with `own_vpc_endpoints` = the endpoints above), `-` for NetworkActivity and management events; for tests only |

Data events per true source:

| source | events |
|---|---|
{by_source}

Records per story:

| story | records |
|---|---|
{by_story}
"""


def generate_samples(out_dir: str | Path = SAMPLES_DIR, *, events: int = DEFAULT_EVENTS,
                     seed: int = DEFAULT_SEED, start: dt.datetime | str | None = None,
                     days: int = DEFAULT_DAYS) -> SampleSummary:
    """Write a samples directory: JSON lines, trail files, an Insights export, truth, README.

    The ``trail/`` folder is replaced; other files in ``out_dir`` are left alone.

    Parameters
    ----------
    out_dir : path
        Target directory (created). Default: the bundled ``data/samples/``.
    events, seed, start, days
        As for :func:`generate`.

    Returns
    -------
    SampleSummary

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     summary = generate_samples(d, events=400, seed=2)
    >>> summary.data_events
    400
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    samples = generate(events, seed=seed, start=start, days=days)
    out_rng = random.Random(f"{seed}/files")
    total = fmt.write_jsonl_gz(out / JSONL_NAME, samples.records)
    trail_root = out / TRAIL_DIR
    if trail_root.exists():
        shutil.rmtree(trail_root)
    paths = fmt.write_trail_files(trail_root, samples.records, account=ACCOUNT_ID, region=REGION,
                                  rng=out_rng)
    total += sum(p.stat().st_size for p in paths)
    subset, lo, hi = _insights_subset(samples)
    query_id = str(uuid.UUID(int=out_rng.getrandbits(128), version=4))
    total += fmt.write_json(out / INSIGHTS_NAME,
                            fmt.insights_export(subset, scanned=subset, rng=out_rng,
                                                query_id=query_id))
    total += fmt.write_truth(out / TRUTH_NAME, samples.truth)
    kinds = Counter(r.get("eventCategory") for r in samples.records)
    summary = SampleSummary(
        out_dir=out, seed=seed, start=samples.start, end=samples.end,
        data_events=kinds["Data"], network_activity=kinds["NetworkActivity"],
        management=kinds["Management"], trail_files=len(paths), insights_rows=len(subset),
        total_bytes=0,
        by_source=dict(sorted(Counter(samples.sources()).items())),
        by_story=dict(sorted(Counter(story for _, _, story in samples.truth).items())),
    )
    readme = _readme(summary, (lo, hi))
    (out / README_NAME).write_text(readme, encoding="utf-8", newline="\n")
    summary.total_bytes = total + len(readme.encode("utf-8"))
    log.info("wrote samples: %s", summary)
    return summary


def sample_path(name: str = "dir", root: str | Path | None = None) -> Path:
    """Path of a bundled sample file.

    Parameters
    ----------
    name : {"dir", "jsonl", "trail", "insights", "truth", "readme"}
        ``trail`` is the folder holding ``AWSLogs/``.
    root : path, optional
        A samples directory other than the bundled ``data/samples/``.

    Raises
    ------
    FileNotFoundError
        When the file is missing (e.g. an installed package without the checkout's
        ``data/samples/``): regenerate with ``s3audit samples --out DIR``.

    Examples
    --------
    >>> sample_path("jsonl").name
    'events.jsonl.gz'
    """
    names = {"dir": "", "jsonl": JSONL_NAME, "trail": TRAIL_DIR, "insights": INSIGHTS_NAME,
             "truth": TRUTH_NAME, "readme": README_NAME}
    if name not in names:
        raise ValueError(f"unknown sample {name!r}; one of {', '.join(names)}")
    base = Path(root) if root is not None else SAMPLES_DIR
    path = base / names[name] if names[name] else base
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; create it with "
                                f"`s3audit samples --out {base}`")
    return path


def trail_files(root: str | Path | None = None) -> list[Path]:
    """The sample CloudTrail log files, sorted by path."""
    return sorted(sample_path("trail", root).rglob("*.json.gz"))


def read_truth(path: str | Path | None = None) -> dict[str, tuple[str, str]]:
    """``truth.csv.gz`` as eventID -> (source, story).

    Examples
    --------
    >>> truth = read_truth()
    >>> sorted({src for src, _ in truth.values()})[:2]
    ['-', 'anonymous']
    """
    import csv
    import gzip

    p = Path(path) if path is not None else sample_path("truth")
    with gzip.open(p, "rt", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return {row["eventID"]: (row["source"], row["story"]) for row in reader}
