"""Typed tokens with exclusive-end spans (the lexer always ends a stream with ``EOF``)."""
from __future__ import annotations

import enum
from dataclasses import dataclass


class TokenKind(enum.Enum):
    """Kinds of token in JSON and space-delimited pattern bodies."""

    LBRACE = "{"
    RBRACE = "}"
    LBRACKET = "["
    RBRACKET = "]"
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    AND = "&&"
    OR = "||"
    OP = "operator"          # = != < <= > >=
    STRING = "string"        # "double quoted" (value = unescaped text)
    REGEX = "regex"          # %body% (value = body)
    NUMBER = "number"        # 12, -1.5, 1e+3 (value = text)
    WORD = "word"            # unquoted value, field name or keyword
    SELECTOR = "selector"    # $.a.b[0] (value = tuple of Step)
    ELLIPSIS = "..."
    EOF = "end of pattern"


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``start``/``end`` are offsets into the whole pattern, ``end`` exclusive."""

    kind: TokenKind
    text: str
    start: int
    end: int
    value: object = None

    def __post_init__(self) -> None:
        assert 0 <= self.start <= self.end, (self.start, self.end)
