"""Value semantics shared by the per-event evaluator and the vectorised mask.

The type rules, in one place (spec section 6.3; ``D->`` marks the spec's defaults for open questions):

========================  =========  =========  ==========  ===========  =========  =========  ==========
node the selector hits    ``= v``    ``!= v``   ``< > ..``  ``= *``      IS NULL    IS TRUE    NOT EXISTS
========================  =========  =========  ==========  ===========  =========  =========  ==========
nothing (missing)         false      **false**  false       false        false      false      true
JSON null                 false      false      false       false (D->)  true       false      false
string                    match      not match  numeric*    true         false      false      false
number                    match      not match  numeric     true         false      false      false
boolean                   false(D->) false(D->) false       false (D->)  false      value      false
array / object            false      false      false       false        false      false      false
========================  =========  =========  ==========  ===========  =========  =========  ==========

* ``!=`` is not ``NOT(=)``: every comparison is false unless the selector lands on a string or a
  number [D: arrays/objects; O: missing fields, azul #5884]; D-> (OQ-3) the same for null and booleans.
* "match" against a string literal (quoted or unquoted word): whole-value, case-sensitive
  equality; a leading ``*`` matches any prefix, a trailing ``*`` any suffix, both any substring, a
  lone ``*`` any value. D-> (OQ-7) a ``*`` in the middle is a literal asterisk [D FPS-2020].
  A JSON number is compared through its text as written in the event (D-> OQ-6, "a quoted
  literal compares as text").
* against a number literal: numeric comparison. D-> (OQ-6, as floci) a string that is a number
  (same grammar as pattern numbers) compares numerically; any other string is unequal (so ``!=`` is
  true) and never ordered.
* against ``%regex%``: an unanchored search over the value text.
* with a wildcard selector (several nodes): D-> (OQ-12) existential - true if any node satisfies
  the comparison; NOT EXISTS is true iff no node is selected.
"""
from __future__ import annotations

import functools
import re
from decimal import Decimal
from typing import Any

from .ast import Literal
from .lexer import NUMBER_RE
from .regex import compile_regex


class JsonNumber:
    """A JSON number as it appeared in the event: its text and its numeric value."""

    __slots__ = ("text", "value")

    def __init__(self, text: str, value: int | float) -> None:
        self.text = text
        self.value = value

    def __repr__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        if isinstance(other, JsonNumber):
            return self.value == other.value
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return self.value == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.value)


def _int_number(text: str) -> JsonNumber:
    return JsonNumber(text, _int(text))


def _float_number(text: str) -> JsonNumber:
    return JsonNumber(text, float(text))


def _int(text: str) -> int | Decimal:
    try:
        return int(text)
    except ValueError:  # more than sys.get_int_max_str_digits() (4,300) digits: still a number
        return Decimal(text)  # exact, and compares exactly with int and float


def parse_number(text: str) -> int | float | Decimal | None:
    """The numeric value of ``text`` if it is a number by the pattern grammar, else None.

    Integers of more than 4,300 digits (Python's limit for ``int(str)``) come back as
    :class:`~decimal.Decimal`, which compares exactly with ints and floats.
    """
    if not NUMBER_RE.match(text):
        return None
    if "." in text or "e" in text or "E" in text:
        return float(text)
    return _int(text)


@functools.lru_cache(maxsize=4096)
def string_matcher(text: str) -> tuple[str, str]:
    """Classify a string literal: (mode, core) with mode in exact/prefix/suffix/contains/any."""
    lead = text.startswith("*")
    core = text[1:] if lead else text
    trail = core.endswith("*") and (len(core) > 0)
    if trail:
        core = core[:-1]
    if lead and trail:
        return ("any", "") if core == "" else ("contains", core)
    if lead:
        return ("any", "") if core == "" else ("suffix", core)
    if trail:
        return ("any", "") if core == "" else ("prefix", core)
    return "exact", core


def string_matches(lit_text: str, value: str) -> bool:
    mode, core = string_matcher(lit_text)
    if mode == "exact":
        return value == core
    if mode == "prefix":
        return value.startswith(core)
    if mode == "suffix":
        return value.endswith(core)
    if mode == "contains":
        return core in value
    return True


def scalar(node: Any) -> tuple[str, int | float | None] | None:
    """(text, numeric value or None) for a string/number node; None for anything else."""
    if isinstance(node, str):
        return node, None
    if isinstance(node, JsonNumber):
        return node.text, node.value
    if isinstance(node, bool) or node is None:
        return None
    if isinstance(node, int):
        return str(node), node
    if isinstance(node, float):
        if node != node or node in (float("inf"), float("-inf")):
            return None
        return repr(node), node
    return None


def literal_number(lit: Literal) -> int | float:
    value = parse_number(lit.text)
    assert value is not None
    return value


def compare_scalar(op: str, lit: Literal, text: str, num: int | float | None) -> bool:
    """Apply ``op lit`` to a string/number value (``num`` is the number's value for JSON numbers)."""
    if lit.kind == "number":
        if num is None:
            num = parse_number(text)
            if num is None:
                return op == "!="
        ref = literal_number(lit)
        if op == "=":
            return num == ref
        if op == "!=":
            return num != ref
        if op == "<":
            return num < ref
        if op == "<=":
            return num <= ref
        if op == ">":
            return num > ref
        return num >= ref
    if lit.kind == "regex":
        hit = compile_regex(lit.text).search(text) is not None
    else:
        hit = string_matches(lit.text, text)
    return hit if op == "=" else (not hit if op == "!=" else False)


def regex_of(lit: Literal) -> re.Pattern[str]:
    return compile_regex(lit.text)
