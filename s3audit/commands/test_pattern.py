"""``s3audit test-pattern PATTERN FILE...``: run a filter pattern over events, offline.

Prints how many events match, a few matching events, per-condition counts and lint warnings.
Exit status: 0 for a valid pattern, 2 for an invalid one (the error shows a caret under the
fault), 1 when the events cannot be loaded.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "test-pattern",
        help="test a CloudWatch Logs filter pattern against events (offline)",
        description="Evaluate a CloudWatch Logs filter pattern exactly as AWS would, over events loaded "
                    "from files (JSON lines, CloudTrail trail files, Logs Insights exports, .gz).",
    )
    p.add_argument("pattern", help="the filter pattern, e.g. '{ $.eventName = \"GetObject\" }'")
    p.add_argument("files", nargs="+", help="event files or directories")
    p.add_argument("--show", type=int, default=3, metavar="N", help="matching events to print (default 3)")
    p.add_argument("--metric-value", default=None, metavar="V",
                   help="a metricValue ($.path, $name, $N or a number): print the sum it would publish")
    p.add_argument("--all-events", action="store_true",
                   help="keep management, non-S3 and NetworkActivity events (load_events filters them by default)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: Any = None, err: Any = None) -> int:
    from s3audit.pattern import PatternError, compile_pattern
    from s3audit.pattern.explain import leaves
    from s3audit.pattern.render import render_condition, render_field, render_term

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        fp = compile_pattern(args.pattern)
        if args.metric_value is not None:
            from s3audit.pattern.extract import check_metric_value

            check_metric_value(args.metric_value, fp.kind)
    except PatternError as exc:
        print(f"invalid pattern: {exc}", file=err)
        return 2
    import s3audit

    try:
        options: dict[str, Any] = {}
        if args.all_events:
            options["keep"] = "all"
        df = s3audit.load_events(list(args.files), **options)
    except Exception as exc:  # LoadError and friends: report, do not trace back
        print(f"cannot load events: {exc}", file=err)
        return 1
    mask = fp.mask(df)
    n, hits = len(df), int(mask.sum())
    pct = f" ({100.0 * hits / n:.1f}%)" if n else ""
    print(f"pattern   : {fp}", file=out)
    print(f"kind      : {fp.kind}", file=out)
    print(f"matches   : {hits} of {n} events{pct}", file=out)
    left_out = {k: int(v) for k, v in (df.attrs.get("filtered") or {}).items() if v}
    skipped = int(df.attrs.get("skipped_total") or 0)
    if left_out or skipped:  # what the count above does not cover (nothing left out silently)
        parts = [f"{v:,} {k.replace('_', ' ')}" for k, v in left_out.items()]
        if skipped:
            parts.append(f"{skipped:,} unreadable input(s) skipped")
        hint = ("; --all-events keeps management, non-S3 and NetworkActivity events"
                if not args.all_events and set(left_out) - {"duplicates"} else "")
        print(f"left out  : {', '.join(parts)}{hint}", file=out)
    if args.metric_value is not None and hits:
        total = 0.0
        missing = 0
        for raw in df.loc[mask, "raw"]:
            v = fp.extract(raw, args.metric_value).metric_value
            if v is None:
                missing += 1
            else:
                total += v
        shown = f"{int(total):,}" if total.is_integer() else f"{total:,.6g}"
        print(f"metric    : sum of {args.metric_value} = {shown}"
              + (f" ({missing} matching events had no numeric value: no datapoint)" if missing else ""), file=out)
    conds = leaves(fp.ast)
    if conds:
        print("conditions:", file=out)
        for c in conds:
            if fp.kind == "json":
                text = render_condition(c)
                cnt = int(compile_pattern("{ " + text + " }").mask(df).sum())
            elif fp.kind == "terms":
                text = render_term(c)
                probe = render_term(type(c)(c.kind, c.text, "", c.span))
                cnt = int(compile_pattern(probe).mask(df).sum())
                text += "  (present in)"
            else:
                text = render_field(c)
                cnt = sum(1 for r in df["raw"] if _field_true(fp, c, r))
            print(f"  {cnt:>9}  {text}", file=out)
    if hits and args.show > 0:
        print(f"first {min(args.show, hits)} matching event(s):", file=out)
        for raw in df.loc[mask, "raw"].head(args.show):
            print("  " + _short(raw), file=out)
    warnings = fp.lint(df)
    if warnings:
        print("lint:", file=out)
        for w in warnings:
            print("  " + str(w).replace("\n", "\n  "), file=out)
    return 0


def _field_true(fp: Any, field: Any, raw: Any) -> bool:
    from s3audit.pattern.evaluate import bind_fields, field_ok

    if not isinstance(raw, str):
        return False
    bound = bind_fields(fp.ast, raw)
    if bound is None:
        return False
    idx = fp.ast.fields.index(field)
    return idx in bound and field_ok(field.conditions, bound[idx][0])


def _short(raw: str, width: int = 300) -> str:
    try:
        text = json.dumps(json.loads(raw), separators=(",", ":"))
    except (ValueError, TypeError):
        text = str(raw)
    return text if len(text) <= width else text[: width - 3] + "..."
