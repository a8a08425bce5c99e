"""Address ranges (CIDR) in the words a CloudWatch metric filter understands.

A metric filter compares ``$.sourceIPAddress`` as text. It has no notion of networks, so a CIDR
has to become one of:

* **octet-aligned wildcards** - ``10.1.0.0/16`` is ``"10.1.*"``; a prefix that is not a multiple
  of 8 bits expands into a few of them (``10.1.2.0/23`` is ``"10.1.2.*"`` and ``"10.1.3.*"``);
* **a regex** ``%...%`` when the expansion would be long. The regex sub-language has no
  parentheses (filter-pattern-spec.md section 5), so the regex is an alternation of anchored
  branches made of character classes only: ``10.0.16.0/20`` is
  ``^10\\.0\\.1[6-9]\\.|^10\\.0\\.2[0-9]\\.|^10\\.0\\.3[01]\\.``. A pattern may hold at most two
  regexes, so :func:`merge_regex` joins the regexes of several CIDRs into one.

What cannot be expressed is refused with :class:`CidrError`, which says why: IPv6 prefixes
(CloudTrail writes IPv6 addresses compressed, ``2001:db8::1``, so no text prefix selects a network),
``/0`` (every address: exclude the access source instead), and a CIDR with host bits set.

Examples
--------
>>> cidr_values("10.1.0.0/16").wildcards
('10.1.*',)
>>> cidr_values("10.1.2.0/23").wildcards
('10.1.2.*', '10.1.3.*')
>>> cidr_values("10.0.16.0/20").regex
'^10\\\\.0\\\\.1[6-9]\\\\.|^10\\\\.0\\\\.2[0-9]\\\\.|^10\\\\.0\\\\.3[01]\\\\.'
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

__all__ = [
    "CidrError",
    "CidrValues",
    "MAX_WILDCARDS",
    "cidr_values",
    "is_cidr",
    "merge_regex",
    "octet_range_pieces",
]

MAX_WILDCARDS = 4
"""A CIDR whose octet-aligned expansion needs more wildcards than this is written as a regex."""

# Characters the regex sub-language accepts (filter-pattern-spec.md section 5; D-> the current
# list plus space, OQ-18). The generated regexes use only digits, ^ $ \ . [ ] - and |.
_REGEX_ALLOWED = re.compile(r"^[A-Za-z0-9:_#=@/;,\- ^$?\[\]{}|\\*+.]*$")


class CidrError(ValueError):
    """A CIDR that a CloudWatch filter pattern cannot express (the message says why).

    Attributes
    ----------
    cidr : str
        The text that was refused.
    reason : str
        Why CloudWatch cannot express it, and what to do instead.
    """

    def __init__(self, cidr: str, reason: str) -> None:
        self.cidr = cidr
        self.reason = reason
        super().__init__(f"cannot exclude {cidr!r}: {reason}")


@dataclass(frozen=True)
class CidrValues:
    """How one CIDR is written in a pattern: ``wildcards`` (values for ``=``/``!=``) or ``regex``.

    Exactly one of the two is set. ``regex`` is the body without the surrounding ``%``.
    """

    cidr: str
    wildcards: tuple[str, ...] = ()
    regex: str | None = None


def is_cidr(text: str) -> bool:
    """True when ``text`` looks like an address with a prefix length (``a.b.c.d/n`` or IPv6)."""
    if "/" not in text:
        return False
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def cidr_values(cidr: str, *, max_wildcards: int = MAX_WILDCARDS) -> CidrValues:
    """Translate a CIDR (or a single address) into wildcard values or a regex.

    Parameters
    ----------
    cidr : str
        ``"10.0.0.0/8"``, ``"192.0.2.7"``, ``"192.0.2.7/32"``, ``"2001:db8::1"`` (IPv6: single
        addresses only).
    max_wildcards : int
        Use a regex when the octet-aligned expansion needs more wildcards than this.

    Returns
    -------
    CidrValues

    Raises
    ------
    CidrError
        For what a pattern cannot express (the message explains).

    Examples
    --------
    >>> cidr_values("192.0.2.7").wildcards
    ('192.0.2.7',)
    >>> cidr_values("192.0.2.128/25").regex
    '^192\\\\.0\\\\.2\\\\.12[89]$|^192\\\\.0\\\\.2\\\\.1[3-9][0-9]$|^192\\\\.0\\\\.2\\\\.2[0-4][0-9]$|^192\\\\.0\\\\.2\\\\.25[0-5]$'
    """
    text = str(cidr).strip()
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise CidrError(text, f"not an IP address or CIDR ({exc})") from None
        raise CidrError(
            text,
            f"host bits are set; the network is {loose.with_prefixlen} - write that if you mean it",
        ) from None

    if network.version == 6:
        if network.prefixlen == 128:
            return CidrValues(text, wildcards=(str(network.network_address),))
        raise CidrError(
            text,
            "CloudWatch compares sourceIPAddress as text and CloudTrail writes IPv6 addresses in "
            "compressed form (2001:db8::1), so no wildcard or regex selects an IPv6 network "
            "reliably; list the exact addresses (e.g. 2001:db8::1) instead",
        )

    prefix = network.prefixlen
    if prefix == 0:
        raise CidrError(
            text,
            "/0 is every IPv4 address; exclude the access source (exclude_source) or the field "
            "value you mean instead",
        )
    octets = [int(o) for o in str(network.network_address).split(".")]
    if prefix == 32:
        return CidrValues(text, wildcards=(str(network.network_address),))
    fixed = prefix // 8
    spare_bits = 8 - prefix % 8 if prefix % 8 else 0
    if spare_bits == 0:
        # octet-aligned: the fixed octets followed by a trailing wildcard
        return CidrValues(text, wildcards=(".".join(map(str, octets[:fixed])) + ".*",))

    low = octets[fixed]
    high = low + (1 << spare_bits) - 1
    last = fixed == 3
    count = high - low + 1
    if count <= max_wildcards:
        head = ".".join(map(str, octets[:fixed]))
        values = tuple(
            f"{head}.{value}" if last else f"{head}.{value}.*" if head else f"{value}.*"
            for value in range(low, high + 1)
        )
        return CidrValues(text, wildcards=values)

    head = "".join(f"{o}\\." for o in octets[:fixed])
    tail = "$" if last else "\\."
    branches = [f"^{head}{piece}{tail}" for piece in octet_range_pieces(low, high)]
    regex = "|".join(branches)
    assert _REGEX_ALLOWED.match(regex), regex  # generated from digits and operators only
    return CidrValues(text, regex=regex)


def merge_regex(regexes: list[str] | tuple[str, ...]) -> str:
    """Join regex bodies (anchored alternations) into one, so they cost one regex slot.

    Examples
    --------
    >>> merge_regex([r"^10\\.1[6-9]\\.", r"^172\\.3[01]\\."])
    '^10\\\\.1[6-9]\\\\.|^172\\\\.3[01]\\\\.'
    """
    seen: list[str] = []
    for regex in regexes:
        for branch in regex.split("|"):
            if branch not in seen:
                seen.append(branch)
    return "|".join(seen)


def _char_class(low: int, high: int) -> str:
    if low == high:
        return str(low)
    if high == low + 1:
        return f"[{low}{high}]"
    return f"[{low}-{high}]"


def _same_length(low: str, high: str) -> list[str]:
    """Regex pieces (character classes, no parentheses) for [low, high], both n digits."""
    if low == high:
        return [low]
    if len(low) == 1:
        return [_char_class(int(low), int(high))]
    if low[0] == high[0]:
        return [low[0] + piece for piece in _same_length(low[1:], high[1:])]
    width = len(low) - 1
    pieces: list[str] = []
    first_full = int(low[0])
    if low[1:] != "0" * width:
        pieces += [low[0] + piece for piece in _same_length(low[1:], "9" * width)]
        first_full += 1
    last_full = int(high[0])
    tail: list[str] = []
    if high[1:] != "9" * width:
        tail = [high[0] + piece for piece in _same_length("0" * width, high[1:])]
        last_full -= 1
    if first_full <= last_full:
        pieces.append(_char_class(first_full, last_full) + "[0-9]" * width)
    return pieces + tail


def octet_range_pieces(low: int, high: int) -> list[str]:
    """Regex alternatives that together match the decimal numbers ``low..high`` exactly.

    Written without parentheses (the filter-pattern regex has none): each piece is a run of
    digits and character classes, to be anchored by the caller.

    Examples
    --------
    >>> octet_range_pieces(16, 31)
    ['1[6-9]', '2[0-9]', '3[01]']
    >>> octet_range_pieces(0, 255)
    ['[0-9]', '[1-9][0-9]', '1[0-9][0-9]', '2[0-4][0-9]', '25[0-5]']
    """
    if not 0 <= low <= high <= 255:
        raise ValueError(f"octet range {low}..{high} is outside 0..255")
    pieces: list[str] = []
    for start, end in ((0, 9), (10, 99), (100, 255)):
        lo, hi = max(low, start), min(high, end)
        if lo <= hi:
            pieces += _same_length(str(lo), str(hi))
    return pieces
