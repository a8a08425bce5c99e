"""``s3audit pull``: events (or server-side counts) from CloudWatch Logs Insights.

Events::

    s3audit pull --log-group aws-cloudtrail-logs --start 2026-11-01T00:00Z --end 2026-11-08T00:00Z \\
        --where 'requestParameters.bucketName = "payroll"' --out events.parquet [--profile P]

Counts instead of events (``--count-by`` switches to :func:`s3audit.count_events`; repeatable)::

    s3audit pull --log-group aws-cloudtrail-logs --start 2026-10-01T00:00Z --end 2026-11-01T00:00Z \\
        --count-by vpcEndpointId --count-by sourceIPAddress --out counts.csv

Times are ISO 8601 with a zone (``Z`` or ``+02:00``); a time without a zone is refused. Exit code
0: complete; 3: incomplete (with ``--allow-partial`` the partial result is still written and the
missing ranges are printed); 2: bad arguments or an AWS error.
"""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta
from typing import Any


def _when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone; add Z (UTC) or an offset like +02:00")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "pull",
        help="pull events (or counts) from CloudWatch Logs Insights, complete or loudly incomplete",
        description="Pull every CloudTrail event of [start, end) from Logs Insights into a parquet file "
                    "(or, with --count-by, count them server-side). Nothing is silently truncated: "
                    "an incomplete pull exits with code 3 and lists the missing ranges.",
    )
    parser.add_argument("--log-group", action="append", required=True, metavar="NAME_OR_ARN",
                        help="log group name or ARN (repeatable, at most 50)")
    parser.add_argument("--start", type=_when, required=True, help="ISO 8601 with zone, e.g. 2026-11-01T00:00Z")
    parser.add_argument("--end", type=_when, required=True, help="ISO 8601 with zone (exclusive)")
    parser.add_argument("--where", help='extra Insights filter, e.g. \'requestParameters.bucketName = "b"\'')
    parser.add_argument("--out", help="output file: .parquet (events; default events.parquet) or .csv")
    parser.add_argument("--count-by", action="append", default=[], metavar="FIELD",
                        help="count events by FIELD in Logs Insights instead of pulling them (repeatable)")
    parser.add_argument("--profile", help="AWS profile (default: the default credential chain)")
    parser.add_argument("--region", help="AWS region (default: the profile's)")
    parser.add_argument("--endpoint-url", help="Logs endpoint (default: AWS, or AWS_ENDPOINT_URL)")
    parser.add_argument("--padding-minutes", type=float, default=15.0,
                        help="query window padding for late delivery (default 15)")
    parser.add_argument("--max-concurrency", type=int, default=25, help="queries at once (default 25)")
    parser.add_argument("--deadline-minutes", type=float, default=60.0, help="overall time budget (default 60)")
    parser.add_argument("--cache-dir", help="reuse finished slices stored here (parquet)")
    parser.add_argument("--allow-partial", action="store_true", help="write an incomplete result too (exit 3)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import boto3
    from botocore.config import Config

    from s3audit.insights import IncompleteResult, InsightsError, count_events, pull_events

    session = boto3.Session(profile_name=args.profile, region_name=args.region)
    client = session.client("logs", endpoint_url=args.endpoint_url,
                            config=Config(max_pool_connections=args.max_concurrency + 4,
                                          retries={"mode": "standard", "max_attempts": 3}))
    common: dict[str, Any] = {
        "client": client, "where": args.where, "max_concurrency": args.max_concurrency,
        "deadline": timedelta(minutes=args.deadline_minutes), "progress": not args.no_progress,
        "allow_partial": args.allow_partial, "padding": timedelta(minutes=args.padding_minutes),
    }
    try:
        if args.count_by:
            df = count_events(args.log_group, args.start, args.end, by=args.count_by, **common)
        else:
            df = pull_events(args.log_group, args.start, args.end, cache_dir=args.cache_dir, **common)
    except IncompleteResult as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except (InsightsError, ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = args.out or ("counts.csv" if args.count_by else "events.parquet")
    if out.endswith(".csv"):
        df.to_csv(out, index=False)
    else:
        df.to_parquet(out, index=False)
    cov = df.attrs["coverage"]
    what = "groups" if args.count_by else "events"
    print(f"{len(df):,} {what} -> {out}; {cov['start_queries']} queries, "
          f"{cov['bytes_scanned'] / 2**20:,.1f} MiB scanned; complete: {cov['complete']}")
    for m in cov["missing"]:
        print(f"  missing {m['start']} .. {m['end']}: {m['reason']}", file=sys.stderr)
    return 0 if cov["complete"] else 3
