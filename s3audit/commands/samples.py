"""``s3audit samples``: write the deterministic sample data set.

Examples
--------
$ s3audit samples --out data/samples
$ s3audit samples --events 2000 --seed 7 --out /tmp/samples
"""
from __future__ import annotations

import argparse
import sys


def _run(args: argparse.Namespace) -> int:
    from s3audit.samples import generate_samples

    try:
        summary = generate_samples(args.out, events=args.events, seed=args.seed, start=args.start,
                                   days=args.days)
    except ValueError as exc:
        print(f"s3audit samples: {exc}", file=sys.stderr)
        return 2
    print(summary)
    for source, count in summary.by_source.items():
        print(f"  {source:<20} {count:>8}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``samples`` sub-command."""
    from s3audit.samples import DEFAULT_DAYS, DEFAULT_EVENTS, DEFAULT_SEED
    from s3audit.paths import SAMPLES_DIR

    p = subparsers.add_parser(
        "samples",
        help="generate realistic CloudTrail S3 sample events (deterministic)",
        description="Write JSON lines, CloudTrail trail files, a Logs Insights export and a truth "
                    "file of synthetic S3 data events for one account. Same seed, same files.",
    )
    p.add_argument("--events", type=int, default=DEFAULT_EVENTS,
                   help=f"number of S3 data events (default {DEFAULT_EVENTS})")
    p.add_argument("--out", default=str(SAMPLES_DIR), help="output directory (default data/samples)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    p.add_argument("--start", default=None,
                   help="window start, ISO 8601 UTC (default 2026-10-05T00:00:00Z)")
    p.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"window length (default {DEFAULT_DAYS})")
    p.set_defaults(func=_run)
