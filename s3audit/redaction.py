"""Consistent keyed pseudonyms for everything in CloudTrail S3 data that identifies an account.

A :class:`Redactor` holds one secret key and the mapping it has built, so a frame, free text, a
metric-filter pattern, plot labels and JSON documents redacted by the same object use the same
token for the same identifier. Tokens are derived with HMAC-SHA256 from the key, so with the
same key the same input gives the same token (collisions, which are rare, are resolved in the
order identifiers are met: only the mapping of one Redactor is guaranteed).

What is redacted, and what each token keeps:

=================  ====================================  ===========================================
kind               example original                      token (keeps)
=================  ====================================  ===========================================
account            ``111122223333``                      12 digits (an account id still looks like one)
access-key         ``AKIAIOSFODNN7EXAMPLE``              ``AKIAREDACTED…`` (long-term vs temporary)
principal-id       ``AROA…:session``                     ``AROAREDACTED…:name-…`` (kind of principal)
arn                ``arn:aws:iam::1111…:role/etl``       ``arn:aws:iam::<acct>:role/name-…`` (structure)
name               IAM user / role / session names        ``name-<8 hex>``
ip                 ``10.0.1.7``, ``3.112.9.1``, ``8.8.8.8``  an address of the same class: private stays
                                                         in its private block, AWS stays inside the
                                                         same AWS prefix (so it is still AWS, same
                                                         service and region), external stays public
                                                         and outside AWS; addresses sharing a /8,
                                                         /16 or /24 still share it (octet-wise
                                                         prefix-preserving), so ``10.0.1.*`` in a
                                                         pattern still means the same addresses
vpce / vpc / …     ``vpce-0123456789abcdef0``            same prefix and length, new hex
bucket             ``payroll-prod``                      ``bucket-<8 hex>`` (a valid bucket name)
key                ``2026/01/run.csv``                   per path segment ``k<6 hex>`` + extension, so
                                                         keys sharing a prefix still share it
email              ``secops@example.com``                ``email-<8 hex>@redacted.invalid``
=================  ====================================  ===========================================

Service names (``s3.amazonaws.com``, ``AWS Internal``, ``ANONYMOUS_PRINCIPAL``), AWS-defined
session names (``GlueJobRunnerSession``…), service-linked role names and AWS-owned accounts in
managed policy ARNs (``arn:aws:iam::aws:policy/…``) stay readable.

Identifiers embedded in longer strings are found too: ARNs inside text, bucket names and endpoint
ids in ``Host`` headers, addresses in ``ip-10-0-1-7`` host names inside user agents, octet
wildcards (``10.0.1.*``) in patterns, and every string of the ``raw`` JSON record (walked field by
field). Free text is redacted for the identifiers the Redactor has *seen* (in structured fields)
plus everything that has a recognisable shape (ARNs, key ids, endpoint ids, addresses, e-mails).

AWS-ness of addresses comes from :mod:`s3audit.ipranges` (the bundled or cached ``ip-ranges.json``).
If that cannot be loaded, the documented fallback is: AWS addresses are treated as external ones
(public, prefix-preserving) and their AWS service/region stays visible only in the classified
frame's ``ip_service`` / ``ip_region`` columns, which are not identifiers.

Examples
--------
>>> r = Redactor(key="demo")
>>> a = r.text("GetObject from 10.0.1.7 by arn:aws:iam::111122223333:user/alice")
>>> "111122223333" in a or "alice" in a or "10.0.1.7" in a
False
>>> r.ip("10.0.1.7") == r.ip("10.0.1.7") and r.ip("10.0.1.7").startswith("10.")
True
>>> r.ip("10.0.1.8").rsplit(".", 1)[0] == r.ip("10.0.1.7").rsplit(".", 1)[0]  # same /24
True
"""
from __future__ import annotations

import hashlib
import hmac
import html
import ipaddress
import json
import logging
import re
import secrets
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from typing import Any, overload

import pandas as pd

log = logging.getLogger(__name__)

__all__ = ["Redactor", "RedactionError", "redact", "parse_ip", "decode_escapes", "pattern_values",
           "field_handler", "KINDS"]

KINDS = ("account", "access-key", "principal-id", "arn", "name", "ip", "vpce", "vpc",
         "resource-id", "bucket", "key", "email")

# values that are never identifiers (compared case-insensitively)
PROTECTED = frozenset(s.lower() for s in (
    "AWS Internal", "ANONYMOUS_PRINCIPAL", "anonymous", "aws", "amazon", "amazonaws", "com",
    "s3", "root", "internal", "AWSService", "AWSAccount", "IAMUser", "AssumedRole", "Root",
    "FederatedUser", "GlueJobRunnerSession", "RedshiftIamRoleSession", "SageMaker",
    "service-role", "aws-service-role", "null", "none", "nan", "true", "false", "",
))
KEPT_NAME_PREFIXES = ("AWSServiceRoleFor",)
SSO_ROLE_PREFIX = "AWSReservedSSO_"  # kept; the permission-set name and suffix after it are not
LF_SESSION_PREFIX = "AWSLF-00-"
ARN_TYPE_WORDS = frozenset((
    "user", "role", "group", "policy", "assumed-role", "federated-user", "instance-profile",
    "root", "function", "instance", "accesspoint", "job", "mfa", "server-certificate", "oidc-provider",
    "saml-provider", "service-role", "aws-service-role", "log-group", "log-stream", "alarm", "topic",
    "trail", "key", "alias", "volume", "snapshot", "image", "table", "stream", "bucket", "object",
))
KEY_PREFIXES = ("AKIA", "ASIA", "ABIA", "ACCA")
PRINCIPAL_PREFIXES = ("AIDA", "AROA", "AIPA", "ANPA", "ANVA", "AGPA", "APKA", "ASCA", "AIDC")

# field name (last dotted component, lower case) -> handler name
_FIELD_KIND = {
    "accountid": "account", "recipientaccountid": "account", "vpcendpointaccountid": "account",
    "ownerid": "account", "account": "account", "arn": "arn", "arnprefix": "arn", "credentialsissuedto": "arn",
    "identitystorearn": "arn", "principalid": "principal_id", "accesskeyid": "access_key",
    "username": "name", "sourceidentity": "name", "sessionname": "name", "userid": "name",
    "sourceipaddress": "ip_or_text", "vpcendpointid": "vpce_or_text", "bucketname": "bucket",
    "key": "key", "prefix": "key", "x-amz-copy-source": "copy_source",
}
# never identifiers in real CloudTrail: only identifier shapes are redacted there (see _OPAQUE_SHAPES)
_SAFE_FIELDS = frozenset(s.lower() for s in (
    "eventTime", "eventVersion", "eventSource", "eventName", "eventType", "eventCategory",
    "awsRegion", "eventID", "requestID", "sharedEventID", "errorCode", "readOnly",
    "managementEvent", "source", "ua_family", "ip_service", "ip_region", "ip_kind", "ip_prefix",
    "type", "SignatureVersion", "CipherSuite", "AuthenticationMethod", "tlsVersion",
    "bytesTransferredIn", "bytesTransferredOut", "x-amz-id-2", "ec2RoleDelivery", "issuerType",
    "mfaAuthenticated", "creationDate", "X-Amz-Expires", "X-Amz-Algorithm", "X-Amz-Date",
    "X-Amz-SignedHeaders", "list-type", "max-keys", "encoding-type", "delimiter", "fetch-owner",
    "keyExchange", "invokedBy", "cross_account", "credentials_off_instance", "eventCategory",
))

# Safe fields are skipped because real CloudTrail never puts an identifier there; but the report
# shows some of them (eventName, awsRegion, invokedBy as the principal), so a value of an
# unexpected shape is still redacted by shape (``Redactor.shapes``). Opaque ids and times of the
# documented shape are kept exactly (the backtest maps alarms to rows by eventID; a UUID may end in
# 12 digits).
_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_ISO_TIME_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?")
_OPAQUE_SHAPES = {
    "eventid": _UUID_RE,
    "sharedeventid": _UUID_RE,
    "requestid": re.compile(r"[A-Za-z0-9]{16}"),
    "x-amz-id-2": re.compile(r"[A-Za-z0-9+/]{16,}={0,2}"),
    "eventtime": _ISO_TIME_RE,
    "creationdate": _ISO_TIME_RE,
    "x-amz-date": re.compile(r"\d{8}T\d{6}Z"),
}

_ARN_RE = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:[A-Za-z0-9_-]*:[^\s\"'<>,;)\]}]*")
# letters of any script: jürgen.müller@firma.de is an address too
_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.%+-]+@(?:[^\W_][\w-]*\.)+[^\W\d_]{2,}")
# boundaries are letters and digits, not \b / \w: "key_AKIA…" and "client_10.0.1.7" hold identifiers
_AKID_RE = re.compile(r"(?<![A-Za-z0-9])(?:%s)[A-Z0-9]{12,}(?![A-Za-z0-9])"
                      % "|".join(KEY_PREFIXES + PRINCIPAL_PREFIXES))
# case-insensitive: CloudTrail writes ids in lower case, but an upper-case copy names the same thing
_VPCE_DNS_RE = re.compile(r"(?<![A-Za-z0-9])(vpce-[0-9a-f]{8,17})(-[0-9a-z]{8})?(?![A-Za-z0-9])", re.I)
_RESID_RE = re.compile(r"(?<![A-Za-z0-9])(vpc|subnet|sg|eni|i|rtb|igw|nat|vpce-svc)-([0-9a-f]{8,17})"
                       r"(?![A-Za-z0-9])", re.I)
_CIDR_RE = re.compile(r"(?<![A-Za-z0-9])(?<!\d\.)(\d{1,3}(?:\.\d{1,3}){3}/\d{1,2})(?!\d)")
# a digit and a dot before an address make it part of a longer number (4.14.255.1.2); a letter
# and a dot do not (host.203.0.113.9)
_IPV4_RE = re.compile(r"(?<![A-Za-z0-9])(?<!\d\.)(\d{1,3}(?:\.\d{1,3}){3})(?![A-Za-z0-9]|\.\d|/\d)")
_IPV4_WILD_RE = re.compile(r"(?<![A-Za-z0-9])(?<!\d\.)(\d{1,3}(?:\.\d{1,3}){0,2})\.\*")
_IPV4_DASH_RE = re.compile(r"(?<![A-Za-z0-9-])(ip|ec2)-(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})(?!\d)")
# (a hex digit and ":" or "." before it, or ":" and a hex digit after it, make it part of more)
_IPV6_RE = re.compile(r"(?<![A-Za-z0-9])(?<![0-9A-Fa-f][:.])"
                      r"((?:[0-9A-Fa-f]{1,4})?(?::[0-9A-Fa-f]{0,4}){2,7}(?:%\w+)?)(?![A-Za-z0-9]|:[0-9A-Fa-f])")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_ACCOUNT_TEXT_RE = re.compile(r"(?<![0-9A-Za-z])(?<!\d[.,])(\d{12})(?![0-9A-Za-z]|[.,]\d)")  # a bare 12-digit number in text (also in trail file names: 111122223333_CloudTrail_…)
# the console's spelling of an account id (2109-8765-4321)
_ACCOUNT_DASHED_RE = re.compile(r"(?<![\w-])(\d{4})-(\d{4})-(\d{4})(?![\w-])")
# a known account id run into letters (acct210987654321): replaced, but only when already known
_ACCOUNT_RUN_RE = re.compile(r"(?<!\d)\d{12}(?!\d)")
# %-escapes, JSON \u escapes written as text, HTML character references: an identifier written
# with them is still that identifier (ceo%40example.com)
_ENCODED_RE = re.compile(r"%[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}"
                         r"|&(?:#\d{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_JSON_U_RE = re.compile(r"\\u([0-9A-Fa-f]{4})")
# a JSON clause of a metric-filter pattern with a quoted value: $.a.b = "v" / $.a[0].b != "v"
_CLAUSE_RE = re.compile(r'(\$\.[^\s=!&|(){}"\\]+)(\s*!?=\s*)"((?:[^"\\]|\\.)*)"')
# the same inside a JSON string (a template or a document dumped as text): $.a = \"v\"
_CLAUSE_ESCAPED_RE = re.compile(r'(\$\.[^\s=!&|(){}"\\]+)(\s*!?=\s*\\)"([^"\\]*)\\"')
# keys of a document mapping that hold values of its "field" (a design's exclusions)
_FIELD_VALUE_KEYS = frozenset(("values", "value", "equals", "not_equals"))
# a run of letters or digits, any script (a name without an ASCII letter is a name too)
_RUN_RE = re.compile(r"[^\W_]+")
_NAMEISH = frozenset(("name", "bucket", "account", "key", "email"))
_EXT_RE = re.compile(r"(\.[A-Za-z0-9]{1,5}(?:\.gz|\.bz2|\.zst)?)$")

_PRIVATE_BLOCKS = [ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16",
    "127.0.0.0/8", "fc00::/7", "fe80::/10", "::1/128",
)]
# other special-purpose (non-global) blocks: an address stays inside its block, so a
# documentation address (192.0.2.0/24, 2001:db8::/32…) never becomes a routable one
_SPECIAL_BLOCKS = sorted((ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "240.0.0.0/4", "2001:db8::/32", "2001::/23", "100::/64", "64:ff9b:1::/48",
)), key=lambda n: -n.prefixlen)


class RedactionError(ValueError):
    """Redaction could not keep its promises for a value (e.g. an address space is exhausted).

    Attributes
    ----------
    kind, value : str
        What could not be redacted.
    """

    def __init__(self, message: str, *, kind: str = "", value: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.value = value


def _aws_lookup_default() -> Callable[[list[str]], list[str | None]] | None:
    """``addresses -> most specific AWS prefix (or None)`` from s3audit.ipranges, if loadable."""
    try:
        from s3audit.ipranges import load_ip_ranges
        ranges = load_ip_ranges()
    except Exception as exc:  # noqa: BLE001 - documented fallback: no AWS-ness for addresses
        log.warning("AWS ip-ranges unavailable (%s): AWS addresses are redacted as external", exc)
        return None
    return _lookup_from_ranges(ranges)


def _lookup_from_ranges(ranges: Any) -> Callable[[list[str]], list[str | None]]:
    def lookup(addresses: list[str]) -> list[str | None]:
        frame = ranges.lookup_many(addresses)
        return [p if isinstance(p, str) and p else None for p in frame["ip_prefix"]]
    return lookup


class Redactor:
    """Keyed, consistent pseudonyms for account identifiers (see the module docstring).

    Parameters
    ----------
    key : bytes or str, optional
        The HMAC key. Default: a fresh random key (consistent within this object only). Keep a
        key secret: anyone holding it can test guesses of originals.
    accounts, principals, access_keys, ips, endpoints, buckets, emails : bool
        Which kinds to redact (all on by default). ``principals`` covers principal names and
        principal ids; ``endpoints`` covers vpce/vpc and other EC2 resource ids.
    keys : {"segments", "full", False}
        Object keys: each path segment pseudonymised (shared prefixes stay shared, file extension
        kept), the whole key as one token, or not at all.
    ip_ranges : AwsIpRanges, callable or None
        AWS ranges used to keep addresses inside their AWS prefix. ``None`` loads the bundled or
        cached copy via :mod:`s3audit.ipranges`; ``False`` disables (AWS treated as external).

    Examples
    --------
    >>> r = Redactor(key=b"k")
    >>> r.arn("arn:aws:sts::111122223333:assumed-role/etl/alice").split(":")[5].split("/")[0]
    'assumed-role'
    >>> r.account("111122223333") == r.arn("arn:aws:iam::111122223333:root").split(":")[4]
    True
    """

    def __init__(self, key: bytes | str | None = None, *, accounts: bool = True,
                 principals: bool = True, access_keys: bool = True, ips: bool = True,
                 endpoints: bool = True, buckets: bool = True, keys: str | bool = "segments",
                 emails: bool = True, ip_ranges: Any = None) -> None:
        if key is None:
            key = secrets.token_bytes(32)
        self._key = key.encode() if isinstance(key, str) else bytes(key)
        if keys not in ("segments", "full", False, True):
            raise ValueError(f"keys must be 'segments', 'full' or False, not {keys!r}")
        self.options = {"accounts": accounts, "principals": principals, "access_keys": access_keys,
                        "ips": ips, "endpoints": endpoints, "buckets": buckets,
                        "keys": "segments" if keys is True else keys, "emails": emails}
        self._ip_ranges_arg = ip_ranges
        self._aws_lookup: Callable[[list[str]], list[str | None]] | None | bool = ...  # lazy
        self._aws_cache: dict[str, str | None] = {}
        self._map: dict[tuple[str, str], str] = {}
        self._tokens: set[str] = set()
        self._originals: dict[str, set[str]] = {k: set() for k in KINDS}
        self._orig_ips: set[str] = set()
        self._ip_prefix_map: dict[tuple[int, ...], int] = {}  # (version, level, orig, container) -> pseudo
        self._ip_prefix_used: dict[tuple[int, int], set[int]] = {}
        self._ip_prefix_orig: dict[tuple[int, int], set[int]] = {}
        # prefixes an original's container keeps as they are: mapped to themselves everywhere,
        # so an address in a broader container still shares them (nested AWS prefixes)
        self._ip_prefix_pinned: dict[tuple[int, int], set[int]] = {}
        self._names_index: dict[str, list[tuple[str, int, str]]] = {}
        self._names_version = -1
        self._name_version = 0
        self._text_cache: dict[str, str] = {}
        self._key_folders: dict[str, str] = {}  # "a/b/" of keys seen -> its token (text only)
        self._shape_cache: dict[str, str] = {}  # values of safe fields -> shapes() of them
        self._aws_dense: dict[tuple[int, int, int], bool] = {}  # block -> mostly outside AWS

    def __repr__(self) -> str:
        counts = {k: len(v) for k, v in self._originals.items() if v}
        return f"Redactor({counts})"

    # ---------------------------------------------------------------------------------- basics
    def _digest(self, kind: str, value: str, attempt: int = 0) -> bytes:
        msg = f"{kind}\x00{value}\x00{attempt}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).digest()

    def _hex(self, kind: str, value: str, n: int, attempt: int = 0) -> str:
        return self._digest(kind, value, attempt).hex()[:n]

    def _remember(self, kind: str, original: str, token: str) -> str:
        self._map[(kind, original)] = token
        self._tokens.add(token)
        self._originals[kind].add(original)
        if kind in _NAMEISH:
            self._name_version += 1
        return token

    def _issue(self, kind: str, original: str, make: Callable[[int], str]) -> str:
        """Token for ``original``: cached, else ``make(attempt)`` until unused and not an original."""
        hit = self._map.get((kind, original))
        if hit is not None:
            return hit
        if original in self._tokens:  # already a pseudonym (idempotent redaction)
            return original
        for attempt in range(64):
            token = make(attempt)
            if token not in self._tokens and token not in self._originals[kind]:
                return self._remember(kind, original, token)
        raise RedactionError(f"no free pseudonym for a {kind}", kind=kind, value=original)

    def is_token(self, value: str) -> bool:
        """Whether ``value`` is a pseudonym this Redactor produced."""
        return value in self._tokens

    def identifiers(self) -> dict[str, list[str]]:
        """Every original identifier met so far, per kind (what a leak scan must look for)."""
        return {k: sorted(v) for k, v in self._originals.items() if v}

    def tokens(self) -> set[str]:
        """Every pseudonym produced so far."""
        return set(self._tokens)

    def summary(self) -> dict[str, int]:
        """How many distinct identifiers of each kind were replaced (safe to publish)."""
        return {k: len(v) for k, v in self._originals.items() if v}

    # ------------------------------------------------------------------------------ per kind
    def account(self, value: str) -> str:
        """A 12-digit account id -> a 12-digit pseudonym (other values unchanged)."""
        if not self.options["accounts"] or not _ACCOUNT_RE.match(value or ""):
            return value

        def make(attempt: int) -> str:
            return f"{int.from_bytes(self._digest('account', value, attempt)[:8], 'big') % 10**12:012d}"
        return self._issue("account", value, make)

    def access_key(self, value: str) -> str:
        """``AKIA…``/``ASIA…`` key ids -> same prefix + ``REDACTED`` + hash, same length."""
        if not value or not self.options["access_keys"] or value.lower() in PROTECTED:
            return value
        prefix = value[:4] if value[:4].isalpha() and value[:4].isupper() else "AKIA"
        n = max(len(value) - len(prefix) - 8, 6)
        return self._issue("access-key", value,
                           lambda a: prefix + "REDACTED" + self._hex("access-key", value, n, a).upper())

    def principal_id(self, value: str) -> str:
        """``AROA…:session`` / ``AIDA…`` / account ids in ``principalId``."""
        if not value or value.lower() in PROTECTED:
            return value
        head, sep, session = value.partition(":")
        if _ACCOUNT_RE.match(head):
            new_head = self.account(head)
        elif self.options["principals"] and re.fullmatch(r"[A-Z]{4}[A-Z0-9]{8,}", head):
            n = max(len(head) - 12, 6)
            new_head = self._issue("principal-id", head, lambda a: head[:4] + "REDACTED"
                                   + self._hex("principal-id", head, n, a).upper())
        else:
            new_head = self.name(head)
        return new_head + sep + (self.name(session) if sep else "")

    def name(self, value: str) -> str:
        """An IAM user, role or session name -> ``name-<8 hex>``.

        Instance ids (``i-…``), AWS-defined session and service-linked role names stay readable
        or keep their shape.
        """
        if not value or not self.options["principals"] or value.lower() in PROTECTED:
            return value
        if value.startswith(KEPT_NAME_PREFIXES):
            aws_name, sep, suffix = value.partition("_")  # AWSServiceRoleForX_<customer's suffix>
            if not sep or not suffix:
                return value
            token = self._issue("name", suffix, lambda a: "name-" + self._hex("name", suffix, 8, a))
            return aws_name + sep + token
        if value.startswith(SSO_ROLE_PREFIX) and len(value) > len(SSO_ROLE_PREFIX):
            rest = value[len(SSO_ROLE_PREFIX):]
            return SSO_ROLE_PREFIX + self._issue("name", rest, lambda a: "name-" + self._hex("name", rest, 8, a))
        if value.startswith(LF_SESSION_PREFIX) and len(value) > len(LF_SESSION_PREFIX):
            rest = value[len(LF_SESSION_PREFIX):]  # "AT-<account>-<session id>": all of it redacted
            return LF_SESSION_PREFIX + self._issue("name", rest, lambda a: "name-" + self._hex("name", rest, 8, a))
        if _RESID_RE.fullmatch(value):
            return self.resource_id(value)
        if "@" in value and _EMAIL_RE.fullmatch(value):
            return self.email(value)
        return self._issue("name", value, lambda a: "name-" + self._hex("name", value, 8, a))

    def bucket(self, value: str) -> str:
        """A bucket name -> ``bucket-<8 hex>`` (still a valid bucket name)."""
        if not value or value.lower() in PROTECTED:
            return value
        if not self.options["buckets"]:  # kept, but an account id in it is still an account id
            return self.shapes(value)
        return self._issue("bucket", value, lambda a: "bucket-" + self._hex("bucket", value, 8, a))

    def key(self, value: str) -> str:
        """An object key or prefix; per segment by default, keeping ``/`` and the extension."""
        mode = self.options["keys"]
        if not value or value in self._tokens:
            return value
        if not mode:  # kept, but an account id or an address in it is still one
            return self.shapes(value)
        if mode == "full":
            return self._issue("key", value, lambda a: "key-" + self._hex("key", value, 10, a))
        hit = self._map.get(("key", value))
        if hit is not None:
            return hit
        parts = []
        for seg in value.split("/"):
            if not seg:
                parts.append(seg)
                continue
            ext_m = _EXT_RE.search(seg)
            ext = ext_m.group(1) if ext_m and ext_m.start() > 0 else ""
            parts.append("k" + self._hex("key-segment", seg, 6) + ext)
        token = "/".join(parts)
        if token in self._originals["key"]:  # vanishingly rare; fall back to a whole-key token
            token = "key-" + self._hex("key", value, 12)
        else:  # its folders ("payslips/2026-10/"), so a prefix in a pattern is redacted alike
            segments = value.split("/")
            for i in range(1, len(segments)):
                folder = "/".join(segments[:i]) + "/"
                if folder.strip("/") and folder not in self._key_folders:
                    self._key_folders[folder] = "/".join(parts[:i]) + "/"
                    self._tokens.add(self._key_folders[folder])
                    self._name_version += 1
        return self._remember("key", value, token)

    def email(self, value: str) -> str:
        if not value or not self.options["emails"]:
            return value
        return self._issue("email", value,
                           lambda a: f"email-{self._hex('email', value.lower(), 8, a)}@redacted.invalid")

    def vpce(self, value: str) -> str:
        """``vpce-<hex>`` -> same length, new hex; service names / ``AWS Internal`` unchanged."""
        return self.resource_id(value) if value and value[:5].lower() == "vpce-" else value

    def resource_id(self, value: str) -> str:
        """``vpce-…``, ``vpc-…``, ``subnet-…``, ``i-…`` … -> same prefix and hex length."""
        if not value or not self.options["endpoints"]:
            return value
        m = re.fullmatch(r"(vpce-svc|[a-z]+)-([0-9a-f]+)", value, re.I)
        if not m:
            return value
        prefix, hexpart = m.groups()
        kind = {"vpce": "vpce", "vpc": "vpc"}.get(prefix.lower(), "resource-id")
        upper = hexpart != hexpart.lower()  # an upper-case spelling keeps its case

        def make(attempt: int) -> str:
            new = self._hex(kind, value, len(hexpart), attempt)
            return f"{prefix}-{new.upper() if upper else new}"
        return self._issue(kind, value, make)

    def arn(self, value: str) -> str:
        """An ARN with its account, names, buckets and keys redacted; the structure stays."""
        if not value or not value.startswith("arn:"):
            # an arn field holding something else (shown as the principal): still free text
            return self.text(value) if value else value
        if value in self._tokens:
            return value
        parts = value.split(":", 5)
        if len(parts) < 6:
            return self.text(value) if len(parts) > 1 and value != "arn:" else value
        _, partition, service, region, account, resource = parts
        if account == "aws" and resource.startswith("policy/"):
            return value  # AWS-managed (arn:aws:iam::aws:policy/...): nothing of the customer's
        hit = self._map.get(("arn", value))
        if hit is not None:
            return hit
        account_t = self.account(account) if account else account
        if service == "s3" and not account:  # arn:aws:s3:::bucket[/key]
            bucket, slash, key = resource.partition("/")
            resource_t = self.bucket(bucket) + (slash + self.key(key) if slash else "")
        else:
            resource_t = self._arn_resource(service, resource)
        token = ":".join(["arn", partition, service, region, account_t, resource_t])
        if token == value:
            return value
        return self._remember("arn", value, token)

    def _arn_resource(self, service: str, resource: str) -> str:
        sep = "/" if "/" in resource else (":" if ":" in resource else "")
        if not sep:
            if resource in ARN_TYPE_WORDS or service not in ("iam", "sts", "lambda", "s3"):
                return self.text(resource)
            return self.name(resource)
        pieces = resource.split(sep)
        out = [pieces[0]]
        for piece in pieces[1:]:
            if piece == "" or piece == "*" or piece in ARN_TYPE_WORDS or piece.isdigit() and len(piece) < 6:
                out.append(piece)
            elif service in ("iam", "sts", "lambda") or (service == "s3" and pieces[0] == "accesspoint"):
                out.append(self.name(piece))
            elif _RESID_RE.fullmatch(piece):
                out.append(self.resource_id(piece))
            else:
                out.append(self.text(piece))
        if pieces[0] not in ARN_TYPE_WORDS and service in ("iam", "sts"):
            out[0] = self.name(pieces[0])
        return sep.join(out)

    # ---------------------------------------------------------------------------------- IPs
    def _ensure_lookup(self) -> Callable[[list[str]], list[str | None]] | None:
        if self._aws_lookup is ...:
            arg = self._ip_ranges_arg
            if arg is False:
                self._aws_lookup = None
            elif arg is None:
                self._aws_lookup = _aws_lookup_default()
            elif callable(arg) and not hasattr(arg, "lookup_many"):
                self._aws_lookup = arg
            else:
                from s3audit.ipranges import resolve_ip_ranges
                self._aws_lookup = _lookup_from_ranges(resolve_ip_ranges(arg))
        return self._aws_lookup or None  # type: ignore[return-value]

    def _aws_prefix(self, address: str) -> str | None:
        lookup = self._ensure_lookup()
        if lookup is None:
            return None
        if address not in self._aws_cache:
            self._aws_cache[address] = lookup([address])[0]
        return self._aws_cache[address]

    def _prefetch_aws(self, addresses: Iterable[str]) -> None:
        lookup = self._ensure_lookup()
        todo = [a for a in addresses if a not in self._aws_cache]
        if lookup is not None and todo:
            for a, p in zip(todo, lookup(todo)):
                self._aws_cache[a] = p

    def ip_class(self, value: str) -> str:
        """``"private"``, ``"aws"``, ``"external"`` or ``""`` (not an address)."""
        try:
            addr = ipaddress.ip_address(value)
        except ValueError:
            return ""
        if any(addr in n for n in _PRIVATE_BLOCKS if n.version == addr.version) or not addr.is_global:
            return "private"
        return "aws" if self._aws_prefix(str(addr)) else "external"

    def learn_ips(self, values: Iterable[Any]) -> None:
        """Register original addresses first, so no pseudonym equals an original address."""
        found = []
        for v in values:
            if not isinstance(v, str):
                continue
            for m in _IPV4_RE.finditer(v):
                found.append(m.group(1))
            if ":" in v:
                found.append(v.strip())
        new = []
        for v in found:
            addr = parse_ip(v)
            if addr is None:
                continue
            if str(addr) in self._orig_ips:
                continue
            self._orig_ips.add(str(addr))
            new.append(addr)
            bits = addr.max_prefixlen
            for level in self._levels(addr.version):
                net = int(addr) >> (bits - level) << (bits - level)
                self._ip_prefix_orig.setdefault((addr.version, level), set()).add(net)
        self._prefetch_aws(sorted(self._orig_ips))
        for addr in new:
            _, _, plen = self._container(addr)
            bits = addr.max_prefixlen
            for level in self._levels(addr.version):
                if level <= plen and level < bits:
                    net = int(addr) >> (bits - level) << (bits - level)
                    self._ip_prefix_pinned.setdefault((addr.version, level), set()).add(net)

    @staticmethod
    def _levels(version: int) -> tuple[int, ...]:
        return (8, 16, 24, 32) if version == 4 else (32, 48, 64, 128)

    def _container(self, addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> tuple[str, int, int]:
        for net in _PRIVATE_BLOCKS:
            if net.version == addr.version and addr in net:
                return "private", int(net.network_address), net.prefixlen
        if not addr.is_global:
            for net in _SPECIAL_BLOCKS:
                if net.version == addr.version and addr in net:
                    return "private", int(net.network_address), net.prefixlen
            # other non-global space not listed above: keep its /16 (/48)
            plen = 16 if addr.version == 4 else 48
            bits = addr.max_prefixlen
            return "private", int(addr) >> (bits - plen) << (bits - plen), plen
        prefix = self._aws_prefix(str(addr))
        if prefix:
            net = ipaddress.ip_network(prefix, strict=False)
            return "aws", int(net.network_address), net.prefixlen
        if addr.version == 6:
            return "external", int(ipaddress.ip_address("2000::")), 3
        return "external", 0, 0

    def _acceptable(self, cls: str, version: int, level: int, value: int, container: str = "") -> bool:
        if cls not in ("external", "aws"):
            return True
        bits = 32 if version == 4 else 128
        first = ipaddress.ip_address(value) if version == 4 else ipaddress.IPv6Address(value)
        last_int = value | ((1 << (bits - level)) - 1)
        last = ipaddress.ip_address(last_int) if version == 4 else ipaddress.IPv6Address(last_int)
        if cls == "aws":
            # the pseudonym's most specific AWS prefix must be the original's (not a nested,
            # more specific prefix of another service); checked where a block is small enough
            if level < (24 if version == 4 else 64):
                return True
            return _same_net(self._aws_prefix(str(first)), container) and \
                _same_net(self._aws_prefix(str(last)), container)
        if not (first.is_global and last.is_global) or first.is_multicast or last.is_multicast:
            return False
        if any(first in n or last in n for n in _PRIVATE_BLOCKS if n.version == version):
            return False
        if level >= (24 if version == 4 else 48):  # far enough down to ask about AWS
            return not self._aws_prefix(str(first)) and not self._aws_prefix(str(last))
        # a broader block must leave room outside AWS for the blocks mapped under it: a /16 that
        # is all AWS (52.17.0.0/16) has no acceptable /24, and the address could not be redacted
        return self._mostly_outside_aws(version, level, value)

    def _mostly_outside_aws(self, version: int, level: int, value: int) -> bool:
        """At most a quarter of 256 evenly spread sub-blocks of the block start in AWS space."""
        lookup = self._ensure_lookup()
        if lookup is None:
            return True
        key = (version, level, value)
        hit = self._aws_dense.get(key)
        if hit is not None:
            return hit
        bits = 32 if version == 4 else 128
        shift = bits - level - 8
        make = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
        probes = [str(make(value | (k << shift) | 1)) for k in range(256)]
        inside = sum(1 for p in lookup(probes) if p)
        self._aws_dense[key] = ok = inside <= 64
        return ok

    def ip(self, value: str) -> str:
        """An address -> a pseudonym of the same class sharing prefixes as the original did.

        Octet-wise prefix-preserving inside a class container: the /8, /16 and /24 (for IPv6 the
        /32, /48 and /64) of the original are each mapped consistently, so two addresses in one
        /24 stay in one /24. Private addresses stay in their private block, AWS addresses in
        their most specific AWS prefix, external addresses stay public and outside AWS.
        Non-addresses (service names, ``AWS Internal``) are returned unchanged.
        """
        if not value or not self.options["ips"]:
            return value
        hit = self._map.get(("ip", value))
        if hit is not None:
            return hit
        if value in self._tokens:
            return value
        addr = parse_ip(value)
        if addr is None:
            return value
        if str(addr) not in self._orig_ips:
            self.learn_ips([str(addr)])
        cls, _, plen = self._container(addr)
        if plen >= addr.max_prefixlen:  # a single-address block (loopback): nothing to hide
            return value
        pseudo = self._pseudo_prefix(addr, addr.max_prefixlen)
        v = addr.version
        text = str(ipaddress.ip_address(pseudo) if v == 4 else ipaddress.IPv6Address(pseudo))
        if text in self._orig_ips and text != str(addr):
            raise RedactionError(f"address pseudonym collides with an original in {cls} space",
                                 kind="ip", value=value)
        return self._remember("ip", value, text)

    def _pseudo_prefix(self, addr: ipaddress.IPv4Address | ipaddress.IPv6Address, upto: int) -> int:
        """The pseudonym of ``addr``'s prefix of length ``upto`` (host bits zero)."""
        cls, base, plen = self._container(addr)
        bits = addr.max_prefixlen
        v = addr.version
        if plen >= upto:  # inside the fixed part of the container: nothing to hide
            return int(addr) >> (bits - upto) << (bits - upto)
        pseudo = base
        prev = plen
        for level in self._levels(v):
            if level <= plen:
                continue
            if level > upto:
                break
            orig_prefix = int(addr) >> (bits - level) << (bits - level)
            free = level - max(prev, plen)
            key = (v, level, orig_prefix, base, plen)
            mapped = self._ip_prefix_map.get(key)
            if mapped is None:
                mapped = self._map_prefix(cls, v, level, orig_prefix, pseudo, free, bits, base, plen)
                self._ip_prefix_map[key] = mapped
            pseudo = mapped
            prev = level
        return pseudo

    def _map_prefix(self, cls: str, v: int, level: int, orig_prefix: int, parent: int,
                    free: int, bits: int, base: int, plen: int) -> int:
        used = self._ip_prefix_used.setdefault((v, level), set())
        originals = self._ip_prefix_orig.get((v, level), set())
        pinned = self._ip_prefix_pinned.get((v, level), set())
        if orig_prefix in pinned:  # kept by a more specific container: keep it here too
            used.add(orig_prefix)
            return orig_prefix
        size = 1 << free
        shift = bits - level
        start = int.from_bytes(self._digest(f"ip{v}/{level}/{base}/{plen}", str(orig_prefix)), "big") % size
        host_level = level == bits
        special = v == 4 and host_level and free >= 8 and orig_prefix & 0xFF in (0, 255)
        tries = min(size, 4096)
        # a space larger than the tries is walked with an odd stride (a permutation of it), so the
        # candidates spread over the whole space: 4,096 consecutive /48s can all be AWS space
        step = 1 if size <= tries else (int(size * 0.6180339887) | 1) % size
        container = str(ipaddress.ip_network((base, plen)) if v == 4 else ipaddress.IPv6Network((base, plen)))
        for avoid_originals in (True, False):
            for i in range(tries):
                offset = (start + i * step) % size
                if special:  # network / broadcast octets keep their meaning
                    offset = (offset & ~0xFF) | (orig_prefix & 0xFF)
                elif host_level and v == 4 and free >= 8 and offset & 0xFF in (0, 255):
                    continue
                candidate = parent | (offset << shift)
                if candidate in used or candidate in pinned or (avoid_originals and candidate in originals):
                    continue
                if not self._acceptable(cls, v, level, candidate, container):
                    continue
                used.add(candidate)
                return candidate
            if host_level:
                break  # an address must never equal another original: no second pass
        raise RedactionError(f"no free pseudonym in the {cls} /{level} space for an address",
                             kind="ip", value=str(ipaddress.ip_address(orig_prefix) if v == 4
                                                  else ipaddress.IPv6Address(orig_prefix)))

    def ip_prefix(self, octets: str) -> str:
        """An octet prefix as written in wildcards (``"10.0.1"`` of ``10.0.1.*``), mapped
        consistently with :meth:`ip` (so ``10.0.1.*`` still covers the redacted ``10.0.1.x``)."""
        parts = octets.split(".")
        try:
            nums = [int(p) for p in parts]
        except ValueError:
            return octets
        if not nums or len(nums) > 3 or any(n > 255 for n in nums) or not self.options["ips"]:
            return octets
        addr = ipaddress.IPv4Address(".".join(parts + ["0"] * (4 - len(parts))))
        mapped = self._pseudo_prefix(addr, 8 * len(parts))
        return ".".join(str(ipaddress.IPv4Address(mapped)).split(".")[: len(parts)])

    def cidr(self, value: str) -> str:
        """A CIDR block: octet-aligned blocks map exactly onto the redacted addresses; others are
        widened to the enclosing octet-aligned block (a redacted /20 cannot be expressed)."""
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            return value
        if not self.options["ips"]:
            return value
        if net.prefixlen < net.max_prefixlen and self._aws_prefix(str(net.network_address)) == str(net):
            return value  # an AWS published range (e.g. in a classification reason): not an identifier
        step = 8 if net.version == 4 else 16
        plen = net.prefixlen // step * step
        if plen != net.prefixlen:
            log.warning("redacted CIDR /%d widened to /%d", net.prefixlen, plen)
        if plen == net.max_prefixlen:
            return self.ip(str(net.network_address)) + f"/{plen}"
        mapped = self._pseudo_prefix(net.network_address, plen) if plen else 0
        addr = ipaddress.ip_address(mapped) if net.version == 4 else ipaddress.IPv6Address(mapped)
        token = f"{addr}/{plen}"
        self._tokens.add(token)
        return token

    # ---------------------------------------------------------------------------------- text
    def _known_index(self) -> dict[str, list[tuple[str, int, str]]]:
        """Known name-like originals (and their tokens, mapped to themselves) indexed by their
        first alphanumeric run: a dictionary probe per word of text instead of a huge regex."""
        if self._names_version == self._name_version:
            return self._names_index
        index: dict[str, list[tuple[str, int, str]]] = {}

        def add(low: str, token: str) -> None:
            m = _RUN_RE.search(low)
            if m:
                index.setdefault(m.group(0), []).append((low, m.start(), token))
        known = [(orig, token) for (kind, orig), token in self._map.items() if kind in _NAMEISH]
        for orig, token in known + list(self._key_folders.items()):
            if len(orig) >= 3:
                add(_lower(orig), token)
                add(_lower(token), token)
        for entries in index.values():
            entries.sort(key=lambda e: -len(e[0]))
        self._names_index = index
        self._names_version = self._name_version
        self._text_cache.clear()
        return index

    def _replace_known(self, text: str) -> str:
        index = self._known_index()
        if not index:
            return text
        low = _lower(text)
        out: list[str] = []
        last = 0
        for run in _RUN_RE.finditer(low):
            if run.start() < last:
                continue
            entries = index.get(run.group(0))
            if not entries:
                continue
            for ident, offset, token in entries:
                start = run.start() - offset
                if start < last or not low.startswith(ident, start):
                    continue
                end = start + len(ident)
                # an identifier ending in "/" (a key folder) needs no boundary after it
                if start > 0 and low[start - 1].isalnum() or \
                        end < len(low) and low[end].isalnum() and ident[-1].isalnum():
                    continue
                out.append(text[last:start])
                out.append(token if text[start:end] != token else text[start:end])
                last = end
                break
        if not out:
            return text
        out.append(text[last:])
        return "".join(out)

    def text(self, value: str) -> str:
        """Free text with every recognisable or already-seen identifier replaced.

        Examples
        --------
        >>> r = Redactor(key="k")
        >>> host = r.text("payroll.vpce-0123456789abcdef0-abcd1234.s3.us-east-1.vpce.amazonaws.com")
        >>> host.endswith(".s3.us-east-1.vpce.amazonaws.com") and "0123456789abcdef0" not in host
        True
        """
        if not isinstance(value, str) or not value:
            return value
        if value.lower() in PROTECTED:
            return value
        self._known_index()
        hit = self._text_cache.get(value)
        if hit is not None:
            return hit
        out = self._decoded(value, self._known_subs)
        if self._names_version == self._name_version:
            self._text_cache[value] = out
        return out

    def _known_subs(self, value: str) -> str:
        out = value
        if "$." in value:
            out = _CLAUSE_RE.sub(self._pattern_clause, out)
            if '\\"' in out:
                out = _CLAUSE_ESCAPED_RE.sub(lambda m: self._pattern_clause(m, '\\"'), out)
        out = self._shape_subs(out)
        if self.options["accounts"]:
            out = _ACCOUNT_RUN_RE.sub(lambda m: self._map.get(("account", m.group(0)), m.group(0)), out)
        return self._replace_known(out)

    def _decoded(self, value: str, subs: Callable[[str], str]) -> str:
        """``subs(value)``; if the value is written with escapes (``%40``, ``\\u0040``, ``&#64;``)
        that hide an identifier from ``subs``, the decoded text with it replaced instead. Text
        whose escapes hide nothing is kept exactly as it was written."""
        out = subs(value)
        if "%" not in value and "\\" not in value and "&" not in value or not _ENCODED_RE.search(value):
            return out
        decoded = decode_escapes(value)
        if decoded == value:
            return out
        again = subs(decoded)
        if again == decoded or decode_escapes(out) == again:
            return out
        return again

    def shapes(self, value: str) -> str:
        """Only identifiers recognisable by their shape replaced (ARNs, key ids, endpoint ids,
        addresses, e-mails, 12-digit account ids), not the names seen elsewhere.

        Used for fields that never hold an identifier in real CloudTrail (``eventName``,
        ``awsRegion``…): an odd value there is still redacted, an ordinary one is left exactly
        as it is (a bucket named like an event name does not rename the event).

        Examples
        --------
        >>> r = Redactor(key="k")
        >>> r.shapes("GetObject"), "444455556666" in r.shapes("GetObject 444455556666")
        ('GetObject', False)
        """
        hit = self._shape_cache.get(value)
        if hit is not None:
            return hit
        if not isinstance(value, str) or not value or value.lower() in PROTECTED:
            return value
        out = self._decoded(value, self._shape_subs)
        if len(self._shape_cache) < 100_000:
            self._shape_cache[value] = out
        return out

    def _shape_subs(self, value: str) -> str:
        out = _ARN_RE.sub(lambda m: self.arn(m.group(0)), value)
        out = _EMAIL_RE.sub(lambda m: self.email(m.group(0)), out)
        out = _ACCOUNT_TEXT_RE.sub(lambda m: self.account(m.group(1)), out)
        out = _ACCOUNT_DASHED_RE.sub(self._dashed_account, out)
        if self.options["access_keys"] or self.options["principals"]:
            out = _AKID_RE.sub(lambda m: m.group(0) if m.group(0) in self._tokens else (
                self.access_key(m.group(0)) if m.group(0)[:4] in KEY_PREFIXES
                else self.principal_id(m.group(0))), out)
        out = _VPCE_DNS_RE.sub(self._vpce_dns, out)
        out = _RESID_RE.sub(lambda m: self.resource_id(m.group(0)), out)
        out = _IPV4_DASH_RE.sub(self._dashed_ip, out)
        out = _CIDR_RE.sub(lambda m: self.cidr(m.group(1)), out)
        out = _IPV4_RE.sub(lambda m: self.ip(m.group(1)), out)
        out = _IPV4_WILD_RE.sub(lambda m: self.ip_prefix(m.group(1)) + ".*", out)
        if ":" in out:
            out = _IPV6_RE.sub(self._ipv6_in_text, out)
        return out

    def _safe(self, leaf: str, value: Any) -> Any:
        """A value of a field that never holds an identifier: kept when it has its documented
        shape (ids, times), else only identifier shapes are replaced (see ``shapes``)."""
        if not isinstance(value, str) or not value:
            return value
        opaque = _OPAQUE_SHAPES.get(leaf)
        if opaque is not None and opaque.fullmatch(value):
            return value
        return self.shapes(value)

    def _safe_series(self, leaf: str, series: pd.Series) -> pd.Series:
        """:meth:`_safe` over a column. The values of the documented shape (nearly all of an
        ``eventID`` or ``requestID`` column, one distinct value per row) are found vectorised and
        kept; only the others go through Python."""
        opaque = _OPAQUE_SHAPES.get(leaf)
        if opaque is None or not isinstance(series.dtype, pd.StringDtype):
            return _map_series(series, lambda v: self._safe(leaf, v))
        # (Arrow's \d is ASCII-only: it keeps a subset of what opaque.fullmatch keeps, and the
        # rest is checked by _safe itself)
        odd = ~series.str.fullmatch(opaque.pattern).fillna(True).to_numpy(dtype=bool)
        if not odd.any():
            return series
        out = series.copy()
        out[odd] = _map_series(series[odd], lambda v: self._safe(leaf, v))
        return out

    def _vpce_dns(self, m: re.Match[str]) -> str:
        vpce = self.resource_id(m.group(1))
        suffix = m.group(2)
        if suffix and self.options["endpoints"]:
            suffix = "-" + self._hex("vpce-dns", m.group(1) + suffix, 8)
        return vpce + (suffix or "")

    def _dashed_account(self, m: re.Match[str]) -> str:
        token = self.account("".join(m.groups()))
        return f"{token[:4]}-{token[4:8]}-{token[8:]}"

    def _dashed_ip(self, m: re.Match[str]) -> str:
        ip = ".".join(m.group(i) for i in range(2, 6))
        try:
            ipaddress.IPv4Address(ip)
        except ValueError:
            return m.group(0)
        return m.group(1) + "-" + self.ip(ip).replace(".", "-")

    def _ipv6_in_text(self, m: re.Match[str]) -> str:
        s = m.group(1)
        if s.count(":") < 2 or not re.search(r"[0-9A-Fa-f]", s):
            return s
        try:
            ipaddress.IPv6Address(s.split("%")[0])
        except ValueError:
            return s
        return self.ip(s)

    # ------------------------------------------------------------------------------ structures
    def field(self, name: str, value: Any) -> Any:
        """Redact one value of a named field (dotted CloudTrail path or its last component)."""
        if not isinstance(value, str) or not value:
            return value
        leaf = name.rsplit(".", 1)[-1].lower()
        if leaf in _SAFE_FIELDS:
            return self._safe(leaf, value)
        handler = field_handler(name)  # None also for a "key" of some other document (a tag key…)
        if handler is None or value.lower() in PROTECTED:
            return self.text(value)
        if handler == "ip_or_text":
            return self.ip(value) if _looks_like_ip(value) else self.text(value)
        if handler == "vpce_or_text":
            return self.vpce(value) if value[:5].lower() == "vpce-" else self.text(value)
        if handler == "copy_source":
            bucket, slash, key = value.lstrip("/").partition("/")
            return self.bucket(bucket) + (slash + self.key(key) if slash else "")
        if handler == "account" and not _ACCOUNT_RE.match(value):
            return self.text(value)
        return getattr(self, handler)(value)

    def document(self, obj: Any, path: str = "") -> Any:
        """A JSON-like structure (dicts, lists, strings) with every string redacted by field.

        Structured fields (``bucketName``, ``principalId``, ``arn``…) are redacted first, then
        free-text fields, so a bucket seen in ``bucketName`` is also replaced inside ``Host``.
        """
        if isinstance(obj, Mapping):
            out: dict[str, Any] = {}
            deferred: list[tuple[str, str]] = []
            # {"field": "userIdentity.userName", "values": [...]}: the values are of that field
            named = obj.get("field")
            named = named if isinstance(named, str) and field_handler(named) else None
            for k, v in obj.items():
                k = str(k)
                shown = self.shapes(k)  # a key can be data too (values keyed by address…)
                if named is not None and k in _FIELD_VALUE_KEYS:
                    out[shown] = self._values_of(named, v)
                elif isinstance(v, str):
                    leaf = k.lower()
                    if not v:
                        out[shown] = v
                    elif leaf in _SAFE_FIELDS:
                        out[shown] = self._safe(leaf, v)
                    elif leaf in _FIELD_KIND:
                        out[shown] = self.field(f"{path}.{k}" if path else k, v)
                    else:
                        out[shown] = v
                        deferred.append((shown, v))
                elif isinstance(v, (Mapping, list)):
                    out[shown] = self.document(v, f"{path}.{k}" if path else k)
                else:
                    out[shown] = v
            for shown, v in deferred:  # free text after the structured fields of the same object
                out[shown] = self.text(v)
            return out
        if isinstance(obj, list):
            return [self.document(v, path) for v in obj]
        if isinstance(obj, str):
            return self.field(path, obj) if path else self.text(obj)
        return obj

    def _values_of(self, name: str, value: Any) -> Any:
        """Values of field ``name`` in a document (a design's exclusion): redacted as that field,
        wildcard values (``prod-*``) as text."""
        if isinstance(value, str):
            return self.text(value) if "*" in value else self.field(name, value)
        if isinstance(value, list):
            return [self._values_of(name, v) for v in value]
        if isinstance(value, Mapping):
            return {self._values_of(name, str(k)): self.document(v, "") for k, v in value.items()}
        return value

    def _pattern_clause(self, m: re.Match[str], close: str = '"') -> str:
        """``$.<field> = "<value>"`` in a metric-filter pattern: the value redacted as that field
        (so a bucket or user named only in the pattern is redacted as in the data). ``close`` is
        ``\\"`` for a clause inside a JSON string (its ``op`` group ends in the backslash)."""
        hit = _clause_field(m)
        if hit is None:
            return m.group(0)
        name, value = hit
        new = self.field(name, value)
        return m.group(0) if new == value else f'{m.group(1)}{m.group(2)}"{new}{close}'

    def raw(self, text: str) -> str:
        """One ``raw`` JSON record, walked field by field and dumped again."""
        if not isinstance(text, str) or not text:
            return text
        try:
            record = json.loads(text)
        except ValueError:
            return self.text(text)
        return json.dumps(self.document(record), separators=(",", ":"))

    def learn(self, frame: pd.DataFrame) -> None:
        """Register the frame's addresses before tokens are issued (no pseudonym = an original)."""
        values: list[str] = []
        structured: list[str] = []
        for col in frame.columns:
            leaf = str(col).rsplit(".", 1)[-1].lower()
            if col == "raw" or leaf in _SAFE_FIELDS:
                continue
            if _is_texty(frame[col]):
                values.extend(v for v in _uniques(frame[col]) if isinstance(v, str))
                if leaf in _FIELD_KIND:
                    structured.append(str(col))
        self.learn_ips(values)
        for col in structured:  # issue tokens for structured values before any free text is seen
            for v in _uniques(frame[col]):
                if isinstance(v, str):
                    self.field(col, v)

    def frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A redacted copy of an event frame (categorical columns stay categorical).

        Structured columns are processed before free-text ones; ``raw`` is walked per record;
        ``attrs`` are redacted as a document.
        """
        self.learn(frame)
        out = frame.copy()
        cols = [c for c in out.columns if _is_texty(out[c])]
        order = sorted(cols, key=lambda c: (0 if _FIELD_KIND.get(str(c).rsplit(".", 1)[-1].lower())
                                            else 1, c == "raw"))
        for col in order:
            leaf = str(col).rsplit(".", 1)[-1].lower()
            if leaf in _SAFE_FIELDS:
                out[col] = self._safe_series(leaf, out[col])
                continue
            func = self.raw if col == "raw" else (lambda v, c=str(col): self.field(c, v))
            out[col] = _map_series(out[col], func)
        out.attrs = self.document(dict(frame.attrs)) if frame.attrs else {}
        return out

    @overload
    def __call__(self, obj: pd.DataFrame) -> pd.DataFrame: ...
    @overload
    def __call__(self, obj: str) -> str: ...
    @overload
    def __call__(self, obj: Any) -> Any: ...

    def __call__(self, obj: Any) -> Any:
        """Redact a frame, a string or a JSON-like document (see :func:`redact`)."""
        if isinstance(obj, pd.DataFrame):
            return self.frame(obj)
        if isinstance(obj, pd.Series):
            return _map_series(obj, lambda v: self.field(str(obj.name or ""), v))
        if isinstance(obj, str):
            return self.text(obj)
        return self.document(obj)


def _same_net(prefix: str | None, container: str) -> bool:
    return bool(prefix) and ipaddress.ip_network(prefix, strict=False) == ipaddress.ip_network(container)


def _lower(text: str) -> str:
    """``text.lower()`` with the same length (offsets in it are offsets in ``text``): a character
    whose lower case is longer (``İ`` -> ``i̇``) stays as it is."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(lc := c.lower()) != 1 else lc for c in text)


def _selector_name(selector: str) -> str:
    """``$.resources[0].ARN`` -> ``resources.0.ARN`` (the event-frame column name)."""
    return re.sub(r"\[(\d+)\]", r".\1", selector[2:]).strip(".")


def field_handler(name: str) -> str | None:
    """The redaction handler of a field, or None for a field that holds no identifier.

    Examples
    --------
    >>> field_handler("userIdentity.userName"), field_handler("eventName")
    ('name', None)
    """
    leaf = name.rsplit(".", 1)[-1].lower()
    if leaf == "key" and "requestparameters" not in name.lower() and leaf != name.lower():
        return None
    return _FIELD_KIND.get(leaf)


def pattern_values(text: str) -> list[tuple[str, str]]:
    """``(field, value)`` of every ``$.field = "value"`` / ``!=`` clause of a metric-filter pattern
    (values with wildcards or escapes left out), for fields that hold identifiers.

    Examples
    --------
    >>> pattern_values('{ $.userIdentity.userName != "bob" && $.eventName = "GetObject" }')
    [('userIdentity.userName', 'bob')]
    """
    return [hit for m in [*_CLAUSE_RE.finditer(text), *_CLAUSE_ESCAPED_RE.finditer(text)]
            if (hit := _clause_field(m)) is not None]


def _clause_field(m: re.Match[str]) -> tuple[str, str] | None:
    """``(field, value)`` of a matched pattern clause whose field holds identifiers and whose
    value is literal (no wildcard, no escape), else None."""
    selector, _, value = m.groups()
    name = _selector_name(selector)
    if value and "*" not in value and "\\" not in value and field_handler(name):
        return name, value
    return None


def decode_escapes(value: str) -> str:
    """``value`` with JSON ``\\uXXXX`` escapes, HTML character references and %-escapes decoded
    (repeatedly, for text encoded more than once; surrogate escapes are left as written).

    Examples
    --------
    >>> decode_escapes("ceo%2540example.com"), decode_escapes("a\\u0040b&#46;c")
    ('ceo@example.com', 'a@b.c')
    """
    out = value
    for _ in range(3):
        new = _JSON_U_RE.sub(lambda m: m.group(0) if 0xD800 <= int(m.group(1), 16) <= 0xDFFF
                             else chr(int(m.group(1), 16)), out)
        new = urllib.parse.unquote(html.unescape(new), errors="replace")
        if new == out:
            break
        out = new
    return out


def _looks_like_ip(value: str) -> bool:
    return parse_ip(value) is not None


_ZERO_PADDED_RE = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


def parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address ``value`` spells (an IPv6 zone is ignored), or None.

    Dotted quads with leading zeros (``10.020.030.040``), which :mod:`ipaddress` refuses, are read
    as decimal octets: CloudTrail never writes them, but an address is an address however it is
    padded, and leaving it as text would leave it readable.

    Examples
    --------
    >>> str(parse_ip("10.020.030.040")), parse_ip("athena.amazonaws.com")
    ('10.20.30.40', None)
    """
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_address(value.split("%")[0])
    except ValueError:
        pass
    if _ZERO_PADDED_RE.fullmatch(value):
        octets = [int(o) for o in value.split(".")]
        if all(o <= 255 for o in octets):
            return ipaddress.IPv4Address(".".join(map(str, octets)))
    return None


def _is_texty(series: pd.Series) -> bool:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return pd.api.types.is_object_dtype(dtype.categories.dtype) or \
            pd.api.types.is_string_dtype(dtype.categories.dtype)
    return pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype)


def _uniques(series: pd.Series) -> list[Any]:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return list(series.cat.categories)
    try:
        return list(pd.unique(series.dropna()))
    except TypeError:  # unhashable objects (lists, dicts)
        return list(series.dropna())


def _map_series(series: pd.Series, func: Callable[[Any], Any]) -> pd.Series:
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = list(series.cat.categories)
        new = [func(c) if isinstance(c, str) else c for c in cats]
        if len(set(new)) == len(new):
            return series.cat.rename_categories(new)
        mapping = dict(zip(cats, new))  # two originals became one token (idempotent input)
        return series.astype(object).map(lambda v: mapping.get(v, v)).astype("category")
    try:
        uniq = pd.unique(series.dropna())
    except TypeError:
        return series.map(lambda v: func(v) if isinstance(v, str) else v)
    mapping = {u: func(u) if isinstance(u, str) else u for u in uniq}
    result = series.map(lambda v: mapping.get(v, v) if isinstance(v, str) else v)
    return result.astype(series.dtype) if pd.api.types.is_string_dtype(series.dtype) else result


def redact(obj: Any, *, key: bytes | str | None = None, redactor: Redactor | None = None,
           **options: Any) -> Any:
    """Replace account identifiers with consistent keyed pseudonyms.

    Parameters
    ----------
    obj : DataFrame, str, or JSON-like (dict/list)
        An event frame (every identifying column and ``raw``), free text (a pattern, a label, a
        message) or a document (a design, a deployment plan).
    key : bytes or str, optional
        HMAC key; the same key gives the same tokens. Default: random (consistent only within
        this call). Ignored when ``redactor`` is given.
    redactor : Redactor, optional
        Reuse the mapping of an existing Redactor, so the frame, the pattern and the labels of one
        report agree.
    **options
        Passed to :class:`Redactor` (``buckets=False``, ``keys="full"``, ``ip_ranges=…``).

    Returns
    -------
    Same type as ``obj``.

    Examples
    --------
    >>> r = Redactor(key="secret")
    >>> p = redact('{ $.sourceIPAddress != "10.0.1.*" && $.vpcEndpointId != "vpce-0a1b2c3d4e5f67890" }',
    ...            redactor=r)
    >>> "vpce-0a1b2c3d4e5f67890" in p, p.count("10.")
    (False, 1)
    >>> redact("s3.amazonaws.com", key="k")
    's3.amazonaws.com'
    """
    r = redactor or Redactor(key=key, **options)
    return r(obj)

