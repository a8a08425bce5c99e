"""``s3audit deploy | teardown | template | verify SPEC``: the alarm, planned first.

Exit codes: 0 success (a printed plan is a success); 1 the deployment cannot proceed or does not
match (pre-flight failed, AWS error, verify mismatch); 2 invalid spec or usage; 3 missing IAM
permission (the message names the action). Region, profile and ``AWS_ENDPOINT_URL`` are read by
boto3 as usual; ``--region`` / ``--profile`` override them.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_SPEC, EXIT_DENIED = 0, 1, 2, 3


def register(subparsers: Any) -> None:
    def common(p: argparse.ArgumentParser, aws: bool = True) -> None:
        p.add_argument("spec", metavar="SPEC", help="deploy spec (.json, .yaml or .yml)")
        if aws:
            p.add_argument("--profile", default=None, help="AWS profile (default: as boto3 reads it)")
            p.add_argument("--region", default=None, help="AWS region (default: as boto3 reads it)")

    p = subparsers.add_parser("deploy", help="plan the alarm deployment (apply it with --apply)",
                              description="Print the deploy plan for SPEC; with --apply, perform it.")
    common(p)
    p.add_argument("--apply", action="store_true", help="perform the plan (default: only print it)")
    p.add_argument("--offline", action="store_true", help="make no AWS call: plan against an assumed empty account")
    p.set_defaults(func=lambda args: _run(_deploy, args))

    p = subparsers.add_parser("teardown", help="plan removal of what s3audit deployed (remove with --apply)",
                              description="Print what would be removed for SPEC (only resources s3audit created); "
                                          "with --apply, remove them.")
    common(p)
    p.add_argument("--apply", action="store_true", help="perform the removal (default: only print the plan)")
    p.set_defaults(func=lambda args: _run(_teardown, args))

    p = subparsers.add_parser("template", help="print a CloudFormation template for SPEC",
                              description="Print a CloudFormation template with the same resources as `deploy`.")
    common(p, aws=False)
    p.add_argument("--format", choices=("json", "yaml"), default="json")
    p.add_argument("-o", "--output", default=None, help="write to this file instead of stdout")
    p.set_defaults(func=lambda args: _run(_template, args))

    p = subparsers.add_parser("verify", help="check that the deployment matches SPEC",
                              description="Check the deployed resources against SPEC.")
    common(p)
    p.add_argument("--send-test-notification", action="store_true",
                   help="TEST: set the alarm to ALARM (reason marked as a test) so subscribers get an e-mail, "
                        "then restore its state")
    p.set_defaults(func=lambda args: _run(_verify, args))


def _session(args: argparse.Namespace) -> Any:
    import boto3

    return boto3.Session(profile_name=args.profile, region_name=args.region)


def _run(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError

    from s3audit.deploy.errors import DeployError, PermissionDenied, SpecError

    # first match wins (PermissionDenied is a DeployError); botocore's own errors are
    # configuration or credential problems: say so, without a traceback
    outcomes: tuple[tuple[type[BaseException], int, Callable[[Any], str]], ...] = (
        (SpecError, EXIT_SPEC, str),
        (FileNotFoundError, EXIT_SPEC, lambda exc: f"spec not found: {exc.filename}"),
        (PermissionDenied, EXIT_DENIED, str),
        (DeployError, EXIT_FAILED, str),
        (BotoCoreError, EXIT_FAILED, lambda exc: f"AWS configuration: {exc}"),
    )
    try:
        return command(args)
    except tuple(kind for kind, _, _ in outcomes) as exc:
        code, message = next((c, m) for kind, c, m in outcomes if isinstance(exc, kind))
        print(f"error: {message(exc)}", file=sys.stderr)
        return code


def _deploy(args: argparse.Namespace) -> int:
    from s3audit.deploy import plan

    if args.offline and args.apply:
        print("error: --offline plans cannot be applied", file=sys.stderr)
        return EXIT_SPEC
    p = plan(args.spec, session=None if args.offline else _session(args), offline=args.offline)
    if args.apply and not p.blocked:
        p.apply()
    print(p.render())
    return EXIT_FAILED if p.blocked else EXIT_OK


def _teardown(args: argparse.Namespace) -> int:
    from s3audit.deploy import teardown

    p = teardown(args.spec, session=_session(args))
    if args.apply:
        p.apply()
    print(p.render())
    return EXIT_OK


def _template(args: argparse.Namespace) -> int:
    from s3audit.deploy import render_template
    from s3audit.deploy.preflight import FAILED, check_pattern
    from s3audit.deploy.spec import load_spec

    spec = load_spec(args.spec)
    check = check_pattern(spec)
    if check.status == FAILED:
        print(f"error: {check.name}: {check.detail}", file=sys.stderr)
        return EXIT_FAILED
    text = render_template(spec, args.format)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    from s3audit.deploy import verify

    report = verify(args.spec, session=_session(args), send_test_notification=args.send_test_notification)
    print(report)
    return EXIT_OK if report.ok else EXIT_FAILED
