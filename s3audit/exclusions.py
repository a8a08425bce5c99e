"""Exclusions as conditions on the fields a metric filter sees, and their pattern text.

An exclusion says which reads are legitimate: *"reads through our VPC endpoint"*, *"Athena"*,
*"the office network 203.0.113.0/24"*. Each one is a :data:`Condition` - a small tree of
:class:`Equals`, :class:`InCidr`, :class:`Present`, :class:`Absent`, :class:`AllOf`,
:class:`AnyOf`, :class:`Not` - that is true for the events to exclude. The alarm pattern keeps
what no exclusion describes, so every exclusion enters the pattern *negated*, and the filter
language has no general ``NOT``: :func:`render` pushes the negation down to the fields
(De Morgan) and writes each negated comparison the way CloudWatch needs it:

* ``!=`` is false when the field is absent (filter-pattern-spec.md section 6.3), so a negated
  comparison on an **optional** field is written ``($.f NOT EXISTS || $.f != "v")`` - reads
  without the field still alarm. Only fields CloudTrail always writes (:data:`REQUIRED_FIELDS`)
  get a bare ``!=``.
* ``!=`` is also false on an explicit JSON ``null``; when the history holds such nulls for a
  field (``nullable``), ``|| $.f IS NULL`` is added.
* Several negated values of one field share one ``NOT EXISTS`` guard, and every regex of one
  field is merged into one ``%...%`` (a pattern may hold two).

:func:`translate_source` turns an access-source label from :func:`s3audit.classify` into such a
condition, using the rule's fingerprint (cloudtrail-s3-sources.md section 6) and the values seen
in the history (endpoint ids, service names, AWS ranges), and says what it could not express.

Examples
--------
>>> c = AnyOf((Equals("vpcEndpointId", "vpce-1"), Equals("vpcEndpointId", "vpce-2")))
>>> render(Not(c))
'($.vpcEndpointId NOT EXISTS || ($.vpcEndpointId != "vpce-1" && $.vpcEndpointId != "vpce-2"))'
>>> render(Not(InCidr("sourceIPAddress", "10.0.0.0/8")))
'$.sourceIPAddress != "10.*"'
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np
import pandas as pd

from s3audit.cidr import cidr_values, merge_regex
from s3audit.flatten import is_position
from s3audit.useragent import strip_brackets

__all__ = [
    "REQUIRED_FIELDS",
    "Absent",
    "AllOf",
    "AnyOf",
    "Condition",
    "Equals",
    "InCidr",
    "Not",
    "Present",
    "RenderContext",
    "SourceTranslation",
    "column_name",
    "condition_from_dict",
    "condition_to_dict",
    "describe",
    "effective",
    "implies",
    "fields_of",
    "guarded_fields",
    "render",
    "selector",
    "translate_source",
]

log = logging.getLogger(__name__)

REQUIRED_FIELDS: frozenset[str] = frozenset({
    "eventVersion", "eventSource", "eventName", "eventTime", "awsRegion", "sourceIPAddress",
    "eventID", "eventType",
})
"""Fields every CloudTrail record carries (record-contents page: "Optional: False"; the spec's
section 9 for ``sourceIPAddress``). Every other field is treated as optional."""

_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_WORD = re.compile(r"^[A-Za-z0-9_.+-]+$")


# ---------------------------------------------------------------------------------------------
# field names: Insights-style dotted columns <-> filter-pattern selectors
def column_name(field_name: str) -> str:
    """The event-frame column of a field: ``$.resources[0].ARN`` -> ``resources.0.ARN``.

    Examples
    --------
    >>> column_name("$.userIdentity.arn"), column_name("resources[0].ARN")
    ('userIdentity.arn', 'resources.0.ARN')
    """
    text = field_name.strip()
    if text.startswith("$."):
        text = text[2:]
    elif text.startswith("$"):
        text = text[1:]
    text = re.sub(r"\.?\['([^']*)'\]", r".\1", text)
    text = re.sub(r"\[(\d+|\*)\]", r".\1", text)
    return text.strip(".")


def selector(field_name: str) -> str:
    """The filter-pattern selector of a field: ``resources.0.ARN`` -> ``$.resources[0].ARN``.

    A name that already starts with ``$`` is a selector and is kept as written.

    Examples
    --------
    >>> selector("userIdentity.arn"), selector("resources.0.ARN"), selector("$.a.*")
    ('$.userIdentity.arn', '$.resources[0].ARN', '$.a.*')
    """
    text = field_name.strip()
    if text.startswith("$"):
        return text
    out = "$"
    for part in text.split("."):
        if is_position(part):
            out += f"[{part}]"
        elif part == "*":
            out += "[*]"
        elif _NAME.match(part):
            out += f".{part}"
        else:
            if "'" in part or not part:
                raise ValueError(f"field {field_name!r}: {part!r} cannot be written as a selector")
            out += f".['{part}']"
    return out


def _literal(value: str | float) -> str:
    if isinstance(value, bool):
        raise ValueError("booleans are tested with IS TRUE / IS FALSE, not with a value")
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    text = str(value)
    if '"' in text or "\\" in text:
        # D-> OQ-9: escapes inside quoted values are undocumented, so they are never generated
        raise ValueError(
            f"value {text!r}: CloudWatch documents no escape for '\"' or '\\\\' inside a quoted "
            "value; use a wildcard on the part before or after it"
        )
    return f'"{text}"'


def check_value(value: str | float) -> None:
    """Refuse values CloudWatch would read differently than the user means.

    A ``*`` is a wildcard only at the start or the end of a value; in the middle it is a literal
    star (D-> OQ-7), so ``"arn:*:role"`` would never match what the user means.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"value {value!r}: a filter pattern compares finite numbers only")
        return
    text = str(value)
    if not text:
        raise ValueError("an empty value cannot be excluded")
    inner = text[1:-1] if len(text) > 2 else ""
    if "*" in inner:
        raise ValueError(
            f"value {text!r}: a '*' is a wildcard only at the start or the end of a value; "
            "in the middle CloudWatch reads it as a literal star"
        )
    _literal(text)


# ---------------------------------------------------------------------------------------------
# the condition tree
@dataclass(frozen=True)
class Equals:
    """``$.field = value``: exact, or a prefix/suffix/substring with a leading/trailing ``*``."""

    field: str
    value: str | float

    def __post_init__(self) -> None:
        check_value(self.value)


@dataclass(frozen=True)
class InCidr:
    """The field (an address) is inside ``cidr`` (octet-aligned wildcards or a regex)."""

    field: str
    cidr: str

    def __post_init__(self) -> None:
        cidr_values(self.cidr)  # raises CidrError when CloudWatch cannot express it


@dataclass(frozen=True)
class Present:
    """The field holds a value (``$.f = *``)."""

    field: str


@dataclass(frozen=True)
class Absent:
    """The field is not in the event (``$.f NOT EXISTS``)."""

    field: str


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    part: Condition


Condition = Union[Equals, InCidr, Present, Absent, AllOf, AnyOf, Not]
_Atom = Union[Equals, InCidr, Present, Absent]


def fields_of(condition: Condition) -> list[str]:
    """The fields a condition reads, in order of first use."""
    out: list[str] = []

    def walk(c: Condition) -> None:
        if isinstance(c, (AllOf, AnyOf)):
            for p in c.parts:
                walk(p)
        elif isinstance(c, Not):
            walk(c.part)
        elif column_name(c.field) not in out:
            out.append(column_name(c.field))

    walk(condition)
    return out


def guarded_fields(condition: Condition) -> list[str]:
    """Fields the rendering guards with ``NOT EXISTS``/``IS NULL`` (negated comparisons).

    Examples
    --------
    >>> guarded_fields(AllOf((Equals("a", "x"), Not(Equals("b", "y")), Absent("c"))))
    ['b', 'c']
    """
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, _Lit):
            atom = node.atom
            if (node.negated and isinstance(atom, (Equals, InCidr, Present))) or \
                    (not node.negated and isinstance(atom, Absent)):
                name = column_name(atom.field)
                if name not in out:
                    out.append(name)
        else:
            for child in node[1]:
                walk(child)

    walk(_nnf(condition))
    return out


def describe(condition: Condition) -> str:
    """A short human reading of a condition (for tables and the widget)."""
    if isinstance(condition, Equals):
        return f"{column_name(condition.field)} = {condition.value}"
    if isinstance(condition, InCidr):
        return f"{column_name(condition.field)} in {condition.cidr}"
    if isinstance(condition, Present):
        return f"{column_name(condition.field)} present"
    if isinstance(condition, Absent):
        return f"{column_name(condition.field)} absent"
    if isinstance(condition, Not):
        return f"not ({describe(condition.part)})"
    joiner = " and " if isinstance(condition, AllOf) else " or "
    inner = [describe(p) for p in condition.parts]
    if isinstance(condition, AnyOf) and len({fields_of(p)[0] for p in condition.parts
                                             if isinstance(p, (Equals, InCidr))}) == 1 \
            and all(isinstance(p, (Equals, InCidr)) for p in condition.parts) and len(inner) > 1:
        first = condition.parts[0]
        values = [str(p.value if isinstance(p, Equals) else p.cidr) for p in condition.parts]
        return f"{column_name(first.field)} in [{', '.join(values)}]"
    return joiner.join(f"({i})" if " and " in i or " or " in i else i for i in inner)


def condition_to_dict(condition: Condition) -> dict[str, Any]:
    """A plain, reviewable form for YAML/JSON files (see :func:`condition_from_dict`)."""
    if isinstance(condition, Equals):
        return {"field": column_name(condition.field), "equals": condition.value}
    if isinstance(condition, InCidr):
        return {"field": column_name(condition.field), "cidr": condition.cidr}
    if isinstance(condition, Present):
        return {"field": column_name(condition.field), "exists": True}
    if isinstance(condition, Absent):
        return {"field": column_name(condition.field), "exists": False}
    if isinstance(condition, Not):
        return {"not": condition_to_dict(condition.part)}
    key = "all" if isinstance(condition, AllOf) else "any"
    return {key: [condition_to_dict(p) for p in condition.parts]}


def condition_from_dict(doc: Mapping[str, Any]) -> Condition:
    """Read a condition written by :func:`condition_to_dict` (ValueError naming the problem).

    Examples
    --------
    >>> condition_from_dict({"any": [{"field": "vpcEndpointId", "equals": "vpce-1"}]})
    AnyOf(parts=(Equals(field='vpcEndpointId', value='vpce-1'),))
    """
    if not isinstance(doc, Mapping):
        raise ValueError(f"a condition must be a mapping, got {doc!r}")
    keys = set(doc)
    if keys == {"all"} or keys == {"any"}:
        parts = doc.get("all", doc.get("any"))
        if not isinstance(parts, list) or not parts:
            raise ValueError(f"{sorted(keys)[0]!r} needs a non-empty list of conditions")
        built = tuple(condition_from_dict(p) for p in parts)
        return AllOf(built) if "all" in doc else AnyOf(built)
    if keys == {"not"}:
        return Not(condition_from_dict(doc["not"]))
    if "field" in doc and len(keys) == 2:
        name = doc["field"]
        if not isinstance(name, str) or not name:
            raise ValueError(f"condition field must be a non-empty string, got {name!r}")
        if "equals" in doc:
            return Equals(name, doc["equals"])
        if "cidr" in doc:
            return InCidr(name, str(doc["cidr"]))
        if "exists" in doc and isinstance(doc["exists"], bool):
            return Present(name) if doc["exists"] else Absent(name)
    raise ValueError(
        f"unknown condition {dict(doc)!r}: expected all/any/not, or field with equals/cidr/exists"
    )


# ---------------------------------------------------------------------------------------------
# rendering
@dataclass
class RenderContext:
    """What rendering needs to know about the fields.

    ``optional(field)`` - may the field be absent (then ``!=`` gets a ``NOT EXISTS ||`` guard);
    ``nullable`` - fields seen holding an explicit JSON null (``IS NULL ||`` is added).
    """

    required: frozenset[str] = REQUIRED_FIELDS
    nullable: frozenset[str] = frozenset()
    compact: bool = False

    def optional(self, name: str) -> bool:
        return column_name(name) not in self.required

    @property
    def AND(self) -> str:  # noqa: N802
        return "&&" if self.compact else " && "

    @property
    def OR(self) -> str:  # noqa: N802
        return "||" if self.compact else " || "

    def op(self, symbol: str) -> str:
        return symbol if self.compact else f" {symbol} "


@dataclass(frozen=True)
class _Lit:
    """A negation-normal-form leaf: an atom, possibly negated."""

    atom: _Atom
    negated: bool


def _nnf(condition: Condition, negated: bool = False) -> Any:
    """Push negations to the atoms: returns nested ('and'|'or', [children]) / _Lit."""
    if isinstance(condition, Not):
        return _nnf(condition.part, not negated)
    if isinstance(condition, (AllOf, AnyOf)):
        kind = "and" if isinstance(condition, AllOf) else "or"
        if negated:
            kind = "or" if kind == "and" else "and"
        return (kind, [_nnf(p, negated) for p in condition.parts])
    return _Lit(condition, negated)


def _flatten(node: Any) -> Any:
    if isinstance(node, _Lit):
        return node
    kind, children = node
    flat: list[Any] = []
    for child in (_flatten(c) for c in children):
        for item in (child[1] if isinstance(child, tuple) and child[0] == kind else [child]):
            if item not in flat:  # x && x is x, x || x is x: no repeated text (or regex)
                flat.append(item)
    if len(flat) == 1:
        return flat[0]
    return (kind, flat)


def _comparisons(lit: _Lit, ctx: RenderContext) -> tuple[str, list[str]]:
    """The plain comparisons of one literal and how they join ('and'|'or').

    Guards (``NOT EXISTS``, ``IS NULL``) are *not* included: :func:`_render_group` adds them once
    per field.
    """
    atom = lit.atom
    sel = selector(atom.field)
    op = ctx.op("!=" if lit.negated else "=")
    if isinstance(atom, Equals):
        return ("and", [f"{sel}{op}{_literal(atom.value)}"])
    if isinstance(atom, InCidr):
        values = cidr_values(atom.cidr)
        if values.regex is not None:
            return ("and", [f"{sel}{op}%{values.regex}%"])
        texts = [f"{sel}{op}{_literal(v)}" for v in values.wildcards]
        return ("and" if lit.negated else "or", texts)
    raise AssertionError(atom)  # pragma: no cover - Present/Absent are rendered directly


def _merge_regex_texts(texts: list[str], sel: str, op: str) -> list[str]:
    """Join every ``sel op %..%`` of one field into one regex (one slot of the quota of 2)."""
    head = f"{sel}{op}%"
    regexes = [t[len(head):-1] for t in texts if t.startswith(head)]
    if len(regexes) < 2:
        return texts
    rest = [t for t in texts if not t.startswith(head)]
    return rest + [f"{head}{merge_regex(regexes)}%"]


def _render_atom(lit: _Lit, ctx: RenderContext, in_or: bool = False) -> str:
    atom = lit.atom
    sel = selector(atom.field)
    if isinstance(atom, Present) and not lit.negated or isinstance(atom, Absent) and lit.negated:
        return f"{sel}{ctx.op('=')}*"
    if isinstance(atom, Absent) and not lit.negated or isinstance(atom, Present) and lit.negated:
        guards = [f"{sel} NOT EXISTS"]
        if column_name(atom.field) in ctx.nullable:
            guards.append(f"{sel} IS NULL")
        if len(guards) == 1 or in_or:
            return ctx.OR.join(guards)
        return "(" + ctx.OR.join(guards) + ")"
    kind, texts = _comparisons(lit, ctx)
    return _wrap_guard(atom.field, lit.negated, kind, texts, ctx, in_or=in_or)


def _wrap_guard(name: str, negated: bool, kind: str, texts: list[str], ctx: RenderContext,
                in_or: bool = False) -> str:
    """Join a field's comparisons; negated ones get the ``NOT EXISTS``/``IS NULL`` guards.

    ``in_or``: the result joins an OR, so a guarded alternative needs no parentheses of its own.
    """
    joiner = ctx.AND if kind == "and" else ctx.OR
    body = texts[0] if len(texts) == 1 else joiner.join(texts)
    if not negated:
        return body if len(texts) == 1 else f"({body})"
    sel = selector(name)
    guards = []
    if ctx.optional(name):
        guards.append(f"{sel} NOT EXISTS")
    if column_name(name) in ctx.nullable:
        guards.append(f"{sel} IS NULL")
    if not guards:
        return body if len(texts) == 1 else f"({body})"
    inner = body if len(texts) == 1 else f"({body})"
    joined = ctx.OR.join(guards + [inner])
    return joined if in_or else f"({joined})"


def _render(node: Any, ctx: RenderContext, top: bool = False) -> str:
    if isinstance(node, _Lit):
        return _render_atom(node, ctx)
    kind, children = node
    pieces: list[str] = []
    if kind == "and":
        # negated comparisons of one field share one NOT EXISTS / IS NULL guard
        by_field: dict[str, list[str]] = {}
        order: list[Any] = []
        for child in children:
            if isinstance(child, _Lit) and child.negated and isinstance(child.atom, (Equals, InCidr)):
                name = column_name(child.atom.field)
                if name not in by_field:
                    by_field[name] = []
                    order.append(("field", name))
                sub_kind, texts = _comparisons(child, ctx)
                if sub_kind != "and":  # pragma: no cover - negated comparisons always AND
                    texts = [f"({ctx.OR.join(texts)})"]
                by_field[name].extend(texts)
            else:
                order.append(child)
        for item in order:
            if isinstance(item, tuple) and item[0] == "field":
                name = item[1]
                texts = _merge_regex_texts(by_field[name], selector(name), ctx.op("!="))
                if ctx.optional(name) or name in ctx.nullable:
                    pieces.append(_wrap_guard(name, True, "and", texts, ctx))
                else:  # no guard needed: the comparisons join this AND directly
                    pieces.extend(texts)
            else:
                pieces.append(_render(item, ctx))
        joiner = ctx.AND
    else:
        positive: dict[str, list[str]] = {}
        order = []
        for child in children:
            if isinstance(child, _Lit) and not child.negated and isinstance(child.atom, (Equals, InCidr)):
                name = column_name(child.atom.field)
                if name not in positive:
                    positive[name] = []
                    order.append(("field", name))
                positive[name].extend(_comparisons(child, ctx)[1])
            else:
                order.append(child)
        for item in order:
            if isinstance(item, tuple) and item[0] == "field":
                name = item[1]
                pieces.extend(_merge_regex_texts(positive[name], selector(name), ctx.op("=")))
            elif isinstance(item, _Lit):
                pieces.append(_render_atom(item, ctx, in_or=True))
            else:
                pieces.append(_render(item, ctx))
        joiner = ctx.OR
    text = joiner.join(pieces)
    # ``top``: the caller joins the result with && (or uses it alone), so an AND needs no
    # parentheses; an OR always keeps them (&& binds tighter than ||)
    return text if (top and kind == "and") or len(pieces) == 1 else f"({text})"


def render(condition: Condition, ctx: RenderContext | None = None, *, top: bool = False) -> str:
    """The filter-pattern text (without braces) of a condition; wrap in ``Not`` to exclude.

    Examples
    --------
    >>> render(Not(AllOf((Equals("additionalEventData.AuthenticationMethod", "QueryString"),
    ...                   Equals("userAgent", "[Mozilla/*")))))
    '($.additionalEventData.AuthenticationMethod NOT EXISTS || $.additionalEventData.AuthenticationMethod != "QueryString" || $.userAgent NOT EXISTS || $.userAgent != "[Mozilla/*")'
    """
    return _render(_flatten(_nnf(condition)), ctx or RenderContext(), top=top)


# ---------------------------------------------------------------------------------------------
# access source -> condition, derived from the history
@dataclass
class SourceTranslation:
    """How an access source is excluded: ``core`` minus the ``unless`` conditions.

    ``core`` catches the source's events by its fingerprint; ``unless`` lists, per *other*
    source that ``core`` would also catch (a Lake Formation read through Athena has Athena's
    address too), that source's own fingerprint, so excluding one source leaves the others
    alarming. ``covered``/``total`` count the source's history rows the condition catches;
    ``collateral`` counts the rows of other sources it still catches, per source; ``notes`` say
    what cannot be expressed.
    """

    label: str
    core: Condition
    unless: tuple[tuple[str, Condition], ...] = ()
    notes: list[str] = field(default_factory=list)
    covered: int = 0
    total: int = 0
    collateral: dict[str, int] = field(default_factory=dict)


def implies(b: Condition, a: Condition) -> bool:
    """True when ``b`` can only hold where ``a`` holds (a syntactic, conservative check).

    Examples
    --------
    >>> q = Equals("additionalEventData.AuthenticationMethod", "QueryString")
    >>> implies(AllOf((q, Equals("userAgent", "[Mozilla/*"))), q), implies(q, AnyOf((q,)))
    (True, True)
    """
    if b == a:
        return True
    if isinstance(a, AnyOf) and any(implies(b, part) for part in a.parts):
        return True
    if isinstance(b, AllOf) and any(implies(part, a) for part in b.parts):
        return True
    if isinstance(b, AnyOf) and all(implies(part, a) for part in b.parts):
        return True
    return False


def effective(core: Condition, unless: Sequence[tuple[str, Condition]],
              excluded: Iterable[str] = ()) -> Condition:
    """``core AND NOT(unless...)``, leaving out the ``unless`` of sources also ``excluded``.

    When the other source is excluded as well, its events go either way, so its carve-out is
    dropped and the pattern stays short.
    """
    skip = set(excluded)
    keep = [c for label, c in unless if label not in skip]
    if not keep:
        return core
    carve = keep[0] if len(keep) == 1 else AnyOf(tuple(keep))
    return AllOf((core, Not(carve)))


def _distinct(rows: pd.DataFrame, name: str) -> list[str]:
    if name not in rows.columns:
        return []
    values = rows[name].dropna()
    if values.empty:
        return []
    counts = values.astype(str).value_counts()
    return [str(v) for v in counts.index]


def _ua_prefix(value: str, head: str) -> str:
    return ("[" if value.startswith("[") else "") + head + "*"


def _candidates(label: str, rows: pd.DataFrame) -> tuple[list[Condition], list[str]]:
    """Candidate conditions for one source (from its fingerprint, values from ``rows``)."""
    notes: list[str] = []
    cands: list[Condition] = []
    uas = _distinct(rows, "userAgent")
    if label == "anonymous":
        seen = [v for v in _distinct(rows, "userIdentity.accountId")
                if v in ("ANONYMOUS_PRINCIPAL", "anonymous")] or ["ANONYMOUS_PRINCIPAL", "anonymous"]
        cands.append(AnyOf(tuple(Equals("userIdentity.accountId", v) for v in seen)))
    elif label == "aws-service":
        cands.append(Equals("userIdentity.type", "AWSService"))
    elif label == "aws-internal":
        cands += [Equals("sourceIPAddress", "AWS Internal*"),
                  Equals("userIdentity.invokedBy", "AWS Internal*")]
    elif label == "lake-formation":
        cands += [Equals("userIdentity.arn", "*/AWSLF-00-*"),
                  Equals("userIdentity.principalId", "*:AWSLF-00-*")]
    elif label in ("athena", "glue", "redshift", "emr", "service-other"):
        services = {"athena": ["athena.amazonaws.com"], "glue": ["glue.amazonaws.com"],
                    "redshift": ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"],
                    "emr": ["ops.emr-serverless.amazonaws.com", "elasticmapreduce.amazonaws.com"]}
        invokers = _distinct(rows, "userIdentity.invokedBy") or services.get(label, [])
        addresses = [v for v in _distinct(rows, "sourceIPAddress") if v.endswith(".amazonaws.com")]
        addresses = addresses or ([] if len(rows) else services.get(label, []))
        if addresses:
            cands.append(AnyOf(tuple(Equals("sourceIPAddress", v) for v in addresses)))
        if invokers:
            cands.append(AnyOf(tuple(Equals("userIdentity.invokedBy", v) for v in invokers)))
        session = {"glue": "GlueJobRunnerSession", "redshift": "RedshiftIamRoleSession"}.get(label)
        if session:
            cands += [Equals("userIdentity.arn", f"*/{session}"),
                      Equals("userIdentity.principalId", f"*:{session}")]
        if label == "service-other" and len(addresses) + len(invokers) > 1:
            notes.append("service-other lists the service names seen in the history; reads by "
                         "another AWS service on your behalf will still alarm")
    elif label == "console":
        heads = sorted({_ua_prefix(u, "S3Console/") for u in uas if strip_brackets(u).startswith("S3Console/")})
        cands += [Equals("userAgent", h) for h in heads] or [Equals("userAgent", "[S3Console/*")]
        if any("aws-internal/3" in u and not strip_brackets(u).startswith("S3Console/") for u in uas) or not uas:
            cands.append(Equals("userAgent", "*aws-internal/3*"))
    elif label in ("console-browser", "presigned-url"):
        mozilla = sorted({_ua_prefix(u, "Mozilla/") for u in uas if strip_brackets(u).startswith("Mozilla/")})
        browser_ua: Condition = AnyOf(tuple(Equals("userAgent", m) for m in mozilla or ["[Mozilla/*", "Mozilla/*"]))
        # CloudTrail writes X-Amz-Expires as a string ("300")
        expires = Equals("requestParameters.X-Amz-Expires", "300")
        query = Equals("additionalEventData.AuthenticationMethod", "QueryString")
        browser = AllOf((query, browser_ua, expires))
        if label == "console-browser":
            cands.append(browser)
        else:
            # console downloads are presigned too: translate_source carves them out with the
            # console-browser fingerprint unless console-browser is excluded as well
            cands.append(query)
    elif label == "cloudshell":
        cands.append(Equals("userAgent", "*exec-env/CloudShell*"))
    elif label == "lambda":
        cands += [Equals("userIdentity.inScopeOf.issuerType", "AWS::Lambda::Function"),
                  Equals("userAgent", "*exec-env/AWS_Lambda_*")]
    elif label == "sagemaker":
        cands += [Equals("userIdentity.arn", "*/SageMaker"),
                  Equals("userIdentity.principalId", "*:SageMaker")]
    elif label in ("vpc-endpoint", "other-vpc-endpoint"):
        ids = _distinct(rows, "vpcEndpointId")
        old = _distinct(rows, "additionalEventData.vpcEndpointId")
        if ids:
            cands.append(AnyOf(tuple(Equals("vpcEndpointId", v) for v in ids)))
        if old:
            cands.append(AnyOf(tuple(Equals("additionalEventData.vpcEndpointId", v) for v in old)))
        if ids or old:
            notes.append(f"lists the {len(set(ids) | set(old))} endpoint id(s) seen in the history; "
                         "a new endpoint will alarm until it is added")
    elif label == "ec2":
        instance = AnyOf((Present("userIdentity.sessionContext.ec2RoleDelivery"),
                          Equals("userIdentity.inScopeOf.issuerType", "AWS::EC2::Instance")))
        cands.append(AllOf((instance, Absent("vpcEndpointId"))))
        notes.append("EC2 instance-profile credentials are recognised by ec2RoleDelivery/inScopeOf; "
                     "applications on EC2 using other credentials look like any other caller")
    elif label == "aws-network":
        prefixes = _distinct(rows, "ip_prefix")
        if prefixes:
            cands.append(AnyOf(tuple(InCidr("sourceIPAddress", p) for p in prefixes
                                     if ":" not in p)))
            notes.append(f"lists the {len(prefixes)} AWS range(s) the addresses seen fall in; AWS "
                         "publishes thousands, which no pattern can hold")
        v6 = [p for p in prefixes if ":" in p]
        if v6:
            addresses = [a for a in _distinct(rows, "sourceIPAddress") if ":" in a]
            cands.append(AnyOf(tuple(Equals("sourceIPAddress", a) for a in addresses)))
            notes.append("IPv6 ranges cannot be expressed; the IPv6 addresses seen are listed")
    elif label == "external":
        addresses = _distinct(rows, "sourceIPAddress")
        if addresses:
            cands.append(AnyOf(tuple(Equals("sourceIPAddress", a) for a in addresses)))
        notes.append("external reads are excluded by the addresses seen only; any new address "
                     "will alarm (that is usually the point of the alarm)")
    else:
        raise ValueError(f"unknown access source {label!r}")
    # drop empty AnyOf groups (e.g. only IPv6 prefixes)
    cands = [c for c in cands if not (isinstance(c, AnyOf) and not c.parts)]
    return cands, notes


MaskFn = Callable[[Condition], np.ndarray]

_FINGERPRINT_COLUMNS = ("userAgent", "userIdentity.accountId", "userIdentity.invokedBy",
                        "sourceIPAddress", "vpcEndpointId", "additionalEventData.vpcEndpointId",
                        "ip_prefix")
"""The columns :func:`_candidates` takes values from."""


def _greedy(candidates: list[Condition], masks: list[np.ndarray], target: np.ndarray,
            avoid: np.ndarray, *, forbid: np.ndarray | None = None) -> list[int]:
    """Pick candidates that catch the most ``target`` rows, preferring fewer ``avoid`` rows.

    Candidates catching any ``forbid`` row are never picked.
    """
    chosen: list[int] = []
    caught = np.zeros(len(target), dtype=bool)
    while (target & ~caught).any():
        best, best_key = None, None
        for i, m in enumerate(masks):
            if i in chosen or (forbid is not None and (m & forbid).any()):
                continue
            gain = int((m & target & ~caught).sum())
            if gain == 0:
                continue
            key = (gain, -int((m & avoid).sum()), -len(render(candidates[i])))
            if best_key is None or key > best_key:
                best, best_key = i, key
        if best is None:
            break
        chosen.append(best)
        caught |= masks[best]
    return chosen


def _either(parts: list[Condition]) -> Condition:
    return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))


def translate_source(label: str, events: pd.DataFrame, mask_of: MaskFn) -> SourceTranslation:
    """Translate an access-source label into a condition on fields the metric filter sees.

    Candidate conditions come from the source's fingerprint with the values seen in ``events``
    (classified: a ``source`` column). They are chosen greedily: the one that catches the most
    not-yet-caught rows of the source, then the one that catches fewer rows of other sources,
    until every row is caught or no candidate helps. Other sources the choice also catches get
    carved out with their own fingerprint where that catches none of this source's rows.
    ``mask_of(condition)`` must evaluate a condition with the exact pattern engine.

    Raises
    ------
    ValueError
        When the label is unknown, or the history has no row of the source and its fingerprint
        needs values from the data (endpoint ids, addresses).
    """
    if "source" not in events.columns:
        raise ValueError("the events are not classified (no 'source' column)")
    labels = events["source"].astype(object).to_numpy()
    is_source = labels == label
    # only the columns the fingerprints read (filtering the whole frame copies the raw text)
    slim = events[[c for c in _FINGERPRINT_COLUMNS if c in events.columns]]
    candidates, notes = _candidates(label, slim[is_source])
    if not candidates:
        raise ValueError(
            f"no {label!r} events in the history, and excluding {label!r} needs values seen in "
            "the data; use exclude_value() with the values you expect instead"
        )
    total = int(is_source.sum())
    if total == 0:
        notes.append(f"no {label!r} events in the history: the fingerprint's default values are used")
        return SourceTranslation(label, _either(candidates), (), notes, 0, 0, {})
    masks = [np.asarray(mask_of(c), dtype=bool) for c in candidates]
    chosen = _greedy(candidates, masks, is_source, ~is_source) or [0]
    core = _either([candidates[i] for i in chosen])
    hit = np.logical_or.reduce([masks[i] for i in chosen])

    unless: list[tuple[str, Condition]] = []
    others = pd.Series(labels[hit & ~is_source]).value_counts()
    for other in others.index:
        is_other = labels == other
        try:
            other_cands, _ = _candidates(str(other), slim[is_other])
        except ValueError:
            continue
        other_masks = [np.asarray(mask_of(c), dtype=bool) for c in other_cands]
        picked = _greedy(other_cands, other_masks, hit & is_other, ~is_other,
                         forbid=hit & is_source)
        if picked:
            unless.append((str(other), _either([other_cands[i] for i in picked])))
            hit &= ~np.logical_or.reduce([other_masks[i] for i in picked])

    covered = int((hit & is_source).sum())
    collateral = {str(k): int(v) for k, v in pd.Series(labels[hit & ~is_source]).value_counts().items()}
    if unless:
        notes.append("reads of " + ", ".join(o for o, _ in unless) + " that look like "
                     f"{label} are kept alarming (they are those sources' own fingerprints)")
    if covered < total:
        notes.append(f"{total - covered} of {total} {label!r} events cannot be told apart by the "
                     "fields a metric filter sees; they will still alarm")
    if collateral:
        listed = ", ".join(f"{k} ({v})" for k, v in collateral.items())
        notes.append(f"the same condition also silences events of other sources: {listed}")
    return SourceTranslation(label, core, tuple(unless), notes, covered, total, collateral)


def values_condition(field_name: str, values: Sequence[str | float] | str | float) -> Condition:
    """The condition for ``exclude_value``: any of the values (CIDRs for address fields).

    Examples
    --------
    >>> values_condition("sourceIPAddress", ["10.0.0.0/8", "192.0.2.7"])
    AnyOf(parts=(InCidr(field='sourceIPAddress', cidr='10.0.0.0/8'), InCidr(field='sourceIPAddress', cidr='192.0.2.7')))
    """
    items: list[Any] = [values] if isinstance(values, (str, int, float)) else list(values)
    if not items:
        raise ValueError(f"no value given for {field_name!r}")
    name = column_name(field_name)
    if "*" in name.split("."):
        # the exclusion enters the pattern negated: "no element is v" needs "every element != v",
        # but a wildcard selector is satisfied by any one element (spec 6.3, OQ-12)
        raise ValueError(
            f"field {field_name!r}: an exclusion cannot use a wildcard selector ([*] or .*): "
            "CloudWatch would let a read through as soon as any one element differs; select "
            "the element by index instead (e.g. resources.0.ARN)"
        )
    parts: list[Condition] = []
    for item in items:
        text = item.strip() if isinstance(item, str) else item
        if isinstance(text, str) and name == "sourceIPAddress" and "*" not in text and _is_address(text):
            parts.append(InCidr(name, text))
        else:
            parts.append(Equals(name, text))
    return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))


def _is_address(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return "/" in text  # a malformed CIDR: let InCidr refuse it with the reason
    return True


def iter_atoms(condition: Condition) -> Iterable[_Atom]:
    if isinstance(condition, (AllOf, AnyOf)):
        for p in condition.parts:
            yield from iter_atoms(p)
    elif isinstance(condition, Not):
        yield from iter_atoms(condition.part)
    else:
        yield condition
