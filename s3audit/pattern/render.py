"""Canonical rendering: ``render(parse(s))`` is a normal form and ``parse(render(ast)) == ast``.

Choices: values are always double-quoted (``\\"`` and ``\\\\`` escaped), numbers and regexes are
written as given, operators have one space on each side, ``||`` inside ``&&`` is parenthesised
(nothing else is), and a JSON pattern is written ``{ ... }``.

Those spaces and quotes make the text longer than a terse source (``{$.a=x&&$.b=y}``), so a valid
pattern close to the 1,024-character limit would render to one AWS rejects. When the canonical
text is over the limit, the *compact* form is used instead: no optional blanks or parentheses,
values unquoted where the lexer reads them back as the same word. It is never longer than any
source text of the same pattern, so ``compile(str(p))`` always works.
"""
from __future__ import annotations

from collections.abc import Callable

from functools import singledispatch

from .lexer import NUMBER_RE, WORD_CHARS
from .parser import MAX_LENGTH
from .ast import (
    And, Compare, DelimitedField, DelimitedPattern, IsBool, IsNull, JsonPattern, Literal, MatchAll,
    NotExists, Or, Selector, Term, TermPattern,
)


def _bare(text: str) -> bool:
    """True when ``text`` written unquoted reads back as the same string value (not a number, not ``...``)."""
    return bool(text) and all(c in WORD_CHARS for c in text) and not NUMBER_RE.match(text) and text != "..."


def render_selector(sel: Selector) -> str:
    out = ["$"]
    for s in sel.steps:
        if s.kind == "key":
            out.append(f".['{s.key}']" if s.bracket else f".{s.key}")
        elif s.kind == "index":
            out.append(f"[{s.index}]")
        elif s.kind == "any_key":
            out.append(".*")
        else:
            out.append("[*]")
    return "".join(out)


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_literal(lit: Literal, compact: bool = False) -> str:
    if lit.kind == "number":
        return lit.text
    if lit.kind == "regex":
        return f"%{lit.text}%"
    return lit.text if compact and _bare(lit.text) else quote(lit.text)


def render_condition(node: object, compact: bool = False) -> str:
    if isinstance(node, Compare):
        sp = "" if compact else " "
        return f"{render_selector(node.selector)}{sp}{node.op}{sp}{render_literal(node.value, compact)}"
    if isinstance(node, IsNull):
        return f"{render_selector(node.selector)} IS NULL"
    if isinstance(node, IsBool):
        return f"{render_selector(node.selector)} IS {'TRUE' if node.value else 'FALSE'}"
    if isinstance(node, NotExists):
        return f"{render_selector(node.selector)} NOT EXISTS"
    raise TypeError(node)


def _compact_condition(node: object) -> str:
    return render_condition(node, compact=True)  # IS NULL / IS TRUE / NOT EXISTS keep their blanks


def render_json(node: object, parent: str = "", leaf: Callable[[object], str] = render_condition,
                compact: bool = False) -> str:
    """Render a JSON condition tree; ``leaf`` renders the conditions (lint passes one that also
    renders its rewritten fragments). ``compact``: no blanks around ``||``/``&&`` and no optional
    parentheses."""
    or_, and_ = ("||", "&&") if compact else (" || ", " && ")
    if isinstance(node, Or):
        text = or_.join(render_json(it, "or", leaf, compact) for it in node.items)
        return f"({text})" if parent == "and" else text
    if isinstance(node, And):
        # parenthesised inside ||: not needed (&& binds tighter) but it spares readers the CIS 4.1 trap
        text = and_.join(render_json(it, "and", leaf, compact) for it in node.items)
        return f"({text})" if parent == "or" and not compact else text
    return leaf(node)


def render_term(t: Term) -> str:
    if t.kind == "word":
        body = t.text
    elif t.kind == "regex":
        body = f"%{t.text}%"
    else:
        body = quote(t.text)
    return t.prefix + body


def render_field(f: DelimitedField, compact: bool = False) -> str:
    if f.kind == "ellipsis":
        return "..."
    if f.kind == "blank":
        return ""
    if not f.conditions:
        return f.name or ""
    sp = "" if compact else " "
    return f"{sp}||{sp}".join(f"{sp}&&{sp}".join(f"{f.name}{sp}{c.op}{sp}{render_literal(c.value, compact)}"
                                                 for c in ands) for ands in f.conditions)


@singledispatch
def render(pattern: object) -> str:
    """Render an AST as canonical pattern text.

    Examples
    --------
    >>> from s3audit.pattern.parser import parse
    >>> render(parse('{($.a=1)&&(($.b=x)||($.c NOT EXISTS))}'))
    '{ $.a = 1 && ($.b = "x" || $.c NOT EXISTS) }'
    """
    raise TypeError(f"not a pattern: {pattern!r}")


@render.register
def _(pattern: MatchAll) -> str:
    return ""


@render.register
def _(pattern: TermPattern) -> str:
    return " ".join(render_term(t) for t in pattern.terms)


@render.register
def _(pattern: JsonPattern) -> str:
    if pattern.body is None:
        return "{}"
    text = "{ " + render_json(pattern.body) + " }"
    if len(text) > MAX_LENGTH:
        text = "{" + render_json(pattern.body, leaf=_compact_condition, compact=True) + "}"
    return text


@render.register
def _(pattern: DelimitedPattern) -> str:
    if not pattern.fields:
        return "[]"
    parts = [render_field(f) for f in pattern.fields]
    text = "[" + ", ".join(parts).rstrip(" ") + "]"
    if len(text) > MAX_LENGTH:
        text = "[" + ",".join(render_field(f, compact=True) for f in pattern.fields) + "]"
    return text
