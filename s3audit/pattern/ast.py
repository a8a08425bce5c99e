"""The pattern AST: immutable, hashable plain data (spans do not take part in equality).

Three pattern kinds never mix (the aws-cdk lesson): :class:`TermPattern` (unstructured text),
:class:`JsonPattern` and :class:`DelimitedPattern`; :class:`MatchAll` is the empty pattern.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from s3audit.flatten import is_position

Span = tuple[int, int]
_NOSPAN: Span = (0, 0)


# ----------------------------------------------------------------------------- selectors
@dataclass(frozen=True, slots=True)
class Step:
    """One selector step.

    ``kind`` is ``"key"`` (``.name`` or ``.['key']``), ``"index"`` (``[n]``),
    ``"any_key"`` (``.*``) or ``"any_index"`` (``[*]``).
    """

    kind: str
    key: str | None = None
    index: int | None = None
    bracket: bool = False  # written as .['key']

    @property
    def is_wildcard(self) -> bool:
        return self.kind in ("any_key", "any_index")


@dataclass(frozen=True, slots=True)
class Selector:
    """``$`` followed by steps (``$.a.b[0]``, ``$.['k.x']``, ``$.a[*]``)."""

    steps: tuple[Step, ...]
    span: Span = field(default=_NOSPAN, compare=False)

    @property
    def wildcard_count(self) -> int:
        return sum(s.is_wildcard for s in self.steps)

    @property
    def column(self) -> str | None:
        """The flattened (Logs Insights) column name, or None when the selector has no unique one.

        Only plain key steps map to a column: an index (``resources.0.ARN``) is ambiguous with an
        object key ``"0"``, a key holding a dot is ambiguous with nesting, and wildcards select
        several nodes.
        """
        parts = []
        for s in self.steps:
            if s.kind != "key" or not s.key or "." in s.key or is_position(s.key):
                return None
            parts.append(s.key)
        return ".".join(parts)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.steps if s.kind == "key" and s.key is not None)


# ----------------------------------------------------------------------------- values
@dataclass(frozen=True, slots=True)
class Literal:
    """A comparison value.

    ``kind`` is ``"string"`` (quoted or unquoted word, may hold ``*`` wildcards at either end),
    ``"number"`` (``text`` is the literal as written) or ``"regex"`` (``text`` is the body).
    """

    kind: str
    text: str
    quoted: bool = field(default=True, compare=False)  # same meaning either way
    span: Span = field(default=_NOSPAN, compare=False)


# ----------------------------------------------------------------------------- JSON nodes
@dataclass(frozen=True, slots=True)
class Compare:
    selector: Selector
    op: str
    value: Literal
    span: Span = field(default=_NOSPAN, compare=False)


@dataclass(frozen=True, slots=True)
class IsNull:
    selector: Selector
    span: Span = field(default=_NOSPAN, compare=False)


@dataclass(frozen=True, slots=True)
class IsBool:
    selector: Selector
    value: bool
    span: Span = field(default=_NOSPAN, compare=False)


@dataclass(frozen=True, slots=True)
class NotExists:
    selector: Selector
    span: Span = field(default=_NOSPAN, compare=False)


@dataclass(frozen=True, slots=True)
class And:
    items: tuple["JsonNode", ...]
    span: Span = field(default=_NOSPAN, compare=False)


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple["JsonNode", ...]
    span: Span = field(default=_NOSPAN, compare=False)


Condition = Union[Compare, IsNull, IsBool, NotExists]
JsonNode = Union[Condition, And, Or]


@dataclass(frozen=True, slots=True)
class JsonPattern:
    """``{ ... }``; ``body`` is None for ``{}`` (any JSON object)."""

    body: JsonNode | None


# ----------------------------------------------------------------------------- term patterns
@dataclass(frozen=True, slots=True)
class Term:
    """One term: ``kind`` is ``"word"``, ``"phrase"`` (quoted) or ``"regex"``; prefix ``""``/``"?"``/``"-"``."""

    kind: str
    text: str
    prefix: str = ""
    span: Span = field(default=_NOSPAN, compare=False)


@dataclass(frozen=True, slots=True)
class TermPattern:
    terms: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class MatchAll:
    """The empty (or all-blank) pattern: matches every event."""


# ----------------------------------------------------------------------------- space-delimited
@dataclass(frozen=True, slots=True)
class FieldCondition:
    op: str
    value: Literal
    span: Span = field(default=_NOSPAN, compare=False)


@dataclass(frozen=True, slots=True)
class DelimitedField:
    """One slot: ``kind`` is ``"named"``, ``"ellipsis"`` (``...``) or ``"blank"`` (empty slot).

    ``conditions`` is an OR of ANDs of conditions on this slot's value (empty: any value).
    """

    kind: str
    name: str | None = None
    conditions: tuple[tuple[FieldCondition, ...], ...] = ()
    span: Span = field(default=_NOSPAN, compare=False)


@dataclass(frozen=True, slots=True)
class DelimitedPattern:
    fields: tuple[DelimitedField, ...]

    @property
    def ellipsis_index(self) -> int | None:
        for i, f in enumerate(self.fields):
            if f.kind == "ellipsis":
                return i
        return None


Pattern = Union[MatchAll, TermPattern, JsonPattern, DelimitedPattern]
