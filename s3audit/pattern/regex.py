"""The ``%regex%`` sub-language: character-set validation and compilation.

AWS allows inside ``%...%`` (FilterAndPatternSyntax, "Using regular expressions"):
ASCII letters and digits, the symbols ``: _ # = @ / ; , -``, the operators
``^ $ ? [ ] { } | \\ * + .`` and the escapes ``\\d \\D \\s \\S \\w \\W \\xhh``. ``(`` and ``)``
are rejected even when escaped (observed, ministryofjustice PR 5137), as is any other symbol or
multi-byte character. D-> (spec OQ-18) a space is allowed too (the docs' own examples use it).
D-> a backslash may also escape any allowed symbol or operator (``\\.`` is used by the docs);
any other escape (``\\b``, ``\\n``, ``\\1``) is rejected, failing closed.

The match is a *search* (unanchored); ``^``/``$`` anchor to the text being tested. Python's
``re`` runs this subset unchanged, except that ``$`` also matches before a final newline; it is
rewritten to ``\\Z`` so that it anchors at the very end, as documented.
"""
from __future__ import annotations

import functools
import re

from .errors import PatternError

_LETTERS_DIGITS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_SYMBOLS = frozenset(":_#=@/;,- ")
_OPERATORS = frozenset("^$?[]{}|\\*+.")
ALLOWED = _LETTERS_DIGITS | _SYMBOLS | _OPERATORS
_CLASS_ESCAPES = frozenset("dDsSwW")
_HEX = frozenset("0123456789abcdefABCDEF")


def validate(body: str, offset: int) -> None:
    """Raise :class:`PatternError` for a character or escape AWS does not accept.

    ``offset`` is the position of ``body[0]`` in the whole pattern.
    """
    i = 0
    n = len(body)
    while i < n:
        c = body[i]
        if c == "\\":
            if i + 1 >= n:
                raise PatternError("a regex cannot end with a lone backslash", position=offset + i)
            e = body[i + 1]
            if e in _CLASS_ESCAPES:
                i += 2
                continue
            if e == "x":
                if i + 3 < n + 0 and body[i + 2] in _HEX and body[i + 3] in _HEX:
                    i += 4
                    continue
                raise PatternError(r"\x must be followed by two hex digits (\x28 is '(')",
                                   position=offset + i, end=offset + i + 2)
            if e in "()":
                raise PatternError(
                    "parentheses are not allowed in a regex, even escaped: use \\x28 for '(' and \\x29 for ')'",
                    position=offset + i + 1)
            if e in _SYMBOLS or e in _OPERATORS:
                i += 2
                continue
            raise PatternError(
                f"unsupported regex escape '\\{e}': allowed are \\d \\D \\s \\S \\w \\W \\xhh and "
                "a backslash before a symbol", position=offset + i, end=offset + i + 2)
        if c not in ALLOWED:
            if c in "()":
                hint = "parentheses are not allowed in a regex: use \\x28 for '(' and \\x29 for ')'"
            else:
                hint = (f"character {c!r} is not allowed in a regex: use letters, digits, "
                        ": _ # = @ / ; , - space, the operators ^ $ ? [ ] { } | \\ * + . or \\xhh")
            raise PatternError(hint, position=offset + i)
        i += 1


def _to_python(body: str) -> str:
    """Rewrite unescaped ``$`` outside character classes to ``\\Z`` (end of text only)."""
    out: list[str] = []
    i, n, in_class = 0, len(body), False
    while i < n:
        c = body[i]
        if c == "\\" and i + 1 < n:
            out.append(body[i : i + 2])
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
        elif c == "[":
            in_class = True
            out.append(c)
            i += 1
            # a ']' right after '[' or '[^' is literal
            if i < n and body[i] == "^":
                out.append("^")
                i += 1
            if i < n and body[i] == "]":
                out.append("]")
                i += 1
            continue
        elif c == "$":
            out.append(r"\Z")
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=1024)
def compile_regex(body: str, offset: int = 0) -> re.Pattern[str]:
    """Validate ``body`` and compile it with Python's ``re`` (cached).

    Examples
    --------
    >>> bool(compile_regex(r"^10\\.0\\.").search("10.0.3.4"))
    True
    """
    validate(body, offset)
    if body == "":
        raise PatternError("empty regex %%", position=max(offset - 1, 0), end=offset + 1)
    try:
        return re.compile(_to_python(body))
    except re.error as exc:  # e.g. "%[%", "%*a%"
        pos = offset + (exc.pos if exc.pos is not None and exc.pos <= len(body) else 0)
        raise PatternError(f"invalid regex: {exc.msg}", position=min(pos, offset + len(body))) from None
    except (RecursionError, OverflowError, ValueError) as exc:  # pragma: no cover - defensive
        raise PatternError(f"invalid regex: {exc}", position=offset) from None
