"""``lint``: warnings about the traps users fall into with filter patterns.

Codes
-----
``ne-missing``      ``!=`` (or ``< <= > >=``) on a selector that can be absent: AWS evaluates the
                    comparison as false for events without the field, so they never match. With
                    events: counted; the fix is ``($.f NOT EXISTS || $.f != "v")``.
``bool-literal``    ``= true`` / ``= "false"`` / ``= null``: compares text; use ``IS TRUE``/``IS FALSE``/``IS NULL``.
``mid-wildcard``    a ``*`` in the middle of a value is a literal asterisk, not a wildcard.
``number-string``   a number compared with string values (or a quoted number with numeric values).
``empty-phrase``    ``""`` as match-all: StartLiveTail rejects it; use ``" "`` or an empty pattern.
``ignored-terms``   ``?`` terms next to plain or ``-`` terms are ignored by AWS.
``precedence``      ``a || b && c`` is ``a || (b && c)``: add parentheses to say which you mean.
``wildcard-ne``     ``!=`` on a wildcard selector is true if *any* element differs (D-> OQ-12).
``is-null-missing`` ``IS NULL`` is false for an absent field (use NOT EXISTS for that).
``match-all``       ``{}`` (every JSON event) or a pattern that is empty.
``quota-length`` / ``quota-regex`` / ``quota-wildcard``   close to the 1024-character, 2-regex or
                    3-wildcard-selector limits.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .ast import And, Compare, IsBool, IsNull, JsonPattern, MatchAll, NotExists, Or, Selector, TermPattern
from .evaluate import event_document, resolve
from .parser import MAX_LENGTH, MAX_REGEX, MAX_WILDCARD_SELECTORS
from .render import render_condition, render_selector
from .values import JsonNumber, parse_number, scalar

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .compiled import FilterPattern


@dataclass(frozen=True)
class LintWarning:
    """One lint finding: ``code``, a ``message``, the ``position`` in the pattern text (or None),
    how many of the given events it affects (``count``/``total``, None without events) and a
    ``suggestion`` (a rewrite) when there is one."""

    code: str
    message: str
    position: int | None = None
    count: int | None = None
    total: int | None = None
    suggestion: str | None = None
    unit: str = "events"

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message}"
        if self.count is not None and self.total is not None:
            text += f" ({self.count} of {self.total} {self.unit})"
        if self.suggestion:
            text += f"\n    suggestion: {self.suggestion}"
        return text


# ----------------------------------------------------------------------------- event access
class _Events:
    """Count, over the given events, how many satisfy a JSON pattern (frame via mask, else per event)."""

    def __init__(self, events: Any) -> None:
        import pandas as pd

        self.frame = events if isinstance(events, pd.DataFrame) else None
        self.items = None if self.frame is not None else list(events)
        self._docs: list[Any] | None = None

    @property
    def total(self) -> int:
        return len(self.frame) if self.frame is not None else len(self.items or [])

    def docs(self) -> list[Any]:
        if self._docs is None:
            if self.frame is not None:
                self._docs = [event_document(r) if isinstance(r, str) else None for r in self.frame["raw"]]
            else:
                self._docs = [event_document(e) for e in self.items or []]
        return self._docs

    def count(self, pattern_text: str) -> int:
        from .compiled import compile_pattern

        p = compile_pattern(pattern_text)
        if self.frame is not None:
            return int(p.mask(self.frame).sum())
        return sum(1 for e in self.items or [] if p.matches(e))

    def values(self, sel: Selector, limit: int = 5000) -> list[Any]:
        """Scalar values the selector takes (on at most ``limit`` events)."""
        out: list[Any] = []
        docs = self.docs() if self.frame is None or len(self.frame) <= limit else \
            [event_document(r) for r in self.frame["raw"].iloc[:limit] if isinstance(r, str)]
        for d in docs[:limit]:
            if isinstance(d, Mapping):
                out.extend(resolve(sel, d))
        return out


# ----------------------------------------------------------------------------- the checks
def lint(fp: "FilterPattern", events: "pd.DataFrame | Iterable[Any] | None" = None) -> list[LintWarning]:
    """Warnings for ``fp``; with ``events`` (a frame from load_events or an iterable) they carry counts.

    Examples
    --------
    >>> from s3audit.pattern import compile_pattern
    >>> [w.code for w in compile_pattern('{ $.vpcEndpointId != "vpce-1" }').lint()]
    ['ne-missing']
    >>> w = compile_pattern('{ $.vpcEndpointId != "vpce-1" }').lint([{"vpcEndpointId": "vpce-2"}, {}])[0]
    >>> w.count, w.total, w.suggestion
    (1, 2, '{ $.vpcEndpointId NOT EXISTS || $.vpcEndpointId != "vpce-1" }')
    """
    ev = _Events(events) if events is not None else None
    out: list[LintWarning] = []
    src = fp.source
    ast = fp.ast
    if len(src) > MAX_LENGTH * 0.9:
        out.append(LintWarning("quota-length", f"the pattern has {len(src)} of at most {MAX_LENGTH} characters",
                               position=0))
    if isinstance(ast, MatchAll):
        out.append(LintWarning("match-all", "an empty pattern matches every event"))
        return out
    if isinstance(ast, TermPattern):
        _lint_terms(ast, out)
        return out
    if not isinstance(ast, JsonPattern):
        regexes = sum(1 for f in ast.fields for ands in f.conditions for c in ands if c.value.kind == "regex")
        if regexes == MAX_REGEX:
            out.append(LintWarning("quota-regex", f"the pattern uses the maximum of {MAX_REGEX} regular expressions"))
        return out
    if ast.body is None:
        out.append(LintWarning("match-all", "{} matches every JSON event"))
        return out
    conds: list[tuple[Any, frozenset[tuple]]] = []
    _walk(ast.body, frozenset(), conds)
    _lint_precedence(ast.body, src, out)
    regexes = sum(1 for c, _g in conds if isinstance(c, Compare) and c.value.kind == "regex")
    if regexes == MAX_REGEX:
        out.append(LintWarning("quota-regex", f"the pattern uses the maximum of {MAX_REGEX} regular expressions"))
    wild = sum(1 for c, _g in conds if c.selector.wildcard_count)
    if wild == MAX_WILDCARD_SELECTORS:
        out.append(LintWarning("quota-wildcard",
                               f"the pattern uses the maximum of {MAX_WILDCARD_SELECTORS} wildcard selectors"))
    for cond, guards in conds:
        _lint_condition(fp, cond, guards, ev, out)
    return out


def _walk(node: Any, guards: frozenset, out: list) -> None:
    """Collect leaf conditions with the selectors guarded by a sibling NOT EXISTS in an enclosing ||."""
    if isinstance(node, Or):
        here = frozenset(it.selector.steps for it in node.items if isinstance(it, NotExists))
        for it in node.items:
            _walk(it, guards | here, out)
    elif isinstance(node, And):
        for it in node.items:
            _walk(it, guards, out)
    else:
        out.append((node, guards))


def _lint_precedence(node: Any, src: str, out: list[LintWarning]) -> None:
    if isinstance(node, Or):
        for it in node.items:
            if isinstance(it, And) and not _parenthesised(src, it.span):
                out.append(LintWarning(
                    "precedence", "&& binds tighter than ||: this reads 'a || (b && c)'; add parentheses "
                    "to make the grouping explicit", position=it.span[0]))
                break
    if isinstance(node, (And, Or)):
        for it in node.items:
            _lint_precedence(it, src, out)


def _parenthesised(src: str, span: tuple[int, int]) -> bool:
    i, j = span[0] - 1, span[1]
    while i >= 0 and src[i] in " \t\r\n":
        i -= 1
    while j < len(src) and src[j] in " \t\r\n":
        j += 1
    return i >= 0 and j < len(src) and src[i] == "(" and src[j] == ")"


def _lint_condition(fp: "FilterPattern", cond: Any, guards: frozenset, ev: _Events | None,
                    out: list[LintWarning]) -> None:
    sel = cond.selector
    sel_text = render_selector(sel)
    pos = cond.span[0] if cond.span != (0, 0) else None
    if isinstance(cond, Compare):
        lit = cond.value
        # != / ordering on a field that may be absent
        if cond.op != "=" and sel.steps not in guards and not sel.wildcard_count:
            count = total = None
            if ev is not None:
                total = ev.total
                count = ev.count("{ " + sel_text + " NOT EXISTS }")
            if ev is None and cond.op == "!=" or (count or 0) > 0:
                rewrite = f"({sel_text} NOT EXISTS || {render_condition(cond)})"
                what = (f"{sel_text} is absent" if ev is not None else
                        f"{sel_text} may be absent (optional fields such as vpcEndpointId often are)")
                out.append(LintWarning(
                    "ne-missing",
                    f"'{render_condition(cond)}' is false for events where {what}: "
                    "AWS does not treat a missing field as 'different'", pos, count, total,
                    _suggest(fp, cond, rewrite)))
        if cond.op != "=" and sel.wildcard_count:
            out.append(LintWarning("wildcard-ne", f"'{render_condition(cond)}' on a wildcard selector is true when "
                                   "ANY selected element satisfies it (assumed, undocumented by AWS)", pos))
        if lit.kind == "string":
            low = lit.text
            if low in ("true", "false", "null", "True", "False", "NULL", "TRUE", "FALSE"):
                kw = {"true": "IS TRUE", "false": "IS FALSE", "null": "IS NULL"}[low.lower()]
                out.append(LintWarning(
                    "bool-literal", f"'{render_condition(cond)}' compares text and never matches a JSON "
                    f"{'null' if low.lower() == 'null' else 'boolean'}: use {sel_text} {kw}", pos,
                    suggestion=f"{sel_text} {kw}"))
            core = low[1:] if low.startswith("*") else low
            core = core[:-1] if core.endswith("*") else core
            if "*" in core:
                out.append(LintWarning(
                    "mid-wildcard", f"the '*' in the middle of {lit.text!r} is a literal asterisk: only a leading or "
                    "trailing * is a wildcard (use a %regex% for more)", pos))
            if parse_number(lit.text) is not None and ev is not None:
                vals = ev.values(sel)
                nums = sum(1 for v in vals if isinstance(v, (JsonNumber, int, float)) and not isinstance(v, bool))
                if nums:
                    out.append(LintWarning(
                        "number-string", f"{lit.text!r} is quoted, so it compares as text, but {sel_text} holds "
                        "numbers: write it unquoted to compare numerically", pos, nums, len(vals), unit="sampled values"))
        elif lit.kind == "number" and ev is not None:
            vals = ev.values(sel)
            strings = [v for v in vals if isinstance(v, str)]
            non_numeric = sum(1 for v in strings if parse_number(v) is None)
            if non_numeric:
                out.append(LintWarning(
                    "number-string", f"{lit.text} is a number but {sel_text} holds non-numeric strings, which "
                    f"never {'equal' if cond.op == '=' else 'compare with'} it", pos, non_numeric, len(vals),
                    unit="sampled values"))
            elif strings:
                out.append(LintWarning(
                    "number-string", f"{sel_text} holds numeric strings; they are compared as numbers "
                    "(assumed, undocumented by AWS)", pos, len(strings), len(vals), unit="sampled values"))
    elif isinstance(cond, IsNull) and ev is not None:
        count = ev.count("{ " + sel_text + " NOT EXISTS }")
        if count:
            out.append(LintWarning("is-null-missing", f"{sel_text} IS NULL is false where the field is absent; "
                                   f"use ({sel_text} IS NULL || {sel_text} NOT EXISTS) to include those",
                                   pos, count, ev.total))
    elif isinstance(cond, IsBool) and ev is not None:
        vals = ev.values(sel)
        texts = sum(1 for v in vals if isinstance(v, str) and v.lower() in ("true", "false"))
        if texts:
            out.append(LintWarning("number-string", f"{sel_text} holds the strings 'true'/'false', which IS "
                                   f"{'TRUE' if cond.value else 'FALSE'} does not match", pos, texts, len(vals),
                                   unit="sampled values"))


def _suggest(fp: "FilterPattern", cond: Any, rewrite: str) -> str:
    """The whole pattern with ``cond`` replaced by ``rewrite`` (rendered canonically)."""
    from .render import render_json

    def sub(node: Any) -> Any:
        if node is cond:
            return _Raw(rewrite)
        if isinstance(node, (And, Or)):
            return type(node)(tuple(sub(it) for it in node.items))
        return node

    body = sub(fp.ast.body)  # type: ignore[union-attr]
    text = _render_with_raw(body, "")
    return "{ " + (text[1:-1] if text.startswith("(") and text.endswith(")") and isinstance(body, _Raw)
                   else text) + " }"


class _Raw:
    def __init__(self, text: str) -> None:
        self.text = text


def _render_with_raw(node: Any, parent: str) -> str:
    from .render import render_condition, render_json

    return render_json(node, parent, lambda n: n.text if isinstance(n, _Raw) else render_condition(n))


def _lint_terms(ast: TermPattern, out: list[LintWarning]) -> None:
    plain = [t for t in ast.terms if t.prefix != "?"]
    optional = [t for t in ast.terms if t.prefix == "?"]
    if plain and optional:
        out.append(LintWarning("ignored-terms", "AWS ignores every ?term when the pattern also has plain or -terms",
                               optional[0].span[0]))
    for t in ast.terms:
        if t.kind == "phrase" and t.text == "":
            out.append(LintWarning("empty-phrase", '"" is treated as match-all here, but StartLiveTail rejects it; '
                                   'use " " or an empty pattern', t.span[0]))
        elif t.kind == "phrase" and t.text.strip(" ") == "":
            out.append(LintWarning("match-all", '" " matches every event', t.span[0]))
    if sum(1 for t in ast.terms if t.kind == "regex") == MAX_REGEX:
        out.append(LintWarning("quota-regex", f"the pattern uses the maximum of {MAX_REGEX} regular expressions"))
