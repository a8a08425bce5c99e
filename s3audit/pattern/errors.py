"""Typed errors of the filter-pattern engine.

Every invalid pattern raises :class:`PatternError` (a :class:`ValueError`), which carries the
pattern text, the 0-based offset of the fault and a short reason, and renders the pattern with a
caret under the fault::

    IS NOT is not supported: use NOT EXISTS, or != for a value
      { $.a IS NOT NULL }
            ^
"""
from __future__ import annotations

import unicodedata


class PatternError(ValueError):
    """An invalid CloudWatch Logs filter pattern.

    Parameters
    ----------
    reason
        What is wrong and, where possible, what to write instead.
    pattern
        The whole pattern text (filled in by :func:`s3audit.compile_pattern`).
    position
        0-based offset of the fault in ``pattern`` (``len(pattern)`` for "unexpected end").
    end
        Exclusive end offset of the faulty span (defaults to ``position + 1``).

    Examples
    --------
    >>> from s3audit.pattern import compile_pattern, PatternError
    >>> try:
    ...     compile_pattern('{ $.a IS NOT NULL }')
    ... except PatternError as exc:
    ...     print(exc.position, exc.reason.split(':')[0])
    6 IS NOT is not supported
    """

    def __init__(self, reason: str, pattern: str = "", position: int = 0, end: int | None = None) -> None:
        self.reason = reason
        self.pattern = pattern
        self.position = position
        self.end = position + 1 if end is None else max(end, position)
        super().__init__(reason)

    @property
    def start(self) -> int:
        """Alias of :attr:`position` (the start of the faulty span)."""
        return self.position

    def caret_lines(self) -> str:
        """The pattern on one line and a caret line under the fault (long patterns are windowed).

        The caret is placed in terminal columns, not code points: a wide character (CJK,
        fullwidth) takes two columns, a combining accent or format character none. Blanks show
        as spaces and other control characters as U+FFFD (they could move the cursor).
        """
        text = "".join(_shown(c) for c in self.pattern)
        pos = min(max(self.position, 0), len(text))
        end = max(min(self.end, len(text)), pos + 1)
        offset = 0
        if len(text) > 100:  # show a window around the fault
            offset = max(0, pos - 50)
            text = ("..." if offset else "") + text[offset : offset + 100] + ("..." if offset + 100 < len(text) else "")
            shift = 3 if offset else 0
            pos, end = pos - offset + shift, min(end - offset + shift, len(text))
        lead = _columns(text[:pos])
        width = max(1, _columns(text[pos:end]))
        return f"  {text}\n  {' ' * lead}{'^' * min(width, 40)}"

    def __str__(self) -> str:
        if not self.pattern and self.position == 0:
            return self.reason
        return f"{self.reason} (at position {self.position})\n{self.caret_lines()}"

    def __reduce__(self):  # keep attributes across pickling (multiprocessing, caching)
        return (type(self), (self.reason, self.pattern, self.position, self.end))


def _shown(c: str) -> str:
    if c in "\n\t\r":
        return " "
    return "\ufffd" if unicodedata.category(c) == "Cc" else c


def _columns(text: str) -> int:
    """Terminal columns ``text`` takes (East Asian wide/fullwidth: 2; combining/format: 0)."""
    n = 0
    for c in text:
        if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
            continue
        n += 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
    return n
