"""``extract``: what TestMetricFilter reports (``extractedValues``) and the metric value published."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .ast import DelimitedPattern, JsonPattern, Selector
from .errors import PatternError
from .evaluate import bind_fields, event_document, event_text, evaluate, resolve, split_fields
from .lexer import NUMBER_RE, read_selector
from .values import JsonNumber, parse_number

if TYPE_CHECKING:  # pragma: no cover
    from .compiled import FilterPattern

MAX_METRIC_VALUE = 100  # metricValue: a string of at most 100 characters [D service model]


@dataclass(frozen=True)
class Extraction:
    """The result of :meth:`FilterPattern.extract`.

    Attributes
    ----------
    matched : bool
        Whether the pattern matches the event.
    extracted_values : dict
        TestMetricFilter's ``extractedValues``: ``{"$name": value, "$3": value}`` for space-delimited
        patterns, ``{}`` for term and JSON patterns (D-> spec OQ-21). Empty when not matched.
    metric_value : float or None
        The value a metric filter with this ``metricValue`` publishes for the event; None when the
        event does not match, or the referenced value is missing or not a number (D-> OQ-22: the
        event still counts as matched, but no datapoint is emitted).
    """

    matched: bool
    extracted_values: dict[str, str] = field(default_factory=dict)
    metric_value: float | None = None


def delimited_values(pattern: DelimitedPattern, text: str) -> dict[str, str] | None:
    """``extractedValues`` for a space-delimited pattern (None if the message has too few fields).

    Named slots give ``$name``; slots covered by ``...``, blank slots and an empty ``[]`` give
    ``$<1-based position in the event>`` [D API-TMF examples].
    """
    bound = bind_fields(pattern, text)
    if bound is None:
        return None
    toks = split_fields(text)
    out: dict[str, str] = {}
    if not pattern.fields:
        return {f"${i + 1}": v for i, (v, _s, _e) in enumerate(toks)}
    used = {pos for _v, pos in bound.values()}
    for idx, (value, pos) in bound.items():
        f = pattern.fields[idx]
        out[f"${f.name}" if f.kind == "named" else f"${pos}"] = value
    ell = pattern.ellipsis_index
    if ell is not None:
        after = len(pattern.fields) - ell - 1
        for i in range(ell, len(toks) - after):
            if i + 1 not in used:
                out[f"${i + 1}"] = toks[i][0]
    return out


def _metric_from(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, JsonNumber):
        return _finite(value.value)
    if isinstance(value, (int, float)):
        return _finite(value)
    if isinstance(value, str):
        num = parse_number(value)  # D-> (OQ-6) a numeric string counts as its number
        return None if num is None else _finite(num)
    return None


def _finite(num: Any) -> float | None:
    """The value as a float, or None beyond the float range (10**400: float() overflows). D-> as
    OQ-22 for a non-numeric value: the event counts as matched, no datapoint is published."""
    try:
        out = float(num)
    except OverflowError:
        return None
    return out if math.isfinite(out) else None


def check_metric_value(metric_value: str, pattern_kind: str) -> None:
    """Raise :class:`PatternError` for a metricValue AWS would reject for this kind of pattern."""
    if not isinstance(metric_value, str) or not metric_value:
        raise PatternError("metricValue must be a non-empty string", pattern=str(metric_value))
    if len(metric_value) > MAX_METRIC_VALUE:
        raise PatternError(f"metricValue may hold at most {MAX_METRIC_VALUE} characters", pattern=metric_value,
                           position=MAX_METRIC_VALUE)
    if NUMBER_RE.match(metric_value):
        return
    if not metric_value.startswith("$"):
        raise PatternError("metricValue must be a number (\"1\") or a $ reference ($.path, $name, $N)",
                           pattern=metric_value, position=0)
    if pattern_kind == "json":
        if not metric_value.startswith("$.") and not metric_value.startswith("$["):
            raise PatternError("a JSON pattern's metricValue references a selector such as $.bytes",
                               pattern=metric_value, position=1)
    elif pattern_kind == "delimited":
        name = metric_value[1:]
        if not name or not all(c.isascii() and (c.isalnum() or c == "_") for c in name):
            raise PatternError("a space-delimited pattern's metricValue is $name or $N", pattern=metric_value,
                               position=1)
    else:
        raise PatternError("only JSON and space-delimited patterns can publish a $ value", pattern=metric_value,
                           position=0)


def extract(fp: "FilterPattern", event: str | Mapping[str, Any], metric_value: str = "1") -> Extraction:
    """See :meth:`FilterPattern.extract`.

    Examples
    --------
    >>> from s3audit.pattern import compile_pattern
    >>> compile_pattern("[ip, user, status, size]").extract("1.2.3.4 bob 200 512", "$size")
    Extraction(matched=True, extracted_values={'$ip': '1.2.3.4', '$user': 'bob', '$status': '200', '$size': '512'}, metric_value=512.0)
    """
    check_metric_value(metric_value, fp.kind)
    ast = fp.ast
    if not evaluate(ast, event):
        return Extraction(False)
    values: dict[str, str] = {}
    if isinstance(ast, DelimitedPattern):
        values = delimited_values(ast, event_text(event)) or {}
    if NUMBER_RE.match(metric_value):
        return Extraction(True, values, float(metric_value))
    if isinstance(ast, JsonPattern):
        try:
            steps, end = read_selector(metric_value, 0, len(metric_value))
        except PatternError as exc:
            exc.pattern = metric_value
            raise
        if end != len(metric_value):
            raise PatternError("unexpected text after the selector", pattern=metric_value, position=end)
        sel = Selector(steps)
        if sel.wildcard_count:
            raise PatternError("a metricValue selector cannot hold a wildcard", pattern=metric_value, position=0)
        nodes = resolve(sel, event_document(event))
        return Extraction(True, values, _metric_from(nodes[0]) if nodes else None)
    raw = values.get(metric_value)
    return Extraction(True, values, _metric_from(raw) if raw is not None else None)


MAX_TEST_MESSAGES = 50  # TestMetricFilter logEventMessages: 1 to 50 strings of at least 1 character


def test_metric_filter_response(fp: "FilterPattern", messages: list[str], event_number_base: int = 0) -> dict:
    """What TestMetricFilter would answer: ``{"matches": [{eventNumber, eventMessage, extractedValues}]}``.

    Only matching messages are listed. D-> (spec OQ-1) ``eventNumber`` is 0-based as in the API
    reference examples; pass ``event_number_base=1`` for the aws-cli example's numbering. Key
    results by input position, not by ``eventNumber``.

    Raises
    ------
    ValueError
        For an empty list, more than 50 messages or an empty message (AWS: InvalidParameterException).

    Examples
    --------
    >>> from s3audit.pattern import compile_pattern
    >>> compile_pattern("[ip, status=404, size]").test_metric_filter(["1.2.3.4 404 10", "1.2.3.4 200 5"])
    {'matches': [{'eventNumber': 0, 'eventMessage': '1.2.3.4 404 10', 'extractedValues': {'$ip': '1.2.3.4', '$status': '404', '$size': '10'}}]}
    """
    if not isinstance(messages, (list, tuple)) or not 1 <= len(messages) <= MAX_TEST_MESSAGES:
        raise ValueError(f"logEventMessages must hold 1 to {MAX_TEST_MESSAGES} messages")
    if any(not isinstance(m, str) or not m for m in messages):
        raise ValueError("every logEventMessage must be a non-empty string")
    out = []
    for i, message in enumerate(messages):
        got = extract(fp, message)
        if got.matched:
            out.append({"eventNumber": i + event_number_base, "eventMessage": message,
                        "extractedValues": got.extracted_values})
    return {"matches": out}
