"""Design the alarm: which reads are legitimate, and the metric-filter pattern that says so.

:class:`FilterDesign` is the model behind notebook 03 and :class:`s3audit.widgets.FilterDesigner`
(it imports no widget library). It holds the history (events, classified by access source),
a *base* condition for a read worth alarming on, and a list of exclusions, each with a
justification. From them it compiles the pattern - valid, within CloudWatch's quotas, and exact
about optional fields - and measures it on the history with the exact pattern engine
(``compile_pattern(pattern).mask``): which reads would alarm, what each exclusion removes, and
where the pattern and the user's intent disagree.

Files
-----
``to_file``/``from_file`` write/read the design as YAML or JSON (versionable, reviewable).
:meth:`FilterDesign.alarm_spec` builds the deploy spec that ``s3audit deploy`` and notebook 04
read (issue 7's format: ``name``, ``log_group``, ``pattern``, ``metric``, ``alarm``, ``notify``).
Notebook 03 stores both in the workspace as ``design.json`` and ``alarm-spec.json``
(:data:`DESIGN_ARTEFACT`, :data:`ALARM_SPEC_ARTEFACT`); see docs/design.md.

Examples
--------
>>> import pandas as pd
>>> events = pd.DataFrame({"eventName": ["GetObject"] * 3, "sourceIPAddress":
...     ["athena.amazonaws.com", "203.0.113.9", "10.0.0.5"], "vpcEndpointId": [None, None, "vpce-1"],
...     "source": ["athena", "external", "vpc-endpoint"]})
>>> events["raw"] = events.drop(columns="source").apply(lambda r: r.dropna().to_json(), axis=1)
>>> design = FilterDesign(events)
>>> design.exclude_source("athena", "our BI queries").source
'athena'
>>> design.pattern
'{ ($.eventName = "GetObject") && $.sourceIPAddress != "athena.amazonaws.com" }'
>>> design.alerts()["source"].tolist()
['external', 'vpc-endpoint']
"""
from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from s3audit.exclusions import (
    REQUIRED_FIELDS,
    AllOf,
    AnyOf,
    Condition,
    Equals,
    InCidr,
    Not,
    RenderContext,
    column_name,
    condition_from_dict,
    condition_to_dict,
    describe,
    effective,
    fields_of,
    guarded_fields,
    implies,
    iter_atoms,
    render,
    selector,
    translate_source,
    values_condition,
)

__all__ = [
    "ALARM_SPEC_ARTEFACT",
    "DEFAULT_BASE",
    "DESIGN_ARTEFACT",
    "AlarmSettings",
    "Exclusion",
    "FilterDesign",
    "PatternQuotaError",
    "build_base",
    "design_events",
]

log = logging.getLogger(__name__)

DEFAULT_BASE = '{ $.eventName = "GetObject" }'
DESIGN_ARTEFACT = "design"          # Workspace.save_json name -> design.json
ALARM_SPEC_ARTEFACT = "alarm-spec"  # Workspace.save_json name -> alarm-spec.json
MAX_PATTERN_LENGTH = 1024
MAX_REGEX = 2
MAX_WILDCARD_SELECTORS = 3
FILE_VERSION = 1

SHOWN_COLUMNS = ("eventTime", "source", "eventName", "sourceIPAddress", "userAgent",
                 "vpcEndpointId", "userIdentity.arn", "requestParameters.bucketName",
                 "requestParameters.key")
"""The columns the alert and discrepancy tables show (those that exist)."""

_VALUE_FIELDS = {  # short names the widget and users use -> event fields
    "address": "sourceIPAddress", "addresses": "sourceIPAddress", "ip": "sourceIPAddress",
    "endpoint": "vpcEndpointId", "endpoints": "vpcEndpointId",
    "user_agent": "userAgent", "user_agents": "userAgent", "ua": "userAgent",
    "principal": "userIdentity.arn", "principals": "userIdentity.arn",
}


class PatternQuotaError(ValueError):
    """The exclusions do not fit in one CloudWatch pattern; the message says what to merge or drop.

    Attributes
    ----------
    length, limit : int
        The shortest rendering's length and the 1024-character limit.
    regex_count, wildcard_selectors : int
        Regexes and wildcard selectors the pattern would hold (limits 2 and 3).
    contributions : list of (exclusion id, characters)
        What each exclusion costs, largest first.
    suggestions : list of str
        Concrete merges or drops.
    """

    def __init__(self, message: str, *, length: int, regex_count: int, wildcard_selectors: int,
                 contributions: list[tuple[str, int]], suggestions: list[str]) -> None:
        self.length = length
        self.limit = MAX_PATTERN_LENGTH
        self.regex_count = regex_count
        self.wildcard_selectors = wildcard_selectors
        self.contributions = contributions
        self.suggestions = suggestions
        super().__init__(message)


@dataclass(frozen=True)
class Exclusion:
    """One reason a read is legitimate: a condition on event fields, with a justification.

    ``kind`` is ``"source"`` (an access source, :attr:`source`) or ``"value"`` (a field value,
    :attr:`field` / :attr:`values`). ``notes`` say what the condition cannot express.
    """

    id: str
    kind: str
    condition: Condition
    justification: str = ""
    source: str | None = None
    field: str | None = None
    values: tuple[Any, ...] = ()
    notes: tuple[str, ...] = ()
    unless: tuple[tuple[str, Condition], ...] = ()

    @property
    def description(self) -> str:
        """The condition in words, with every carve-out."""
        return self.describe()

    def describe(self, excluded_sources: Iterable[str] = ()) -> str:
        """The condition in words; carve-outs of sources in ``excluded_sources`` are left out."""
        skip = set(excluded_sources)
        text = describe(self.condition)
        active = [(label, c) for label, c in self.unless if label not in skip]
        if active:
            text += " (unless " + "; ".join(f"{label}: {describe(c)}" for label, c in active) + ")"
        return text

    def effective(self, excluded_sources: Iterable[str] = ()) -> Condition:
        """The condition as the pattern uses it: carve-outs of excluded sources are dropped."""
        return effective(self.condition, self.unless, excluded_sources)

    def to_dict(self) -> dict[str, Any]:
        """The exclusion as plain data (the ``exclusions`` items of a design file)."""
        doc: dict[str, Any] = {"id": self.id}
        if self.kind == "source":
            doc["source"] = self.source
        else:
            doc["field"] = self.field
            doc["values"] = list(self.values)
        doc["justification"] = self.justification
        doc["match"] = condition_to_dict(self.condition)
        if self.unless:
            doc["unless"] = [{"source": label, "match": condition_to_dict(c)}
                             for label, c in self.unless]
        if self.notes:
            doc["notes"] = list(self.notes)
        return doc

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Exclusion:
        """Rebuild an exclusion written by :meth:`to_dict` (ValueError on unknown or missing keys)."""
        known = {"id", "source", "field", "values", "justification", "match", "notes", "unless"}
        unknown = set(doc) - known
        if unknown:
            raise ValueError(f"exclusion {doc.get('id', '?')!r}: unknown keys {sorted(unknown)}")
        if "match" not in doc:
            raise ValueError(f"exclusion {doc.get('id', '?')!r}: missing 'match' (its condition)")
        condition = condition_from_dict(doc["match"])
        justification = str(doc.get("justification") or "")
        notes = tuple(str(n) for n in doc.get("notes") or ())
        unless = []
        for item in doc.get("unless") or ():
            if not isinstance(item, Mapping) or set(item) != {"source", "match"}:
                raise ValueError(f"exclusion {doc.get('id', '?')!r}: each 'unless' entry needs "
                                 f"exactly 'source' and 'match', got {item!r}")
            unless.append((str(item["source"]), condition_from_dict(item["match"])))
        if doc.get("source"):
            label = str(doc["source"])
            return cls(str(doc.get("id") or f"source:{label}"), "source", condition,
                       justification, source=label, notes=notes, unless=tuple(unless))
        if unless:
            raise ValueError(f"exclusion {doc.get('id', '?')!r}: 'unless' is for source exclusions")
        if doc.get("field"):
            values = tuple(doc.get("values") or ())
            name = column_name(str(doc["field"]))
            return cls(str(doc.get("id") or _value_id(name, values)), "value", condition,
                       justification, field=name, values=values, notes=notes)
        raise ValueError(f"exclusion {doc.get('id', '?')!r}: needs 'source' or 'field'")


@dataclass(frozen=True)
class AlarmSettings:
    """The alarm on the filter's metric (``Sum`` per ``period`` >= ``threshold``, M of N).

    The names follow ``PutMetricAlarm``; invalid settings raise
    :class:`s3audit.backtesting.BacktestError` naming the setting.

    Examples
    --------
    >>> AlarmSettings(period=900, threshold=3).evaluation_periods
    1
    >>> AlarmSettings(period=45)
    Traceback (most recent call last):
    ...
    s3audit.backtesting.BacktestError: period must be 10, 20, 30 or a multiple of 60 seconds, got 45
    """

    period: int = 300
    threshold: float = 1
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 1
    treat_missing: str = "notBreaching"

    def __post_init__(self) -> None:
        from s3audit.backtesting import _check_settings

        _check_settings(self.period, self.threshold, self.evaluation_periods,
                        self.datapoints_to_alarm, self.treat_missing,
                        "GreaterThanOrEqualToThreshold", None)


def _value_id(name: str, values: Iterable[Any]) -> str:
    return f"{name}=" + ",".join(str(v) for v in values)


def _scan(text: str) -> tuple[int, int]:
    """(regexes, wildcard selectors) in pattern text, outside quoted strings."""
    regexes = wildcards = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            continue
        if ch == "%":
            end = text.find("%", i + 1)
            regexes += 1
            i = n if end < 0 else end + 1
            continue
        if text.startswith("[*]", i) or (text.startswith(".*", i) and i > 0 and text[i - 1] != " "):
            wildcards += 1
            i += 2
            continue
        i += 1
    return regexes, wildcards


def _camel(name: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", name)
    return "".join(w[:1].upper() + w[1:] for w in words if w) or "UnexpectedReads"


class FilterDesign:
    """Exclusions, the pattern they compile to, and what it does on the history.

    Parameters
    ----------
    events : DataFrame
        From :func:`s3audit.load_events` or ``pull_events``; classified with
        :func:`s3audit.classify` (``classify_options``) unless it has a ``source`` column.
    base : str
        A JSON pattern for a read worth alarming on (event names, buckets, sizes).
    name : str
        The deployment name (filter, alarm and topic names; the metric name derives from it).
    alarm : AlarmSettings, optional
    classify_options : dict, optional
        ``own_vpc_endpoints``, ``own_accounts``, ``ip_ranges`` for :func:`s3audit.classify`.

    Examples
    --------
    >>> import pandas as pd
    >>> events = pd.DataFrame({"eventName": ["GetObject", "GetObject"], "source": ["vpc-endpoint",
    ...     "external"], "sourceIPAddress": ["10.0.0.5", "198.51.100.7"],
    ...     "vpcEndpointId": ["vpce-0123456789abcdef0", None]})
    >>> events["raw"] = events.drop(columns="source").apply(lambda r: r.dropna().to_json(), axis=1)
    >>> d = FilterDesign(events)
    >>> _ = d.exclude_source("vpc-endpoint", "the payroll app reads through our endpoint")
    >>> print(d.pattern)
    { ($.eventName = "GetObject") && ($.vpcEndpointId NOT EXISTS || $.vpcEndpointId != "vpce-0123456789abcdef0") }
    >>> len(d.alerts()), d.discrepancies().empty
    (1, True)
    """

    def __init__(self, events: pd.DataFrame, base: str = DEFAULT_BASE, *,
                 name: str = "s3-unexpected-reads", alarm: AlarmSettings | None = None,
                 classify_options: Mapping[str, Any] | None = None) -> None:
        if not isinstance(events, pd.DataFrame):
            raise TypeError(f"events must be a DataFrame, got {type(events).__name__}")
        self.classify_options = dict(classify_options or {})
        if "source" not in events.columns:
            from s3audit.sources import classify

            events = classify(events, **self.classify_options)
        self.events = events
        self.name = name
        self.alarm = alarm or AlarmSettings()
        self._base = ""
        self._base_inner = ""
        self.base = base
        self._exclusions: list[Exclusion] = []
        self._observers: list[Callable[[FilterDesign], None]] = []
        self._masks: dict[str, np.ndarray] = {}
        self._nullable: dict[str, bool] = {}

    # ------------------------------------------------------------------------------------- base
    @property
    def base(self) -> str:
        """The JSON pattern for a read worth alarming on, before any exclusion."""
        return self._base

    @base.setter
    def base(self, text: str) -> None:
        from s3audit.pattern import compile_pattern

        stripped = str(text).strip()
        if not (stripped.startswith("{") and stripped.endswith("}")):
            raise ValueError(
                f"base must be a JSON pattern {{ ... }} (exclusions are JSON conditions), got {text!r}"
            )
        compile_pattern(stripped)  # PatternError with a caret when it is not valid
        self._base = stripped
        self._base_inner = stripped[1:-1].strip()
        self._changed()

    # -------------------------------------------------------------------------------- observers
    def observe(self, callback: Callable[[FilterDesign], None]) -> None:
        """Call ``callback(design)`` after every change (the widget view uses this)."""
        self._observers.append(callback)

    def unobserve(self, callback: Callable[[FilterDesign], None]) -> None:
        """Stop calling ``callback`` after changes."""
        self._observers.remove(callback)

    def _changed(self) -> None:
        for callback in list(getattr(self, "_observers", ())):
            callback(self)

    # ------------------------------------------------------------------------------- exclusions
    @property
    def exclusions(self) -> tuple[Exclusion, ...]:
        """The exclusions, in the order they were added."""
        return tuple(self._exclusions)

    @property
    def excluded_sources(self) -> list[str]:
        """The access-source labels excluded so far, in order."""
        return [e.source for e in self._exclusions if e.kind == "source" and e.source]

    def _mask_of(self, condition: Condition) -> np.ndarray:
        """Rows a condition (as rendered) is true for, by the engine; long ones in pieces."""
        text = "{ " + render(condition, self._context(condition), top=True) + " }"
        if len(text) <= MAX_PATTERN_LENGTH and _scan(text)[0] <= MAX_REGEX:
            return self._mask(text)
        # too long (or too many regexes) for one pattern: combine the pieces' masks the way the
        # rendering combines them
        if isinstance(condition, Not) and isinstance(condition.part, Not):
            return self._mask_of(condition.part.part)
        if isinstance(condition, Not) and isinstance(condition.part, (AnyOf, AllOf)):
            pieces = [self._mask_of(Not(p)) for p in condition.part.parts]
            inner_any = isinstance(condition.part, AnyOf)
            return np.logical_and.reduce(pieces) if inner_any else np.logical_or.reduce(pieces)
        if isinstance(condition, (AnyOf, AllOf)):
            pieces = [self._mask_of(p) for p in condition.parts]
            return np.logical_or.reduce(pieces) if isinstance(condition, AnyOf) else np.logical_and.reduce(pieces)
        return self._mask(text)  # a single comparison over 1024 characters: the engine says why

    def translate(self, label: str):  # -> SourceTranslation
        """How ``label`` would be excluded: the condition, coverage, collateral and notes."""
        from s3audit.sources import SOURCES

        if label not in SOURCES:
            raise ValueError(f"unknown access source {label!r}; expected one of {', '.join(SOURCES)}")
        return translate_source(label, self.events, self._mask_of)

    def exclude_source(self, label: str, justification: str = "") -> Exclusion:
        """Exclude an access source (a :func:`s3audit.classify` label).

        The label becomes conditions on fields the metric filter sees, derived from the source's
        fingerprint and the values in the history (:meth:`translate`). Excluding a source twice
        updates its justification.

        Examples
        --------
        >>> import pandas as pd
        >>> ev = pd.DataFrame({"eventName": ["GetObject"], "source": ["console"],
        ...                    "userAgent": ["[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12]"]})
        >>> ev["raw"] = ev.drop(columns="source").apply(lambda r: r.to_json(), axis=1)
        >>> FilterDesign(ev).exclude_source("console").description
        'userAgent = [S3Console/*'
        """
        existing = self._find_source(label)
        if existing is not None:
            return self._rejustify(existing, justification)
        translation = self.translate(label)
        exclusion = Exclusion(f"source:{label}", "source", translation.core, justification,
                              source=label, notes=tuple(translation.notes),
                              unless=translation.unless)
        self._exclusions.append(exclusion)
        log.info("excluded source %s: %s", label, exclusion.description)
        self._changed()
        return exclusion

    def exclude_sources(self, labels: Mapping[str, str] | Iterable[str]) -> list[Exclusion]:
        """Exclude several sources: a mapping label -> justification, or just labels."""
        items = labels.items() if isinstance(labels, Mapping) else ((label, "") for label in labels)
        return [self.exclude_source(label, justification) for label, justification in items]

    def exclude_value(self, field: str, value: Any, justification: str = "") -> Exclusion:
        """Exclude reads by a field value (or a list of values).

        ``field`` is an event field (``sourceIPAddress``, ``vpcEndpointId``, ``userAgent``,
        ``userIdentity.arn``, ``$.requestParameters.key`` ...) or a short name (``address``,
        ``endpoint``, ``user_agent``, ``principal``). A value may start or end with ``*``. For
        ``sourceIPAddress`` a CIDR is accepted and written as octet-aligned wildcards or a regex;
        what CloudWatch cannot express raises :class:`s3audit.cidr.CidrError` with the reason.

        Examples
        --------
        >>> import pandas as pd
        >>> ev = pd.DataFrame({"eventName": ["GetObject"], "sourceIPAddress": ["10.1.2.3"],
        ...                    "source": ["external"]})
        >>> ev["raw"] = ev.drop(columns="source").apply(lambda r: r.to_json(), axis=1)
        >>> d = FilterDesign(ev)
        >>> d.exclude_value("sourceIPAddress", "10.0.16.0/20", "VPN pool").description
        'sourceIPAddress in 10.0.16.0/20'
        >>> d.pattern
        '{ ($.eventName = "GetObject") && $.sourceIPAddress != %^10\\\\.0\\\\.1[6-9]\\\\.|^10\\\\.0\\\\.2[0-9]\\\\.|^10\\\\.0\\\\.3[01]\\\\.% }'
        """
        name = column_name(_VALUE_FIELDS.get(field, field))
        values = tuple(value) if isinstance(value, (list, tuple, set)) else (value,)
        condition = values_condition(name, list(values))
        selector(name)  # refuses names that cannot be selected
        ident = _value_id(name, values)
        for existing in self._exclusions:
            if existing.id == ident:
                return self._rejustify(existing, justification)
        exclusion = Exclusion(ident, "value", condition, justification, field=name, values=values)
        self._exclusions.append(exclusion)
        self._changed()
        return exclusion

    def set_values(self, field: str, values: Iterable[Any], justification: str = "") -> None:
        """Replace every value exclusion on ``field`` by one per value (the widget's inputs).

        All values are checked first: an invalid one raises and leaves the design unchanged.
        """
        name = column_name(_VALUE_FIELDS.get(field, field))
        wanted = [v.strip() if isinstance(v, str) else v for v in values]
        wanted = [v for v in wanted if v not in ("", None)]
        for v in wanted:
            values_condition(name, [v])
        keep = {(_value_id(name, (v,))) for v in wanted}
        old = {e.id: e for e in self._exclusions if e.kind == "value" and e.field == name}
        if set(old) == keep:
            return
        observers, self._observers = self._observers, []
        try:
            self._exclusions = [e for e in self._exclusions
                                if not (e.kind == "value" and e.field == name and e.id not in keep)]
            for v in wanted:
                ident = _value_id(name, (v,))
                if ident not in old:
                    self.exclude_value(name, v, justification)
        finally:
            self._observers = observers
        self._changed()

    def values(self, field: str) -> list[Any]:
        """The values excluded by value exclusions on ``field`` (for the widget's inputs)."""
        name = column_name(_VALUE_FIELDS.get(field, field))
        return [v for e in self._exclusions if e.kind == "value" and e.field == name for v in e.values]

    def remove(self, which: Exclusion | str | int) -> Exclusion:
        """Remove an exclusion: the object, its id, a source label, or its position."""
        target: Exclusion | None = None
        if isinstance(which, Exclusion):
            target = which if which in self._exclusions else None
        elif isinstance(which, int):
            target = self._exclusions[which] if -len(self._exclusions) <= which < len(self._exclusions) else None
        else:
            target = next((e for e in self._exclusions if e.id == which), None) or self._find_source(which)
        if target is None:
            raise KeyError(f"no exclusion {which!r}; have {[e.id for e in self._exclusions]}")
        self._exclusions.remove(target)
        self._changed()
        return target

    def clear(self) -> None:
        """Remove every exclusion."""
        self._exclusions.clear()
        self._changed()

    def _rejustify(self, existing: Exclusion, justification: str) -> Exclusion:
        """Adding an exclusion again only updates its justification (when one is given)."""
        if not justification or justification == existing.justification:
            return existing
        updated = replace(existing, justification=justification)
        self._exclusions[self._exclusions.index(existing)] = updated
        self._changed()
        return updated

    def _find_source(self, label: str) -> Exclusion | None:
        return next((e for e in self._exclusions if e.kind == "source" and e.source == label), None)

    # ---------------------------------------------------------------------------------- pattern
    def _is_required(self, name: str) -> bool:
        if name not in REQUIRED_FIELDS:
            return False
        col = self.events.get(name)
        if col is None or (len(col) and col.isna().any()):
            return False  # the history shows it missing: guard it like an optional field
        return True

    def _is_nullable(self, name: str) -> bool:
        """Does any event hold an explicit JSON null for the field (the engine's IS NULL)?"""
        if name not in self._nullable:
            mask = self._mask("{ " + selector(name) + " IS NULL }")
            self._nullable[name] = bool(mask.any())
        return self._nullable[name]

    def _context(self, *conditions: Condition, compact: bool = False) -> RenderContext:
        """What rendering ``conditions`` (exactly as they will be rendered) needs to know."""
        names = {n for c in conditions for n in fields_of(c)}
        required = frozenset(n for n in names if self._is_required(n))
        # only guarded (negated) comparisons need to know about nulls: ask the engine for those
        guarded = {n for c in conditions for n in guarded_fields(c)}
        nullable = frozenset(n for n in guarded if self._is_nullable(n))
        return RenderContext(required=required, nullable=nullable, compact=compact)

    def _effective_conditions(self) -> list[Condition]:
        excluded = self.excluded_sources
        return [e.effective(excluded) for e in self._exclusions]

    def _needed_conditions(self) -> list[Condition]:
        """The conditions the pattern needs: one implied by another exclusion is redundant.

        (Excluding console downloads and all presigned requests: the second covers the first.)
        """
        conditions = self._effective_conditions()
        needed: list[Condition] = []
        for i, c in enumerate(conditions):
            covered = any(implies(c, other) and (not implies(other, c) or j < i)
                          for j, other in enumerate(conditions) if j != i)
            if not covered:
                needed.append(c)
        return needed

    def _render_pattern(self, compact: bool = False) -> str:
        conditions = self._needed_conditions()
        if not conditions:
            return "{ " + self._base_inner + " }" if self._base_inner else "{ }"
        combined = AllOf(tuple(Not(c) for c in conditions))
        ctx = self._context(*(Not(c) for c in conditions), compact=compact)
        body = render(combined, ctx, top=True)
        if not self._base_inner:
            return "{ " + body + " }"
        joiner = "&&" if compact else " && "
        return "{ (" + self._base_inner + ")" + joiner + body + " }"

    @property
    def pattern(self) -> str:
        """The metric-filter pattern: base AND NOT(each exclusion).

        Valid (``compile_pattern`` accepts it), at most 1024 characters, at most two regexes and
        three wildcard selectors; rendered with spaces, or compactly when that is what fits.

        Raises
        ------
        PatternQuotaError
            When the exclusions cannot fit; the message names what to merge or drop.
        """
        from s3audit.pattern import compile_pattern

        text = self._render_pattern()
        if len(text) > MAX_PATTERN_LENGTH:
            text = self._render_pattern(compact=True)
        regexes, wildcards = _scan(text)
        if len(text) > MAX_PATTERN_LENGTH or regexes > MAX_REGEX or wildcards > MAX_WILDCARD_SELECTORS:
            raise self._quota_error(text, regexes, wildcards)
        compile_pattern(text)  # PatternError would be a bug in rendering: let it surface
        return text

    def _quota_error(self, text: str, regexes: int, wildcards: int) -> PatternQuotaError:
        contributions: list[tuple[str, int]] = []
        suggestions: list[str] = []
        regex_users: list[str] = []
        for e, c in zip(self._exclusions, self._effective_conditions()):
            rendered = render(Not(c), self._context(Not(c), compact=True))
            contributions.append((e.id, len(rendered) + 2))
            if "%" in rendered:
                regex_users.append(e.id)
            suggestions += _merge_hints(e)
        contributions.sort(key=lambda item: -item[1])
        problems = []
        if len(text) > MAX_PATTERN_LENGTH:
            problems.append(f"it is {len(text)} characters even written compactly; CloudWatch "
                            f"allows {MAX_PATTERN_LENGTH}")
            top = ", ".join(f"{ident} ({size} chars)" for ident, size in contributions[:3])
            suggestions.append(f"the largest exclusions are {top}: merge their values (common "
                               "prefixes with a trailing *, CIDRs), exclude by one field with "
                               "exclude_value(), or drop the ones you can do without")
        if regexes > MAX_REGEX:
            problems.append(f"it needs {regexes} regexes; CloudWatch allows {MAX_REGEX} per pattern")
            suggestions.append("regexes come from CIDRs that are not octet-aligned and from the base"
                               f" ({', '.join(regex_users) or 'base'}): use /8, /16, /24 or /32 "
                               "ranges (written as wildcards), or fewer fields with such ranges")
        if wildcards > MAX_WILDCARD_SELECTORS:
            problems.append(f"it uses {wildcards} wildcard selectors ([*] or .*); CloudWatch allows "
                            f"{MAX_WILDCARD_SELECTORS}")
            suggestions.append("select array elements by index ([0]) instead of [*]")
        message = ("The exclusions do not fit in one metric-filter pattern: " + "; ".join(problems)
                   + ".\nTo fix:\n" + "\n".join(f"  - {s}" for s in dict.fromkeys(suggestions)))
        return PatternQuotaError(message, length=len(text), regex_count=regexes,
                                 wildcard_selectors=wildcards, contributions=contributions,
                                 suggestions=list(dict.fromkeys(suggestions)))

    def try_pattern(self) -> tuple[str | None, Exception | None]:
        """``(pattern, None)`` or ``(None, error)`` - for views that show the error instead."""
        from s3audit.pattern import PatternError

        try:
            return self.pattern, None
        except (PatternQuotaError, PatternError, ValueError) as exc:
            return None, exc

    @property
    def compiled(self):  # -> FilterPattern
        """The compiled pattern (``s3audit.compile_pattern(self.pattern)``)."""
        from s3audit.pattern import compile_pattern

        return compile_pattern(self.pattern)

    def lint(self) -> list[Any]:
        """The engine's lint warnings for the pattern on this history."""
        return list(self.compiled.lint(self.events))

    # ------------------------------------------------------------------------------- evaluation
    def _mask(self, text: str) -> np.ndarray:
        if text not in self._masks:
            from s3audit.pattern import compile_pattern

            mask = compile_pattern(text).mask(self.events)
            self._masks[text] = np.asarray(mask, dtype=bool)
        return self._masks[text]

    def base_mask(self) -> np.ndarray:
        """Rows the base pattern matches (the reads worth alarming on, before exclusions)."""
        return self._mask(self._base)

    def alert_mask(self) -> np.ndarray:
        """Rows the full pattern matches, by the exact engine."""
        return self._mask(self.pattern)

    def alerts(self) -> pd.DataFrame:
        """The history rows the pattern matches: the reads that would have alarmed."""
        return self.events[self.alert_mask()]

    def _keeps(self, exclusion: Exclusion) -> np.ndarray:
        """Rows an exclusion lets through (its negation, as rendered in the pattern)."""
        return self._mask_of(Not(exclusion.effective(self.excluded_sources)))

    def excluded(self) -> pd.DataFrame:
        """Per exclusion: how many base reads it removes, alone and only it.

        Columns ``id``, ``kind``, ``excludes`` (the condition in words), ``justification``,
        ``removes`` (base rows it silences), ``only_this`` (silenced by it and no other
        exclusion), ``notes``.
        """
        base = self.base_mask()
        removed = [base & ~self._keeps(e) for e in self._exclusions]
        rows = []
        for i, e in enumerate(self._exclusions):
            others = np.zeros(len(base), dtype=bool)
            for j, r in enumerate(removed):
                if j != i:
                    others |= r
            rows.append({"id": e.id, "kind": e.kind, "excludes": e.describe(self.excluded_sources),
                         "justification": e.justification, "removes": int(removed[i].sum()),
                         "only_this": int((removed[i] & ~others).sum()),
                         "notes": " ".join(self._notes(e))})
        return pd.DataFrame(rows, columns=["id", "kind", "excludes", "justification", "removes",
                                           "only_this", "notes"])

    def _notes(self, exclusion: Exclusion) -> list[str]:
        notes = [n for n in exclusion.notes if not n.startswith("reads of ")]
        active = [label for label, _ in exclusion.unless if label not in self.excluded_sources]
        dropped = [label for label, _ in exclusion.unless if label in self.excluded_sources]
        if active:
            notes.insert(0, "reads of " + ", ".join(active) + f" that look like {exclusion.source} "
                         "keep alarming (their own fingerprints are carved out)")
        if dropped:
            notes.insert(0, "no carve-out needed for " + ", ".join(dropped) + " (excluded too)")
        return notes

    def intent_mask(self) -> np.ndarray:
        """Rows the user means to alarm on: base, minus excluded sources and excluded values."""
        intent = self.base_mask().copy()
        labels = set(self.excluded_sources)
        if labels:
            intent &= ~np.asarray(self.events["source"].astype(object).isin(labels), dtype=bool)
        for e in self._exclusions:
            if e.kind == "value":
                intent &= ~self._mask_of(e.condition)
        # (source exclusions: the intent is the label itself, whatever the fields say)
        return intent

    def discrepancies(self) -> pd.DataFrame:
        """Rows where the pattern and the intent disagree, with the reason.

        ``problem`` is ``"still alarms"`` (its source is excluded, but the fields CloudWatch sees
        do not tell it apart) or ``"silenced"`` (it is not excluded, but an exclusion's condition
        catches it: ``caught_by``).
        """
        actual = self.alert_mask()
        intent = self.intent_mask()
        still = actual & ~intent
        silenced = ~actual & intent
        rows = self.events[still | silenced]
        shown = [c for c in SHOWN_COLUMNS if c in rows.columns]
        out = rows[shown].copy()
        out.insert(0, "problem", np.where(still[still | silenced], "still alarms", "silenced"))
        keeps = {e.id: self._keeps(e)[still | silenced] for e in self._exclusions}
        caught = []
        for k in range(len(out)):
            caught.append(", ".join(ident for ident, m in keeps.items() if not m[k]))
        out.insert(1, "caught_by", caught)
        return out

    def discrepancy_summary(self) -> pd.DataFrame:
        """:meth:`discrepancies` counted per problem, source and exclusion."""
        d = self.discrepancies()
        if d.empty:
            return pd.DataFrame(columns=["problem", "source", "caught_by", "events"])
        return (d.assign(source=d["source"].astype(str))
                 .groupby(["problem", "source", "caught_by"], observed=True).size()
                 .rename("events").reset_index())

    def sources(self) -> pd.DataFrame:
        """Per access source: events, base reads, whether excluded, and reads still alarming."""
        from s3audit.sources import SOURCES

        labels = self.events["source"].astype(object)
        base = self.base_mask()
        pattern, _ = self.try_pattern()
        alerts = self.alert_mask() if pattern else np.zeros(len(base), dtype=bool)
        excluded = set(self.excluded_sources)
        rows = []
        for label in SOURCES:
            is_label = np.asarray(labels == label, dtype=bool)
            if not is_label.any() and label not in excluded:
                continue
            rows.append({"source": label, "events": int(is_label.sum()),
                         "reads": int((is_label & base).sum()), "excluded": label in excluded,
                         "alarming": int((is_label & alerts).sum())})
        return pd.DataFrame(rows, columns=["source", "events", "reads", "excluded", "alarming"])

    def summary(self) -> pd.DataFrame:
        """The decisions as a static two-column table (widgets do not survive HTML export)."""
        pattern, error = self.try_pattern()
        base = self.base_mask()
        items = [("name", self.name), ("base", self._base),
                 ("excluded sources", ", ".join(self.excluded_sources) or "-"),
                 ("excluded values", "; ".join(e.description for e in self._exclusions
                                               if e.kind == "value") or "-"),
                 ("pattern", pattern if pattern else f"ERROR: {error}"),
                 ("pattern length", len(pattern) if pattern else "-"),
                 ("reads (base)", int(base.sum())),
                 ("alerting reads", int(self.alert_mask().sum()) if pattern else "-"),
                 ("alarm", f"Sum >= {self.alarm.threshold:g} per {self.alarm.period}s, "
                           f"{self.alarm.datapoints_to_alarm} of {self.alarm.evaluation_periods}, "
                           f"missing data {self.alarm.treat_missing}")]
        return pd.DataFrame(items, columns=["decision", "value"]).set_index("decision")

    def backtest(self, **overrides: Any) -> pd.DataFrame:
        """:func:`s3audit.backtest` of the pattern with the design's alarm settings."""
        from s3audit.backtesting import backtest

        settings = asdict(self.alarm) | overrides
        return backtest(self.compiled, self.events, **settings)

    # ------------------------------------------------------------------------------------ files
    def to_dict(self) -> dict[str, Any]:
        """The design as plain data (``pattern`` is recorded for review; it is recomputed on load)."""
        pattern, error = self.try_pattern()
        doc: dict[str, Any] = {"version": FILE_VERSION, "name": self.name, "base": self._base,
                               "pattern": pattern, "alarm": asdict(self.alarm),
                               "exclusions": [e.to_dict() for e in self._exclusions]}
        if error is not None:
            doc["pattern_error"] = str(error)
        if self.classify_options:
            doc["classify"] = {k: (sorted(v) if isinstance(v, (set, frozenset)) else v)
                               for k, v in self.classify_options.items()}
        return doc

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], events: pd.DataFrame) -> FilterDesign:
        """Rebuild a design written by :meth:`to_dict` over ``events`` (ValueError on bad input)."""
        known = {"version", "name", "base", "pattern", "pattern_error", "alarm", "exclusions",
                 "classify"}
        unknown = set(doc) - known
        if unknown:
            raise ValueError(f"design: unknown keys {sorted(unknown)}")
        if doc.get("version", FILE_VERSION) != FILE_VERSION:
            raise ValueError(f"design: version {doc.get('version')!r} is not {FILE_VERSION}")
        alarm_doc = dict(doc.get("alarm") or {})
        bad = set(alarm_doc) - set(AlarmSettings.__dataclass_fields__)
        if bad:
            raise ValueError(f"design: unknown alarm keys {sorted(bad)}")
        design = cls(events, doc.get("base", DEFAULT_BASE), name=doc.get("name", "s3-unexpected-reads"),
                     alarm=AlarmSettings(**alarm_doc), classify_options=doc.get("classify"))
        design._exclusions = [Exclusion.from_dict(e) for e in doc.get("exclusions") or []]
        ids = [e.id for e in design._exclusions]
        if len(set(ids)) != len(ids):
            raise ValueError(f"design: duplicate exclusion ids {sorted({i for i in ids if ids.count(i) > 1})}")
        stored = doc.get("pattern")
        current, _ = design.try_pattern()
        if stored and current and stored != current:
            log.warning("the stored pattern differs from the one recomputed on these events "
                        "(fields seen holding null differ):\n  stored:   %s\n  computed: %s",
                        stored, current)
        return design

    def to_file(self, path: str | os.PathLike[str]) -> Path:
        """Write the design as YAML (``.yaml``/``.yml``) or JSON (anything else)."""
        return _write_document(path, self.to_dict())

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], events: pd.DataFrame) -> FilterDesign:
        """Read a design written by :meth:`to_file` (YAML or JSON) over ``events``."""
        source = Path(path)
        text = source.read_text()
        if source.suffix.lower() in (".yaml", ".yml"):
            import yaml

            doc = yaml.safe_load(text)
        else:
            doc = json.loads(text)
        if not isinstance(doc, Mapping):
            raise ValueError(f"{source}: a design file holds a mapping, got {type(doc).__name__}")
        return cls.from_dict(doc, events)

    def alarm_spec(self, *, log_group: str, emails: Iterable[str] | None = None,
                   topic_arn: str | None = None, name: str | None = None,
                   namespace: str = "S3Audit", metric_name: str | None = None,
                   tags: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The deploy spec for ``s3audit deploy`` / notebook 04 (issue 7's format).

        Keys: ``name``, ``log_group``, ``pattern``, ``metric`` {``namespace``, ``name``},
        ``alarm`` {``period``, ``threshold``, ``evaluation_periods``, ``datapoints_to_alarm``},
        ``notify`` {``emails``} or {``topic_arn``}, and ``tags`` when given.

        Raises
        ------
        ValueError
            When the design's alarm treats missing data other than ``notBreaching`` (the deployed
            alarm always uses ``notBreaching``), or neither/both of emails and topic_arn are given.

        Examples
        --------
        >>> import pandas as pd
        >>> ev = pd.DataFrame({"eventName": ["GetObject"], "source": ["external"]})
        >>> ev["raw"] = ev.drop(columns="source").apply(lambda r: r.to_json(), axis=1)
        >>> spec = FilterDesign(ev, name="payroll-unexpected-reads").alarm_spec(
        ...     log_group="aws-cloudtrail-logs-1", emails=["secops@example.com"])
        >>> spec["metric"], spec["alarm"]["period"]
        ({'namespace': 'S3Audit', 'name': 'PayrollUnexpectedReads'}, 300)
        """
        if self.alarm.treat_missing != "notBreaching":
            raise ValueError(
                f"the deployed alarm treats missing data as notBreaching; this design uses "
                f"{self.alarm.treat_missing!r} (keep it for backtests, set notBreaching to deploy)"
            )
        emails = [e for e in (emails or []) if e]
        if bool(emails) == bool(topic_arn):
            raise ValueError("give emails (s3audit creates a topic) or topic_arn, exactly one")
        deploy_name = name or self.name
        spec: dict[str, Any] = {
            "name": deploy_name,
            "log_group": log_group,
            "pattern": self.pattern,
            "metric": {"namespace": namespace, "name": metric_name or _camel(deploy_name)},
            "alarm": {"period": int(self.alarm.period), "threshold": self.alarm.threshold,
                      "evaluation_periods": int(self.alarm.evaluation_periods),
                      "datapoints_to_alarm": int(self.alarm.datapoints_to_alarm)},
            "notify": {"emails": emails} if emails else {"topic_arn": topic_arn},
        }
        if tags:
            spec["tags"] = dict(tags)
        return spec

    def write_alarm_spec(self, path: str | os.PathLike[str], **kwargs: Any) -> Path:
        """Write :meth:`alarm_spec` as YAML (``.yaml``/``.yml``) or JSON."""
        return _write_document(path, self.alarm_spec(**kwargs))

    def __repr__(self) -> str:
        return (f"FilterDesign({len(self.events)} events, base={self._base!r}, "
                f"exclusions={[e.id for e in self._exclusions]})")


def _write_document(path: str | os.PathLike[str], doc: Mapping[str, Any]) -> Path:
    """Write ``doc`` as YAML (``.yaml``/``.yml``) or JSON (anything else)."""
    target = Path(path)
    if target.suffix.lower() in (".yaml", ".yml"):
        import yaml

        # wide lines: a pattern stays on one line, as CloudWatch shows it
        text = yaml.safe_dump(dict(doc), sort_keys=False, allow_unicode=True, width=10_000)
    else:
        text = json.dumps(doc, indent=2, default=str) + "\n"
    target.write_text(text)
    return target


def _merge_hints(exclusion: Exclusion) -> list[str]:
    """Concrete merges for a long exclusion (addresses sharing a /24, long value lists)."""
    atoms = [a for a in iter_atoms(exclusion.condition)]
    addresses = [a.value for a in atoms if isinstance(a, Equals)
                 and column_name(a.field) == "sourceIPAddress" and isinstance(a.value, str)
                 and re.fullmatch(r"\d+\.\d+\.\d+\.\d+", a.value)]
    addresses += [a.cidr for a in atoms if isinstance(a, InCidr) and a.cidr.endswith("/32")]
    hints = []
    if len(addresses) > 3:
        groups: dict[str, list[str]] = {}
        for a in addresses:
            groups.setdefault(".".join(a.split("/")[0].split(".")[:3]), []).append(a)
        shared = sorted(((k, v) for k, v in groups.items() if len(v) > 1), key=lambda kv: -len(kv[1]))
        for prefix, members in shared[:3]:
            hints.append(f"{exclusion.id}: {len(members)} addresses share {prefix}.0/24 - exclude "
                         f"that CIDR (one wildcard) instead")
        if not shared:
            hints.append(f"{exclusion.id}: {len(addresses)} separate addresses - exclude the "
                         "CIDRs they belong to, or drop this exclusion")
    elif len(atoms) > 6:
        hints.append(f"{exclusion.id}: {len(atoms)} values - use a common prefix with a trailing *"
                     " or drop the ones you can do without")
    return hints


def build_base(event_names: Iterable[str] = ("GetObject",), *, buckets: Iterable[str] = (),
               min_bytes: float | None = None) -> str:
    """The base pattern (a read worth alarming on) from choices.

    Parameters
    ----------
    event_names : iterable of str
        S3 API names (``GetObject``, ``HeadObject``, ...); any of them.
    buckets : iterable of str, optional
        Bucket names (``requestParameters.bucketName``); any of them; ``*`` at the start or end
        is a wildcard. Empty: every bucket the trail logs.
    min_bytes : float, optional
        Only reads of at least this many bytes (``additionalEventData.bytesTransferredOut``).
        A read whose record has no byte count then never alarms (a comparison on a missing
        field is false), so leave it out unless size really matters.

    Raises
    ------
    ValueError
        No event name, or a value CloudWatch would read differently (see ``check_value``).

    Examples
    --------
    >>> build_base()
    '{ $.eventName = "GetObject" }'
    >>> build_base(["GetObject", "HeadObject"], buckets=["payroll-*"], min_bytes=1_000_000)
    '{ ($.eventName = "GetObject" || $.eventName = "HeadObject") && $.requestParameters.bucketName = "payroll-*" && $.additionalEventData.bytesTransferredOut >= 1000000 }'
    """
    from s3audit.exclusions import check_value
    from s3audit.pattern import compile_pattern

    def any_of(field_name: str, values: Iterable[str]) -> str | None:
        items = [str(v).strip() for v in values if str(v).strip()]
        for item in items:
            check_value(item)
        texts = [f'{selector(field_name)} = "{item}"' for item in dict.fromkeys(items)]
        if not texts:
            return None
        return texts[0] if len(texts) == 1 else "(" + " || ".join(texts) + ")"

    names = any_of("eventName", [event_names] if isinstance(event_names, str) else event_names)
    if names is None:
        raise ValueError("build_base needs at least one event name (e.g. GetObject)")
    parts = [names, any_of("requestParameters.bucketName",
                           [buckets] if isinstance(buckets, str) else buckets)]
    if min_bytes is not None:
        number = float(min_bytes)
        if not np.isfinite(number) or number < 0:
            raise ValueError(f"min_bytes must be a finite number >= 0, got {min_bytes!r}")
        literal = str(int(number)) if number.is_integer() else repr(number)
        parts.append(f"$.additionalEventData.bytesTransferredOut >= {literal}")
    text = "{ " + " && ".join(p for p in parts if p) + " }"
    compile_pattern(text)
    return text


def design_events(workdir: str | os.PathLike[str] | None = None) -> tuple[pd.DataFrame, str]:
    """The history for notebook 03: the workspace's classified events, else its events
    (classified here), else the bundled samples. Returns ``(events, where_from)``.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from s3audit.workspace import Workspace
    >>> ws = Workspace(tempfile.mkdtemp())
    >>> _ = ws.save_frame("classified", pd.DataFrame({"eventName": ["GetObject"],
    ...                                               "source": ["athena"]}))
    >>> events, origin = design_events(ws.path)
    >>> len(events), origin.endswith("classified.parquet")
    (1, True)
    """
    from s3audit.sources import classify
    from s3audit.workspace import Workspace

    ws = Workspace(workdir)
    if ws.has("classified.parquet"):
        return ws.load_frame("classified"), f"{ws.path}/classified.parquet"
    if ws.has("events.parquet"):
        return classify(ws.load_frame("events")), f"{ws.path}/events.parquet (classified here)"
    from s3audit.loader import load_events
    from s3audit.paths import SAMPLES_DIR

    sample = SAMPLES_DIR / "events.jsonl.gz"
    return classify(load_events(sample)), f"{sample} (samples: no earlier step's output in {ws.path})"
