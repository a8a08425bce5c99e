"""Lexers: one for JSON / space-delimited pattern bodies, one for term patterns.

Both work on the whole pattern text between two offsets, so every token and error carries an
offset into the text the user wrote. The structured lexer yields :class:`Token` objects and always
ends with ``EOF``; it raises :class:`PatternError` (never anything else) on bad input.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from .ast import Step, Term
from .errors import PatternError
from .tokens import Token, TokenKind

WHITESPACE = frozenset(" \t\r\n")
# D-> (spec OQ-10): unquoted values may hold [A-Za-z0-9_.*+-]; anything else must be quoted.
WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.*+-")
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
# the documented term charset: "characters other than alphanumeric or underscore must be quoted"
TERM_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
# ASCII digits only: Python's \d (and int()/float()) also take other scripts' digits ("\u0661"), which
# would make an event string such as "\u0661" equal to the number 1.
NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_DELIMITERS = WHITESPACE | frozenset("(){}[],&|=!<>")
_SIMPLE = {
    "{": TokenKind.LBRACE, "}": TokenKind.RBRACE, "[": TokenKind.LBRACKET, "]": TokenKind.RBRACKET,
    "(": TokenKind.LPAREN, ")": TokenKind.RPAREN, ",": TokenKind.COMMA,
}
_TYPOGRAPHIC_QUOTES = frozenset("\u201c\u201d\u201e\u2018\u2019\u00ab\u00bb")


def _unexpected(ch: str, pos: int) -> PatternError:
    if ch in _TYPOGRAPHIC_QUOTES:
        return PatternError(f"typographic quote {ch!r}: use a straight double quote \"", position=pos)
    if ch == "'":
        return PatternError("single quotes are only used in $.['key'] selectors: quote values with \"",
                            position=pos)
    return PatternError(f"unexpected character {ch!r}", position=pos)


def read_string(text: str, pos: int, end: int) -> tuple[str, int]:
    """Read a double-quoted string starting at ``text[pos] == '"'``; return (value, end offset).

    D-> (spec OQ-9): ``\\"`` and ``\\\\`` are the only escapes (aws-cdk emits them); any other
    backslash sequence is rejected.
    """
    out: list[str] = []
    i = pos + 1
    while i < end:
        c = text[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\\":
            if i + 1 < end and text[i + 1] in '"\\':
                out.append(text[i + 1])
                i += 2
                continue
            raise PatternError('only \\" and \\\\ may be escaped inside a quoted value', position=i,
                               end=min(i + 2, end))
        out.append(c)
        i += 1
    raise PatternError("unterminated quoted string: expected a closing \"", position=pos, end=end)


def read_regex(text: str, pos: int, end: int) -> tuple[str, int]:
    """Read ``%body%`` starting at ``text[pos] == '%'``; return (body, end offset)."""
    close = text.find("%", pos + 1, end)
    if close < 0:
        raise PatternError("unterminated regex: expected a closing %", position=pos, end=end)
    return text[pos + 1 : close], close + 1


def read_selector(text: str, pos: int, end: int) -> tuple[tuple[Step, ...], int]:
    """Read ``$`` and its steps starting at ``text[pos] == '$'``."""
    steps: list[Step] = []
    i = pos + 1
    while i < end:
        c = text[i]
        if c == ".":
            i += 1
            if i < end and text[i] == "*":
                steps.append(Step("any_key"))
                i += 1
            elif i < end and text[i] == "[":
                if i + 1 >= end or text[i + 1] != "'":
                    raise PatternError("expected ['key'] with single quotes after '.'", position=i)
                close = text.find("'", i + 2, end)
                if close < 0:
                    raise PatternError("unterminated ['key']: expected a closing '", position=i + 1, end=end)
                key = text[i + 2 : close]
                if key == "":
                    raise PatternError("empty key in ['']", position=i)
                if close + 1 >= end or text[close + 1] != "]":
                    raise PatternError("expected ']' after the quoted key", position=close + 1)
                steps.append(Step("key", key=key, bracket=True))
                i = close + 2
            else:
                j = i
                while j < end and text[j] in NAME_CHARS:
                    j += 1
                if j == i:
                    hint = ("expected a field name after '.': names hold letters, digits, _ and -; "
                            "use $.['key'] for other keys")
                    raise PatternError(hint, position=i)
                steps.append(Step("key", key=text[i:j]))
                i = j
        elif c == "[":
            if i + 1 < end and text[i + 1] == "*":
                if i + 2 >= end or text[i + 2] != "]":
                    raise PatternError("expected ']' after [*", position=i + 2)
                steps.append(Step("any_index"))
                i += 3
            else:
                j = i + 1
                while j < end and text[j].isascii() and text[j].isdigit():
                    j += 1
                if j == i + 1:
                    if i + 1 < end and text[i + 1] == "'":
                        raise PatternError("write a quoted key as .['key'] (with a dot before '[')", position=i)
                    raise PatternError("expected an array index [n] or [*]", position=i + 1)
                if j >= end or text[j] != "]":
                    raise PatternError("expected ']' after the array index", position=j)
                steps.append(Step("index", index=int(text[i + 1 : j])))
                i = j + 1
        else:
            break
    if not steps:
        raise PatternError("expected '.' or '[' after '$' (a selector looks like $.eventName)",
                           position=min(pos + 1, end) if pos + 1 < end else pos)
    if i < end and text[i] not in _DELIMITERS:
        if text[i] in NAME_CHARS or text[i] == "*":
            raise PatternError("unexpected character in selector", position=i)
        raise PatternError(f"unexpected character {text[i]!r} after the selector "
                           "(names hold letters, digits, _ and -; use $.['key'] for other keys)", position=i)
    return tuple(steps), i


def tokenize(text: str, start: int, end: int) -> Iterator[Token]:
    """Tokenize ``text[start:end]`` (a JSON or space-delimited pattern); always ends with EOF."""
    i = start
    while i < end:
        c = text[i]
        if c in WHITESPACE:
            i += 1
            continue
        if c in _SIMPLE:
            yield Token(_SIMPLE[c], c, i, i + 1)
            i += 1
        elif c == "&":
            if i + 1 < end and text[i + 1] == "&":
                yield Token(TokenKind.AND, "&&", i, i + 2)
                i += 2
            else:
                raise PatternError("a single '&' is not an operator: use && for AND", position=i)
        elif c == "|":
            if i + 1 < end and text[i + 1] == "|":
                yield Token(TokenKind.OR, "||", i, i + 2)
                i += 2
            else:
                raise PatternError("a single '|' is not an operator: use || for OR", position=i)
        elif c == "=":
            if i + 1 < end and text[i + 1] == "=":
                raise PatternError("'==' is not an operator: use =", position=i, end=i + 2)
            yield Token(TokenKind.OP, "=", i, i + 1)
            i += 1
        elif c == "!":
            if i + 1 < end and text[i + 1] == "=":
                yield Token(TokenKind.OP, "!=", i, i + 2)
                i += 2
            else:
                raise PatternError("'!' must be followed by '=' (!=); negate with != or NOT EXISTS", position=i)
        elif c in "<>":
            if i + 1 < end and text[i + 1] == "=":
                yield Token(TokenKind.OP, c + "=", i, i + 2)
                i += 2
            elif i + 1 < end and text[i + 1] in "<>":
                raise PatternError(f"'{c}{text[i + 1]}' is not an operator: use = != < <= > >=",
                                   position=i, end=i + 2)
            else:
                yield Token(TokenKind.OP, c, i, i + 1)
                i += 1
        elif c == '"':
            value, j = read_string(text, i, end)
            yield Token(TokenKind.STRING, text[i:j], i, j, value)
            i = j
        elif c == "%":
            body, j = read_regex(text, i, end)
            yield Token(TokenKind.REGEX, text[i:j], i, j, body)
            i = j
        elif c == "$":
            steps, j = read_selector(text, i, end)
            yield Token(TokenKind.SELECTOR, text[i:j], i, j, steps)
            i = j
        elif c in WORD_CHARS:
            j = i
            while j < end and text[j] in WORD_CHARS:
                j += 1
            word = text[i:j]
            if word == "..." and (j >= end or text[j] not in WORD_CHARS):
                yield Token(TokenKind.ELLIPSIS, word, i, j)
                i = j
                continue
            if j < end and text[j] not in _DELIMITERS:
                raise PatternError(
                    f"character {text[j]!r} cannot appear in an unquoted value: put the value in double "
                    "quotes (unquoted values hold only letters, digits and _ . * + -)", position=j)
            kind = TokenKind.NUMBER if NUMBER_RE.match(word) else TokenKind.WORD
            yield Token(kind, word, i, j, word)
            i = j
        else:
            raise _unexpected(c, i)
    yield Token(TokenKind.EOF, "", end, end)


def tokenize_terms(text: str, start: int, end: int) -> list[Term]:
    """Split a term pattern into :class:`Term` objects (prefix, kind, text, span)."""
    terms: list[Term] = []
    i = start
    while i < end:
        c = text[i]
        if c in WHITESPACE:
            i += 1
            continue
        t0 = i
        prefix = ""
        if c in "?-":
            prefix = c
            i += 1
            if i >= end or text[i] in WHITESPACE:
                raise PatternError(f"'{prefix}' must be followed by a term, without a space", position=t0)
            c = text[i]
        if c == '"':
            value, j = read_string(text, i, end)
            kind = "phrase"
        elif c == "%":
            value, j = read_regex(text, i, end)
            kind = "regex"
        elif c in TERM_CHARS:
            j = i
            while j < end and text[j] in TERM_CHARS:
                j += 1
            value, kind = text[i:j], "word"
            if j < end and text[j] not in WHITESPACE:
                bad = text[j]
                if bad in _TYPOGRAPHIC_QUOTES:
                    raise _unexpected(bad, j)
                raise PatternError(
                    f"character {bad!r} cannot appear in an unquoted term: put the term in double quotes "
                    f'(e.g. "{text[i:j]}{bad}...") - unquoted terms hold only letters, digits and _',
                    position=j)
        else:
            if c in "{[":
                raise PatternError(f"'{c}' may only start a pattern (JSON or space-delimited)", position=i)
            if c in _TYPOGRAPHIC_QUOTES or c == "'":
                raise _unexpected(c, i)
            raise PatternError(
                f"character {c!r} cannot appear in an unquoted term: put the term in double quotes",
                position=i)
        if j < end and text[j] not in WHITESPACE:
            raise PatternError("expected a space between terms", position=j)
        terms.append(Term(kind, value, prefix, span=(t0, j)))
        i = j
    return terms
