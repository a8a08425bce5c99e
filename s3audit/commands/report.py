"""``s3audit report`` and ``s3audit demo``: the investigation headless, ending in a shared report.

Exit codes: 0 report written; 1 a notebook failed or the leak scan refused to write the report
(the message names what leaked); 2 usage error.

Examples
--------
$ s3audit demo --out reports
$ s3audit report --samples --out reports
$ s3audit report --log-group aws-cloudtrail-logs-s3 --start 2026-10-01T00:00Z --end 2026-10-08T00:00Z \\
      --profile audit --out reports
$ s3audit report --from-workspace reports/work --out reports     # re-render, no notebook run
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _redaction_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("redaction (on by default)")
    g.add_argument("--no-redact", "--unredacted", dest="redact", action="store_false",
                   help="write an UNREDACTED internal report (report-internal.html); never share it")
    g.add_argument("--key", default=None,
                   help="HMAC key for stable pseudonyms across reports (default: $S3AUDIT_REDACT_KEY, "
                        "else random per report)")
    g.add_argument("--keep-buckets", action="store_true", help="do not pseudonymise bucket names")
    g.add_argument("--keys", choices=("segments", "full", "keep"), default="segments",
                   help="object keys: per path segment (default), as one token, or kept")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "report", help="run notebooks 01-04 headless and write the shared HTML report",
        description="Run the investigation (notebooks 01-04, 04 as a dry run) on the samples or a "
                    "CloudWatch Logs log group, and write DIR/report.html (redacted, leak-scanned).")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--samples", action="store_true", help="use the bundled data/samples/")
    src.add_argument("--log-group", action="append", metavar="G",
                     help="CloudWatch Logs log group receiving the trail (repeatable)")
    src.add_argument("--from-workspace", metavar="WORKDIR",
                     help="render from an existing workspace without running notebooks")
    p.add_argument("--start", help="window start (ISO time with zone), with --log-group")
    p.add_argument("--end", help="window end (ISO time with zone), with --log-group")
    p.add_argument("--profile", help="AWS profile (default: as boto3 reads it)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    _redaction_args(p)
    p.set_defaults(func=_report)

    d = subparsers.add_parser(
        "demo", help="the whole investigation on the bundled samples, ending in reports/report.html",
        description="Run notebooks 01-04 headless on data/samples/ (04 as a dry run), write the "
                    "executed notebooks and the shared report to DIR, and print the findings.")
    d.add_argument("--out", default="reports", metavar="DIR", help="output folder (default: reports)")
    _redaction_args(d)
    d.set_defaults(func=_demo)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {"buckets": not args.keep_buckets, "keys": False if args.keys == "keep" else args.keys}


def _finish(make: Callable[[], Any]) -> int:
    """Run ``make()`` (a pipeline or a re-render), print its summary, map errors to exit codes."""
    from s3audit.demo import PipelineError
    from s3audit.leakscan import LeakError
    from s3audit.redaction import RedactionError

    try:
        result = make()
    except (LeakError, PipelineError, RedactionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except ValueError as exc:  # a bad window or notebook parameter
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print("\n".join(result.summary_lines()))
    return EXIT_FAILED if result.problems else EXIT_OK


def _run(args: argparse.Namespace, source: Any) -> int:
    from s3audit.demo import run_pipeline

    return _finish(lambda: run_pipeline(
        args.out, source=source, start=getattr(args, "start", None), end=getattr(args, "end", None),
        profile=getattr(args, "profile", None), redact=args.redact, key=args.key,
        redaction=_options(args)))


def _report(args: argparse.Namespace) -> int:
    if args.from_workspace:
        from s3audit.report import build_report

        return _finish(lambda: build_report(args.from_workspace, args.out, redact=args.redact,
                                            key=args.key, redaction=_options(args)))
    if args.log_group:
        if not (args.start and args.end):
            print("error: --log-group needs --start and --end", file=sys.stderr)
            return EXIT_USAGE
        return _run(args, args.log_group if len(args.log_group) > 1 else args.log_group[0])
    return _run(args, "samples")


def _demo(args: argparse.Namespace) -> int:
    code = _run(args, "samples")
    if code == EXIT_OK and args.redact:
        path = os.path.join(args.out, "report.html")
        print(f"\nOpen {path} in a browser (it works offline and can be shared: identifiers are pseudonymised).")
    elif code == EXIT_OK:
        path = os.path.join(args.out, "report-internal.html")
        print(f"\nOpen {path} in a browser (it works offline). It is NOT redacted: do not share it.")
    return code
