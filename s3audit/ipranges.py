"""AWS's published IP ranges (``ip-ranges.json``): load, refresh, and look addresses up.

Three places the data can come from, in this order of preference:

1. a path you give (argument ``path=`` or environment variable ``S3AUDIT_IP_RANGES``);
2. the live file, fetched only when asked (``refresh=True``) and cached under
   ``~/.cache/s3audit/ip-ranges.json`` (or ``$XDG_CACHE_HOME/s3audit``), so later runs offline
   use the newest copy seen;
3. the copy bundled with the package (``s3audit/data/ip-ranges.json.gz``, provenance in
   ``docs/sources.md``), so classification always works offline.

Lookups report **every** range an address falls in: AWS lists each ``EC2`` prefix a second time
under ``AMAZON`` (the superset), and nested prefixes of other services (``S3``, ``API_GATEWAY``…)
sit inside bigger ones. A matcher that stops at the first hit would say "AMAZON" for a CloudShell
or Lambda address that is really ``EC2``.

Lookups are vectorised over *distinct* addresses: IPv4 with numpy (one ``searchsorted`` per prefix
length present in the data), IPv6 with one dictionary probe per prefix length.

Examples
--------
>>> ranges = load_ip_ranges()
>>> m = ranges.lookup("3.112.10.20")
>>> (m.services, m.regions)
(('AMAZON', 'EC2'), ('ap-northeast-1',))
>>> ranges.lookup("192.0.2.1").found
False
"""
from __future__ import annotations

import gzip
import json
import logging
import os
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from ipaddress import IPv6Address, ip_network
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from s3audit.paths import PACKAGE_DATA_DIR

log = logging.getLogger(__name__)

IP_RANGES_URL = "https://ip-ranges.amazonaws.com/ip-ranges.json"
BUNDLED_PATH = PACKAGE_DATA_DIR / "ip-ranges.json.gz"
ENV_PATH = "S3AUDIT_IP_RANGES"


class IpRangesError(ValueError):
    """The ip-ranges document could not be read or is not in AWS's format."""

    def __init__(self, message: str, *, source: str | None = None) -> None:
        super().__init__(f"{message} ({source})" if source else message)
        self.source = source


@dataclass(frozen=True)
class RangeMatch:
    """All AWS ranges one address falls in (:meth:`AwsIpRanges.lookup`).

    ``services`` and ``regions`` are sorted and de-duplicated over every containing prefix;
    ``AMAZON`` is always among the services of an AWS address (AWS documents it as the superset).

    Examples
    --------
    >>> RangeMatch("192.0.2.1").found
    False
    """

    address: str
    services: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    prefix: str | None = None  # the most specific matching prefix

    @property
    def found(self) -> bool:
        """True when the address is inside at least one AWS range."""
        return bool(self.services)


@dataclass
class AwsIpRanges:
    """AWS's ``ip-ranges.json`` indexed for fast containment lookups.

    Parameters
    ----------
    document : mapping
        The parsed JSON (``syncToken``, ``createDate``, ``prefixes``, ``ipv6_prefixes``).
    origin : str
        Where the document came from (``"bundled"``, ``"cache"``, ``"live"`` or a path).

    Examples
    --------
    >>> doc = {"syncToken": "1", "createDate": "2026-01-01-00-00-00",
    ...        "prefixes": [{"ip_prefix": "3.112.0.0/14", "region": "ap-northeast-1",
    ...                      "service": "EC2", "network_border_group": "ap-northeast-1"}],
    ...        "ipv6_prefixes": []}
    >>> AwsIpRanges(doc).lookup("3.113.0.1").services
    ('AMAZON', 'EC2')
    """

    document: Mapping[str, Any]
    origin: str = "memory"
    sync_token: str = field(init=False)
    create_date: str = field(init=False)

    def __post_init__(self) -> None:
        doc = self.document
        if not isinstance(doc, Mapping) or not isinstance(doc.get("prefixes"), list):
            raise IpRangesError("not an ip-ranges.json document (no 'prefixes' list)",
                                source=self.origin)
        self.sync_token = str(doc.get("syncToken", ""))
        self.create_date = str(doc.get("createDate", ""))
        # one entry per distinct CIDR: its (service, region) pairs, duplicates merged
        v4: dict[tuple[int, int], set[tuple[str, str]]] = {}
        v6: dict[tuple[int, int], set[tuple[str, str]]] = {}
        for key, table in (("prefixes", v4), ("ipv6_prefixes", v6)):
            items = doc.get(key) or []
            if not isinstance(items, list):
                raise IpRangesError(f"{key} is not a list", source=self.origin)
            for item in items:
                if not isinstance(item, Mapping):
                    raise IpRangesError(f"an entry of {key} is not an object: {item!r:.80}",
                                        source=self.origin)
                cidr = item.get("ip_prefix") or item.get("ipv6_prefix")
                try:
                    net = ip_network(cidr, strict=False)
                except (TypeError, ValueError) as exc:
                    raise IpRangesError(f"bad prefix {cidr!r} in {key}",
                                        source=self.origin) from exc
                if net.version != (4 if key == "prefixes" else 6):
                    raise IpRangesError(f"IPv{net.version} prefix {cidr!r} in {key}",
                                        source=self.origin)
                svc = str(item.get("service") or "AMAZON")
                reg = str(item.get("region") or "GLOBAL")
                table.setdefault((int(net.network_address), net.prefixlen), set()).add((svc, reg))
        self._v4 = _index(v4, 4)
        self._v6 = _index(v6, 6)
        self.counts = {"ipv4_prefixes": len(doc.get("prefixes") or []),
                       "ipv6_prefixes": len(doc.get("ipv6_prefixes") or [])}

    def __repr__(self) -> str:
        return (f"AwsIpRanges(origin={self.origin!r}, createDate={self.create_date!r}, "
                f"ipv4={self.counts['ipv4_prefixes']}, ipv6={self.counts['ipv6_prefixes']})")

    # ------------------------------------------------------------------------------------------
    def lookup(self, address: str) -> RangeMatch:
        """All AWS ranges containing one address (``found`` is False for non-AWS or non-IPs).

        Examples
        --------
        >>> load_ip_ranges().lookup("52.94.76.114").services
        ('AMAZON',)
        """
        frame = self.lookup_many([address])
        row = frame.iloc[0]
        if not row["ip_service"]:
            return RangeMatch(address)
        return RangeMatch(address, tuple(row["ip_service"].split(",")),
                          tuple(row["ip_region"].split(",")), row["ip_prefix"])

    def lookup_many(self, addresses: Iterable[Any]) -> pd.DataFrame:
        """Look up many addresses; one row per input, in order (see :meth:`lookup_arrays`).

        Examples
        --------
        >>> load_ip_ranges().lookup_many(["3.112.0.9", "10.0.0.1"])["ip_service"].tolist()
        ['AMAZON,EC2', '']
        """
        return pd.DataFrame(self.lookup_arrays(addresses))

    def lookup_arrays(self, addresses: Iterable[Any]) -> dict[str, np.ndarray]:
        """Look up many addresses; one row per input, in order.

        Returns numpy object arrays ``ip_service`` and ``ip_region`` (comma-joined, sorted;
        ``""`` when the address is in no AWS range or is not an IP address), ``ip_prefix`` (most
        specific match or None), ``ip_kind`` (``"ipv4"``, ``"ipv6"`` or ``None``) and ``ip_private``
        (RFC 1918, CGNAT, loopback, link-local, unique-local: an address seen inside a VPC).

        Examples
        --------
        >>> info = load_ip_ranges().lookup_arrays(["10.0.0.1", "AWS Internal"])
        >>> info["ip_private"].tolist(), info["ip_kind"].tolist()
        ([True, False], ['ipv4', None])
        """
        values = np.asarray(list(addresses) if not isinstance(addresses, np.ndarray) else addresses,
                            dtype=object)
        n = len(values)
        services = np.full(n, "", dtype=object)
        regions = np.full(n, "", dtype=object)
        prefixes = np.full(n, None, dtype=object)
        kinds = np.full(n, None, dtype=object)
        private = np.zeros(n, dtype=bool)
        if n:
            v4_pos, v4_int, v6_pos, v6_int = _parse_addresses(values)
            _kinds_into(kinds, private, v4_pos, v4_int, v6_pos, v6_int)
            for pos, found in ((v4_pos, self._match_v4(v4_int)), (v6_pos, self._match_v6(v6_int))):
                for i, (svc, reg, pfx) in zip(pos, found):
                    if svc:
                        services[i], regions[i], prefixes[i] = svc, reg, pfx
        return {"ip_service": services, "ip_region": regions, "ip_prefix": prefixes,
                "ip_kind": kinds, "ip_private": private}

    # ------------------------------------------------------------------------------------------
    def _match_v4(self, ints: np.ndarray) -> list[tuple[str, str, str | None]]:
        index = self._v4
        hits: list[list[int]] = [[] for _ in range(len(ints))]
        if len(ints) and index.lengths:
            addr = ints.astype(np.uint64)
            rows, ids_found = [], []
            for length, (starts, ids) in index.by_length.items():
                mask = np.uint64(((1 << length) - 1) << (32 - length)) if length else np.uint64(0)
                net = addr & mask
                where = np.minimum(np.searchsorted(starts, net), len(starts) - 1)
                ok = np.flatnonzero(starts[where] == net)
                rows.append(ok)
                ids_found.append(ids[where[ok]])
            all_rows = np.concatenate(rows)
            all_ids = np.concatenate(ids_found)
            for row, ident in zip(all_rows.tolist(), all_ids.tolist()):
                hits[row].append(ident)
        return [index.describe(h) for h in hits]

    def _match_v6(self, ints: list[int]) -> list[tuple[str, str, str | None]]:
        index = self._v6
        out = []
        for value in ints:
            hit = []
            for length in index.lengths:
                shift = 128 - length
                ident = index.exact.get(((value >> shift) << shift, length))
                if ident is not None:
                    hit.append(ident)
            out.append(index.describe(hit))
        return out


@dataclass
class _Index:
    """Distinct CIDRs of one address family, grouped by prefix length."""

    cidrs: list[tuple[int, int]]
    labels: list[frozenset[tuple[str, str]]]
    family: int
    lengths: list[int]
    by_length: dict[int, tuple[np.ndarray, np.ndarray]]
    exact: dict[tuple[int, int], int]
    _described: dict[tuple[int, ...], tuple[str, str, str | None]] = field(default_factory=dict)

    def describe(self, ids: list[int]) -> tuple[str, str, str | None]:
        if not ids:
            return "", "", None
        key = tuple(sorted(ids))
        known = self._described.get(key)
        if known is None:
            known = self._described[key] = self._describe(key)
        return known

    def _describe(self, ids: tuple[int, ...]) -> tuple[str, str, str | None]:
        pairs = set().union(*(self.labels[i] for i in ids))
        services = {s for s, _ in pairs}
        # AWS documents AMAZON as the superset of every other service's prefixes.
        services.add("AMAZON")
        regions = {r for _, r in pairs}
        best = max(ids, key=lambda i: self.cidrs[i][1])
        start, length = self.cidrs[best]
        text = str(ip_network((start, length))) if self.family == 4 else \
            f"{IPv6Address(start)}/{length}"
        return ",".join(sorted(services)), ",".join(sorted(regions)), text


def _index(table: dict[tuple[int, int], set[tuple[str, str]]], family: int) -> _Index:
    cidrs = sorted(table)
    labels = [frozenset(table[c]) for c in cidrs]
    by_length: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    exact = {c: i for i, c in enumerate(cidrs)}
    lengths = sorted({length for _, length in cidrs})
    if family == 4:
        for length in lengths:
            ids = np.array([i for i, c in enumerate(cidrs) if c[1] == length], dtype=np.int64)
            starts = np.array([cidrs[i][0] for i in ids], dtype=np.uint64)
            order = np.argsort(starts, kind="stable")
            by_length[length] = (starts[order], ids[order])
    return _Index(cidrs, labels, family, lengths, by_length, exact)


def _kinds_into(kinds: np.ndarray, private: np.ndarray, v4_pos: np.ndarray, v4_int: np.ndarray,
                v6_pos: np.ndarray, v6_int: list[int]) -> None:
    kinds[v4_pos] = "ipv4"
    kinds[v6_pos] = "ipv6"
    if len(v4_pos):
        private[v4_pos] = _private_v4(v4_int)
    for i, value in zip(v6_pos, v6_int):
        private[i] = any(value >> (128 - length) == net >> (128 - length)
                         for net, length in _PRIVATE_V6)


def address_kinds(addresses: Iterable[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Per value: ``"ipv4"``, ``"ipv6"`` or None (not an address), and whether it is private
    (the same reading as :meth:`AwsIpRanges.lookup_arrays`, without any ranges).

    Examples
    --------
    >>> kinds, private = address_kinds(["100.64.1.5", "fd00::1", "AWS Internal"])
    >>> kinds.tolist(), private.tolist()
    (['ipv4', 'ipv6', None], [True, True, False])
    """
    values = np.asarray(list(addresses) if not isinstance(addresses, np.ndarray) else addresses,
                        dtype=object)
    kinds = np.full(len(values), None, dtype=object)
    private = np.zeros(len(values), dtype=bool)
    if len(values):
        _kinds_into(kinds, private, *_parse_addresses(values))
    return kinds, private


_PRIVATE_V4 = tuple((int(n.network_address), n.prefixlen) for n in map(ip_network, (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
    "169.254.0.0/16", "0.0.0.0/8")))
_PRIVATE_V6 = tuple((int(n.network_address), n.prefixlen) for n in map(ip_network, (
    "fc00::/7", "fe80::/10", "::1/128")))


def _private_v4(ints: np.ndarray) -> np.ndarray:
    out = np.zeros(len(ints), dtype=bool)
    for net, length in _PRIVATE_V4:
        shift = np.uint64(32 - length)
        out |= (ints >> shift) == np.uint64(net >> (32 - length))
    return out


def _parse_addresses(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """Split values into IPv4 (vectorised parse) and IPv6 (``ipaddress``) integers.

    An address is what ``ipaddress.ip_address`` reads (reference §6 normalises with it): four
    decimal octets of ASCII digits without leading zeros (``010.0.0.1`` is octal to
    ``inet_aton`` and refused by Python), or an IPv6 address, optionally with a ``%zone``.
    Anything else (``AWS Internal``, ``athena.amazonaws.com``, NA) is neither. IPv4 texts are
    matched and split by Arrow (a million distinct addresses: 0.5-0.9 s instead of ~3 s of pandas
    string splitting); Arrow's ``[0-9]`` is ASCII only. An IPv4-mapped IPv6 address
    (``::ffff:3.112.0.9``) stays IPv6, as in the reference (``ip_address(...) in
    ip_network("3.112.0.0/14")`` is False) and in a metric filter, which compares the text.
    """
    text = pd.Series(values, dtype="object").astype("string")
    arr = pa.array(text.to_numpy(dtype=object, na_value=None), pa.string())
    v4_mask = pc.fill_null(pc.match_substring_regex(arr, _V4_ASCII), False).to_numpy(zero_copy_only=False)
    v4_pos = np.flatnonzero(v4_mask)
    parts = (pc.list_flatten(pc.split_pattern(arr.filter(pa.array(v4_mask)), "."))
             .cast(pa.int64()).to_numpy().reshape(-1, 4)) if len(v4_pos) else np.zeros((0, 4), np.int64)
    v4_pos, ints = _v4_integers(v4_pos, parts)
    v6_pos, v6_ints = _v6_integers(values, np.flatnonzero(
        pc.fill_null(pc.match_substring(arr, ":"), False).to_numpy(zero_copy_only=False)))
    return v4_pos, ints, v6_pos, v6_ints


def _v4_integers(positions: np.ndarray, octets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions whose four octets (one row each) are all at most 255, and their integers."""
    valid = (octets <= 255).all(axis=1)
    parts = octets[valid].astype(np.uint64)
    ints = (parts[:, 0] << np.uint64(24)) | (parts[:, 1] << np.uint64(16)) | (parts[:, 2] << np.uint64(8)) | parts[:, 3]
    return positions[valid], ints


def _v6_integers(values: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """The candidate positions that hold an IPv6 address (``ipaddress`` rules, ``%zone``
    allowed), and its integer (the zone does not change which network it is in)."""
    positions, ints = [], []
    for i in candidates:
        try:
            ints.append(int(IPv6Address(str(values[i]))))
            positions.append(i)
        except ValueError:
            continue
    return np.asarray(positions, dtype=np.int64), ints


_V4_OCTET = r"(?:0|[1-9][0-9]{0,2})"
_V4_ASCII = rf"^(?:{_V4_OCTET}\.){{3}}{_V4_OCTET}$"


# ---------------------------------------------------------------------------------------------
# loading
def default_cache_dir() -> Path:
    """Where a fetched ip-ranges.json is cached: ``$XDG_CACHE_HOME/s3audit`` or ``~/.cache/s3audit``.

    Examples
    --------
    >>> default_cache_dir().name
    's3audit'
    """
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "s3audit"


def _read_document(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        return json.loads(data)
    except (OSError, EOFError, ValueError) as exc:
        raise IpRangesError(f"cannot read ip-ranges document: {exc}", source=str(path)) from exc


def _fetch_live(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (fixed https URL)
        return response.read()


def load_ip_ranges(path: str | os.PathLike[str] | None = None, *, refresh: bool = False,
                   cache_dir: str | os.PathLike[str] | None = None, url: str = IP_RANGES_URL,
                   timeout: float = 10.0,
                   fetch: Callable[[str, float], bytes] | None = None) -> AwsIpRanges:
    """Load AWS's IP ranges: an explicit path, else the live file when asked, else cache/bundle.

    Parameters
    ----------
    path : path, optional
        Use exactly this ``ip-ranges.json`` (plain or gzipped). Defaults to the environment
        variable ``S3AUDIT_IP_RANGES`` when set.
    refresh : bool
        Fetch the live file from ``url``; on success it is validated and cached. If the network
        is unreachable a warning is logged and the cached or bundled copy is used.
    cache_dir : path, optional
        Where the fetched copy is kept (default ``~/.cache/s3audit``).
    fetch : callable, optional
        ``fetch(url, timeout) -> bytes`` (tests inject one; default uses urllib).

    Returns
    -------
    AwsIpRanges
        ``origin`` says which copy was used; ``create_date`` its AWS ``createDate``.

    Examples
    --------
    >>> load_ip_ranges().origin in {"bundled", "cache"}
    True
    """
    chosen = path or os.environ.get(ENV_PATH)
    if chosen:
        if refresh:
            log.warning("refresh ignored: an explicit ip-ranges file was given (%s)", chosen)
        p = Path(chosen).expanduser()
        return AwsIpRanges(_read_document(p), origin=str(p))
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    cached = cache / "ip-ranges.json"
    if refresh:
        try:
            payload = (fetch or _fetch_live)(url, timeout)
            ranges = AwsIpRanges(json.loads(payload), origin="live")
        except (OSError, ValueError) as exc:  # URLError is an OSError; IpRangesError a ValueError
            log.warning("could not refresh AWS ip-ranges from %s (%s); using the offline copy",
                        url, exc)
        else:
            try:
                cache.mkdir(parents=True, exist_ok=True)
                tmp = cached.with_suffix(".tmp")
                tmp.write_bytes(payload)
                tmp.replace(cached)
            except OSError as exc:
                log.warning("fetched ip-ranges but could not cache it in %s: %s", cache, exc)
            log.info("AWS ip-ranges refreshed: createDate %s", ranges.create_date)
            return ranges
    bundled = _bundled()
    if cached.exists():
        try:
            stat = cached.stat()
            ranges = _cached(str(cached), stat.st_mtime_ns, stat.st_size)
        except (OSError, IpRangesError) as exc:
            log.warning("ignoring unreadable cached ip-ranges: %s", exc)
        else:
            # createDate is YYYY-MM-DD-hh-mm-ss, so string order is time order
            if ranges.create_date >= bundled.create_date:
                return ranges
    return bundled


@lru_cache(maxsize=1)
def _bundled() -> AwsIpRanges:
    return AwsIpRanges(_read_document(BUNDLED_PATH), origin="bundled")


@lru_cache(maxsize=4)
def _cached(path: str, mtime_ns: int, size: int) -> AwsIpRanges:
    # parsed once per version of the cache file (classify loads the ranges on every call)
    return AwsIpRanges(_read_document(Path(path)), origin="cache")


def resolve_ip_ranges(value: AwsIpRanges | Mapping[str, Any] | str | os.PathLike[str] | None
                      ) -> AwsIpRanges:
    """Accept what ``classify(ip_ranges=...)`` takes: None, an index, a parsed dict or a path.

    Examples
    --------
    >>> resolve_ip_ranges({"prefixes": [{"ip_prefix": "198.51.100.0/24", "service": "S3",
    ...                                  "region": "eu-west-3"}]}).lookup("198.51.100.9").services
    ('AMAZON', 'S3')
    """
    if value is None:
        return load_ip_ranges()
    if isinstance(value, AwsIpRanges):
        return value
    if isinstance(value, Mapping):
        return AwsIpRanges(value)
    return load_ip_ranges(value)
