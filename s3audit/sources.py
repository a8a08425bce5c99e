"""Access-source classification: for every S3 data event, the path it came by.

The rules are the ordered table of issue 5 (evidence in
``shared/reference/cloudtrail-s3-sources.md`` §4–6); the first rule that matches decides.
Everything is evaluated on *categories*, never per row: each rule's predicate runs once per
distinct value of the columns it reads (a few hundred user agents, a few thousand addresses),
and the answers are mapped onto the rows through the categorical codes with numpy. AWS-range
lookups run once per distinct ``sourceIPAddress``.

Added columns
-------------
``source``
    categorical over :data:`SOURCES` (exactly that vocabulary, in that order).
``source_reason``
    one sentence naming the rule and the field values that decided it.
``cross_account``
    the caller's account (``userIdentity.accountId``, a 12-digit id) differs from
    ``recipientAccountId``.
``credentials_off_instance``
    EC2 instance-profile credentials (``ec2RoleDelivery`` or ``inScopeOf`` EC2) used from a
    public address outside every AWS range — GuardDuty's InstanceCredentialExfiltration idea.
``ip_service``, ``ip_region``, ``ip_prefix``
    every AWS range the address falls in (comma-joined; EC2 prefixes are also AMAZON) and the
    most specific prefix; NA when the address is not in AWS's ranges or is not an IP.
``ua_family``
    the client family (:mod:`s3audit.useragent`).

Examples
--------
>>> import pandas as pd
>>> events = pd.DataFrame({
...     "userAgent": ["[S3Console/0.4, aws-internal/3 aws-sdk-java/1.11.783]",
...                   "[aws-cli/2.17.60 exec-env/CloudShell]"],
...     "sourceIPAddress": ["89.138.37.139", "3.86.208.137"],
...     "vpcEndpointId": ["vpce-f40dc59d", None]})
>>> out = classify(events)
>>> list(out["source"])
['console', 'cloudshell']
>>> out.loc[1, "ip_service"], out.loc[1, "ip_region"]
('AMAZON,EC2', 'us-east-1')
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from s3audit.ipranges import AwsIpRanges, resolve_ip_ranges
from s3audit.useragent import MISSING, strip_brackets, ua_families

log = logging.getLogger(__name__)

# The public API. ``Col``, ``column``, ``coalesce`` and ``same_value`` are the internal
# categorical-code helpers shared with s3audit.tabulate and s3audit.charts.
__all__ = ["SOURCES", "SOURCE_DTYPE", "ADDED_COLUMNS", "RULES", "Rule", "classify", "rules_table",
           "principal", "explain_examples", "session_name", "service_label"]

SOURCES: tuple[str, ...] = (
    "anonymous", "aws-service", "aws-internal", "lake-formation", "athena", "glue", "redshift",
    "emr", "service-other", "console", "console-browser", "presigned-url", "cloudshell", "lambda",
    "sagemaker", "vpc-endpoint", "other-vpc-endpoint", "ec2", "aws-network", "external",
)
"""The access-source vocabulary (shared with the samples' truth, design and report)."""

SOURCE_DTYPE = pd.CategoricalDtype(list(SOURCES), ordered=False)
_CODE = {name: i for i, name in enumerate(SOURCES)}

ADDED_COLUMNS: tuple[str, ...] = (
    "source", "source_reason", "cross_account", "credentials_off_instance",
    "ip_service", "ip_region", "ip_prefix", "ua_family",
)

# Input columns the rules read (dotted names as in s3audit.schema.EVENT_COLUMNS).
ACCOUNT = "userIdentity.accountId"
ID_TYPE = "userIdentity.type"
INVOKED_BY = "userIdentity.invokedBy"
ARN = "userIdentity.arn"
PRINCIPAL_ID = "userIdentity.principalId"
ISSUER_TYPE = "userIdentity.inScopeOf.issuerType"
EC2_DELIVERY = "userIdentity.sessionContext.ec2RoleDelivery"
IP = "sourceIPAddress"
UA = "userAgent"
AUTH = "additionalEventData.AuthenticationMethod"
EXPIRES = "requestParameters.X-Amz-Expires"
VPCE = "vpcEndpointId"
VPCE_OLD = "additionalEventData.vpcEndpointId"  # records <= 1.05 kept it here
VPCE_OWNER = "vpcEndpointAccountId"
RECIPIENT = "recipientAccountId"
IP_CLASS = "(address class)"  # derived: the AWS range / public / private / not an IP
IP_SERVICE_NAME = "(service-name address)"  # derived: sourceIPAddress when *.amazonaws.com
SESSION = "(role session)"  # derived: the session name of userIdentity.arn, else principalId
LF_SESSION = "(Lake Formation session kind)"  # derived: AWSLF-00-<engine code>- of the session

_FULL_VPCE = re.compile(r"vpce-[0-9a-f]{17}")
_ACCOUNT_ID = re.compile(r"\d{12}")
_ROLE_SESSION_TAIL = re.compile(r"(:assumed-role/[^/]+)/.+$")
_ARN_SESSION = re.compile(r":assumed-role/[^/]+/(.+)$")
_PID_SESSION = re.compile(r"^[A-Z0-9]{16,}:(.+)$")
_PID_SESSION_TAIL = re.compile(r"^([A-Z0-9]{16,}):.+$")

# ---------------------------------------------------------------------------------------------
# columns as (codes, categories)
@dataclass
class Col:
    """A column as categorical codes (``-1`` = NA) plus its categories as text."""

    name: str
    codes: np.ndarray
    cats: np.ndarray

    def present(self) -> np.ndarray:
        """Rows where the column has a value."""
        return self.codes >= 0

    def where(self, predicate: Callable[[str], bool]) -> np.ndarray:
        """Evaluate ``predicate`` once per category and map onto rows (NA rows -> False)."""
        table = np.fromiter((bool(predicate(c)) for c in self.cats), dtype=bool,
                            count=len(self.cats))
        if not table.any():
            return np.zeros(len(self.codes), dtype=bool)
        if table.all():
            return self.codes >= 0
        return np.append(table, False)[self.codes]

    def value(self, code: int) -> str | None:
        """The text of one code (None for ``-1``)."""
        return None if code < 0 else self.cats[code]


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    return str(value)


def column(events: pd.DataFrame, name: str) -> Col:
    """``events[name]`` as a :class:`Col` (all NA when the column is absent; ``""`` is NA)."""
    n = len(events)
    if name not in events.columns:
        return Col(name, np.full(n, -1, dtype=np.int8), np.empty(0, dtype=object))
    series = events[name]
    if isinstance(series.dtype, pd.CategoricalDtype):
        # the codes stay in their small integer type (no copy); arithmetic on them upcasts
        codes = series.cat.codes.to_numpy()
        cats = series.cat.categories
    else:
        codes, cats = pd.factorize(series, use_na_sentinel=True)
        codes = codes.astype(np.int64, copy=False)
    if getattr(cats, "inferred_type", None) == "string":
        cats = np.asarray(cats, dtype=object)
    else:
        cats = np.array([_text(c) for c in cats], dtype=object)
    blank = np.array([c == "" for c in cats], dtype=bool)
    if blank.any():
        codes = np.where(np.append(blank, False)[codes], -1, codes)
    return Col(name, codes, cats)


def coalesce(first: Col, second: Col, name: str | None = None) -> Col:
    """``first`` where present, else ``second`` (categories merged)."""
    if not second.present().any():
        return first
    merged = list(dict.fromkeys([*first.cats, *second.cats]))
    pos = {c: i for i, c in enumerate(merged)}
    remap_a = np.append(np.array([pos[c] for c in first.cats], dtype=np.int64), -1)
    remap_b = np.append(np.array([pos[c] for c in second.cats], dtype=np.int64), -1)
    codes = np.where(first.codes >= 0, remap_a[first.codes], remap_b[second.codes])
    return Col(name or first.name, codes, np.array(merged, dtype=object))


def same_value(a: Col, b: Col) -> np.ndarray:
    """Row-wise ``a == b`` for two categorical columns (False where either is NA)."""
    pos = {c: i for i, c in enumerate(b.cats)}
    a_in_b = np.append(np.array([pos.get(c, -2) for c in a.cats], dtype=np.int64), -3)
    return (a.codes >= 0) & (a_in_b[a.codes] == b.codes)


def _map_categorical(col: Col, per_category: np.ndarray, missing: str | None = None
                     ) -> pd.Categorical:
    """Map one value per category (None = NA) onto rows as a categorical, without per-row work.

    Rows where ``col`` is NA get ``missing``.
    """
    values = np.empty(len(col.cats) + 1, dtype=object)
    values[:-1] = per_category
    values[-1] = missing
    codes, uniques = pd.factorize(pd.array(values, dtype=object), use_na_sentinel=True)
    row_codes = codes.astype(np.int64)[col.codes]  # NA rows (code -1) take the last entry
    return _observed(row_codes, list(uniques))


def _observed(row_codes: np.ndarray, categories: list[Any]) -> pd.Categorical:
    """A categorical of only the categories some row uses (``-1`` = NA).

    Input columns keep the categories of rows filtered away; a derived column must not carry
    them on, or ``value_counts`` and groupbys show groups of zero events.
    """
    k = len(categories)
    used = np.bincount(row_codes[row_codes >= 0], minlength=k).astype(bool)
    if used.all():
        return pd.Categorical.from_codes(row_codes, dtype=pd.CategoricalDtype(categories))
    remap = np.full(k + 1, -1, dtype=np.int64)
    remap[np.flatnonzero(used)] = np.arange(int(used.sum()))
    kept = [c for c, u in zip(categories, used) if u]
    return pd.Categorical.from_codes(remap[row_codes], dtype=pd.CategoricalDtype(kept))


_LF_KIND = re.compile(r"AWSLF-00-[A-Za-z0-9]{2}-")


def _lf_kind(session: str) -> str | None:
    """``AWSLF-00-AT-…`` for a Lake Formation session (its engine code kept, the per-query
    rest dropped), None for any other session."""
    if not session.startswith("AWSLF-00-"):
        return None
    m = _LF_KIND.match(session)
    return (m.group(0) if m else "AWSLF-00-") + "…"


def _recode(col: Col, per_category: np.ndarray, name: str) -> Col:
    """``col`` with each category replaced by ``per_category`` (None = NA), equal values merged."""
    codes, uniq = pd.factorize(pd.array(per_category, dtype=object), use_na_sentinel=True)
    return Col(name, np.append(codes.astype(np.int64), -1)[col.codes],
               np.asarray(uniq, dtype=object))


def session_name(text: str) -> str | None:
    """The role session name in an assumed-role ARN or an ``AROA…:<session>`` principal id.

    Examples
    --------
    >>> session_name("arn:aws:sts::111122223333:assumed-role/web/i-0317f6c6b66ae9c40")
    'i-0317f6c6b66ae9c40'
    >>> session_name("AROAEXAMPLEROLE00001:GlueJobRunnerSession")
    'GlueJobRunnerSession'
    >>> session_name("arn:aws:iam::111122223333:user/dev") is None
    True
    """
    m = _ARN_SESSION.search(text) or _PID_SESSION.match(text)
    return m.group(1) if m else None


def service_label(name: str) -> str:
    """Rule 5's label for an AWS service DNS name (``athena.amazonaws.com`` -> ``athena``).

    Examples
    --------
    >>> [service_label(n) for n in ("athena.amazonaws.com", "redshift-serverless.amazonaws.com",
    ...                              "ops.emr-serverless.amazonaws.com", "cloudfront.amazonaws.com")]
    ['athena', 'redshift', 'emr', 'service-other']
    """
    svc = name.strip().lower().removesuffix(".amazonaws.com")
    if svc.startswith("ops."):
        svc = svc[4:]
    head = svc.split(".")[0]
    if head == "athena":
        return "athena"
    if head == "glue":
        return "glue"
    if head.startswith("redshift"):
        return "redshift"
    if head in {"elasticmapreduce", "emr"} or head.startswith(("emr-", "emr_")):
        return "emr"
    return "service-other"


def _short(value: str | None, limit: int = 70) -> str:
    if value is None:
        return "none"
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")


# ---------------------------------------------------------------------------------------------
# the rules
class _Context:
    """Columns of one frame, read lazily once, plus per-address AWS-range answers."""

    def __init__(self, events: pd.DataFrame, ranges: AwsIpRanges,
                 own_vpc_endpoints: set[str] | None, own_accounts: set[str]) -> None:
        self.events = events
        self.n = len(events)
        self.ranges = ranges
        self.own_vpc_endpoints = own_vpc_endpoints
        self.own_accounts = own_accounts
        self._cols: dict[str, Col] = {}
        self._ip_info: dict[str, np.ndarray] | None = None
        self._ip_service_name: np.ndarray | None = None

    def col(self, name: str) -> Col:
        if name not in self._cols:
            if name in (IP_CLASS, IP_SERVICE_NAME):
                self._cols[name] = self._derived(name)
            elif name == SESSION:
                self._cols[name] = self._sessions()
            elif name == LF_SESSION:
                session = self.col(SESSION)
                kinds = np.array([_lf_kind(c) for c in session.cats], dtype=object)
                self._cols[name] = _recode(session, kinds, name)
            elif name == VPCE:
                self._cols[name] = coalesce(column(self.events, VPCE),
                                            column(self.events, VPCE_OLD), VPCE)
            elif name == UA:
                raw = column(self.events, UA)
                stripped = np.array([strip_brackets(c) for c in raw.cats], dtype=object)
                self._cols[name] = Col(UA, raw.codes, raw.cats)
                self._cols["(ua stripped)"] = Col(UA, raw.codes, stripped)
            else:
                self._cols[name] = column(self.events, name)
        return self._cols[name]

    def ua(self) -> Col:
        """The user agent with brackets stripped (categories stripped, codes shared)."""
        self.col(UA)
        return self._cols["(ua stripped)"]

    def empty_text(self, name: str) -> np.ndarray:
        """Rows whose value is the empty text ``""`` (present but empty; :func:`column` reads
        ``""`` as NA, and missing or null stay False here)."""
        if name not in self.events.columns:
            return np.zeros(self.n, dtype=bool)
        series = self.events[name]
        if isinstance(series.dtype, pd.CategoricalDtype):
            cats = series.cat.categories
            hit = np.append(np.asarray([isinstance(c, str) and c == "" for c in cats], dtype=bool),
                            False)
            return hit[series.cat.codes.to_numpy()]
        return np.asarray((series == "").fillna(False), dtype=bool)

    def _sessions(self) -> Col:
        """The role session name per row: from the assumed-role ARN, else from an
        ``AROA…:<session>`` principal id. Parsed once per distinct ARN / principal id and kept
        as codes over the distinct sessions, so rules 4 and 11 and their reasons work per
        session (Lake Formation vends a new one per query: many ARNs, one parse each)."""
        arn, pid = self.col(ARN), self.col(PRINCIPAL_ID)
        names = [session_name(c) for c in arn.cats] + [session_name(c) for c in pid.cats]
        codes, uniq = pd.factorize(pd.array(names, dtype=object), use_na_sentinel=True)
        codes = codes.astype(np.int64)
        from_arn = np.append(codes[:len(arn.cats)], -1)[arn.codes]
        from_pid = np.append(codes[len(arn.cats):], -1)[pid.codes]
        return Col(SESSION, np.where(from_arn >= 0, from_arn, from_pid),
                   np.asarray(uniq, dtype=object))

    def session(self, predicate: Callable[[str], bool]) -> np.ndarray:
        """Rows whose role session name (from the ARN, else the principal id) satisfies it."""
        return self.col(SESSION).where(predicate)

    def ip_info(self) -> dict[str, np.ndarray]:
        """AWS ranges per distinct ``sourceIPAddress`` category (one lookup per address)."""
        if self._ip_info is None:
            self._ip_info = self.ranges.lookup_arrays(self.col(IP).cats)
        return self._ip_info

    def ip_is_service_name(self) -> np.ndarray:
        """Per ``sourceIPAddress`` category: is it a ``*.amazonaws.com`` service name?"""
        if self._ip_service_name is None:
            self._ip_service_name = np.array([c.endswith(".amazonaws.com")
                                              for c in self.col(IP).cats], dtype=bool)
        return self._ip_service_name

    def _derived(self, name: str) -> Col:
        ip = self.col(IP)
        if name == IP_SERVICE_NAME:
            keep = np.append(self.ip_is_service_name(), False)
            return Col(name, np.where(keep[ip.codes], ip.codes, -1), ip.cats)
        # IP_CLASS: what the address tells about the path, at the granularity of AWS ranges
        info = self.ip_info()
        # addresses outside AWS fall in three classes; inside, one class per most specific
        # prefix (its services and regions are the same for every address of the prefix)
        outside = np.where(info["ip_kind"] == None, "not an IP address",  # noqa: E711
                           np.where(info["ip_private"], "a private address in no AWS range",
                                    "a public address in no AWS range")).astype(object)
        inside = info["ip_service"] != ""
        if inside.any():
            pcodes, prefixes = pd.factorize(pd.array(info["ip_prefix"][inside], dtype=object))
            first = np.flatnonzero(inside)[np.unique(pcodes, return_index=True)[1]]
            names = np.array([f"in AWS range {info['ip_prefix'][i]} ({info['ip_service'][i]}, "
                              f"{info['ip_region'][i]})" for i in first], dtype=object)
            outside[inside] = names[pcodes]
        codes, uniq = pd.factorize(pd.array(outside, dtype=object))
        row = np.append(codes.astype(np.int64), len(uniq))[ip.codes]
        return Col(name, row, np.array([*uniq, "missing"], dtype=object))

    def in_aws(self) -> np.ndarray:
        ip = self.col(IP)
        found = self.ip_info()["ip_service"] != ""
        return np.append(found, False)[ip.codes]

    def ec2_credentials(self) -> np.ndarray:
        return self.col(EC2_DELIVERY).present() | \
            self.col(ISSUER_TYPE).where(lambda t: t == "AWS::EC2::Instance")


@dataclass(frozen=True)
class Rule:
    """One row of the ordered rule table.

    ``match(ctx)`` returns a boolean mask and either one source label or one label per row;
    ``reason(ctx, values)`` writes the sentence from the deciding columns' values.
    """

    number: int
    labels: tuple[str, ...]
    summary: str
    deciding: tuple[str, ...]
    match: Callable[[_Context], tuple[np.ndarray, str | np.ndarray]]
    reason: Callable[[_Context, dict[str, str | None], dict[str, int]], str]


_ANONYMOUS_ACCOUNTS = frozenset({"ANONYMOUS_PRINCIPAL", "anonymous"})


def _r1(ctx: _Context):
    # reference §6 rule 1: the anonymous account ids, "or type AWSAccount with empty
    # principalId" (the shape of an unsigned request, whatever accountId says)
    return (ctx.col(ACCOUNT).where(lambda t: t in _ANONYMOUS_ACCOUNTS)
            | (ctx.col(ID_TYPE).where(lambda t: t == "AWSAccount")
               & ctx.empty_text(PRINCIPAL_ID))), "anonymous"


def _why_anonymous(v: dict[str, str | None]) -> str:
    if v[ACCOUNT] in _ANONYMOUS_ACCOUNTS:
        return f"userIdentity.accountId is {_short(v[ACCOUNT])}"
    return ("userIdentity.type is 'AWSAccount' with an empty principalId"
            + _optional(" (accountId ", v[ACCOUNT], ")"))


def _r2(ctx: _Context):
    return ctx.col(ID_TYPE).where(lambda t: t == "AWSService"), "aws-service"


def _is_internal(text: str | None) -> bool:
    return text is not None and text.startswith("AWS Internal")


def _r3(ctx: _Context):
    return ctx.col(IP).where(_is_internal) | ctx.col(INVOKED_BY).where(_is_internal), \
        "aws-internal"


def _r4(ctx: _Context):
    return ctx.session(lambda s: s.startswith("AWSLF-00-")), "lake-formation"


def _r5(ctx: _Context):
    inv, ip = ctx.col(INVOKED_BY), ctx.col(IP)
    is_service = ctx.ip_is_service_name()
    codes_ip = np.full(len(ip.cats) + 1, -1, dtype=np.int64)
    for i in np.flatnonzero(is_service):
        codes_ip[i] = _CODE[service_label(ip.cats[i])]
    codes_inv = np.array([_CODE[service_label(c)] for c in inv.cats] + [-1], dtype=np.int64)
    by_inv = inv.present()
    ip_label = codes_ip[ip.codes]
    mask = by_inv | (ip_label >= 0)
    labels = np.where(by_inv, codes_inv[inv.codes], ip_label)
    return mask, labels


def _r6(ctx: _Context):
    return ctx.ua().where(lambda t: t.startswith("S3Console/") or "aws-internal/3" in t), "console"


def _query_string(ctx: _Context) -> np.ndarray:
    return ctx.col(AUTH).where(lambda t: t == "QueryString")


def _r7(ctx: _Context):
    mask = _query_string(ctx) & ctx.ua().where(lambda t: t.startswith("Mozilla/")) & \
        ctx.col(EXPIRES).where(lambda t: t == "300")  # reference §6: exactly "300" (or 300)
    return mask, "console-browser"


def _r8(ctx: _Context):
    return _query_string(ctx), "presigned-url"


def _r9(ctx: _Context):
    return ctx.ua().where(lambda t: "exec-env/CloudShell" in t), "cloudshell"


def _r10(ctx: _Context):
    return (ctx.col(ISSUER_TYPE).where(lambda t: t == "AWS::Lambda::Function")
            | ctx.ua().where(lambda t: "exec-env/AWS_Lambda_" in t)), "lambda"


_SESSION_LABELS = {"GlueJobRunnerSession": "glue", "SageMaker": "sagemaker",
                   "RedshiftIamRoleSession": "redshift"}


def _r11(ctx: _Context):
    labels = np.full(ctx.n, -1, dtype=np.int64)
    mask = np.zeros(ctx.n, dtype=bool)
    for session, label in _SESSION_LABELS.items():
        hit = ctx.session(lambda s, want=session: s == want)
        labels[hit] = _CODE[label]
        mask |= hit
    return mask, labels


def _owned_endpoint(ctx: _Context) -> np.ndarray:
    vpce = ctx.col(VPCE)
    if ctx.own_vpc_endpoints is not None:
        return vpce.where(lambda t: t in ctx.own_vpc_endpoints)
    owner, recipient = ctx.col(VPCE_OWNER), ctx.col(RECIPIENT)
    owned = same_value(owner, recipient) | owner.where(lambda t: t in ctx.own_accounts)
    full_length = vpce.where(lambda t: _FULL_VPCE.fullmatch(t) is not None)
    return vpce.present() & np.where(owner.present(), owned, full_length)


def _r12(ctx: _Context):
    return _owned_endpoint(ctx), "vpc-endpoint"


def _r13(ctx: _Context):
    return ctx.col(VPCE).present(), "other-vpc-endpoint"


def _r14(ctx: _Context):
    return ctx.ec2_credentials() & ~ctx.col(VPCE).present(), "ec2"


def _r15(ctx: _Context):
    return ctx.in_aws(), "aws-network"


def _r16(ctx: _Context):
    return np.ones(ctx.n, dtype=bool), "external"


# reasons -------------------------------------------------------------------------------------
def _optional(before: str, value: str | None, after: str) -> str:
    """``before + 'value' + after`` when the value is present, else nothing."""
    return "" if value is None else f"{before}{_short(value)}{after}"


def _why_ip(values: dict[str, str | None]) -> str:
    # one sentence per AWS range / address class, not per address: the address is in the row
    text = values.get(IP_CLASS)
    if text is None or text == "missing":
        return "no sourceIPAddress"
    return f"sourceIPAddress is {text}"


def _owner_phrase(ctx: _Context, v: dict[str, str | None]) -> str:
    if ctx.own_vpc_endpoints is not None:
        return "is one of own_vpc_endpoints"
    owner, recipient = v.get(VPCE_OWNER), v.get(RECIPIENT)
    if owner is not None:
        if owner == recipient:
            return f"is owned by the recipient account {owner} (vpcEndpointAccountId)"
        return f"is owned by {owner}, one of own_accounts"
    return "is a full-length customer endpoint id with no owner recorded"


def _not_owned_phrase(ctx: _Context, v: dict[str, str | None]) -> str:
    if ctx.own_vpc_endpoints is not None:
        return "is not one of own_vpc_endpoints"
    owner, recipient = v.get(VPCE_OWNER), v.get(RECIPIENT)
    if owner is not None:
        return (f"is owned by account {owner} (vpcEndpointAccountId), not the recipient "
                f"{recipient or 'unknown'}{' or own_accounts' if ctx.own_accounts else ''}")
    return "is not a full-length customer endpoint id (an AWS-owned or service endpoint)"


RULES: tuple[Rule, ...] = (
    Rule(1, ("anonymous",), "userIdentity.accountId is ANONYMOUS_PRINCIPAL or anonymous (or "
         "type AWSAccount with an empty principalId)",
         (ACCOUNT, ID_TYPE), _r1,
         lambda c, v, k: f"Rule 1 (anonymous): {_why_anonymous(v)}."),
    Rule(2, ("aws-service",), "userIdentity.type is AWSService", (ID_TYPE, INVOKED_BY), _r2,
         lambda c, v, k: (f"Rule 2 (aws-service): userIdentity.type is 'AWSService'"
                          + _optional(" (invokedBy ", v[INVOKED_BY], ")") + ".")),
    Rule(3, ("aws-internal",), "sourceIPAddress or invokedBy starts with 'AWS Internal'",
         (IP, INVOKED_BY), _r3,
         lambda c, v, k: (f"Rule 3 (aws-internal): "
                          + " and ".join(f"{name} {_short(v[col])}"
                                         for name, col in (("sourceIPAddress", IP),
                                                           ("invokedBy", INVOKED_BY))
                                         if _is_internal(v[col]))
                          + " starts with 'AWS Internal' (a call AWS made internally).")),
    Rule(4, ("lake-formation",), "role session name starts with AWSLF-00-",
         (LF_SESSION, INVOKED_BY), _r4,
         lambda c, v, k: (f"Rule 4 (lake-formation): role session name "
                          f"{_short(v[LF_SESSION])} starts with 'AWSLF-00-' (Lake Formation "
                          f"vended credentials" + _optional("; invokedBy ", v[INVOKED_BY], "")
                          + ").")),
    Rule(5, ("athena", "glue", "redshift", "emr", "service-other"),
         "invokedBy is set or sourceIPAddress is a *.amazonaws.com name; label = that service",
         (INVOKED_BY, IP_SERVICE_NAME), _r5,
         lambda c, v, k: (
             f"Rule 5 ({service_label(v[INVOKED_BY] or v[IP_SERVICE_NAME] or '')}): an AWS "
             f"service acted with the caller's credentials — "
             + (f"invokedBy {_short(v[INVOKED_BY])}." if v[INVOKED_BY] is not None
                else f"sourceIPAddress {_short(v[IP_SERVICE_NAME])} is a service name."))),
    Rule(6, ("console",), "user agent starts with S3Console/ or contains aws-internal/3",
         (UA, VPCE), _r6,
         lambda c, v, k: (f"Rule 6 (console): console backend call — userAgent {_short(v[UA])} "
                          + ("starts with 'S3Console/'"
                             if strip_brackets(v[UA] or "").startswith("S3Console/")
                             else "contains 'aws-internal/3'")
                          + _optional(" (vpcEndpointId ", v[VPCE], ")") + ".")),
    Rule(7, ("console-browser",),
         "QueryString auth, user agent starts with Mozilla/, X-Amz-Expires is 300",
         (UA, EXPIRES), _r7,
         lambda c, v, k: (f"Rule 7 (console-browser): presigned request (QueryString) from a "
                          f"browser {_short(v[UA], 40)} with X-Amz-Expires "
                          f"{_short(v[EXPIRES])}, as the console's Open/Download/Upload makes.")),
    Rule(8, ("presigned-url",), "any other QueryString request", (UA, EXPIRES), _r8,
         lambda c, v, k: (f"Rule 8 (presigned-url): AuthenticationMethod is 'QueryString' "
                          f"(X-Amz-Expires {_short(v[EXPIRES])}, userAgent "
                          f"{_short(v[UA], 40)}).")),
    Rule(9, ("cloudshell",), "user agent contains exec-env/CloudShell", (UA,), _r9,
         lambda c, v, k: (f"Rule 9 (cloudshell): userAgent {_short(v[UA])} contains "
                          f"'exec-env/CloudShell'.")),
    Rule(10, ("lambda",),
         "inScopeOf.issuerType is AWS::Lambda::Function or user agent has exec-env/AWS_Lambda_",
         (ISSUER_TYPE, UA), _r10,
         lambda c, v, k: (
             "Rule 10 (lambda): "
             + ("userIdentity.inScopeOf.issuerType is 'AWS::Lambda::Function'"
                if v[ISSUER_TYPE] == "AWS::Lambda::Function"
                else f"userAgent {_short(v[UA])} contains 'exec-env/AWS_Lambda_'") + ".")),
    Rule(11, ("glue", "sagemaker", "redshift"),
         "role session GlueJobRunnerSession / SageMaker / RedshiftIamRoleSession",
         (SESSION,), _r11,
         lambda c, v, k: (
             f"Rule 11 ({_SESSION_LABELS.get(v[SESSION] or '', '?')}): role session "
             f"name is {_short(v[SESSION])}.")),
    Rule(12, ("vpc-endpoint",),
         "vpcEndpointId is one of yours (own_vpc_endpoints, else owner = recipient/own_accounts, "
         "else a full-length customer id)",
         (VPCE, VPCE_OWNER, RECIPIENT), _r12,
         lambda c, v, k: (f"Rule 12 (vpc-endpoint): vpcEndpointId {_short(v[VPCE])} "
                          f"{_owner_phrase(c, v)}.")),
    Rule(13, ("other-vpc-endpoint",), "any other vpcEndpointId", (VPCE, VPCE_OWNER, RECIPIENT),
         _r13,
         lambda c, v, k: (f"Rule 13 (other-vpc-endpoint): vpcEndpointId {_short(v[VPCE])} "
                          f"{_not_owned_phrase(c, v)}.")),
    Rule(14, ("ec2",), "EC2 instance credentials and no endpoint",
         (EC2_DELIVERY, ISSUER_TYPE, IP_CLASS), _r14,
         lambda c, v, k: (
             "Rule 14 (ec2): EC2 instance-profile credentials ("
             + (f"sessionContext.ec2RoleDelivery {_short(v[EC2_DELIVERY])}"
                if v[EC2_DELIVERY] is not None
                else "inScopeOf.issuerType 'AWS::EC2::Instance'")
             + f") with no VPC endpoint; {_why_ip(v)}.")),
    Rule(15, ("aws-network",), "sourceIPAddress inside AWS's published ranges", (IP_CLASS,), _r15,
         lambda c, v, k: f"Rule 15 (aws-network): {_why_ip(v)}."),
    Rule(16, ("external",), "everything else", (IP_CLASS,), _r16,
         lambda c, v, k: f"Rule 16 (external): no earlier rule matched; {_why_ip(v)}."),
)


def rules_table() -> pd.DataFrame:
    """The ordered rule table as a frame (for notebooks and docs).

    Examples
    --------
    >>> rules_table().loc[0, "labels"]
    'anonymous'
    """
    return pd.DataFrame([{"rule": r.number, "labels": ", ".join(r.labels), "when": r.summary,
                          "reads": ", ".join(d for d in r.deciding)} for r in RULES])


# ---------------------------------------------------------------------------------------------
def classify(events: pd.DataFrame, *, own_vpc_endpoints: Iterable[str] | None = None,
             own_accounts: Iterable[str] | None = None,
             ip_ranges: AwsIpRanges | Mapping[str, Any] | str | None = None) -> pd.DataFrame:
    """Label every event with its access source (first matching rule of :data:`RULES`).

    Parameters
    ----------
    events : DataFrame
        An event frame (:func:`s3audit.load_events`); absent columns count as NA.
    own_vpc_endpoints : iterable of str or str, optional
        Your VPC endpoint ids (one id may be given as a string). When given, only these are ``vpc-endpoint``; every other
        ``vpcEndpointId`` is ``other-vpc-endpoint``.
    own_accounts : iterable of str or str, optional
        Accounts (or one account as a string) whose endpoints count as yours (besides the recipient account) when
        ``vpcEndpointAccountId`` is recorded.
    ip_ranges : AwsIpRanges, dict, or path, optional
        AWS's ranges; default the newest offline copy (:func:`s3audit.ipranges.load_ip_ranges`).

    Returns
    -------
    DataFrame
        A shallow copy of ``events`` with the columns in :data:`ADDED_COLUMNS` added (replaced if
        present). ``attrs["ip_ranges"]`` records which ranges copy was used.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"userIdentity.accountId": ["ANONYMOUS_PRINCIPAL"],
    ...                    "sourceIPAddress": ["198.51.100.7"]})
    >>> row = classify(df).iloc[0]
    >>> row["source"], row["source_reason"]
    ('anonymous', "Rule 1 (anonymous): userIdentity.accountId is 'ANONYMOUS_PRINCIPAL'.")
    """
    if not isinstance(events, pd.DataFrame):
        raise TypeError(f"classify expects a pandas DataFrame, not {type(events).__name__}")
    ranges = resolve_ip_ranges(ip_ranges)
    ctx = _Context(events, ranges,
                   _id_set(own_vpc_endpoints) if own_vpc_endpoints is not None else None,
                   _id_set(own_accounts or ()))
    # First match wins: write the rules' numbers last to first, so an earlier rule overwrites
    # a later one. The last rule matches everything.
    rule_of = np.full(ctx.n, len(RULES) - 1, dtype=np.int8)
    per_row_labels: dict[int, np.ndarray] = {}
    for i in range(len(RULES) - 2, -1, -1):
        mask, label = RULES[i].match(ctx)
        rule_of[mask] = i
        if not isinstance(label, str):
            per_row_labels[i] = label
    label_of = np.array([_CODE[r.labels[0]] for r in RULES], dtype=np.int8)[rule_of]
    for i, labels in per_row_labels.items():
        rows = rule_of == i
        label_of[rows] = labels[rows]

    out = events.copy(deep=False)
    out["source"] = pd.Categorical.from_codes(label_of, dtype=SOURCE_DTYPE)
    out["source_reason"] = _reasons(ctx, rule_of)
    account, recipient = ctx.col(ACCOUNT), ctx.col(RECIPIENT)
    caller_is_account = account.where(lambda t: _ACCOUNT_ID.fullmatch(t) is not None)
    out["cross_account"] = caller_is_account & recipient.present() & ~same_value(account, recipient)
    ip = ctx.col(IP)
    info = ctx.ip_info()
    off_aws = ((info["ip_kind"] != None) & (info["ip_service"] == "")  # noqa: E711
               & ~info["ip_private"])
    out["credentials_off_instance"] = ctx.ec2_credentials() & np.append(off_aws, False)[ip.codes]
    empty_to_na = lambda a: np.where(a == "", None, a)  # noqa: E731
    out["ip_service"] = _map_categorical(ip, empty_to_na(info["ip_service"]))
    out["ip_region"] = _map_categorical(ip, empty_to_na(info["ip_region"]))
    out["ip_prefix"] = _map_categorical(ip, info["ip_prefix"])
    ua = ctx.col(UA)
    out["ua_family"] = _map_categorical(ua, ua_families(ua.cats), missing=MISSING)
    out.attrs = dict(events.attrs)
    out.attrs["ip_ranges"] = {"origin": ranges.origin, "createDate": ranges.create_date,
                              "syncToken": ranges.sync_token}
    return out


def _id_set(values: Iterable[str] | str) -> set[str]:
    """Ids as a set; one id given as a plain string is that id (``set("vpce-…")`` would be its
    characters, and no endpoint would be yours)."""
    if isinstance(values, str):
        return {values}
    return {str(v) for v in values}


def _reasons(ctx: _Context, rule_of: np.ndarray) -> pd.Categorical:
    """One sentence per distinct (rule, deciding values), mapped onto rows."""
    texts: list[str] = []
    row_codes = np.full(ctx.n, -1, dtype=np.int64)
    for i, rule in enumerate(RULES):
        rows = np.flatnonzero(rule_of == i)
        if not len(rows):
            continue
        cols = [ctx.col(name) for name in rule.deciding]
        key = np.zeros(len(rows), dtype=np.int64)
        for col in cols:
            key = key * (len(col.cats) + 1) + (col.codes[rows].astype(np.int64) + 1)
        inverse, uniques = pd.factorize(key)
        for combo in uniques:
            codes: dict[str, int] = {}
            rest = int(combo)
            for col, name in zip(reversed(cols), reversed(rule.deciding)):
                base = len(col.cats) + 1
                codes[name] = rest % base - 1
                rest //= base
            values = {name: ctx.col(name).value(c) for name, c in codes.items()}
            texts.append(rule.reason(ctx, values, codes))
        row_codes[rows] = inverse + (len(texts) - len(uniques))
    text_codes, distinct = pd.factorize(np.array(texts, dtype=object))
    final = np.append(text_codes.astype(np.int64), -1)[row_codes]
    return pd.Categorical.from_codes(final, dtype=pd.CategoricalDtype(list(distinct)))


# ---------------------------------------------------------------------------------------------
def principal(events: pd.DataFrame, *, role_sessions: bool = True) -> pd.Categorical:
    """Who made each call, as one readable categorical.

    ``userIdentity.arn`` when present (with ``role_sessions=False`` an assumed-role ARN loses its
    session name, ``…:assumed-role/<role>/*``, so per-job or per-instance sessions count as one
    principal); otherwise ``account <id> (<principalId>)`` for reduced
    cross-account identities (with ``role_sessions=False`` ``AROA…:<session>`` becomes
    ``AROA…:*``), the ``invokedBy`` service for AWS service principals, or
    ``anonymous``.

    Examples
    --------
    >>> import pandas as pd
    >>> list(principal(pd.DataFrame({"userIdentity.type": ["AWSService"],
    ...                              "userIdentity.invokedBy": ["s3.amazonaws.com"]})))
    ['service s3.amazonaws.com']
    """
    arn, acct = column(events, ARN), column(events, ACCOUNT)
    pid, inv = column(events, PRINCIPAL_ID), column(events, INVOKED_BY)
    typ = column(events, ID_TYPE)
    # rows with an ARN are named by it; the others by the distinct combinations of the rest
    no_arn = np.flatnonzero(arn.codes < 0)
    cols = (acct, pid, inv, typ)
    key = np.zeros(len(no_arn), dtype=np.int64)
    for col in cols:
        key = key * (len(col.cats) + 1) + (col.codes[no_arn].astype(np.int64) + 1)
    inverse, uniques = pd.factorize(key)
    names: list[str | None] = list(arn.cats) if role_sessions else \
        [_ROLE_SESSION_TAIL.sub(r"\1/*", a) for a in arn.cats]
    for combo in uniques:
        rest, vals = int(combo), []
        for col in reversed(cols):
            base = len(col.cats) + 1
            vals.append(col.value(rest % base - 1))
            rest //= base
        t, i, p, a = vals
        if p is not None and not role_sessions:
            # the reduced identity of a cross-account role: AROA…:<session> -> AROA…:*
            p = _PID_SESSION_TAIL.sub(r"\1:*", p)
        if a in _ANONYMOUS_ACCOUNTS:
            names.append("anonymous")
        elif a is not None:
            names.append(f"account {a}" + (f" ({p})" if p and p != a else ""))
        elif i is not None:
            names.append(f"service {i}")
        elif p is not None:
            names.append(p)
        else:
            names.append(f"({t.lower()})" if t else None)
    row = arn.codes.astype(np.int64)
    row[no_arn] = len(arn.cats) + inverse
    codes, distinct = pd.factorize(pd.array(names, dtype=object), use_na_sentinel=True)
    return _observed(np.append(np.asarray(codes, dtype=np.int64), -1)[row], list(distinct))


def explain_examples(events: pd.DataFrame, per_source: int = 3, **classify_options: Any
                     ) -> pd.DataFrame:
    """A few events per source with the sentence that explains each label.

    Classifies first when ``events`` has no ``source`` column. Picks the earliest events of each
    source (by ``eventTime`` when present) so the choice is deterministic.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"userIdentity.accountId": ["anonymous"] * 5})
    >>> len(explain_examples(df, per_source=2))
    2
    """
    frame = events if "source" in events.columns else classify(events, **classify_options)
    if "eventTime" in frame.columns:
        frame = frame.sort_values("eventTime", kind="stable")
    picked = frame.groupby("source", observed=True, sort=True).head(per_source)
    picked = picked.sort_values("source", kind="stable")
    wanted = ["source", "source_reason", "eventTime", "eventName", "sourceIPAddress",
              "vpcEndpointId", "userAgent", "ip_service", "ip_region", "ua_family", "eventID"]
    table = picked[[c for c in wanted if c in picked.columns]].copy()
    table.insert(3, "principal", principal(picked))
    return table.reset_index(drop=True)
