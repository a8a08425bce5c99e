"""The ``s3audit`` command line.

Each sub-command lives in its own module under :mod:`s3audit.commands` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (``args -> exit code``).
A module that is not there yet is skipped, so the CLI grows with the package.

Examples
--------
$ s3audit samples --events 20000 --out data/samples
$ s3audit test-pattern '{ $.eventName = "GetObject" }' data/samples/events.jsonl.gz
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

COMMAND_MODULES = (
    "s3audit.commands.samples",
    "s3audit.commands.summary",
    "s3audit.commands.sources",
    "s3audit.commands.test_pattern",
    "s3audit.commands.pull",
    "s3audit.commands.deploy",
    "s3audit.commands.report",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="s3audit",
        description="Who reads this S3 bucket, by which path - and an alarm for the unexpected.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv: debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # that command has not landed yet
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
