"""The shared report: one self-contained HTML file, redacted by default, leak-scanned before writing.

Architecture
------------
The report is rendered from the investigation's *artefacts* (the :class:`~s3audit.workspace.
Workspace` the notebooks hand over through: ``events`` / ``classified`` frames, the ``design``,
``alarm-spec`` and ``deploy-plan`` documents), not by converting notebooks. That allows:

1. **one redaction pass over the data before anything is drawn**: the classified frame (every
   identifying column *and* ``raw``), the pattern and the documents go through one
   :class:`~s3audit.redaction.Redactor`; tables and charts are then computed from the redacted data,
   so plot labels can only ever show pseudonyms. Numbers that carry no identifier (the backtest
   metric per period, counts) are computed on the original data, so they are exact; and the
   redacted pattern is re-evaluated on the redacted frame to prove the redaction is consistent
   (it must match exactly the same events).
2. **a leak scan of the finished file** (:mod:`s3audit.leakscan`) for every original identifier
   collected from the *original* data independently of the redactor: text, attributes, entities,
   and the decoded SVG figures. If anything remains, nothing is written and
   :class:`~s3audit.leakscan.LeakError` names what leaked.

No code cells, no JavaScript, no external CSS or images: figures are inline SVG data URIs.
Widget decisions (which sources are excluded) are shown as static tables.

Examples
--------
>>> from s3audit.report import build_report          # doctest: +SKIP
>>> result = build_report("reports/work", "reports")  # doctest: +SKIP
>>> print("\\n".join(result.summary_lines()))          # doctest: +SKIP
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from s3audit import report_html as H
from s3audit.leakscan import LeakError, find_leaks
from s3audit.redaction import (_FIELD_VALUE_KEYS, KEPT_NAME_PREFIXES, PROTECTED, Redactor, field_handler,
                               decode_escapes, parse_ip, pattern_values)

log = logging.getLogger(__name__)

__all__ = ["ReportInputs", "ReportResult", "load_inputs", "render_report", "build_report",
           "collect_identifiers", "check_report", "per_source_values", "REPORT_NAME", "INTERNAL_REPORT_NAME"]

REPORT_NAME = "report.html"
INTERNAL_REPORT_NAME = "report-internal.html"
MAX_ALARM_ROWS = 50
MAX_RAW_ROWS = 200_000  # above this, the redacted view has no raw column (see render_report)
SECTIONS = ("window", "sources", "charts", "exclusions", "pattern", "backtest", "deployment",
            "pipeline")
SECTION_TITLES = {
    "window": "Window and data source",
    "sources": "Who reads the bucket: access sources",
    "charts": "Charts",
    "exclusions": "Exclusions and their justifications",
    "pattern": "The metric-filter pattern",
    "backtest": "Backtest: how often the alarm would have fired",
    "deployment": "Deployment plan",
    "pipeline": "How this report was made",
}


# --------------------------------------------------------------------------------------- inputs
@dataclass
class ReportInputs:
    """What the report is rendered from (usually read from a Workspace by :func:`load_inputs`).

    Attributes
    ----------
    events : DataFrame
        The events, classified (a ``source`` column) or not (classified on demand).
    design, spec, plan : dict or None
        Notebook 03's design (``pattern``, ``exclusions`` with justifications, ``alarm``),
        notebook 04's alarm spec and its deployment plan (``Plan.to_dict()``).
    source : str
        A description of where the events came from.
    pipeline : list of dict
        The notebook runs behind the artefacts (``notebook``, ``status``, ``seconds``…).
    notes : list of str
        Anything missing or substituted while loading (shown in the report).
    """

    events: pd.DataFrame
    design: dict[str, Any] | None = None
    spec: dict[str, Any] | None = None
    plan: dict[str, Any] | None = None
    source: str = ""
    pipeline: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _read_document(folder: Path, stem: str) -> dict[str, Any] | None:
    for suffix in (".json", ".yaml", ".yml"):
        path = folder / f"{stem}{suffix}"
        if path.exists():
            text = path.read_text()
            if suffix == ".json":
                return json.loads(text)
            import yaml
            return yaml.safe_load(text)
    return None


def load_inputs(workdir: str | os.PathLike[str] | None = None, *, source: str = "",
                pipeline: Sequence[Mapping[str, Any]] = ()) -> ReportInputs:
    """Read the artefacts the notebooks left in ``workdir`` (default: the Workspace default).

    Missing pieces are not fatal: the events fall back to ``data/samples/`` (notebooks do the
    same), a missing design/spec/plan leaves its section saying so. Every substitution is noted.

    Examples
    --------
    >>> import tempfile
    >>> inputs = load_inputs(tempfile.mkdtemp())   # an empty workspace: samples, no design
    >>> len(inputs.events) > 0, inputs.design is None, inputs.notes[0].startswith("no events")
    (True, True, True)
    """
    from s3audit.workspace import Workspace

    ws = Workspace(workdir)
    notes: list[str] = []
    frame: pd.DataFrame | None = None
    for name in ("classified", "events"):
        if ws.has(f"{name}.parquet"):
            frame = ws.load_frame(name)
            break
    if frame is None:
        from s3audit import load_events
        from s3audit.paths import SAMPLES_DIR
        notes.append(f"no events in {ws.path}: the bundled samples ({SAMPLES_DIR.name}/) were used")
        frame = load_events(SAMPLES_DIR / "events.jsonl.gz")
        source = source or "bundled samples (data/samples/events.jsonl.gz)"
    design = _read_document(ws.path, "design")
    spec = _read_document(ws.path, "alarm-spec")
    plan = _read_document(ws.path, "deploy-plan")
    for name, doc in (("design", design), ("alarm-spec", spec), ("deploy-plan", plan)):
        if doc is None:
            notes.append(f"no {name} document in the workspace")
    if not source:
        source = str(frame.attrs.get("source") or frame.attrs.get("origin") or "")
    return ReportInputs(events=frame, design=design, spec=spec, plan=plan, source=source,
                        pipeline=[dict(p) for p in pipeline], notes=notes)


# ---------------------------------------------------------------------------------- identifiers
_RAW_PATTERNS: dict[str, re.Pattern[str]] = {
    "account": re.compile(r'"(\d{12})"'),
    "arn": re.compile(r'"(arn:aws[^"]*)"'),
    "access-key": re.compile(r'"accessKeyId":"([^"]+)"'),
    "principal-id": re.compile(r'"principalId":"([A-Z0-9]{12,})(?::[^"]*)?"'),
    "name": re.compile(r'"(?:userName|sourceIdentity)":"([^"]+)"|"principalId":"[A-Z0-9]+:([^"]+)"'
                       r'|assumed-role/[^/"]+/([^"]+)"|:(?:user|role|assumed-role)/(?:[^"/]+/)*([^"/]+)"'),
    "ip": re.compile(r'"sourceIPAddress":"([0-9a-fA-F.:]+)"'),
    "bucket": re.compile(r'"bucketName":"([^"]+)"|arn:aws:s3:::([^/"]+)'),
    "key": re.compile(r'"key":"([^"]+)"'),
}
# literal-first patterns (fast on big text); the left boundary is checked in Python
_BOUNDED_PATTERNS: dict[str, re.Pattern[str]] = {
    "access-key": re.compile(r"A(?:KIA|SIA|BIA|CCA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
}
# the same, searched in the lower-cased text (VPCE-0FED… is the endpoint vpce-0fed…; re.I would
# cost ~1 s on the samples' 19 MB of raw records, lower-casing 15 ms)
_BOUNDED_LOWER: dict[str, re.Pattern[str]] = {
    "vpce": re.compile(r"vpce-[0-9a-f]{8,17}(?![a-z0-9])"),
    "vpc": re.compile(r"vpc-[0-9a-f]{8,17}(?![a-z0-9])"),
    "resource-id": re.compile(r"(?:i|subnet|sg|eni)-[0-9a-f]{8,17}(?![a-z0-9])"),
}
_EMAIL_DOMAIN_RE = re.compile(r"@(?:[^\W_][\w-]*\.)+[^\W\d_]{2,}")  # letters of any script


def _bounded(pattern: re.Pattern[str], text: str) -> set[str]:
    return {m.group(0) for m in pattern.finditer(text)
            if m.start() == 0 or not (text[m.start() - 1].isascii() and text[m.start() - 1].isalnum())}


def _emails(text: str) -> set[str]:
    out = set()
    for m in _EMAIL_DOMAIN_RE.finditer(text):
        i = m.start()
        while i > 0 and (text[i - 1].isalnum() or text[i - 1] in "._%+-"):
            i -= 1
        if i < m.start():
            out.add(text[i:m.end()])
    return out
_ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "account": ("recipientAccountId", "userIdentity.accountId", "vpcEndpointAccountId",
                "resources.0.accountId", "resources.1.accountId"),
    "arn": ("userIdentity.arn", "userIdentity.sessionContext.sessionIssuer.arn",
            "userIdentity.inScopeOf.credentialsIssuedTo", "resources.0.ARN", "resources.1.ARN"),
    "access-key": ("userIdentity.accessKeyId",),
    "name": ("userIdentity.userName", "userIdentity.sessionContext.sessionIssuer.userName"),
    "ip": ("sourceIPAddress",),
    "vpce": ("vpcEndpointId",),
    "bucket": ("requestParameters.bucketName",),
    "key": ("requestParameters.key",),
}
# which Redactor option governs each kind (a kind the user chose to keep is not a leak)
_KIND_OPTION = {"account": "accounts", "arn": "accounts", "access-key": "access_keys",
                "principal-id": "principals", "name": "principals", "ip": "ips", "vpce": "endpoints",
                "vpc": "endpoints", "resource-id": "endpoints", "bucket": "buckets", "key": "keys",
                "email": "emails"}


def _kept(kind: str, value: str) -> bool:
    """Values the redactor deliberately keeps readable (not identifiers)."""
    if value.lower() in PROTECTED or value.startswith(KEPT_NAME_PREFIXES) and "_" not in value:
        return True
    if kind == "vpce" and not value.lower().startswith("vpce-"):
        return True
    if kind == "account" and not re.fullmatch(r"\d{12}", value):
        return True  # "AWS Internal", a service name
    if value.endswith(".amazonaws.com"):
        return True
    if kind == "ip" and value.startswith("::1"):
        return True
    return False


def collect_identifiers(frame: pd.DataFrame, documents: Iterable[Any] = (), *,
                        options: Mapping[str, Any] | None = None) -> dict[str, set[str]]:
    """Every original identifier in an event frame and documents, independently of redaction.

    Reads the identifying columns and sweeps ``raw`` and the documents' JSON text with
    field-aware regular expressions. Kinds switched off in ``options`` (Redactor options such as
    ``buckets=False``) are left out, as are values the redactor keeps readable by design.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"recipientAccountId": ["111122223333"], "raw": ['{"bucketName":"pay"}']})
    >>> sorted(collect_identifiers(df)["account"]), sorted(collect_identifiers(df)["bucket"])
    (['111122223333'], ['pay'])
    """
    opts = dict(options or {})
    found: dict[str, set[str]] = {k: set() for k in (*_RAW_PATTERNS, *_BOUNDED_PATTERNS, *_BOUNDED_LOWER,
                                                     "email")}
    for kind, cols in _ID_COLUMNS.items():
        for col in cols:
            if col in frame.columns:
                found[kind].update(str(v) for v in pd.unique(frame[col].dropna()))
    texts: list[str] = []
    if "raw" in frame.columns:
        texts.extend(str(v) for v in pd.unique(frame["raw"].dropna()))
    doc_texts = [d if isinstance(d, str) else json.dumps(d, default=str) for d in documents if d is not None]
    texts.extend(doc_texts)
    blob = "\n".join(texts)
    # in documents (plans, specs, notes) a bare 12-digit number is an account id (log-group names…)
    found["account"].update(re.findall(r"(?<![0-9A-Za-z])(?<!\d[.,])(\d{12})(?![0-9A-Za-z]|[.,]\d)", "\n".join(doc_texts)))
    for kind, pattern in _RAW_PATTERNS.items():
        for m in pattern.finditer(blob):
            groups = [g for g in m.groups() if g] if m.groups() else [m.group(0)]
            found[kind].update(groups)
    for kind, pattern in _BOUNDED_PATTERNS.items():
        found[kind].update(_bounded(pattern, blob))
    low_blob = blob.lower()
    for kind, pattern in _BOUNDED_LOWER.items():
        found[kind].update(_bounded(pattern, low_blob))
    found["email"].update(_emails(blob))
    if re.search(r"%40|\\u0040|&#0*64;|&#x0*40;|&commat;", blob, re.I):  # e-mails written with escapes
        found["email"].update(_emails(decode_escapes(blob)))
    for name, value in _document_field_values(documents):  # named in a pattern or an exclusion
        _collect_field_value(found, name, value)
    found["ip"] = {v for v in found["ip"] if _is_ip(v)}
    # an ARN identifies something only through a real account id or a bucket name
    arns = {a for a in found["arn"] if re.match(r"arn:[^:]*:[^:]*:[^:]*:\d{12}:", a)
            or a.startswith(("arn:aws:s3:::", "arn:aws-cn:s3:::", "arn:aws-us-gov:s3:::"))}
    found["arn"] = arns
    found["account"].update(a.split(":")[4] for a in arns if a.split(":")[4])
    result: dict[str, set[str]] = {}
    for kind, values in found.items():
        if opts.get(_KIND_OPTION.get(kind, ""), True) is False:
            continue
        kept = {v for v in values if v and not _kept(kind, v)}
        if kept:
            result[kind] = kept
    return result


# redaction handler of a field -> the identifier kind its values are
_HANDLER_KIND = {"account": "account", "arn": "arn", "access_key": "access-key", "name": "name",
                 "ip_or_text": "ip", "vpce_or_text": "vpce", "bucket": "bucket", "key": "key"}


def _document_field_values(documents: Iterable[Any]) -> list[tuple[str, str]]:
    """``(field, value)`` named in the documents: clauses of patterns in any string, and the
    values of ``{"field": F, "values": …}`` mappings (a design's exclusions)."""
    out: list[tuple[str, str]] = []

    def walk(obj: Any) -> None:
        if isinstance(obj, str):
            if "$." in obj:
                out.extend(pattern_values(obj))
        elif isinstance(obj, Mapping):
            name = obj.get("field")
            for k, v in obj.items():
                if isinstance(name, str) and k in _FIELD_VALUE_KEYS:
                    values = list(v) if isinstance(v, (list, tuple, Mapping)) else [v]
                    out.extend((name, x) for x in values if isinstance(x, str) and x and "*" not in x)
                walk(v)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                walk(v)
    for doc in documents:
        walk(doc)
    return out


def _collect_field_value(found: dict[str, set[str]], name: str, value: str) -> None:
    handler = field_handler(name)
    if handler == "principal_id":
        head, _, session = value.partition(":")
        if re.fullmatch(r"\d{12}", head):
            found["account"].add(head)
        elif re.fullmatch(r"[A-Z]{4}[A-Z0-9]{8,}", head):
            found["principal-id"].add(head)
        else:
            found["name"].add(head)
        if session:
            found["name"].add(session)
    elif handler == "account":
        if re.fullmatch(r"\d{12}", value):
            found["account"].add(value)
    elif handler in _HANDLER_KIND:
        found[_HANDLER_KIND[handler]].add(value)


def _is_ip(value: str) -> bool:
    return parse_ip(value) is not None


# -------------------------------------------------------------------------------------- results
@dataclass
class ReportResult:
    """What :func:`build_report` wrote and found.

    Attributes
    ----------
    path : Path
        The HTML file written.
    redacted : bool
        False only for an explicitly requested internal report.
    findings : dict
        ``events``, ``first``, ``last``, ``sources`` (label -> events), ``pattern`` (as shown),
        ``alarms`` (transitions into ALARM), ``alarm_periods``, ``periods``, ``alerting_events``.
    sections : list of str
        Section anchors present in the report.
    problems : list of str
        Sections that could not be rendered fully and why (also shown in the report).
    identifiers_checked : int
        How many original identifiers the leak scan looked for.
    """

    path: Path
    redacted: bool
    findings: dict[str, Any]
    sections: list[str]
    problems: list[str]
    identifiers_checked: int = 0
    view: Any = field(default=None, repr=False)

    def summary_lines(self) -> list[str]:
        """A few lines for a terminal: where the report is and what it found."""
        f = self.findings
        lines = [f"report: {self.path}" + ("" if self.redacted else "  (UNREDACTED - internal use only)")]
        if f.get("events") is not None:
            lines.append(f"events: {f['events']:,} from {f.get('first')} to {f.get('last')}")
        if f.get("sources"):
            top = ", ".join(f"{k} {v:,}" for k, v in list(f["sources"].items())[:6])
            more = len(f["sources"]) - 6
            lines.append(f"access sources ({len(f['sources'])}): {top}" + (f", +{more} more" if more > 0 else ""))
        if f.get("pattern"):
            pat = f["pattern"]
            lines.append(f"designed pattern ({len(pat)} chars): {pat if len(pat) <= 160 else pat[:157] + '...'}")
        if f.get("alarms") is not None:
            lines.append(f"backtest: the alarm would have fired {f['alarms']} time(s) "
                         f"({f.get('alerting_events', 0):,} matching events, {f.get('alarm_periods', 0)} "
                         f"of {f.get('periods', 0)} periods in ALARM)")
        if self.redacted:
            lines.append(f"redaction: {self.identifiers_checked:,} original identifiers checked, none "
                         "remain in the file")
        for p in self.problems:
            lines.append(f"problem: {p}")
        return lines


# ------------------------------------------------------------------------------------ rendering
@dataclass
class _View:
    """The data the sections draw from: redacted (shared report) or original (internal)."""

    frame: pd.DataFrame
    pattern: str | None
    design: dict[str, Any] | None
    spec: dict[str, Any] | None
    plan: dict[str, Any] | None
    source: str
    notes: list[str]
    pipeline: list[dict[str, Any]] = field(default_factory=list)


def _pattern_of(inputs: ReportInputs) -> str | None:
    for doc in (inputs.design, inputs.spec, (inputs.plan or {}).get("spec")):
        if isinstance(doc, Mapping) and isinstance(doc.get("pattern"), str):
            return doc["pattern"]
    return None


def _alarm_settings(inputs: ReportInputs) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for doc in (inputs.design, inputs.spec, (inputs.plan or {}).get("spec")):
        alarm = doc.get("alarm") if isinstance(doc, Mapping) else None
        if isinstance(alarm, Mapping):
            for key in ("period", "threshold", "evaluation_periods", "datapoints_to_alarm", "treat_missing"):
                if key in alarm and key not in settings and alarm[key] is not None:
                    settings[key] = alarm[key]
    return settings


def _ensure_classified(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    if "source" in frame.columns:
        return frame
    from s3audit import classify
    notes.append("the events were not classified yet: classified with default options")
    return classify(frame)


def render_report(inputs: ReportInputs, *, redactor: Redactor | None = None,
                  title: str = "S3 read-access investigation") -> tuple[str, ReportResult]:
    """Render the HTML (redacted when ``redactor`` is given). Writes nothing.

    Returns the document and a :class:`ReportResult` (``path`` empty, ``identifiers_checked`` 0;
    :func:`build_report` scans and writes).

    Examples
    --------
    >>> from s3audit import load_events
    >>> from s3audit.paths import SAMPLES_DIR
    >>> events = load_events(SAMPLES_DIR / "events.jsonl.gz").head(100)
    >>> html, result = render_report(ReportInputs(events=events), redactor=Redactor(key="k"))
    >>> html.startswith("<!DOCTYPE html>"), result.findings["events"], result.sections[0]
    (True, 100, 'window')
    """
    notes = list(inputs.notes)
    original = _ensure_classified(inputs.events, notes)
    pattern = _pattern_of(inputs)
    problems: list[str] = []
    exact: dict[str, Any] = {}

    # numbers without identifiers, computed on the original data (exact)
    if pattern is not None:
        try:
            from s3audit import backtest, compile_pattern
            exact["mask"] = compile_pattern(pattern).mask(original).to_numpy(dtype=bool)
            exact["backtest"] = backtest(pattern, original, **_backtest_kwargs(_alarm_settings(inputs)))
        except Exception as exc:  # noqa: BLE001 - shown in the report, not swallowed
            problems.append(f"backtest: {type(exc).__name__}: {exc}")
    if redactor is not None:
        # addresses the documents name (an exclusion of an address no event has) are originals
        # too: registered before any pseudonym is issued, so none equals one of them
        redactor.learn_ips(_string_values([inputs.design, inputs.spec, inputs.plan, inputs.source,
                                           inputs.pipeline, notes]))
        redactor.learn(original)
        to_redact = original
        if "raw" in original.columns and len(original) > MAX_RAW_ROWS:
            # the report never shows raw; walking millions of records would dominate the run
            to_redact = original.drop(columns="raw")
            notes.append(f"{len(original):,} events: the raw records were left out of the redacted "
                         f"view (over {MAX_RAW_ROWS:,}), so the redacted-pattern check was skipped")
        view = _View(frame=redactor.frame(to_redact), pattern=redactor.text(pattern) if pattern else None,
                     design=redactor.document(inputs.design) if inputs.design else None,
                     spec=redactor.document(inputs.spec) if inputs.spec else None,
                     plan=redactor.document(inputs.plan) if inputs.plan else None,
                     source=redactor.text(inputs.source), notes=[redactor.text(n) for n in notes],
                     # notebook parameters name the log group, which usually holds the account id
                     pipeline=redactor.document(inputs.pipeline))
        # messages so far quote the original data (a pattern error quotes the pattern)
        problems = [redactor.text(p) for p in problems]
        if "mask" in exact and view.pattern is not None and "raw" in view.frame.columns:
            try:
                from s3audit import compile_pattern
                again = compile_pattern(view.pattern).mask(view.frame).to_numpy(dtype=bool)
                exact["consistent"] = bool((again == exact["mask"]).all())
                exact["inconsistent_rows"] = int((again != exact["mask"]).sum())
            except Exception as exc:  # noqa: BLE001
                exact["consistent"] = False
                problems.append(f"redacted pattern check: {type(exc).__name__}: {redactor.text(str(exc))}")
    else:
        view = _View(frame=original, pattern=pattern, design=inputs.design, spec=inputs.spec,
                     plan=inputs.plan, source=inputs.source, notes=notes, pipeline=inputs.pipeline)

    builders: dict[str, Callable[[], str]] = {
        "window": lambda: _section_window(view, shared=redactor is not None),
        "sources": lambda: _section_sources(view),
        "charts": lambda: _section_charts(view),
        "exclusions": lambda: _section_exclusions(view, exact),
        "pattern": lambda: _section_pattern(view, exact),
        "backtest": lambda: _section_backtest(view, exact, _alarm_settings(inputs)),
        "deployment": lambda: _section_deployment(view),
        "pipeline": lambda: _section_pipeline(view, redactor),
    }
    sections = []
    for anchor in SECTIONS:
        try:
            body = builders[anchor]()
        except Exception as exc:  # noqa: BLE001 - a broken section is reported, the rest still renders
            log.exception("report section %s failed", anchor)
            message = f"{type(exc).__name__}: {exc}"
            if redactor is not None:
                message = redactor.text(message)
            problems.append(f"{anchor}: {message}")
            body = H.banner(f"This section could not be rendered: {message}", "danger")
        sections.append((anchor, SECTION_TITLES[anchor], body))

    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if redactor is not None:
        counts = ", ".join(f"{n} {k}" for k, n in redactor.summary().items()) or "none"
        top = H.banner("Shareable: account identifiers are replaced by consistent pseudonyms "
                       f"({counts}). The same pseudonym always stands for the same identifier in "
                       "this report; address pseudonyms keep their class (private / AWS / "
                       "external) and which addresses share a network.", "ok")
    else:
        top = H.banner("INTERNAL — NOT REDACTED: this report contains account ids, ARNs, principal "
                       "names, addresses, endpoint ids and bucket names. Do not share it.", "danger")
    if problems:
        top += H.banner("Some sections are incomplete: " + "; ".join(problems), "warn")
    document = H.page(title, f"Generated {generated} by s3audit. Data: {view.source or 'unknown'}",
                      sections, top=top)
    findings = _findings(view, exact)
    return document, ReportResult(path=Path(), redacted=redactor is not None, findings=findings,
                                  sections=[a for a, _, _ in sections], problems=problems, view=view)


def _backtest_kwargs(settings: Mapping[str, Any]) -> dict[str, Any]:
    return {k: settings[k] for k in ("period", "threshold", "evaluation_periods",
                                     "datapoints_to_alarm", "treat_missing") if k in settings}


def _findings(view: _View, exact: Mapping[str, Any]) -> dict[str, Any]:
    frame = view.frame
    times = pd.to_datetime(frame["eventTime"], utc=True) if "eventTime" in frame.columns else pd.Series([], dtype="datetime64[ns, UTC]")
    counts = frame["source"].value_counts(sort=True) if "source" in frame.columns else pd.Series(dtype=int)
    out: dict[str, Any] = {
        "events": int(len(frame)),
        "first": None if times.empty else str(times.min()),
        "last": None if times.empty else str(times.max()),
        "sources": {str(k): int(v) for k, v in counts.items() if v},
        "pattern": view.pattern,
    }
    bt = exact.get("backtest")
    if bt is not None:
        out["alarms"] = len(bt.attrs.get("alarms", []))
        out["periods"] = int(len(bt))
        out["alarm_periods"] = int((bt["state"] == "ALARM").sum())
        out["alerting_events"] = int(exact["mask"].sum()) if "mask" in exact else None
    return out


# -------------------------------------------------------------------------------------- sections
def _section_window(view: _View, *, shared: bool = False) -> str:
    frame = view.frame
    times = pd.to_datetime(frame["eventTime"], utc=True)
    facts = {
        "first event": str(times.min()) if len(times) else None,
        "last event": str(times.max()) if len(times) else None,
        "events": f"{len(frame):,}",
        "data source": view.source or "unknown",
    }
    for label, col in (("buckets", "requestParameters.bucketName"), ("accounts", "recipientAccountId"),
                       ("regions", "awsRegion"), ("event names", "eventName")):
        if col in frame.columns:
            values = frame[col].dropna().unique()
            facts[label] = ", ".join(sorted(map(str, values))[:12]) + (" …" if len(values) > 12 else "")
    body = [H.kv_table(facts)]
    attrs = {k: v for k, v in frame.attrs.items() if k not in _NOT_LEDGER}
    for key in _PATH_LISTS & attrs.keys():  # file names only: local paths name users and folders
        attrs[key] = [_file_name(p) for p in attrs[key]]
    if isinstance(attrs.get("skipped"), list):  # each skip names its file: the name, not the folders
        attrs["skipped"] = [_skip_entry(s, shared) for s in attrs["skipped"]]
    ledger = {k: (f"{len(v):,} items, first: " + ", ".join(map(str, v[:5])) + " …"
                  if isinstance(v, (list, tuple)) and len(v) > 10 else v)
              for k, v in attrs.items()}
    if ledger:
        body.append("<h3>Loader and pull ledger</h3>")
        body.append(H.para("What the loader or the Logs Insights pull recorded about completeness: "
                           "skipped input, filtered records, duplicates, query slices.", "muted"))
        body.append(H.kv_table(ledger))
    from s3audit.tables import coverage
    cov = coverage(frame)
    body.append("<h3>Coverage per day</h3>")
    body.append(H.table(cov, index=True))
    if view.notes:
        body.append("<h3>Notes</h3>" + H.bullets(view.notes))
    return "\n".join(body)


# frame.attrs entries that are not about completeness (the loader's notes for the pattern evaluator)
_NOT_LEDGER = frozenset({"record_facts"})
# frame.attrs entries that list input files
_PATH_LISTS = frozenset({"sources", "ignored_files"})


# the loader quotes the start of input it could not read ("first line '…'"): cut at a byte count,
# an identifier there can lose its tail (10 of an account id's 12 digits) and no shape finds it
_EXCERPT_RE = re.compile(r"""first line (?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")


def _skip_entry(entry: Any, shared: bool) -> Any:
    """A skipped-input ledger entry as shown: its file by name; in a shared report without the
    excerpt of the input it quotes."""
    if not isinstance(entry, Mapping):
        return entry
    out = dict(entry)
    if isinstance(out.get("source"), str):
        out["source"] = _file_name(out["source"])
    if shared and isinstance(out.get("reason"), str):
        out["reason"] = _EXCERPT_RE.sub("first line (shown in the internal report only)", out["reason"])
    return out


def _file_name(path: Any) -> str:
    """The last part of a local path (POSIX or Windows separators)."""
    return re.split(r"[\\/]", str(path).rstrip("\\/"))[-1]


def per_source_values(frame: pd.DataFrame, *, top: int = 8) -> pd.DataFrame:
    """Per source, the most frequent (vpcEndpointId, sourceIPAddress, userAgent) combinations.

    The table users otherwise assemble by hand: what a metric filter can see, with counts; the
    rest of each source is summarised in one ``(k more combinations)`` row.

    Examples
    --------
    >>> df = pd.DataFrame({"source": ["ec2", "ec2"], "vpcEndpointId": [None, None],
    ...                    "sourceIPAddress": ["3.112.0.9"] * 2, "userAgent": ["[aws-cli/2]"] * 2})
    >>> per_source_values(df)["events"].tolist()
    [2]
    """
    cols = ["vpcEndpointId", "sourceIPAddress", "userAgent"]
    work = pd.DataFrame({c: (frame[c].astype(object) if c in frame.columns else None) for c in ["source"] + cols})
    work = work.fillna("(none)")
    counts = work.groupby(["source"] + cols, sort=False, observed=True).size().rename("events").reset_index()
    order = {s: i for i, s in enumerate(frame["source"].value_counts().index)}
    counts["_o"] = counts["source"].map(order)
    counts = counts.sort_values(["_o", "events"], ascending=[True, False])
    rows = []
    for source, group in counts.groupby("source", sort=False):
        rows.append(group.head(top))
        rest = group.iloc[top:]
        if len(rest):
            rows.append(pd.DataFrame([{"source": source, "vpcEndpointId": f"({len(rest)} more combinations)",
                                       "sourceIPAddress": "", "userAgent": "", "events": int(rest["events"].sum()),
                                       "_o": group["_o"].iloc[0]}]))
    out = pd.concat(rows, ignore_index=True) if rows else counts
    return out.drop(columns="_o")[["source"] + cols + ["events"]]


def _section_sources(view: _View) -> str:
    from s3audit.tables import tabulate
    frame = view.frame
    summary = tabulate(frame)
    summary = summary[summary["events"] > 0] if "events" in summary.columns else summary
    body = [H.para("Every read classified by the path it came by (first matching rule). Per "
                   "source: events, bytes out, errors, and the distinct and most frequent values.",
                   "muted"), H.table(summary, index=True)]
    body.append("<h3>vpcEndpointId / sourceIPAddress / userAgent per source</h3>")
    body.append(H.para("What a metric filter can see, per access source, with event counts "
                       "(the most frequent combinations; the rest summarised).", "muted"))
    body.append(H.table(per_source_values(frame), max_rows=400))
    return "\n".join(body)


def _section_charts(view: _View) -> str:
    from s3audit import charts
    frame = view.frame
    parts = []
    for func, caption in ((charts.events_over_time, "Events per access source over time"),
                          (charts.bytes_per_source, "Bytes transferred out per access source"),
                          (charts.source_endpoint_heatmap, "Events per access source and VPC endpoint")):
        fig = func(frame)
        parts.append(H.figure(fig, caption))
    return "\n".join(parts)


def _exclusion_records(design: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if not design:
        return []
    raw = design.get("exclusions") or []
    out = []
    for item in raw:
        if isinstance(item, Mapping):
            out.append(dict(item))
        else:
            out.append({"exclusion": item})
    return out


def _section_exclusions(view: _View, exact: Mapping[str, Any]) -> str:
    body = []
    records = _exclusion_records(view.design)
    if view.design is None:
        body.append(H.banner("No design document in the workspace (notebook 03 writes it).", "warn"))
    elif not records:
        body.append(H.para("The design excludes nothing: every read that matches the base "
                           "condition alarms.", "muted"))
    else:
        preferred = [c for c in ("id", "source", "field", "values", "value", "justification", "removes")
                     if any(c in r for r in records)]
        others = [c for c in dict.fromkeys(k for r in records for k in r) if c not in preferred]
        body.append(H.records_table(records, preferred + others))
    if "mask" in exact and "source" in view.frame.columns:
        frame = view.frame
        mask = pd.Series(exact["mask"], index=frame.index)
        per = pd.DataFrame({"events": frame.groupby("source", observed=True).size(),
                            "alerting": mask.groupby(frame["source"], observed=True).sum()})
        per = per[per["events"] > 0].astype(int)
        per["not alerting"] = per["events"] - per["alerting"]
        excluded_sources = {str(r["source"]) for r in records if r.get("source")}
        per["decision"] = ["excluded by the design" if s in excluded_sources else "kept: alarms"
                           for s in per.index]
        body.append("<h3>Decisions per access source (the designer's choices, as a static table)</h3>")
        body.append(H.para("events: events of that source in the window; alerting: how many the "
                           "final pattern matches (the exact filter-pattern evaluator); not alerting: "
                           "excluded, or outside the base condition (e.g. not a GetObject).", "muted"))
        body.append(H.table(per, index=True))
    return "\n".join(body)


def _section_pattern(view: _View, exact: Mapping[str, Any]) -> str:
    if not view.pattern:
        error = (view.design or {}).get("pattern_error")
        if error:
            return H.banner(f"The design could not be compiled into a pattern: {error}", "danger")
        return H.banner("No pattern was designed (no design or alarm spec in the workspace).", "warn")
    body = [H.pre(view.pattern),
            H.para(f"{len(view.pattern)} characters (CloudWatch allows 1024).", "muted")]
    if "consistent" in exact:
        if exact["consistent"]:
            body.append(H.banner("Checked: this redacted pattern, evaluated on the redacted events, "
                                 "matches exactly the same events as the original pattern on the "
                                 "original events.", "ok"))
        else:
            body.append(H.banner("The redacted pattern does not match the same events on the redacted "
                                 f"data ({exact.get('inconsistent_rows', '?')} rows differ): a part of "
                                 "the pattern (a regular expression?) could not be redacted "
                                 "consistently. Counts in this report come from the original data.",
                                 "warn"))
    return "\n".join(body)


def _section_backtest(view: _View, exact: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
    bt = exact.get("backtest")
    if bt is None:
        return H.banner("No backtest: there is no pattern to replay.", "warn")
    from matplotlib.figure import Figure

    from s3audit.backtesting import plot_backtest
    body = [H.kv_table({k: v for k, v in (bt.attrs.get("settings") or dict(settings)).items()})]
    fig = Figure(figsize=(11, 3.4))
    plot_backtest(bt, fig.subplots())
    body.append(H.figure(fig, "The metric (Sum of matches per period), the threshold and the ALARM periods"))
    alarms = bt.attrs.get("alarms", [])
    body.append(f"<h3>Alarms ({len(alarms)})</h3>")
    if not alarms:
        body.append(H.para("The alarm would not have fired in this window.", "muted"))
        return "\n".join(body)
    frame = view.frame
    key = frame["eventID"].astype(str) if "eventID" in frame.columns else frame.index.astype(str)
    position = {k: i for i, k in enumerate(key)}
    rows = []
    for number, alarm in enumerate(alarms[:MAX_ALARM_ROWS], start=1):
        picks = sorted(position[str(e)] for e in alarm.get("events", []) if str(e) in position)
        behind = frame.iloc[picks]
        rows.append({
            "alarm": number, "time": str(alarm.get("time")), "value": alarm.get("value"),
            "matches": alarm.get("matches"),
            "sources": _top(behind, "source"), "principals": _top(behind, "userIdentity.arn"),
            "addresses": _top(behind, "sourceIPAddress"), "endpoints": _top(behind, "vpcEndpointId"),
            "events": ", ".join(sorted(behind["eventName"].astype(str).unique())[:5]) if "eventName" in behind else "",
        })
    body.append(H.records_table(rows))
    if len(alarms) > MAX_ALARM_ROWS:
        body.append(H.para(f"… and {len(alarms) - MAX_ALARM_ROWS:,} more alarms (the first "
                           f"{MAX_ALARM_ROWS} are listed).", "muted"))
    return "\n".join(body)


def _top(frame: pd.DataFrame, column: str, n: int = 3) -> str:
    if column not in frame.columns or frame.empty:
        return ""
    counts = frame[column].astype(object).fillna("(none)").value_counts().head(n)
    return "; ".join(f"{k} ×{v}" for k, v in counts.items())


def _section_deployment(view: _View) -> str:
    plan, spec = view.plan, view.spec
    if plan is None and spec is None:
        return H.banner("No alarm spec or deployment plan in the workspace (notebook 04 writes them).", "warn")
    body = []
    if plan is not None:
        offline = plan.get("offline")
        body.append(H.para(f"{str(plan.get('kind', 'deploy')).capitalize()} plan for "
                           f"{plan.get('name')!s} in {plan.get('region')!s}"
                           + (" — an offline plan (no AWS call was made; it assumes an empty account)"
                              if offline else "") + ". Nothing is changed until the plan is applied."))
        if plan.get("summary"):
            body.append(H.kv_table(plan["summary"]))
        if plan.get("changes"):
            body.append("<h3>Resources</h3>" + H.records_table(plan["changes"]))
        if plan.get("checks"):
            body.append("<h3>Pre-flight checks</h3>" + H.records_table(plan["checks"]))
        if plan.get("text"):
            body.append("<h3>The plan as printed</h3>" + H.pre(plan["text"]))
    if spec is not None:
        body.append("<h3>Alarm spec</h3>" + H.pre(json.dumps(spec, indent=2, default=str)))
    return "\n".join(body)


def _section_pipeline(view: _View, redactor: Redactor | None) -> str:
    body = []
    if view.pipeline:
        body.append("<h3>Notebooks executed</h3>")
        body.append(H.records_table(view.pipeline))
    else:
        body.append(H.para("Rendered from an existing workspace (no notebooks were run for this report).",
                           "muted"))
    if redactor is not None:
        body.append("<h3>Redaction</h3>")
        body.append(H.para("Identifiers replaced by keyed pseudonyms (HMAC-SHA256), per kind. The "
                           "mapping is not part of this file.", "muted"))
        body.append(H.kv_table(redactor.summary() or {"identifiers": 0}))
        body.append(H.para("Before this file was written, a leak scan searched its text, attributes "
                           "and embedded figures for every original identifier collected from the "
                           "data; the file is only written when none remains.", "muted"))
    return "\n".join(body)


# ------------------------------------------------------------------------------------- building
@functools.lru_cache(maxsize=1)
def _template_vocabulary() -> frozenset[str]:
    """Words the report itself is made of (its code, CSS, chart boilerplate, column names)."""
    import inspect

    from s3audit import backtesting as bt_mod
    from s3audit import charts, tables
    from s3audit import report_html
    from s3audit.schema import EVENT_COLUMNS
    texts = [inspect.getsource(m) for m in (report_html, charts, tables, bt_mod)]
    texts.append(inspect.getsource(sys.modules[__name__]))
    texts.extend(EVENT_COLUMNS)
    try:
        from matplotlib.figure import Figure
        fig = Figure(figsize=(2, 1))
        ax = fig.subplots()
        ax.set_title("t")
        texts.append(H.figure(fig))
        import base64
        texts.append(base64.b64decode(H.figure(fig).split("base64,")[1].split('"')[0]).decode())
    except Exception:  # noqa: BLE001 - vocabulary is best effort; the data-level check stays
        pass
    return frozenset(re.findall(r"[a-z]+", "\n".join(texts).lower()))


def _data_strings(view_parts: Iterable[Any]) -> str:
    chunks: list[str] = []
    for part in view_parts:
        if isinstance(part, pd.DataFrame):
            for col in part.columns:
                if col == "raw":  # never rendered; its JSON field names are not data
                    continue
                s = part[col]
                if isinstance(s.dtype, pd.CategoricalDtype):
                    chunks.extend(map(str, s.cat.categories))
                elif pd.api.types.is_string_dtype(s.dtype) or pd.api.types.is_object_dtype(s.dtype):
                    chunks.extend(map(str, pd.unique(s.dropna().astype(str))))
            chunks.extend(_string_values(part.attrs))
        elif part is not None:
            chunks.extend(_string_values(part))
    return "\n".join(chunks)


def _string_values(obj: Any) -> list[str]:
    """The values of a JSON-like structure (not its keys: field names like ``version`` are the
    report's words, not data)."""
    if isinstance(obj, Mapping):
        return [s for v in obj.values() for s in _string_values(v)]
    if isinstance(obj, (list, tuple, set)):
        return [s for v in obj for s in _string_values(v)]
    return [] if obj is None else [str(obj)]


def check_report(document: str, inputs: ReportInputs, redactor: Redactor, result: ReportResult, *,
                 path: str | None = None) -> int:
    """The leak gate: raise :class:`~s3audit.leakscan.LeakError` if any original identifier of
    ``inputs`` remains in ``document``; return how many identifiers were looked for.

    The originals are collected from the *original* inputs (:func:`collect_identifiers`) plus
    everything the redactor replaced. Identifiers that are also plain words of the report
    template (a principal called ``table``) cannot be told apart in the HTML: they are checked
    in the redacted data the report was drawn from instead.
    """
    docs = [inputs.design, inputs.spec, inputs.plan, inputs.source, inputs.pipeline, *inputs.notes]
    originals = collect_identifiers(inputs.events, docs, options=redactor.options)
    for kind, values in redactor.identifiers().items():
        originals.setdefault(kind, set()).update(values)
    vocabulary = _template_vocabulary()
    exempt = {v for vals in originals.values() for v in vals if v.isalpha() and v.lower() in vocabulary}
    leaks = find_leaks(document, originals, tokens=redactor.tokens(), exempt=exempt)
    if exempt:
        v = result.view
        data = _data_strings([v.frame, v.design, v.spec, v.plan, v.pattern, v.source, v.notes,
                              v.pipeline, result.findings]) if v is not None else ""
        leaks += find_leaks(data, {"word": exempt}, tokens=redactor.tokens())
        log.info("%d identifiers are also words of the report template; checked in the data", len(exempt))
    if leaks:
        raise LeakError(leaks, path)
    return sum(len(v) for v in originals.values())


def build_report(source: ReportInputs | str | os.PathLike[str] | None, out: str | os.PathLike[str], *,
                 redact: bool = True, key: bytes | str | None = None,
                 redaction: Mapping[str, Any] | None = None, pipeline: Sequence[Mapping[str, Any]] = (),
                 title: str = "S3 read-access investigation", data_source: str = "") -> ReportResult:
    """Render, leak-scan and write the report.

    Parameters
    ----------
    source : ReportInputs, path or None
        The inputs, or a workspace folder to read them from (None: the default workspace).
    out : path
        A folder (the file is ``report.html``, or ``report-internal.html`` when not redacted) or
        an ``.html`` file path.
    redact : bool
        True (default): pseudonymise and leak-scan. False: an internal report with the original
        identifiers (a banner says so; a different default file name).
    key : bytes or str, optional
        HMAC key for stable pseudonyms across reports (default: random per report, or the
        ``S3AUDIT_REDACT_KEY`` environment variable).
    redaction : mapping, optional
        :class:`~s3audit.redaction.Redactor` options (``buckets=False``, ``keys="full"``…).

    Returns
    -------
    ReportResult

    Raises
    ------
    LeakError
        When an original identifier remains in the rendered report; nothing is written.

    Examples
    --------
    >>> import tempfile
    >>> from s3audit import load_events
    >>> from s3audit.paths import SAMPLES_DIR
    >>> events = load_events(SAMPLES_DIR / "events.jsonl.gz").head(200)
    >>> result = build_report(ReportInputs(events=events, design={"pattern": '{ $.eventName = "GetObject" }'}),
    ...                       tempfile.mkdtemp(), key="team-secret")
    >>> result.path.name, result.redacted, result.problems
    ('report.html', True, [])
    >>> "111122223333" in result.path.read_text()
    False
    """
    inputs = source if isinstance(source, ReportInputs) else load_inputs(source, source=data_source,
                                                                           pipeline=pipeline)
    if pipeline and not inputs.pipeline:
        inputs.pipeline = [dict(p) for p in pipeline]
    target = Path(out)
    if target.suffix.lower() != ".html":
        target = target / (REPORT_NAME if redact else INTERNAL_REPORT_NAME)
    redactor = None
    if redact:
        key = key if key is not None else os.environ.get("S3AUDIT_REDACT_KEY") or None
        redactor = Redactor(key=key, **dict(redaction or {}))
    document, result = render_report(inputs, redactor=redactor, title=title)
    checked = 0
    if redactor is not None:
        checked = check_report(document, inputs, redactor, result, path=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(document, encoding="utf-8")
    result.path = target
    result.identifiers_checked = checked
    log.info("report written to %s (%d bytes)", target, len(document))
    return result
