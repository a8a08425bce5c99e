"""``s3audit sources [PATH...]``: classify events by access source and print the tables.

Prints, per access source, the events, bytes out, errors and top ``vpcEndpointId`` /
``sourceIPAddress`` / user-agent family / principal values; optionally compares with (and saves)
a baseline, and refreshes the cached copy of AWS's ip-ranges.json. Defaults to the bundled
samples. ``--csv FILE`` writes the classified events' labels and reasons.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from s3audit.paths import SAMPLES_DIR

DEFAULT_SOURCE = SAMPLES_DIR / "events.jsonl.gz"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sources",
        help="classify events by access source and print the per-source table",
        description="Classify CloudTrail S3 data events by the path they came by (console, "
                    "CloudShell, Athena, Lambda, EC2, your VPC endpoints, anonymous, ...) and "
                    "print per source the values a metric filter can see.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help=f"event files or directories (default: {DEFAULT_SOURCE})")
    parser.add_argument("--own-vpce", action="append", default=None, metavar="VPCE_ID",
                        help="one of your VPC endpoint ids (repeatable)")
    parser.add_argument("--own-account", action="append", default=None, metavar="ACCOUNT",
                        help="an account whose endpoints count as yours (repeatable)")
    parser.add_argument("--ip-ranges", metavar="FILE", help="use this ip-ranges.json")
    parser.add_argument("--refresh-ip-ranges", action="store_true",
                        help="fetch and cache AWS's live ip-ranges.json first")
    parser.add_argument("--by", default="source", help="column to group by (default: source)")
    parser.add_argument("--top", type=int, default=3, help="top values per column (default 3)")
    parser.add_argument("--baseline", metavar="FILE",
                        help="compare with this baseline (created from these events if missing)")
    parser.add_argument("--update-baseline", action="store_true",
                        help="replace the baseline with these events after comparing")
    parser.add_argument("--csv", metavar="FILE",
                        help="write eventID, eventTime, source, source_reason and flags as CSV")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from s3audit.ipranges import IpRangesError, load_ip_ranges
    from s3audit.loader import LoadError, load_events
    from s3audit.sources import classify
    from s3audit.tables import UnknownColumnError, compare_with_baseline, tabulate

    try:
        ranges = load_ip_ranges(args.ip_ranges, refresh=args.refresh_ip_ranges)
        events = load_events([str(p) for p in (args.paths or [DEFAULT_SOURCE])],
                             progress=sys.stderr.isatty())
    except (LoadError, IpRangesError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    classified = classify(events, own_vpc_endpoints=args.own_vpce,
                          own_accounts=args.own_account, ip_ranges=ranges)
    try:
        table = tabulate(classified, by=args.by, top=args.top)
    except UnknownColumnError as exc:  # --by names no column: say so (no traceback)
        print(f"error: --by: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    print(f"{len(classified):,} events; AWS ranges: {ranges.origin} "
          f"(createDate {ranges.create_date})\n")
    with pd.option_context("display.max_colwidth", 90, "display.width", 200,
                           "display.max_columns", None):
        for name, row in table.iterrows():
            print(f"== {name}: {int(row['events']):,} events, {row['bytes_out']:,.0f} bytes out, "
                  f"{int(row['errors']):,} errors")
            for dim in ("vpcEndpointId", "sourceIPAddress", "ua_family", "principal"):
                if f"{dim}_top" in row:
                    print(f"   {dim:<16} ({int(row[f'{dim}_distinct']):,} distinct) "
                          f"{row[f'{dim}_top']}")
        flags = classified[["cross_account", "credentials_off_instance"]].sum()
        print(f"\ncross-account calls: {int(flags['cross_account']):,}; EC2 instance credentials "
              f"used outside AWS: {int(flags['credentials_off_instance']):,}")
        if args.baseline:
            new = compare_with_baseline(classified, args.baseline, update=args.update_baseline,
                                        own_vpc_endpoints=args.own_vpce,
                                        own_accounts=args.own_account, ip_ranges=ranges)
            print(f"\nbaseline {args.baseline}: {new.attrs['baseline']}; "
                  f"{len(new)} new value(s)")
            if len(new):
                print(new.drop(columns=["example_eventID"]).head(40).to_string(index=False))
    if args.csv:
        cols = [c for c in ("eventID", "eventTime", "source", "source_reason", "cross_account",
                            "credentials_off_instance", "ip_service", "ip_region", "ua_family")
                if c in classified.columns]
        classified[cols].to_csv(args.csv, index=False)
        print(f"\nwrote {len(classified):,} rows to {args.csv}")
    return 0
