"""Per-source tables: the values a metric filter can see, for every access source.

``tabulate`` is the table people otherwise assemble by hand from Logs Insights: for each source
(or any other column), the event count, bytes out, errors, and the distinct and top values of
``vpcEndpointId``, ``sourceIPAddress`` (with its AWS service/region), user-agent family and
principal. ``crosstab`` gives source × endpoint and source × user-agent family; a saved
*baseline* tells what is new since the last look.

All counting runs on categorical codes with numpy (``bincount`` over combined codes), so a
million events tabulate in well under a second. Every function accepts ``weight=``, the name of
a count column, so the same tables come from server-side counts (``s3audit.count_events``): a
frame with one row per distinct combination and a ``count`` column.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"userIdentity.accountId": ["anonymous", "anonymous"],
...                    "sourceIPAddress": ["198.51.100.7", "198.51.100.8"]})
>>> table = tabulate(df)
>>> int(table.loc["anonymous", "events"]), int(table.loc["anonymous", "sourceIPAddress_distinct"])
(2, 2)
"""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from s3audit.ipranges import address_kinds
from s3audit.sources import SOURCES, VPCE_OLD, Col, _recode, classify, coalesce, column, principal
from s3audit.useragent import MISSING, ua_families

log = logging.getLogger(__name__)

NONE_LABEL = "(none)"
BYTES_OUT = "additionalEventData.bytesTransferredOut"
BYTES_IN = "additionalEventData.bytesTransferredIn"

# the per-source columns of the hand-made table, in display order
TABLE_DIMENSIONS: tuple[str, ...] = ("vpcEndpointId", "sourceIPAddress", "ua_family", "principal")

# Fields to ask ``count_events`` to group by so that ``classify`` on the counts is exact.
CLASSIFY_FIELDS: tuple[str, ...] = (
    "userIdentity.accountId", "userIdentity.type", "userIdentity.invokedBy", "userIdentity.arn",
    "userIdentity.principalId", "userIdentity.inScopeOf.issuerType",
    "userIdentity.sessionContext.ec2RoleDelivery", "sourceIPAddress", "userAgent",
    "additionalEventData.AuthenticationMethod", "requestParameters.X-Amz-Expires",
    "vpcEndpointId", "vpcEndpointAccountId", "recipientAccountId",
)


# ---------------------------------------------------------------------------------------------
def _prepare(events: pd.DataFrame, by: str, classify_options: Mapping[str, Any] | None
             ) -> pd.DataFrame:
    if not isinstance(events, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, not {type(events).__name__}")
    if "source" not in events.columns and (
            by in ("source", "ua_family", "ip_service", "ip_region") or classify_options):
        return classify(events, **(classify_options or {}))
    if by in ("ip_service", "ip_region"):
        return _with_derived(events, (by,), classify_options)
    return events


def _with_derived(events: pd.DataFrame, names: Sequence[str],
                  classify_options: Mapping[str, Any] | None) -> pd.DataFrame:
    """``events`` plus the classify columns in ``names`` it lacks; its own ``source`` labels
    (a frame labelled elsewhere, or classified with other options) are kept."""
    missing = [n for n in names if n not in events.columns]
    if not missing:
        return events
    labelled = classify(events, **(classify_options or {}))
    if "source" not in events.columns:
        return labelled
    return events.assign(**{n: labelled[n].array for n in missing})


def _weights(events: pd.DataFrame, weight: str | None) -> np.ndarray | None:
    if weight is None:
        return None
    if weight not in events.columns:
        raise KeyError(f"weight column {weight!r} not in the frame")
    return pd.to_numeric(events[weight], errors="coerce").fillna(0).to_numpy(np.float64)


def _dimension(events: pd.DataFrame, name: str) -> Col:
    if name == "vpcEndpointId":
        # records <= 1.05 kept it in additionalEventData: read it where classify reads it
        return coalesce(column(events, name), column(events, VPCE_OLD), name)
    if name == "ua_family" and name not in events.columns:
        # a frame labelled elsewhere (a ``source`` column but no ua_family): derive it alone
        ua = column(events, "userAgent")
        fam = ua_families(ua.cats)
        codes, uniq = pd.factorize(pd.array(np.append(fam, MISSING), dtype=object))
        return Col("ua_family", np.asarray(codes, dtype=np.int64)[ua.codes],
                   np.asarray(uniq, dtype=object))
    if name in ("principal", "role") and name not in events.columns:
        cat = principal(events, role_sessions=name == "principal")
        return Col("principal", np.asarray(cat.codes, dtype=np.int64),
                   np.asarray(cat.categories, dtype=object))
    return column(events, name)


_DERIVED_GROUPS = ("principal", "role", "ua_family")


class UnknownColumnError(KeyError):
    """A table was asked to group by a column the frame does not have (``column`` names it)."""

    def __init__(self, message: str, column: str) -> None:
        super().__init__(message)
        self.column = column


def _group(events: pd.DataFrame, by: str) -> Col:
    """The grouping column, read like a dimension (``vpcEndpointId`` includes old records',
    ``principal``/``role`` are derived). A name that is neither a column nor derived is an
    error: grouping by a misspelt column would give an empty table and say nothing."""
    if by not in events.columns and by not in _DERIVED_GROUPS and not (
            by == "vpcEndpointId" and VPCE_OLD in events.columns):
        raise UnknownColumnError(f"cannot group by {by!r}: no such column (and not one of "
                                 f"{', '.join(_DERIVED_GROUPS)})", by)
    return _dimension(events, by)


def _pair_counts(g: Col, v: Col, w: np.ndarray | None) -> pd.DataFrame:
    """Counts of (group code, value code) pairs; value code -1 = NA. Group NA rows dropped."""
    keep = g.codes >= 0
    nv = len(v.cats) + 1
    key = g.codes[keep].astype(np.int64) * nv + (v.codes[keep].astype(np.int64) + 1)
    weights = None if w is None else w[keep]
    if len(g.cats) * nv <= 20_000_000:
        counts = np.bincount(key, weights=weights, minlength=len(g.cats) * nv)
        nz = np.flatnonzero(counts)
        return pd.DataFrame({"g": nz // nv, "v": nz % nv - 1, "n": counts[nz]})
    inverse, uniques = pd.factorize(key)
    counts = np.bincount(inverse, weights=weights)
    nz = np.flatnonzero(counts)  # rows standing for 0 events are no value, as on the path above
    return pd.DataFrame({"g": uniques[nz] // nv, "v": uniques[nz] % nv - 1, "n": counts[nz]})


def _ranked(pairs: pd.DataFrame, v: Col) -> pd.DataFrame:
    """Pairs ordered by group, count (descending), then value text — ties never depend on the
    order categories happen to have (events vs. server-side counts give the same table)."""
    rank = np.empty(len(v.cats) + 1, dtype=np.int64)
    rank[-1] = -1  # NA first among ties
    rank[:-1] = np.argsort(np.argsort(v.cats.astype(str), kind="stable"), kind="stable")
    pairs = pairs.assign(r=rank[pairs["v"].to_numpy()])
    return pairs.sort_values(["g", "n", "r"], ascending=[True, False, True], kind="stable")


def _group_totals(g: Col, values: np.ndarray | None, w: np.ndarray | None) -> np.ndarray:
    keep = g.codes >= 0
    if values is None:
        weights = None if w is None else w[keep]
    else:
        weights = values[keep] if w is None else values[keep] * w[keep]
    return np.bincount(g.codes[keep], weights=weights, minlength=len(g.cats))


def _address_ranges(events: pd.DataFrame, ip: Col) -> tuple[np.ndarray, np.ndarray]:
    """Per ``sourceIPAddress`` category: its ``ip_service`` and ``ip_region`` (None outside AWS
    or when the frame was not classified), read from one row that has the address."""
    service = np.full(len(ip.cats), None, dtype=object)
    region = np.full(len(ip.cats), None, dtype=object)
    if "ip_service" not in events.columns or not len(ip.cats):
        return service, region
    row_of = np.full(len(ip.cats), -1, dtype=np.int64)
    present = np.flatnonzero(ip.codes >= 0)
    row_of[ip.codes[present]] = present
    seen = np.flatnonzero(row_of >= 0)
    for out, name in ((service, "ip_service"), (region, "ip_region")):
        col = column(events, name)
        out[seen] = np.append(col.cats, None)[col.codes[row_of[seen]]]
    return service, region


def _range_text(service: str | None, region: str | None) -> str:
    """``"EC2 ap-northeast-1"`` from ``"AMAZON,EC2"`` and a region (AMAZON only when alone)."""
    names = [x for x in (service or "").split(",") if x and x != "AMAZON"] or ["AMAZON"]
    return f"{'+'.join(names)} {region}" if region else "+".join(names)


def _ip_labels(events: pd.DataFrame, ip: Col) -> np.ndarray:
    """Per ``sourceIPAddress`` category: ``" (EC2 ap-northeast-1)"`` or ``""``."""
    service, region = _address_ranges(events, ip)
    texts = np.full(len(ip.cats), "", dtype=object)
    inside = np.flatnonzero(pd.notna(service))
    if len(inside):  # described once per distinct (service, region)
        pairs = pd.MultiIndex.from_arrays([service[inside], region[inside]])
        inverse, uniques = pd.factorize(pairs)
        texts[inside] = np.array([f" ({_range_text(svc, reg)})" for svc, reg in uniques],
                                 dtype=object)[inverse]
    return texts


def _fmt_count(n: float) -> str:
    return f"{int(n):,}" if float(n).is_integer() else f"{n:,.1f}"


def _joined_tops(head: pd.DataFrame, v: Col, labels: np.ndarray | None, groups: int
                 ) -> np.ndarray:
    """Per group, ``"value ×count; …"`` from the ranked (g, v, n) rows kept for it."""
    vcodes = head["v"].to_numpy()
    names = np.append(v.cats, NONE_LABEL)[vcodes]  # code -1 (missing) takes "(none)"
    if labels is not None:
        names = names + np.append(labels, "")[vcodes]
    text = names + np.array([f" ×{_fmt_count(n)}" for n in head["n"].to_numpy()], dtype=object)
    joined = pd.Series(text, index=head["g"].to_numpy(), dtype=object) \
        .groupby(level=0, sort=False).agg("; ".join)
    tops = np.full(groups, "", dtype=object)
    tops[joined.index.to_numpy()] = joined.to_numpy()
    return tops


# ---------------------------------------------------------------------------------------------
def tabulate(events: pd.DataFrame, by: str = "source", *, top: int = 3,
             dimensions: Sequence[str] = TABLE_DIMENSIONS, weight: str | None = None,
             classify_options: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Per ``by`` value: events, bytes out, errors, and distinct/top values of each dimension.

    Parameters
    ----------
    events : DataFrame
        Events (classified or not: ``by="source"`` classifies when needed, with
        ``classify_options``), or server-side counts with a ``weight`` column.
    by : str
        Column to group by (default ``source``).
    top : int
        How many top values to list per dimension.
    dimensions : sequence of str
        Columns described per group; ``principal`` is derived from the identity fields.
    weight : str, optional
        A count column (rows stand for that many events), e.g. from ``count_events``.

    Returns
    -------
    DataFrame
        Indexed by the ``by`` values present (vocabulary order for sources), most events first
        for other columns; columns ``events``, ``share``, ``bytes_out``, ``errors``, then per
        dimension ``<dim>_distinct`` and ``<dim>_top`` (``"value ×count; …"``; addresses carry
        their AWS service and region, e.g. ``3.112.1.9 (EC2 ap-northeast-1) ×12``).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"source": ["ec2", "ec2", "external"],
    ...                    "vpcEndpointId": [None, None, None],
    ...                    "sourceIPAddress": ["3.112.0.9", "3.112.0.9", "198.51.100.1"]})
    >>> tabulate(df, dimensions=["sourceIPAddress"]).loc["ec2", "sourceIPAddress_top"]
    '3.112.0.9 ×2'
    """
    events = _prepare(events, by, classify_options)
    w = _weights(events, weight)
    g = _group(events, by)
    total = _group_totals(g, None, w)
    table = pd.DataFrame(index=pd.Index(list(g.cats), name=by))
    table["events"] = total
    table["share"] = total / total.sum() if total.sum() else 0.0
    if BYTES_OUT in events.columns:
        bytes_out = pd.to_numeric(events[BYTES_OUT], errors="coerce").fillna(0) \
            .to_numpy(np.float64)
        table["bytes_out"] = _group_totals(g, bytes_out, w)
    else:
        table["bytes_out"] = 0.0
    errors = column(events, "errorCode").present()
    if w is None:
        table["errors"] = np.bincount(g.codes[errors & (g.codes >= 0)], minlength=len(g.cats))
    else:
        table["errors"] = _group_totals(g, errors.astype(np.float64), w)
        if np.all(np.mod(w, 1) == 0):  # whole counts (count_events): keep them integers
            table = table.astype({"events": np.int64, "errors": np.int64})
    for dim in dimensions:
        v = _dimension(events, dim)
        pairs = _pair_counts(g, v, w)
        labels = _ip_labels(events, v) if dim == "sourceIPAddress" else None
        distinct = pairs[pairs["v"] >= 0].groupby("g")["n"].size()
        table[f"{dim}_distinct"] = np.zeros(len(g.cats), dtype=np.int64)
        table.iloc[distinct.index.to_numpy(), table.columns.get_loc(f"{dim}_distinct")] = \
            distinct.to_numpy()
        pairs = _ranked(pairs, v)
        head = pairs.groupby("g", sort=False).head(top)
        table[f"{dim}_top"] = _joined_tops(head, v, labels, len(g.cats))
    table = table[table["events"] > 0]
    if by == "source":
        rank = {name: i for i, name in enumerate(SOURCES)}
        order = sorted(table.index, key=lambda name: (rank.get(name, len(rank)), name))
        return table.loc[order]
    # most events first; ties by name, so the order never depends on row or category order
    names = pd.Index(table.index).astype(str)
    order = np.lexsort((np.asarray(names, dtype=str), -table["events"].to_numpy()))
    return table.iloc[order]


def top_values(events: pd.DataFrame, column_name: str, by: str = "source", *, n: int = 5,
               weight: str | None = None, classify_options: Mapping[str, Any] | None = None
               ) -> pd.DataFrame:
    """The ``n`` most frequent values of ``column_name`` per ``by`` group, as a tidy frame.

    Columns: ``by``, ``value`` (``"(none)"`` for missing), ``events``, ``share`` (of the group),
    and for addresses ``ip_service`` / ``ip_region``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"source": ["console"] * 3, "vpcEndpointId": ["vpce-f40dc59d"] * 3})
    >>> row = top_values(df, "vpcEndpointId").iloc[0]
    >>> row["value"], int(row["events"])
    ('vpce-f40dc59d', 3)
    """
    events = _prepare(events, by, classify_options)
    w = _weights(events, weight)
    g, v = _group(events, by), _dimension(events, column_name)
    pairs = _pair_counts(g, v, w)
    pairs = _ranked(pairs, v)
    group_total = pairs.groupby("g")["n"].transform("sum")
    pairs = pairs.assign(share=pairs["n"] / group_total)
    head = pairs.groupby("g", sort=False).head(n)
    out = pd.DataFrame({
        # only the groups present (in their category order): no zero-event groups downstream
        by: pd.Categorical.from_codes(head["g"].to_numpy(), categories=list(g.cats))
        .remove_unused_categories(),
        "value": [NONE_LABEL if c < 0 else v.cats[c] for c in head["v"]],
        "events": head["n"].to_numpy(),
        "share": head["share"].to_numpy(),
    })
    if column_name == "sourceIPAddress" and "ip_service" in events.columns:
        service, region = _address_ranges(events, v)
        codes = head["v"].to_numpy()  # -1 (missing address) takes the appended None
        out["ip_service"] = np.append(service, None)[codes]
        out["ip_region"] = np.append(region, None)[codes]
    return out.reset_index(drop=True)


def crosstab(events: pd.DataFrame, rows: str = "source", cols: str = "vpcEndpointId", *,
             top: int | None = 20, weight: str | None = None,
             classify_options: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Event counts of ``rows`` × ``cols`` (missing values as ``"(none)"``).

    Only the ``top`` most frequent column values are kept (the rest summed as ``"(other)"``).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"source": ["console", "console", "ec2"],
    ...                    "vpcEndpointId": ["vpce-f40dc59d", "vpce-f40dc59d", None]})
    >>> crosstab(df).loc["console", "vpce-f40dc59d"]
    np.int64(2)
    """
    events = _prepare(events, rows, classify_options)
    if cols in ("ip_service", "ip_region"):  # ua_family is derived by _dimension on its own
        events = _with_derived(events, (cols,), classify_options)
    w = _weights(events, weight)
    g, v = _group(events, rows), _dimension(events, cols)
    pairs = _pair_counts(g, v, w)
    names = np.array([NONE_LABEL, *v.cats], dtype=object)
    pairs["col"] = names[pairs["v"].to_numpy() + 1]
    if top is not None:
        order = pairs.groupby("col")["n"].sum().sort_values(ascending=False, kind="stable")
        keep = set(order.index[:top])
        if len(order) > top:
            pairs.loc[~pairs["col"].isin(keep), "col"] = "(other)"
    pairs["row"] = np.asarray(g.cats, dtype=object)[pairs["g"].to_numpy()]
    table = pairs.pivot_table(index="row", columns="col", values="n", aggfunc="sum",
                              fill_value=0, observed=True)
    row_order = [c for c in g.cats if c in table.index]
    col_order = table.sum().sort_values(ascending=False, kind="stable").index
    table = table.loc[row_order, col_order]
    table.index.name, table.columns.name = rows, cols
    if w is None or np.all(np.mod(w, 1) == 0):
        table = table.astype(np.int64)
    return table


def source_by_endpoint(events: pd.DataFrame, **options: Any) -> pd.DataFrame:
    """``crosstab(events, "source", "vpcEndpointId")``: events per source × endpoint id.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"source": ["console", "ec2"], "vpcEndpointId": ["vpce-f40dc59d", None]})
    >>> source_by_endpoint(df).loc["ec2", "(none)"]
    np.int64(1)
    """
    return crosstab(events, "source", "vpcEndpointId", **options)


def source_by_ua_family(events: pd.DataFrame, **options: Any) -> pd.DataFrame:
    """``crosstab(events, "source", "ua_family")``: events per source × user-agent family.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"source": ["external"], "userAgent": ["[curl/8.5.0]"]})
    >>> source_by_ua_family(df).loc["external", "curl"]
    np.int64(1)
    """
    return crosstab(events, "source", "ua_family", **options)


def tabulate_counts(counts: pd.DataFrame, by: str = "source", *, weight: str | None = None,
                    **options: Any) -> pd.DataFrame:
    """The per-source table from server-side counts (``s3audit.count_events``).

    ``counts`` has one row per distinct combination of the grouped fields plus a count column
    (``count``, ``count(*)`` or ``weight=``). Group by :data:`CLASSIFY_FIELDS` so the
    classification of each combination is exact; fields left out count as missing, which can
    move events to later rules (the result says which fields were missing in
    ``attrs["missing_fields"]``).

    Examples
    --------
    >>> import pandas as pd
    >>> counts = pd.DataFrame({"userIdentity.accountId": ["anonymous", None],
    ...                        "sourceIPAddress": ["198.51.100.7", "198.51.100.8"],
    ...                        "count": [40, 2]})
    >>> tabulate_counts(counts)["events"].tolist()
    [40, 2]
    """
    weight = weight or next((c for c in ("count", "count(*)", "events") if c in counts.columns),
                            None)
    if weight is None:
        raise KeyError("no count column (count / count(*)) in the counts frame; pass weight=")
    table = tabulate(counts, by, weight=weight, **options)
    table.attrs["missing_fields"] = [f for f in CLASSIFY_FIELDS if f not in counts.columns]
    return table


def source_table_from_logs(log_groups: str | Sequence[str], start: Any, end: Any, *,
                           profile: str | None = None, client: Any = None,
                           where: str | None = 'eventCategory = "Data"',
                           classify_options: Mapping[str, Any] | None = None,
                           **count_options: Any) -> pd.DataFrame:
    """The per-source table for a window too big to pull, from Logs Insights counts.

    Runs ``s3audit.count_events`` grouped by :data:`CLASSIFY_FIELDS` (nothing is downloaded
    but the groups), then :func:`tabulate_counts`. ``start``/``end`` are tz-aware datetimes or
    ISO strings with a zone; ``profile`` picks the AWS profile unless ``client`` is given.
    ``attrs["counts"]`` keeps the raw counts (bytes scanned, coverage in its ``attrs``).
    """
    from s3audit.insights import count_events

    if client is None:
        import boto3

        count_options.setdefault("session", boto3.Session(profile_name=profile))
    counts = count_events(log_groups, pd.Timestamp(start).to_pydatetime(),
                          pd.Timestamp(end).to_pydatetime(), by=list(CLASSIFY_FIELDS),
                          where=where, client=client, **count_options)
    table = tabulate_counts(counts, classify_options=classify_options)
    table.attrs["counts"] = {"groups": len(counts), "events": int(counts["count"].sum()),
                             "bytes_scanned": counts.attrs.get("bytes_scanned")}
    return table


# ---------------------------------------------------------------------------------------------
# the per-source fingerprint table (vpcEndpointId / sourceIPAddress / userAgent)
def _address_kinds(texts: np.ndarray, service: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Per distinct address: its AWS range, ``private (VPC)``, ``internet``, or the text itself
    (a service name, ``AWS Internal``). Private is what classify calls private
    (:func:`s3audit.ipranges.address_kinds`: RFC 1918, 100.64/10, link-local, ULA…)."""
    kinds, private = address_kinds(texts)
    out = np.empty(len(texts), dtype=object)
    for i, (text, svc, reg) in enumerate(zip(texts, service, region)):
        if svc:
            out[i] = f"AWS {_range_text(svc, reg)}"
        elif kinds[i] is None:
            out[i] = text
        else:
            out[i] = "private (VPC)" if private[i] else "internet"
    return out


def fingerprint_table(events: pd.DataFrame, *, top: int = 2,
                      classify_options: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """What each access source looks like in the three fields a metric filter can test.

    One row per source: ``vpcEndpointId`` (top values, ``(none)`` = absent), ``sourceIPAddress``
    as kinds of address (``internet``, ``private (VPC)``, ``AWS EC2 us-east-1``, a service name)
    with their share, and ``userAgent`` as client families with an example agent — the table
    people draw by hand when they decide what to exclude from an alarm.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"source": ["console"], "vpcEndpointId": ["vpce-f40dc59d"],
    ...                    "sourceIPAddress": ["198.51.100.4"],
    ...                    "userAgent": ["[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12]"],
    ...                    "ua_family": ["S3 console"]})
    >>> fingerprint_table(df).loc["console", "sourceIPAddress"]
    'internet 100%'
    """
    events = _prepare(events, "source", classify_options)
    events = _with_derived(events, ("ua_family", "ip_service", "ip_region"), classify_options)
    g = column(events, "source")
    ip = column(events, "sourceIPAddress")
    service, region = _address_ranges(events, ip)
    kinds = _address_kinds(ip.cats, service, region)
    kind_col = _recode(ip, kinds, "address kind")
    out = pd.DataFrame(index=pd.Index([c for c in g.cats], name="source"))
    totals = _group_totals(g, None, None)
    out["events"] = totals
    for name, col, with_share in (("vpcEndpointId", _dimension(events, "vpcEndpointId"), False),
                                  ("sourceIPAddress", kind_col, True),
                                  ("userAgent", column(events, "ua_family"), True)):
        pairs = _ranked(_pair_counts(g, col, None), col)
        text = np.full(len(g.cats), "", dtype=object)
        for gcode, chunk in pairs.groupby("g", sort=False):
            parts = []
            for vcode, n in zip(chunk["v"].to_numpy()[:top], chunk["n"].to_numpy()[:top]):
                value = NONE_LABEL if vcode < 0 else col.cats[vcode]
                share = n / totals[gcode]
                pct = "<1%" if 0 < share < 0.005 else f"{share:.0%}"
                parts.append(f"{value} {pct}" if with_share else value)
            if len(chunk) > top:
                parts.append(f"+{len(chunk) - top} more")
            text[gcode] = "; ".join(parts)
        out[name] = text
    ua = column(events, "userAgent")
    example = np.full(len(g.cats), "", dtype=object)
    pairs = _ranked(_pair_counts(g, ua, None), ua)
    for gcode, vcode in pairs.groupby("g", sort=False)["v"].first().items():
        if vcode >= 0:
            agent = ua.cats[vcode]
            example[gcode] = agent if len(agent) <= 80 else agent[:79] + "…"
    out["example userAgent"] = example
    return out[out["events"] > 0]


def fetch_summary(events: pd.DataFrame) -> pd.DataFrame:
    """What was loaded or pulled: counts, time span, and what was filtered or skipped.

    Reads the loader's / puller's ``attrs`` (``filtered``, ``skipped_total``, ``coverage``).

    Examples
    --------
    >>> import pandas as pd
    >>> summary = fetch_summary(pd.DataFrame({"eventTime": pd.to_datetime(["2026-01-01T00:00Z"])}))
    >>> summary.loc["events", "value"]
    '1'
    """
    rows: list[tuple[str, Any]] = [("events", len(events))]
    if "eventTime" in events.columns and len(events):
        times = pd.to_datetime(events["eventTime"], utc=True)
        rows += [("first eventTime", times.min()), ("last eventTime", times.max()),
                 ("span", times.max() - times.min())]
    for label, col in (("buckets", "requestParameters.bucketName"),
                       ("accounts", "recipientAccountId"), ("regions", "awsRegion"),
                       ("event names", "eventName")):
        if col in events.columns:
            values = events[col].dropna().unique()
            rows.append((label, ", ".join(sorted(map(str, values))[:6])
                         + (f" (+{len(values) - 6})" if len(values) > 6 else "")))
    attrs = events.attrs
    if "rows_read" in attrs:
        rows.append(("records read", attrs["rows_read"]))
    for key, value in (attrs.get("filtered") or {}).items():
        rows.append((f"filtered: {key.replace('_', ' ')}", value))
    if "skipped_total" in attrs:
        rows.append(("skipped (bad input)", attrs["skipped_total"]))
    ledger = attrs.get("coverage")
    if isinstance(ledger, (list, tuple)):
        rows.append(("Logs Insights slices", len(ledger)))
    elif isinstance(ledger, Mapping):
        for key, value in ledger.items():
            if isinstance(value, (int, float, str, bool)):
                rows.append((f"coverage: {key}", value))
    return pd.DataFrame({"value": [str(v) for _, v in rows]},
                        index=pd.Index([k for k, _ in rows], name="what"))


# ---------------------------------------------------------------------------------------------
# coverage (notebook 01)
def coverage(events: pd.DataFrame, freq: str = "1D") -> pd.DataFrame:
    """What a frame covers: one row per ``freq`` bin with events, buckets, accounts, regions.

    ``attrs`` of the result carries the totals and what the loader skipped or filtered.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"eventTime": pd.to_datetime(["2026-01-01T10:00Z", "2026-01-02T11:00Z"])})
    >>> coverage(df)["events"].tolist()
    [1, 1]
    """
    if "eventTime" not in events.columns:
        raise KeyError("the frame has no eventTime column")
    times = pd.to_datetime(events["eventTime"], utc=True)
    frame = pd.DataFrame({"bin": times.dt.floor(freq)})
    for name, col in (("buckets", "requestParameters.bucketName"),
                      ("accounts", "recipientAccountId"), ("regions", "awsRegion"),
                      ("event_names", "eventName")):
        if col in events.columns:
            frame[name] = events[col].to_numpy()
    grouped = frame.groupby("bin", sort=True)
    out = grouped.size().rename("events").to_frame()
    for name in ("buckets", "accounts", "regions", "event_names"):
        if name in frame.columns:
            out[name] = grouped[name].nunique()
    out.index.name = "period"
    out.attrs["summary"] = {
        "events": int(len(events)),
        "first": None if times.empty else str(times.min()),
        "last": None if times.empty else str(times.max()),
        "skipped": events.attrs.get("skipped"),
        "counts": {k: v for k, v in events.attrs.items() if k not in ("skipped", "coverage")
                   and isinstance(v, (int, float, str, dict))},
    }
    return out


# ---------------------------------------------------------------------------------------------
# baseline: what is new since the last look
BASELINE_KINDS: dict[str, str] = {
    "source": "source",
    "vpc_endpoints": "vpcEndpointId",
    "addresses": "sourceIPAddress",
    "principals": "role",  # principal with assumed-role session names folded into the role
}


@dataclass
class Baseline:
    """Values seen in an earlier window (sources, endpoints, addresses, principals).

    Principals are kept at role level: ``arn:aws:sts::<acct>:assumed-role/<role>/*`` stands for
    every session of the role (Lake Formation, EMR and EC2 sessions change every job or
    instance), IAM users and other identities as they are.

    Examples
    --------
    >>> b = Baseline(sources={"console"}, addresses={"198.51.100.1"})
    >>> Baseline.from_json(b.to_json()).addresses
    {'198.51.100.1'}
    """

    sources: set[str] = field(default_factory=set)
    vpc_endpoints: set[str] = field(default_factory=set)
    addresses: set[str] = field(default_factory=set)
    principals: set[str] = field(default_factory=set)
    created: str = ""
    window: tuple[str | None, str | None] = (None, None)
    events: int = 0

    def values(self, kind: str) -> set[str]:
        """The set for one of :data:`BASELINE_KINDS`."""
        return {"source": self.sources, "vpc_endpoints": self.vpc_endpoints,
                "addresses": self.addresses, "principals": self.principals}[kind]

    def to_json(self) -> dict[str, Any]:
        """The JSON document :func:`save_baseline` writes (sets as sorted lists)."""
        return {"format": "s3audit-baseline/1", "created": self.created,
                "window": list(self.window), "events": self.events,
                "sources": sorted(self.sources), "vpc_endpoints": sorted(self.vpc_endpoints),
                "addresses": sorted(self.addresses), "principals": sorted(self.principals)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Baseline:
        """Read :meth:`to_json`'s document; ``ValueError`` when it is not a baseline."""
        if doc.get("format") != "s3audit-baseline/1":
            raise ValueError(f"not an s3audit baseline (format {doc.get('format')!r})")
        return cls(set(doc.get("sources", ())), set(doc.get("vpc_endpoints", ())),
                   set(doc.get("addresses", ())), set(doc.get("principals", ())),
                   doc.get("created", ""), tuple(doc.get("window", (None, None))),  # type: ignore[arg-type]
                   int(doc.get("events", 0)))


def make_baseline(events: pd.DataFrame, **classify_options: Any) -> Baseline:
    """Collect the sources, endpoints, addresses and principals present in ``events``.

    Examples
    --------
    >>> import pandas as pd
    >>> b = make_baseline(pd.DataFrame({"source": ["console"], "vpcEndpointId": ["vpce-f40dc59d"],
    ...                                 "sourceIPAddress": ["198.51.100.1"]}))
    >>> sorted(b.vpc_endpoints), sorted(b.sources)
    (['vpce-f40dc59d'], ['console'])
    """
    events = _prepare(events, "source", classify_options)
    seen: dict[str, set[str]] = {}
    for kind, col in BASELINE_KINDS.items():
        c = _dimension(events, col)
        used = np.zeros(len(c.cats), dtype=bool)
        used[c.codes[c.codes >= 0]] = True
        seen[kind] = set(c.cats[used].tolist())
    window: tuple[str | None, str | None] = (None, None)
    if "eventTime" in events.columns and len(events):
        times = pd.to_datetime(events["eventTime"], utc=True)
        window = (str(times.min()), str(times.max()))
    return Baseline(seen["source"], seen["vpc_endpoints"], seen["addresses"], seen["principals"],
                    datetime.now(UTC).isoformat(timespec="seconds"), window, int(len(events)))


def save_baseline(events_or_baseline: pd.DataFrame | Baseline, path: str | os.PathLike[str],
                  **classify_options: Any) -> Path:
    """Write a baseline JSON file (from events, or a :class:`Baseline`); returns the path.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> path = save_baseline(pd.DataFrame({"source": ["console"]}), folder / "baseline.json")
    >>> load_baseline(path).sources
    {'console'}
    """
    baseline = events_or_baseline if isinstance(events_or_baseline, Baseline) else \
        make_baseline(events_or_baseline, **classify_options)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(baseline.to_json(), indent=1) + "\n")
    log.info("baseline with %d sources, %d endpoints, %d addresses, %d principals -> %s",
             len(baseline.sources), len(baseline.vpc_endpoints), len(baseline.addresses),
             len(baseline.principals), target)
    return target


def load_baseline(path: str | os.PathLike[str]) -> Baseline:
    """Read a file written by :func:`save_baseline` (see its example)."""
    return Baseline.from_json(json.loads(Path(path).read_text()))


def compare_with_baseline(events: pd.DataFrame, path: str | os.PathLike[str], *,
                          update: bool = False, **classify_options: Any) -> pd.DataFrame:
    """New values since the baseline at ``path``; saves ``events`` as the baseline when none
    exists yet (or when ``update`` is True, after comparing).

    The result's ``attrs["baseline"]`` says what happened (``"compared"``, ``"created"``,
    ``"compared and updated"``).

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "baseline.json"
    >>> compare_with_baseline(pd.DataFrame({"source": ["console"]}), path).attrs["baseline"]
    'created'
    >>> new = compare_with_baseline(pd.DataFrame({"source": ["console", "external"]}), path)
    >>> new.attrs["baseline"], new["value"].tolist()
    ('compared', ['external'])
    """
    target = Path(path)
    existed = target.exists()
    if existed:
        new = new_since_baseline(events, target, **classify_options)
    else:
        new = pd.DataFrame(columns=["kind", "value", "events", "sources", "first_seen",
                                    "last_seen", "example_eventID"])
    if update or not existed:
        save_baseline(events, target, **classify_options)
    new.attrs["baseline"] = ("compared and updated" if existed and update else
                             "compared" if existed else "created")
    new.attrs["baseline_path"] = str(target)
    return new


def split_window(events: pd.DataFrame, at: str | pd.Timestamp | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split events at a time (default: the middle of their span): ``(before, after)``.

    Handy for a baseline demo: ``new_since_baseline(after, make_baseline(before))``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"eventTime": pd.to_datetime(["2026-01-01", "2026-01-03"], utc=True)})
    >>> [len(part) for part in split_window(df)]
    [1, 1]
    """
    times = pd.to_datetime(events["eventTime"], utc=True)
    cut = pd.Timestamp(at) if at is not None else times.min() + (times.max() - times.min()) / 2
    if cut.tzinfo is None:
        cut = cut.tz_localize("UTC")
    early = (times < cut).to_numpy()
    return events[early], events[~early]


def new_since_baseline(events: pd.DataFrame, baseline: Baseline | str | os.PathLike[str], *,
                       kinds: Iterable[str] = tuple(BASELINE_KINDS),
                       **classify_options: Any) -> pd.DataFrame:
    """Values not seen in the baseline: one row per new (kind, value).

    Columns: ``kind`` (``source``, ``vpc_endpoints``, ``addresses``, ``principals``),
    ``value``, ``events``, ``sources`` (the access sources it appeared under), ``first_seen``,
    ``last_seen``, ``example_eventID``; most events first within each kind.

    Examples
    --------
    >>> import pandas as pd
    >>> old = make_baseline(pd.DataFrame({"source": ["console"],
    ...                                   "sourceIPAddress": ["198.51.100.1"]}))
    >>> now = pd.DataFrame({"source": ["console", "external"],
    ...                     "sourceIPAddress": ["198.51.100.1", "203.0.113.9"]})
    >>> new_since_baseline(now, old)[["kind", "value"]].values.tolist()
    [['source', 'external'], ['addresses', '203.0.113.9']]
    """
    if not isinstance(baseline, Baseline):
        baseline = load_baseline(baseline)
    events = _prepare(events, "source", classify_options)
    src = column(events, "source")
    times = pd.to_datetime(events["eventTime"], utc=True) if "eventTime" in events.columns \
        else None
    ids = events["eventID"] if "eventID" in events.columns else None
    rows: list[pd.DataFrame] = []
    for kind in kinds:
        c = _dimension(events, BASELINE_KINDS[kind])
        known = baseline.values(kind)
        is_new = np.append(np.array([x not in known for x in c.cats], dtype=bool), False)
        hit = np.flatnonzero(is_new[c.codes])
        if not len(hit):
            continue
        vcodes = c.codes[hit].astype(np.int64)
        counts = np.bincount(vcodes, minlength=len(c.cats))
        values = np.flatnonzero(counts)
        part = pd.DataFrame({"kind": kind, "value": c.cats[values], "events": counts[values]})
        # the access sources each value appeared under, as sorted names (one text per value)
        pairs = pd.DataFrame({"v": vcodes, "s": src.codes[hit].astype(np.int64)})
        pairs = pairs[pairs["s"] >= 0].drop_duplicates()
        pairs["name"] = src.cats[pairs["s"].to_numpy()]
        names = pairs.sort_values("name").groupby("v")["name"].agg(", ".join)
        part["sources"] = names.reindex(values).fillna("").to_numpy()
        if times is not None:
            t = times.iloc[hit].reset_index(drop=True).groupby(vcodes)
            part["first_seen"] = t.min().reindex(values).reset_index(drop=True)
            part["last_seen"] = t.max().reindex(values).reset_index(drop=True)
        else:
            part["first_seen"] = part["last_seen"] = None
        if ids is not None:
            first = pd.Series(np.arange(len(hit))).groupby(vcodes).min().reindex(values)
            part["example_eventID"] = ids.to_numpy()[hit[first.to_numpy()]]
        else:
            part["example_eventID"] = None
        rows.append(part)
    columns = ["kind", "value", "events", "sources", "first_seen", "last_seen",
               "example_eventID"]
    if not rows:
        return pd.DataFrame(columns=columns)
    out = pd.concat(rows, ignore_index=True)[columns]
    order = {k: i for i, k in enumerate(BASELINE_KINDS)}
    out["_k"] = out["kind"].map(order)
    out = out.sort_values(["_k", "events", "value"], ascending=[True, False, True],
                          kind="stable").drop(columns="_k")
    return out.reset_index(drop=True)
