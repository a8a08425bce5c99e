"""CIDR -> octet-aligned wildcards or a parenthesis-free regex, checked against the real engine."""
from __future__ import annotations

import ipaddress
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3audit.cidr import CidrError, cidr_values, is_cidr, merge_regex, octet_range_pieces
from s3audit.pattern import compile_pattern


def engine_in(values, address: str) -> bool:
    """Does ``$.sourceIPAddress = <value>`` match ``address`` for any of the values (real engine)?"""
    if values.regex is not None:
        texts = [f"%{values.regex}%"]
    else:
        texts = [f'"{w}"' for w in values.wildcards]
    return any(compile_pattern(f"{{ $.sourceIPAddress = {t} }}").matches({"sourceIPAddress": address})
               for t in texts)


@pytest.mark.parametrize("cidr, wildcards", [
    ("10.0.0.0/8", ("10.*",)),
    ("10.1.0.0/16", ("10.1.*",)),
    ("192.0.2.0/24", ("192.0.2.*",)),
    ("192.0.2.7/32", ("192.0.2.7",)),
    ("192.0.2.7", ("192.0.2.7",)),
    ("10.1.2.0/23", ("10.1.2.*", "10.1.3.*")),
    ("10.1.4.0/22", ("10.1.4.*", "10.1.5.*", "10.1.6.*", "10.1.7.*")),
    ("10.0.0.0/7", ("10.*", "11.*")),
    ("192.0.2.4/30", ("192.0.2.4", "192.0.2.5", "192.0.2.6", "192.0.2.7")),
    ("2001:db8::1/128", ("2001:db8::1",)),
])
def test_aligned_or_small_ranges_become_wildcards(cidr, wildcards):
    values = cidr_values(cidr)
    assert values.wildcards == wildcards and values.regex is None


@pytest.mark.parametrize("cidr", ["10.0.16.0/20", "192.0.2.128/25", "192.0.2.32/27",
                                  "172.16.0.0/12", "100.64.0.0/10", "10.0.0.0/9", "64.0.0.0/2"])
def test_other_ranges_become_one_anchored_regex_without_parentheses(cidr):
    values = cidr_values(cidr)
    assert values.regex is not None and not values.wildcards
    assert "(" not in values.regex and ")" not in values.regex
    assert re.fullmatch(r"[0-9^$\\.\[\]|-]+", values.regex)
    network = ipaddress.ip_network(cidr)
    first, last = int(network.network_address), int(network.broadcast_address)
    probes = {first, last, first + 1, last - 1, (first + last) // 2}
    probes |= {first - 1, last + 1} - {-1, 2**32}
    for number in sorted(probes):
        address = str(ipaddress.IPv4Address(number))
        assert engine_in(values, address) == (ipaddress.IPv4Address(number) in network), address


@settings(max_examples=60, deadline=None)
@given(prefix=st.integers(min_value=1, max_value=31), base=st.integers(min_value=0, max_value=2**32 - 1),
       probe=st.integers(min_value=0, max_value=2**32 - 1))
def test_any_ipv4_cidr_matches_exactly_its_addresses(prefix, base, probe):
    network = ipaddress.ip_network((base >> (32 - prefix) << (32 - prefix), prefix))
    values = cidr_values(str(network))
    inside = int(network.network_address) + probe % network.num_addresses
    for number in {inside, probe, int(network.network_address), int(network.broadcast_address)}:
        address = ipaddress.IPv4Address(number)
        assert engine_in(values, str(address)) == (address in network), (str(network), str(address))


def test_regex_never_matches_service_names_or_ipv6():
    values = cidr_values("10.0.16.0/20")
    for text in ("athena.amazonaws.com", "AWS Internal", "2001:db8::10.0.16.1", "110.0.16.1"):
        assert not engine_in(values, text)
    assert not engine_in(cidr_values("10.0.0.0/8"), "athena.amazonaws.com")


def test_octet_range_pieces_are_exact_for_every_range():
    for low in range(256):
        for high in range(low, 256):
            rx = re.compile("^(?:" + "|".join(octet_range_pieces(low, high)) + ")$")
            assert [n for n in range(256) if rx.match(str(n))] == list(range(low, high + 1))
    with pytest.raises(ValueError):
        octet_range_pieces(5, 300)


@pytest.mark.parametrize("text, reason", [
    ("2001:db8::/32", "compressed form"),
    ("0.0.0.0/0", "every IPv4 address"),
    ("10.0.0.5/24", "10.0.0.0/24"),
    ("10.0.0.0/33", "not an IP address"),
    ("not-an-ip", "not an IP address"),
])
def test_what_cloudwatch_cannot_express_is_refused_with_the_reason(text, reason):
    with pytest.raises(CidrError) as caught:
        cidr_values(text)
    assert caught.value.cidr == text
    assert reason in str(caught.value)


def test_merge_regex_keeps_one_slot_and_deduplicates():
    a, b = cidr_values("10.0.16.0/20").regex, cidr_values("192.0.2.128/25").regex
    merged = merge_regex([a, b, a])
    assert merged.count("|") == a.count("|") + b.count("|") + 1
    pattern = compile_pattern(f"{{ $.sourceIPAddress != %{merged}% }}")
    assert not pattern.matches({"sourceIPAddress": "10.0.20.1"})
    assert not pattern.matches({"sourceIPAddress": "192.0.2.200"})
    assert pattern.matches({"sourceIPAddress": "192.0.2.100"})


def test_is_cidr():
    assert is_cidr("10.0.0.0/8") and is_cidr("2001:db8::/32")
    assert not is_cidr("10.0.0.1") and not is_cidr("a/b")
