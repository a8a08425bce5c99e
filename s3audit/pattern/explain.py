"""``explain(pattern, event)``: the condition tree with each node's truth value and what it saw."""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .ast import (
    And, DelimitedPattern, JsonPattern, MatchAll, Or, Pattern, TermPattern,
)
from .evaluate import (
    bind_fields, condition_on_nodes, eval_terms, event_document, event_text, field_ok, resolve,
    term_present,
)
from .render import render_condition, render_field, render_term
from .values import JsonNumber


@dataclass(frozen=True)
class Explanation:
    """One node of an explained match.

    Attributes
    ----------
    kind : str
        ``"pattern"``, ``"and"``, ``"or"``, ``"condition"``, ``"term"`` or ``"field"``.
    text : str
        The node rendered as pattern text.
    result : bool
        The node's truth value for the event.
    seen : tuple of str
        What the node looked at: the selected JSON values (``missing`` when the selector selected
        nothing), whether a term was found, or a delimited field's value.
    note : str
        Why, when the rule is surprising (``!=`` on a missing field, ignored ``?`` terms...).
    children : tuple of Explanation
    """

    kind: str
    text: str
    result: bool
    seen: tuple[str, ...] = ()
    note: str = ""
    children: tuple["Explanation", ...] = field(default=())

    def lines(self, depth: int = 0) -> list[str]:
        mark = "\u2713" if self.result else "\u2717"
        label = {"and": "ALL of (&&)", "or": "ANY of (||)"}.get(self.kind, self.text)
        line = f"{'  ' * depth}{mark} {label}"
        if self.seen:
            line += f"   saw: {', '.join(self.seen)}"
        if self.note:
            line += f"   ({self.note})"
        out = [line]
        for c in self.children:
            out.extend(c.lines(depth + 1))
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython / Jupyter
        p.text(str(self))

    def to_records(self, depth: int = 0) -> list[dict[str, Any]]:
        """Flat rows (depth, kind, text, result, seen, note) for a DataFrame."""
        rows = [{"depth": depth, "kind": self.kind, "text": self.text, "result": self.result,
                 "seen": ", ".join(self.seen), "note": self.note}]
        for c in self.children:
            rows.extend(c.to_records(depth + 1))
        return rows


def _show(node: Any) -> str:
    if isinstance(node, JsonNumber):
        return node.text
    if isinstance(node, (dict, list)):
        return "an object" if isinstance(node, dict) else "an array"
    return json.dumps(node, ensure_ascii=False, default=str)


def _explain_json(node: Any, doc: Any) -> Explanation:
    if isinstance(node, (And, Or)):
        kids = tuple(_explain_json(it, doc) for it in node.items)
        res = all(k.result for k in kids) if isinstance(node, And) else any(k.result for k in kids)
        return Explanation("and" if isinstance(node, And) else "or", "", res, children=kids)
    nodes = resolve(node.selector, doc)
    res = condition_on_nodes(node, nodes)
    seen = tuple(_show(n) for n in nodes) if nodes else ("missing",)
    note = ""
    op = getattr(node, "op", None)
    if not nodes and op is not None:
        note = f"{op} is false when the field is absent; add '{_sel(node)} NOT EXISTS ||' to match it"
    elif nodes and op is not None and not res and all(isinstance(n, (dict, list, bool)) or n is None for n in nodes):
        note = "comparisons only apply to strings and numbers"
    return Explanation("condition", render_condition(node), res, seen, note)


def _sel(node: Any) -> str:
    from .render import render_selector

    return render_selector(node.selector)


def explain(pattern: Pattern, event: str | Mapping[str, Any]) -> Explanation:
    """Explain how ``pattern`` evaluates on ``event`` (raw text or dict).

    Examples
    --------
    >>> from s3audit.pattern import compile_pattern
    >>> print(compile_pattern('{ $.a = 1 && $.b != "x" }').explain({"a": 1}))
    \u2717 { $.a = 1 && $.b != "x" }
      \u2717 ALL of (&&)
        \u2713 $.a = 1   saw: 1
        \u2717 $.b != "x"   saw: missing   (!= is false when the field is absent; add '$.b NOT EXISTS ||' to match it)
    """
    from .evaluate import evaluate
    from .render import render

    text = render(pattern)
    result = evaluate(pattern, event)
    if isinstance(pattern, MatchAll):
        return Explanation("pattern", text, True, note="an empty pattern matches every event")
    if isinstance(pattern, JsonPattern):
        doc = event_document(event)
        if not isinstance(doc, Mapping):
            return Explanation("pattern", text, False, ("not a JSON object",),
                               "a JSON pattern only matches JSON objects")
        if pattern.body is None:
            return Explanation("pattern", text, True, note="{} matches every JSON object")
        return Explanation("pattern", text, result, children=(_explain_json(pattern.body, doc),))
    raw = event_text(event)
    if isinstance(pattern, TermPattern):
        plain = [t for t in pattern.terms if t.prefix != "?"]
        kids = []
        for t in pattern.terms:
            present = term_present(t, raw)
            if t.prefix == "?" and plain:
                kids.append(Explanation("term", render_term(t), present, ("found" if present else "not found",),
                                        "ignored: ? terms only count when every term has ?"))
            elif t.prefix == "-":
                kids.append(Explanation("term", render_term(t), not present,
                                        ("found" if present else "not found",), "must be absent"))
            else:
                kids.append(Explanation("term", render_term(t), present, ("found" if present else "not found",)))
        note = "any ?-term suffices" if not plain else "every plain term present, every -term absent"
        assert eval_terms(pattern, raw) == result
        return Explanation("pattern", text, result, note=note, children=tuple(kids))
    assert isinstance(pattern, DelimitedPattern)
    bound = bind_fields(pattern, raw)
    if bound is None:
        return Explanation("pattern", text, False, note="the message has fewer fields than the pattern")
    kids = []
    for idx, (value, pos) in sorted(bound.items()):
        f = pattern.fields[idx]
        ok = field_ok(f.conditions, value) if f.conditions else True
        kids.append(Explanation("field", render_field(f) or f"${pos}", ok, (json.dumps(value),)))
    return Explanation("pattern", text, result, children=tuple(kids))


def leaves(pattern: Pattern) -> list[Any]:
    """Leaf conditions of a JSON pattern, terms of a term pattern, constrained fields of a delimited one."""
    if isinstance(pattern, JsonPattern):
        out: list[Any] = []

        def walk(n: Any) -> None:
            if isinstance(n, (And, Or)):
                for it in n.items:
                    walk(it)
            elif n is not None:
                out.append(n)

        walk(pattern.body)
        return out
    if isinstance(pattern, TermPattern):
        return list(pattern.terms)
    if isinstance(pattern, DelimitedPattern):
        return [f for f in pattern.fields if f.conditions]
    return []
