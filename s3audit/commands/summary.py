"""``s3audit summary [PATH...]``: load events and print what they hold.

Prints the number of events, the time span, the buckets, events per eventName and what the
loader filtered or skipped. Defaults to the bundled samples (``data/samples/events.jsonl.gz``).
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any, TextIO

from s3audit.paths import SAMPLES_DIR

DEFAULT_SOURCE = SAMPLES_DIR / "events.jsonl.gz"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "summary",
        help="load CloudTrail events and print a short summary",
        description="Load CloudTrail events (files, directories, trail files, Logs Insights exports) and "
                    "print events, time span, buckets, events per eventName and skipped/filtered counts.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help=f"event files or directories (default: {DEFAULT_SOURCE})")
    parser.add_argument("--keep", action="append", default=[], metavar="FILTER",
                        choices=["all", "network_activity", "non_s3", "management", "duplicates"],
                        help="keep events the loader filters by default (repeatable)")
    parser.add_argument("--strict", action="store_true", help="fail on the first bad input")
    parser.add_argument("--top", type=int, default=20, help="how many eventNames to list (default 20)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from s3audit.loader import LoadError, load_events

    paths: Sequence[str] = args.paths or [str(DEFAULT_SOURCE)]
    keep: Any = "all" if "all" in args.keep else tuple(args.keep)
    try:
        df = load_events(list(paths), keep=keep, strict=args.strict, progress=sys.stderr.isatty())
    except LoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print_summary(df, top=args.top, out=sys.stdout)
    return 0


def print_summary(df: Any, *, top: int = 20, out: TextIO) -> None:
    """Write the summary of an event frame (as returned by ``load_events``) to ``out``."""
    a = df.attrs
    w = out.write
    w(f"events:      {len(df):,}  (read {a.get('rows_read', len(df)):,} from {len(a.get('sources', []))} source(s))\n")
    if len(df) and df["eventTime"].notna().any():
        first, last = df["eventTime"].min(), df["eventTime"].max()
        w(f"time span:   {first:%Y-%m-%d %H:%M:%S} .. {last:%Y-%m-%d %H:%M:%S} UTC ({last - first})\n")
    else:
        w("time span:   -\n")
    buckets = df["requestParameters.bucketName"].value_counts()
    buckets = buckets[buckets > 0]
    w(f"buckets:     {len(buckets)}\n")
    for name, n in buckets.items():
        w(f"  {n:>10,}  {name}\n")
    names = df["eventName"].value_counts()
    names = names[names > 0]
    w(f"eventNames:  {len(names)}\n")
    for name, n in names.head(top).items():
        w(f"  {n:>10,}  {name}\n")
    if len(names) > top:
        w(f"  {'':>10}  ... {len(names) - top} more\n")
    filtered = a.get("filtered", {})
    w("filtered:    " + ", ".join(f"{k} {v:,}" for k, v in filtered.items()) + "\n")
    w(f"skipped:     {a.get('skipped_total', 0):,} bad input(s)\n")
    for entry in a.get("skipped", [])[:5]:
        w(f"  {entry['source']}:{entry['line']}: {entry['reason']}\n")
    if a.get("time_from_timestamp"):
        w(f"note:        {a['time_from_timestamp']:,} event(s) without eventTime used @timestamp\n")
    if a.get("coerced"):
        w(f"note:        values set to NA (wrong type): {a['coerced']}\n")
