"""AWS ip-ranges: the bundled real copy, containment lookups, path override, fetch-and-cache."""
from __future__ import annotations

import gzip
import http.server
import ipaddress
import json
import logging
import random
import threading

import numpy as np
import pandas as pd
import pytest

from s3audit.ipranges import (BUNDLED_PATH, AwsIpRanges, IpRangesError, load_ip_ranges,
                              resolve_ip_ranges)
from s3audit.sources import classify
from tests._sources_support import event, frame


def bundled_document() -> dict:
    return json.loads(gzip.decompress(BUNDLED_PATH.read_bytes()))


def small_doc(create_date: str = "2099-01-01-00-00-00") -> dict:
    return {"syncToken": "4070908800", "createDate": create_date,
            "prefixes": [{"ip_prefix": "198.51.100.0/24", "region": "eu-west-3", "service": "EC2",
                          "network_border_group": "eu-west-3"},
                         {"ip_prefix": "198.51.100.0/24", "region": "eu-west-3",
                          "service": "AMAZON", "network_border_group": "eu-west-3"}],
            "ipv6_prefixes": [{"ipv6_prefix": "2001:db8::/32", "region": "GLOBAL",
                               "service": "CLOUDFRONT", "network_border_group": "GLOBAL"}]}


# --- the bundled copy -----------------------------------------------------------------------
def test_bundled_copy_is_real_recent_and_large():
    doc = bundled_document()
    assert len(doc["prefixes"]) > 5000 and len(doc["ipv6_prefixes"]) > 1000
    assert doc["createDate"] >= "2026-06-01"  # refresh the copy when this starts failing
    services = {p["service"] for p in doc["prefixes"]}
    assert {"AMAZON", "EC2", "S3", "CLOUDFRONT", "ROUTE53_HEALTHCHECKS"} <= services
    # AWS lists (almost) every EC2 prefix a second time under AMAZON; lookups add AMAZON always
    ec2 = {(p["ip_prefix"], p["region"]) for p in doc["prefixes"] if p["service"] == "EC2"}
    amazon = {(p["ip_prefix"], p["region"]) for p in doc["prefixes"] if p["service"] == "AMAZON"}
    assert len(ec2) > 1000 and len(ec2 & amazon) > 0.8 * len(ec2)
    ranges = load_ip_ranges()
    lonely = sorted(ec2 - amazon)[:5] or sorted(ec2)[:5]
    for prefix, region in lonely:
        m = ranges.lookup(prefix.split("/")[0])
        assert {"AMAZON", "EC2"} <= set(m.services) and region in m.regions
    for item in doc["prefixes"][:200]:
        ipaddress.ip_network(item["ip_prefix"])  # strict: real network addresses


def test_known_addresses():
    ranges = load_ip_ranges()
    m = ranges.lookup("3.112.0.1")
    assert (m.services, m.regions, m.prefix) == (("AMAZON", "EC2"), ("ap-northeast-1",),
                                                 "3.112.0.0/14")
    assert ranges.lookup("3.115.255.254").prefix == "3.112.0.0/14"
    assert ranges.lookup("35.169.66.138").prefix == "35.168.0.0/13"
    only_amazon = ranges.lookup("52.94.76.114")
    assert only_amazon.services == ("AMAZON",) and only_amazon.regions == ("us-west-2",)
    for outside in ("192.0.2.1", "8.8.8.8", "10.0.0.1", "1.2.3.4", "athena.amazonaws.com",
                    "AWS Internal", "", "256.1.1.1", "not an ip"):
        assert not ranges.lookup(outside).found, outside


def test_nested_prefixes_report_every_service():
    ranges = load_ip_ranges()
    doc = bundled_document()
    # pick an S3 prefix that sits inside a larger EC2 or AMAZON prefix and check both appear
    nets = [(ipaddress.ip_network(p["ip_prefix"]), p["service"]) for p in doc["prefixes"]]
    s3 = [n for n, s in nets if s == "S3"]
    probe = next(str(n.network_address) for n in s3)
    m = ranges.lookup(probe)
    expected = {s for n, s in nets if ipaddress.ip_address(probe) in n} | {"AMAZON"}
    assert set(m.services) == expected and "S3" in m.services


def test_lookup_many_agrees_with_a_brute_force_scan():
    doc = bundled_document()
    nets4 = [(ipaddress.ip_network(p["ip_prefix"]), p["service"], p["region"])
             for p in doc["prefixes"]]
    nets6 = [(ipaddress.ip_network(p["ipv6_prefix"]), p["service"], p["region"])
             for p in doc["ipv6_prefixes"]]
    rnd = random.Random(5)
    probes = []
    for net, _, _ in rnd.sample(nets4, 40) + rnd.sample(nets6, 15):
        probes.append(str(net.network_address + rnd.randrange(net.num_addresses)))
    probes += [str(ipaddress.IPv4Address(rnd.getrandbits(32))) for _ in range(25)]
    result = load_ip_ranges().lookup_many(probes)
    for probe, (_, row) in zip(probes, result.iterrows()):
        addr = ipaddress.ip_address(probe)
        hits = [(s, r) for n, s, r in (nets4 if addr.version == 4 else nets6) if addr in n]
        services = {s for s, _ in hits} | ({"AMAZON"} if hits else set())
        assert row["ip_service"] == ",".join(sorted(services)), probe
        assert row["ip_region"] == ",".join(sorted({r for _, r in hits})), probe


# --- overrides and refresh -------------------------------------------------------------------
def test_path_override_plain_and_gzip(tmp_path, monkeypatch):
    plain = tmp_path / "ranges.json"
    plain.write_text(json.dumps(small_doc()))
    packed = tmp_path / "ranges.json.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    for path in (plain, packed):
        ranges = load_ip_ranges(path)
        assert ranges.origin == str(path)
        assert ranges.lookup("198.51.100.77").services == ("AMAZON", "EC2")
        assert ranges.lookup("2001:db8::1").services == ("AMAZON", "CLOUDFRONT")
        assert not ranges.lookup("3.112.0.1").found
    monkeypatch.setenv("S3AUDIT_IP_RANGES", str(plain))
    assert load_ip_ranges().origin == str(plain)


def test_classify_accepts_path_dict_or_index(tmp_path):
    path = tmp_path / "ranges.json"
    path.write_text(json.dumps(small_doc()))
    df = frame([event(sourceIPAddress="198.51.100.77")])
    assert classify(df)["source"].iloc[0] == "external"  # real data: a documentation address
    for value in (str(path), small_doc(), AwsIpRanges(small_doc())):
        out = classify(df, ip_ranges=value)
        assert out["source"].iloc[0] == "aws-network"
        assert out["ip_region"].iloc[0] == "eu-west-3"
    assert resolve_ip_ranges(None).origin in {"bundled", "cache"}


def test_bad_documents_raise_typed_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    with pytest.raises(IpRangesError) as err:
        load_ip_ranges(bad)
    assert err.value.source == str(bad)
    with pytest.raises(IpRangesError):
        AwsIpRanges({"syncToken": "1"})
    with pytest.raises(IpRangesError):
        AwsIpRanges({"prefixes": [{"ip_prefix": "3.112.0.0/99", "service": "EC2"}]})


class _Handler(http.server.BaseHTTPRequestHandler):
    body = b""
    hits = 0

    def do_GET(self):  # noqa: N802 (http.server API)
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_refresh_fetches_validates_and_caches(server, tmp_path, monkeypatch):
    monkeypatch.delenv("S3AUDIT_IP_RANGES", raising=False)
    _Handler.body = json.dumps(small_doc("2099-01-01-00-00-00")).encode()
    _Handler.hits = 0
    url = f"http://127.0.0.1:{server.server_port}/ip-ranges.json"
    live = load_ip_ranges(refresh=True, url=url, cache_dir=tmp_path)
    assert live.origin == "live" and _Handler.hits == 1
    assert (tmp_path / "ip-ranges.json").exists()
    # later runs, offline: the newer cached copy wins over the bundled one, no fetch
    again = load_ip_ranges(cache_dir=tmp_path)
    assert again.origin == "cache" and again.create_date == "2099-01-01-00-00-00"
    assert _Handler.hits == 1


def test_older_cache_loses_to_the_bundled_copy(tmp_path):
    (tmp_path / "ip-ranges.json").write_text(json.dumps(small_doc("2015-01-01-00-00-00")))
    assert load_ip_ranges(cache_dir=tmp_path).origin == "bundled"


def test_refresh_unreachable_or_invalid_falls_back_with_a_warning(server, tmp_path, caplog):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    with caplog.at_level(logging.WARNING, logger="s3audit.ipranges"):
        ranges = load_ip_ranges(refresh=True, url=f"http://127.0.0.1:{closed_port}/x",
                                cache_dir=tmp_path, timeout=2)
    assert ranges.origin == "bundled"
    assert "could not refresh" in caplog.text
    assert not (tmp_path / "ip-ranges.json").exists()
    _Handler.body = b'{"not": "ip ranges"}'
    ranges = load_ip_ranges(refresh=True, url=f"http://127.0.0.1:{server.server_port}/",
                            cache_dir=tmp_path)
    assert ranges.origin == "bundled"
    assert not (tmp_path / "ip-ranges.json").exists()


def test_refresh_uses_an_injected_fetcher(tmp_path):
    calls = []

    def fetch(url, timeout):
        calls.append((url, timeout))
        return json.dumps(small_doc()).encode()

    ranges = load_ip_ranges(refresh=True, fetch=fetch, cache_dir=tmp_path)
    assert ranges.origin == "live"
    assert calls == [("https://ip-ranges.amazonaws.com/ip-ranges.json", 10.0)]


def test_cached_copy_is_parsed_once_per_version(tmp_path):
    cached = tmp_path / "ip-ranges.json"
    cached.write_text(json.dumps(small_doc("2099-01-01-00-00-00")))
    first = load_ip_ranges(cache_dir=tmp_path)
    assert first.origin == "cache" and load_ip_ranges(cache_dir=tmp_path) is first
    newer = small_doc("2099-02-01-00-00-00")
    newer["prefixes"][0]["region"] = "eu-north-1"
    cached.write_text(json.dumps(newer) + " " * 7)  # a new version of the file
    second = load_ip_ranges(cache_dir=tmp_path)
    assert second is not first and second.create_date == "2099-02-01-00-00-00"
    assert "eu-north-1" in second.lookup("198.51.100.1").regions


def test_explicit_path_wins_over_refresh_with_a_warning(tmp_path, caplog):
    path = tmp_path / "ranges.json"
    path.write_text(json.dumps(small_doc()))

    def fetch(url, timeout):  # pragma: no cover - must not be called
        raise AssertionError("fetched although a path was given")

    with caplog.at_level(logging.WARNING, logger="s3audit.ipranges"):
        ranges = load_ip_ranges(path, refresh=True, fetch=fetch, cache_dir=tmp_path)
    assert ranges.origin == str(path) and "refresh ignored" in caplog.text


def _parse_addresses_by_definition(values):
    """Which values are addresses, by Python's ``ipaddress.ip_address`` (the reference's
    normalisation, cloudtrail-s3-sources.md §6), one at a time."""
    v4_pos, v4_int, v6_pos, v6_int = [], [], [], []
    for i, value in enumerate(values):
        if not isinstance(value, str):
            continue
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            continue
        if address.version == 4:
            v4_pos.append(i)
            v4_int.append(int(address))
        else:
            v6_pos.append(i)
            v6_int.append(int(address))
    return (np.asarray(v4_pos, dtype=np.int64), np.asarray(v4_int, dtype=np.uint64),
            np.asarray(v6_pos, dtype=np.int64), v6_int)


def test_address_parsing_follows_the_rules_on_odd_and_random_values() -> None:
    from s3audit.ipranges import _parse_addresses

    rng = random.Random(5)
    odd = ["10.0.0.1", "256.1.1.1", "1.2.3", "01.002.3.004", " 1.2.3.4", "1.2.3.4 ", "AWS Internal",
           "athena.amazonaws.com", None, float("nan"), 5, 1.5, "", "::1", "fe80::1%eth0", "2001:db8::1",
           "1.2.3.4:80", "\u0661\u0662\u0663.1.1.1", "1.2.3.\u0664", "999.999.999.999", "0.0.0.0",
           "255.255.255.255", "1.2.3.4\n", "1..2.3", "1.2.3.4.5", "a:b", pd.NA, "12.34.56.78",
           "0.1.2.3", "10.0.0.010", "00.0.0.0", "::ffff:3.112.0.9", "::ffff:03.112.0.9", "fe80::1%",
           "\uff13.112.0.9", "2600:1F18::5"]
    values = np.asarray(odd + [f"{rng.randrange(300)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
                               for _ in range(3000)] + odd, dtype=object)
    got, want = _parse_addresses(values), _parse_addresses_by_definition(values)
    for g, w in zip(got, want):
        assert np.array_equal(np.asarray(g), np.asarray(w))
    # (most are IPv4; ::1, fe80::1%eth0, 2001:db8::1, ::ffff:3.112.0.9, 2600:1F18::5 twice)
    assert len(got[0]) > 2000 and len(got[2]) == 10
