"""``compile_pattern`` and :class:`FilterPattern`, the public face of the engine."""
from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .ast import DelimitedPattern, JsonPattern, MatchAll, Pattern, TermPattern
from .errors import PatternError
from .evaluate import evaluate
from .parser import parse

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .explain import Explanation
    from .extract import Extraction
    from .lint import LintWarning

Event = str | Mapping[str, Any]


class FilterPattern:
    """A compiled CloudWatch Logs filter pattern.

    Build it with :func:`compile_pattern`; it is immutable and safe to share.

    Attributes
    ----------
    source : str
        The pattern text as given.
    ast : Pattern
        The parsed tree (:mod:`s3audit.pattern.ast`).
    kind : str
        ``"all"`` (empty pattern), ``"terms"``, ``"json"`` or ``"delimited"``.

    Examples
    --------
    >>> from s3audit import compile_pattern
    >>> p = compile_pattern('{ $.vpcEndpointId != "vpce-1" }')
    >>> p.matches({"vpcEndpointId": "vpce-2"}), p.matches({})   # != is false on a missing field
    (True, False)
    >>> str(compile_pattern('{$.eventName=GetObject}'))
    '{ $.eventName = "GetObject" }'
    """

    __slots__ = ("source", "ast", "__weakref__")

    def __init__(self, source: str, ast: Pattern) -> None:
        self.source = source
        self.ast = ast

    @property
    def kind(self) -> str:
        a = self.ast
        if isinstance(a, MatchAll):
            return "all"
        if isinstance(a, TermPattern):
            return "terms"
        if isinstance(a, JsonPattern):
            return "json"
        assert isinstance(a, DelimitedPattern)
        return "delimited"

    # ------------------------------------------------------------------ matching
    def matches(self, event: Event) -> bool:
        """True when the pattern matches one event (raw message text, or a parsed dict).

        A dict is serialised compactly (``json.dumps`` with ``(",", ":")`` separators) for term and
        space-delimited patterns, which search the raw text.

        Examples
        --------
        >>> compile_pattern("ERROR -WARN").matches("ERROR message")
        True
        """
        return evaluate(self.ast, event)

    def filter(self, events: Iterable[Event]) -> list[Event]:
        """The events that match, in order."""
        return [e for e in events if evaluate(self.ast, e)]

    def mask(self, events: "pd.DataFrame") -> "pd.Series":
        """Boolean Series over an event frame (from :func:`s3audit.load_events`): which rows match.

        Identical to ``matches`` on each row's ``raw``, but evaluated on the flattened columns where
        a selector maps to one (categorical columns: the condition is evaluated once per category);
        ``raw`` is parsed only for the rows a column cannot decide exactly.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"eventName": pd.Categorical(["GetObject", "PutObject"]),
        ...                    "raw": ['{"eventName":"GetObject"}', '{"eventName":"PutObject"}']})
        >>> compile_pattern('{ $.eventName = "GetObject" }').mask(df).tolist()
        [True, False]
        """
        from .mask import mask_frame

        return mask_frame(self.ast, events)

    # ------------------------------------------------------------------ insight
    def explain(self, event: Event) -> "Explanation":
        """The condition tree with each node's truth value and the value(s) it saw."""
        from .explain import explain

        return explain(self.ast, event)

    def extract(self, event: Event, metric_value: str = "1") -> "Extraction":
        """``extractedValues`` as TestMetricFilter reports them, and the metric value published.

        Parameters
        ----------
        event
            Raw message text or parsed dict.
        metric_value
            The metric filter's ``metricValue``: a number (``"1"``), ``$.path`` (JSON patterns),
            ``$name`` or ``$N`` (space-delimited patterns).
        """
        from .extract import extract

        return extract(self, event, metric_value)

    def test_metric_filter(self, messages: list[str], event_number_base: int = 0) -> dict:
        """The response TestMetricFilter would give for ``messages`` (see :mod:`.extract`)."""
        from .extract import test_metric_filter_response

        return test_metric_filter_response(self, messages, event_number_base)

    test_metric_filter.__test__ = False  # type: ignore[attr-defined]  # not a pytest test

    def lint(self, events: "pd.DataFrame | Iterable[Event] | None" = None) -> list["LintWarning"]:
        """Warnings about the traps users fall into (see :mod:`s3audit.pattern.lint`)."""
        from .lint import lint

        return lint(self, events)

    def conditions(self) -> list[Any]:
        """The leaf conditions (JSON), terms (term pattern) or constrained fields (delimited)."""
        from .explain import leaves

        return leaves(self.ast)

    # ------------------------------------------------------------------ rendering
    def __str__(self) -> str:
        from .render import render

        return render(self.ast)

    def __repr__(self) -> str:
        return f"FilterPattern({self.source!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FilterPattern) and other.ast == self.ast

    def __hash__(self) -> int:
        return hash(self.ast)


@functools.lru_cache(maxsize=512)
def _compile_cached(text: str) -> FilterPattern:
    return FilterPattern(text, parse(text))


def compile_pattern(text: str) -> FilterPattern:
    """Compile a CloudWatch Logs filter pattern (cached).

    Raises
    ------
    PatternError
        For every invalid pattern (a :class:`ValueError` with ``.pattern``, ``.position`` and a caret
        message). No other exception escapes for any ``str``.

    Examples
    --------
    >>> compile_pattern('{ $.a IS NOT NULL }')
    Traceback (most recent call last):
    ...
    s3audit.pattern.errors.PatternError: IS NOT is not supported: use NOT EXISTS, or != for a value (e.g. $.f NOT EXISTS || $.f != "v") (at position 6)
      { $.a IS NOT NULL }
            ^^^^^^
    """
    if not isinstance(text, str):
        raise PatternError(f"a filter pattern must be a str, not {type(text).__name__}")
    try:
        return _compile_cached(text)
    except PatternError:
        raise
    except Exception as exc:  # fail closed: never let an internal error pass as something else
        raise PatternError(f"could not compile the pattern: {type(exc).__name__}: {exc}", pattern=text,
                           position=0) from exc
