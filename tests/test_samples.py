"""The sample generator and the bundled data/samples/: determinism, coverage, realism, formats."""
from __future__ import annotations

import datetime as dt
import gzip
import ipaddress
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from s3audit import samples
from s3audit import samples_stories as stories
from s3audit import samples_world as world
from s3audit.cli import main as cli_main
from s3audit.paths import PACKAGE_DATA_DIR, SAMPLES_DIR

from _samples_support import (directory_snapshot, is_ip, is_rfc1918, read_jsonl, read_trail, read_truth_rows,
                              reference_label)

MB = 1_000_000


@pytest.fixture(scope="module")
def bundled():
    """The committed data/samples/: records, truth rows (same order), truth by id."""
    records = read_jsonl(SAMPLES_DIR / samples.JSONL_NAME)
    truth = read_truth_rows(SAMPLES_DIR / samples.TRUTH_NAME)
    return records, truth, {row["eventID"]: row for row in truth}


@pytest.fixture(scope="module")
def small_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("samples")
    summary = samples.generate_samples(out, events=1500, seed=11)
    return out, summary


@pytest.fixture(scope="module")
def aws_ranges():
    if not (PACKAGE_DATA_DIR / "ip-ranges.json.gz").exists():
        pytest.skip("bundled ip-ranges.json.gz not there yet")
    from s3audit.ipranges import load_ip_ranges

    return load_ip_ranges(PACKAGE_DATA_DIR / "ip-ranges.json.gz")


def _data(records, truth_by_id):
    return [r for r in records if truth_by_id[r["eventID"]]["source"] != samples.NO_LABEL]


# ---- determinism --------------------------------------------------------------------------
def test_same_seed_same_bytes(small_dir, tmp_path):
    out, _ = small_dir
    samples.generate_samples(tmp_path, events=1500, seed=11)
    first = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    second = {p.relative_to(tmp_path).as_posix(): p.read_bytes()
              for p in tmp_path.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_other_seed_other_events():
    a = samples.generate(300, seed=1)
    b = samples.generate(300, seed=2)
    assert {r["eventID"] for r in a.records}.isdisjoint(r["eventID"] for r in b.records)
    assert samples.generate(300, seed=1).records == a.records


def test_gzip_members_have_no_timestamp_or_name(small_dir):
    out, _ = small_dir
    for path in [out / samples.JSONL_NAME, out / samples.TRUTH_NAME,
                 next((out / samples.TRAIL_DIR).rglob("*.json.gz"))]:
        head = path.read_bytes()[:10]
        assert head[:2] == b"\x1f\x8b"
        assert head[3] & 0x08 == 0, f"{path.name}: FNAME flag set"
        assert head[4:8] == b"\0\0\0\0", f"{path.name}: mtime set"


def test_bundled_samples_are_what_the_default_seed_generates(tmp_path):
    """data/samples/ is reproducible: regenerating with the defaults gives the same content
    (compared decompressed, so a different zlib build cannot fail it)."""
    summary = samples.generate_samples(tmp_path)
    assert summary.seed == samples.DEFAULT_SEED
    assert directory_snapshot(tmp_path) == directory_snapshot(SAMPLES_DIR)


def test_no_dependence_on_clock_or_hash_seed():
    """Window and content come from arguments only; set iteration order is never used."""
    s = samples.generate(200, seed=5, start="2025-01-06T00:00:00Z", days=3)
    times = sorted(r["eventTime"] for r in s.records)
    assert "2025-01-06T00:00:00Z" <= times[0] and times[-1] < "2025-01-09T00:00:00Z"
    assert s.records == samples.generate(200, seed=5, start=dt.datetime(2025, 1, 6), days=3).records


# ---- counts and coverage ------------------------------------------------------------------
@pytest.mark.parametrize("n", [stories.MIN_EVENTS, stories.MIN_EVENTS + 1, 999, 4321])
def test_exact_number_of_data_events(n):
    s = samples.generate(n, seed=3)
    assert len(s.data_records) == n
    assert len(s.records) == len(s.truth)
    assert [r["eventID"] for r in s.records] == [eid for eid, _, _ in s.truth]


def test_too_few_events_is_a_clear_error():
    with pytest.raises(ValueError, match="at least"):
        samples.generate(5)


def test_every_source_and_story_is_in_the_truth(bundled):
    _, truth, _ = bundled
    sources = Counter(row["source"] for row in truth)
    assert set(samples.SOURCES) <= set(sources), set(samples.SOURCES) - set(sources)
    assert set(sources) - set(samples.SOURCES) == {samples.NO_LABEL}
    stories_seen = {row["story"] for row in truth}
    for st in stories.STORIES:  # a story may split into variants ("lakeformation-athena")
        assert any(seen == st.name or seen.startswith(st.name + "-") for seen in stories_seen), st
    assert {"intrusion", "dev-laptop", "partner-endpoint", "management",
            "vpce-policy-denied"} <= stories_seen


def test_small_samples_still_cover_every_source():
    s = samples.generate(200, seed=9)
    assert set(s.sources()) == set(samples.SOURCES)


def test_truth_is_one_row_per_record_in_file_order(bundled):
    records, truth, _ = bundled
    assert [r["eventID"] for r in records] == [row["eventID"] for row in truth]
    assert len({row["eventID"] for row in truth}) == len(truth)


def test_non_data_events_are_labelled_dash(bundled):
    records, _, by_id = bundled
    for rec in records:
        label = by_id[rec["eventID"]]["source"]
        assert (label == samples.NO_LABEL) == (rec["eventCategory"] != "Data")


@pytest.mark.parametrize("which", ["bundled", "other-seed"])
def test_truth_follows_the_ordered_rules(which, bundled, aws_ranges):
    if which == "bundled":
        records, _, by_id = bundled
        truth = {k: v["source"] for k, v in by_id.items()}
    else:
        s = samples.generate(3000, seed=77)
        records, truth = s.records, {eid: src for eid, src, _ in s.truth}

    cache: dict[str, bool] = {}

    def in_aws(ip: str) -> bool:
        if ip not in cache:
            cache[ip] = is_ip(ip) and aws_ranges.lookup(ip).found
        return cache[ip]

    wrong = []
    for rec in records:
        if rec["eventCategory"] != "Data":
            continue
        for own in (samples.OWN_VPC_ENDPOINTS, None):
            got = reference_label(rec, recipient=world.ACCOUNT_ID, own_endpoints=own,
                                  aws_lookup=in_aws)
            if got != truth[rec["eventID"]]:
                wrong.append((rec["eventID"], truth[rec["eventID"]], got, own is None))
    assert wrong == []


# ---- realism ------------------------------------------------------------------------------
def test_user_agents_bracketed_for_clients_bare_for_services(bundled):
    records, _, by_id = bundled
    for rec in _data(records, by_id):
        ua = rec["userAgent"]
        service = (rec["userIdentity"].get("invokedBy") or rec["sourceIPAddress"] == "AWS Internal")
        if service:
            assert ua == rec["sourceIPAddress"] and not ua.startswith("["), rec["eventID"]
        else:
            assert ua.startswith("[") and ua.endswith("]"), rec["eventID"]
    families = Counter(re.match(r"\[?([A-Za-z0-9 ._-]*)", r["userAgent"]).group(1).split("/")[0]
                       for r in records if "userAgent" in r)
    for family in ("aws-cli", "Boto3", "aws-sdk-java", "aws-sdk-go", "aws-sdk-go-v2", "S3Console",
                   "Mozilla", "curl", "aws-sdk-js", "Hadoop 3.4.1"):
        assert families[family] > 0, family
    cli = [r["userAgent"] for r in records if r.get("userAgent", "").startswith("[aws-cli/2.")]
    assert all(" md/" in ua and " ua/2." in ua and " os/" in ua for ua in cli)


def test_vpc_endpoint_rows_use_private_addresses(bundled):
    records, _, by_id = bundled
    customer = [r for r in _data(records, by_id)
                if re.fullmatch(r"vpce-[0-9a-f]{17}", r.get("vpcEndpointId", ""))]
    assert {r["vpcEndpointId"] for r in customer} == {*world.OWN_VPC_ENDPOINTS, world.PARTNER_ENDPOINT}
    for rec in customer:
        assert is_rfc1918(rec["sourceIPAddress"]), rec["eventID"]
    interface = [r for r in customer if r["vpcEndpointId"] == world.INTERFACE_ENDPOINT]
    assert interface and all(r["requestParameters"]["Host"].endswith(".vpce.amazonaws.com")
                             and f".{world.INTERFACE_ENDPOINT}-" in r["requestParameters"]["Host"]
                             for r in interface)
    console = [r for r in records if by_id[r["eventID"]]["source"] == "console"]
    assert console and all(r.get("vpcEndpointId") == world.CONSOLE_ENDPOINT for r in console)
    assert all(is_ip(r["sourceIPAddress"]) and not is_rfc1918(r["sourceIPAddress"]) for r in console)
    private = [r for r in _data(records, by_id) if is_rfc1918(r["sourceIPAddress"])]
    assert all("vpcEndpointId" in r for r in private)  # private addresses only via endpoints


def test_aws_labelled_addresses_are_inside_aws_ranges(bundled, aws_ranges):
    records, _, by_id = bundled
    aws_sources = {"ec2", "aws-network", "cloudshell"}
    checked = outside = amazon_only = 0
    lookups: dict[str, object] = {}
    for rec in _data(records, by_id):
        ip = rec["sourceIPAddress"]
        source = by_id[rec["eventID"]]["source"]
        if not is_ip(ip) or is_rfc1918(ip):
            continue
        found = lookups.get(ip) or lookups.setdefault(ip, aws_ranges.lookup(ip))
        story = by_id[rec["eventID"]]["story"]
        if source in aws_sources or story in ("glue-job", "redshift-spectrum"):
            assert found.found and "EC2" in found.services, (source, ip)
            checked += 1
        elif story in ("lambda-payroll-portal", "lambda-payroll-export"):
            assert found.found and found.regions == ("us-east-1",), (source, ip)
            amazon_only += "EC2" not in found.services
            checked += 1
        elif source in ("external", "anonymous", "console", "console-browser", "presigned-url"):
            assert not found.found, (source, ip)
            outside += 1
    assert checked > 500 and outside > 1000
    assert amazon_only > 50  # some Lambda egress is in AMAZON-only ranges
    cloudshell = {r["sourceIPAddress"] for r in records
                  if by_id[r["eventID"]]["source"] == "cloudshell"}
    regions = {aws_ranges.lookup(ip).regions for ip in cloudshell}
    assert regions == {("us-east-1",), ("ap-northeast-1",)}


def test_world_prefixes_are_real_aws_prefixes(aws_ranges):
    for name, (prefixes, service, region) in world.AWS_PREFIXES.items():
        for prefix in prefixes:
            net = ipaddress.ip_network(prefix)
            for address in (net[1], net[net.num_addresses // 2], net[-2]):
                m = aws_ranges.lookup(str(address))
                assert service in m.services and region in m.regions, (name, prefix)
                if service == "AMAZON":
                    assert m.services == ("AMAZON",), (name, prefix)


def test_external_addresses_are_documentation_ranges(bundled):
    records, _, by_id = bundled
    doc_nets = [ipaddress.ip_network(n) for n in
                ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]
    for rec in _data(records, by_id):
        if by_id[rec["eventID"]]["source"] in ("external", "anonymous", "presigned-url",
                                               "console-browser", "console"):
            ip = ipaddress.ip_address(rec["sourceIPAddress"])
            assert any(ip in n for n in doc_nets if n.version == ip.version), ip


def test_fields_present_or_absent_by_event_version(bundled):
    records, _, by_id = bundled
    data = _data(records, by_id)
    versions = Counter(r["eventVersion"] for r in data)
    assert set(versions) == {"1.08", "1.09", "1.10"} and min(versions.values()) > 500
    for rec in data:
        v = rec["eventVersion"]
        ident = rec["userIdentity"]
        if "vpcEndpointAccountId" in rec:
            assert v in ("1.09", "1.10") and "vpcEndpointId" in rec
        if "inScopeOf" in ident:
            assert v == "1.10"
        if v == "1.10" and ("ec2RoleDelivery" in ident.get("sessionContext", {})
                            or by_id[rec["eventID"]]["story"].startswith("lambda")):
            assert "inScopeOf" in ident, rec["eventID"]
        service_call = bool(ident.get("invokedBy")) or rec["sourceIPAddress"] == "AWS Internal"
        assert ("tlsDetails" in rec) == (not service_call), rec["eventID"]
        if "tlsDetails" in rec:
            assert rec["tlsDetails"]["clientProvidedHostHeader"] == rec["requestParameters"]["Host"]
            if "keyExchange" in rec["tlsDetails"]:
                assert v == "1.10"
    own = [r for r in data if r.get("vpcEndpointId") in world.OWN_VPC_ENDPOINTS]
    assert any("vpcEndpointAccountId" not in r for r in own)  # 1.08 rows have no owner field
    assert all("vpcEndpointAccountId" not in r for r in data
               if r.get("vpcEndpointId") == world.CONSOLE_ENDPOINT)


def test_presigned_and_unsigned_request_fields(bundled):
    records, _, by_id = bundled
    for rec in _data(records, by_id):
        source = by_id[rec["eventID"]]["source"]
        extra, params = rec["additionalEventData"], rec["requestParameters"]
        query = extra.get("AuthenticationMethod") == "QueryString"
        assert query == ("X-Amz-Expires" in params), rec["eventID"]
        if query:
            assert params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
            assert re.fullmatch(r"\d{8}T\d{6}Z", params["X-Amz-Date"])
            assert "vpcEndpointId" not in rec
        if source == "console-browser":
            assert query and params["X-Amz-Expires"] == "300" and rec["userAgent"].startswith("[Mozilla/")
        if source == "presigned-url":
            assert query and params["X-Amz-Expires"] != "300" or not rec["userAgent"].startswith("[Mozilla/")
        if source == "anonymous":
            assert "SignatureVersion" not in extra and "AuthenticationMethod" not in extra
            assert "arn" not in rec["userIdentity"] and "accessKeyId" not in rec["userIdentity"]
        else:
            assert extra["SignatureVersion"] == "SigV4"
        assert re.fullmatch(r"[A-Za-z0-9+/]{75}=", extra["x-amz-id-2"])
        assert re.fullmatch(r"[0-9A-F]{16}", rec["requestID"])


def test_identity_shapes(bundled):
    records, _, by_id = bundled
    for rec in _data(records, by_id):
        ident, story = rec["userIdentity"], by_id[rec["eventID"]]["story"]
        if ident["type"] == "AssumedRole":
            role, session = ident["arn"].split(":assumed-role/")[1].split("/", 1)
            assert ident["principalId"].endswith(":" + session)
            assert ident["sessionContext"]["sessionIssuer"]["userName"] == role
            assert ident["accessKeyId"].startswith("ASIA")
        elif ident["type"] == "IAMUser":
            assert ident["accessKeyId"].startswith("AKIA") and "sessionContext" not in ident
        if story == "log-delivery":
            assert ident == {"type": "AWSService", "invokedBy": "s3.amazonaws.com"}
            assert rec["requestParameters"]["bucketName"] == world.LOGS_BUCKET
            assert "sharedEventID" in rec
        if story in ("cross-account-role", "partner-endpoint"):
            assert ident["type"] == "AWSAccount" and ident["accountId"] != world.ACCOUNT_ID
            assert "sharedEventID" in rec
        if story.startswith("lakeformation"):
            assert re.fullmatch(r"AWSLF-00-(AT|RE)-111122223333-[a-z0-9]{10}",
                                ident["arn"].rsplit("/", 1)[1])


def test_network_activity_and_management_events(bundled):
    records, _, by_id = bundled
    by_id_rec = {r["eventID"]: r for r in records}
    net = [r for r in records if r["eventCategory"] == "NetworkActivity"]
    assert net and all(r["eventType"] == "AwsVpceEvent" and "userAgent" not in r
                       and r["vpcEndpointId"] == world.INTERFACE_ENDPOINT for r in net)
    denied = [r for r in net if r.get("errorCode") == "VpceAccessDenied"]
    assert denied and all(by_id[r["eventID"]]["story"] == "vpce-policy-denied" for r in denied)
    data_request_ids = {r["requestID"] for r in records if r["eventCategory"] == "Data"}
    twins = [r for r in net if r.get("errorCode") is None]
    assert all(r["requestID"] in data_request_ids for r in twins)
    mgmt = [r for r in records if r["eventCategory"] == "Management"]
    assert {r["eventName"] for r in mgmt} >= {"ListBuckets", "GetBucketPolicy"}
    assert all(r["managementEvent"] is True and r["readOnly"] is True for r in mgmt)
    assert all(r["managementEvent"] is False for r in records if r["eventCategory"] == "Data")
    assert len(by_id_rec) == len(records)


# ---- volume shape and the intrusion --------------------------------------------------------
def _local(rec):
    t = dt.datetime.strptime(rec["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
    return t + dt.timedelta(hours=world.LOCAL_UTC_OFFSET_HOURS)


def test_diurnal_and_weekly_shape(bundled):
    records, _, by_id = bundled
    data = [r for r in _data(records, by_id) if by_id[r["eventID"]]["story"] != "intrusion"]
    local = [_local(r) for r in data]

    def office_vs_night(times):
        office = sum(1 for t in times if t.weekday() < 5 and 9 <= t.hour < 17)
        night = sum(1 for t in times if t.weekday() < 5 and (t.hour < 4 or t.hour >= 20))
        return office / max(night, 1)

    # people work office hours; batch jobs, scanners and log delivery keep the nights busy
    assert office_vs_night(local) > 2
    people = {"dev-laptop", "console-backend", "console-download", "athena-query", "cloudshell"}
    assert office_vs_night([_local(r) for r in data if by_id[r["eventID"]]["story"] in people]) > 8
    per_day = Counter(t.date() for t in local)
    weekday_mean = sum(v for d, v in per_day.items() if d.weekday() < 5) / 10
    weekend_mean = sum(v for d, v in per_day.items() if d.weekday() >= 5) / 4
    assert weekend_mean < 0.6 * weekday_mean
    names = Counter(r["eventName"] for r in data)
    assert names.most_common(1)[0][0] == "GetObject"
    assert {"PutObject", "HeadObject", "ListObjects", "DeleteObject", "PreflightRequest"} <= set(names)
    errors = Counter(r.get("errorCode") for r in data)
    assert errors["AccessDenied"] > 0 and errors["NoSuchKey"] > 0
    assert 0.005 < (sum(errors.values()) - errors[None]) / len(data) < 0.1


def test_the_intrusion_is_findable(bundled):
    records, _, by_id = bundled
    data = _data(records, by_id)
    intrusion = [r for r in data if by_id[r["eventID"]]["story"] == "intrusion"]
    assert len(intrusion) >= 100
    assert {r["sourceIPAddress"] for r in intrusion} == {world.INTRUDER_IP}
    assert all(by_id[r["eventID"]]["source"] == "external" for r in intrusion)
    assert all(0 <= _local(r).hour < 5 for r in intrusion)
    times = sorted(r["eventTime"] for r in intrusion)
    span = dt.datetime.fromisoformat(times[-1][:-1]) - dt.datetime.fromisoformat(times[0][:-1])
    assert span < dt.timedelta(hours=1)
    assert Counter(r["eventName"] for r in intrusion).most_common(1)[0][0] == "GetObject"
    # the stolen key is one that is normally used, but only through the interface endpoint
    key = {r["userIdentity"]["accessKeyId"] for r in intrusion}
    assert len(key) == 1
    legit = [r for r in data if r["userIdentity"].get("accessKeyId") in key
             and by_id[r["eventID"]]["story"] != "intrusion"]
    assert legit and all(r.get("vpcEndpointId") == world.INTERFACE_ENDPOINT for r in legit)
    # the address is seen nowhere else, and it moved the most bytes out of the payroll bucket
    assert all(r["sourceIPAddress"] != world.INTRUDER_IP for r in data if r not in intrusion)
    out_by_ip = Counter()
    for r in data:
        if r["requestParameters"]["bucketName"] == world.PAYROLL_BUCKET:
            out_by_ip[r["sourceIPAddress"]] += r["additionalEventData"]["bytesTransferredOut"]
    assert out_by_ip.most_common(1)[0][0] == world.INTRUDER_IP
    assert out_by_ip[world.INTRUDER_IP] > 3_000_000_000


# ---- formats ------------------------------------------------------------------------------
def test_sizes_under_5_mb():
    total = sum(p.stat().st_size for p in SAMPLES_DIR.rglob("*") if p.is_file())
    assert total < 5 * MB, total


def test_trail_files_hold_the_same_records(bundled):
    records, _, _ = bundled
    trail = read_trail(SAMPLES_DIR / samples.TRAIL_DIR)
    assert len(trail) == len(records)
    assert sorted(trail, key=lambda r: r["eventID"]) == sorted(records, key=lambda r: r["eventID"])


def test_trail_key_layout():
    pattern = re.compile(
        r"AWSLogs/111122223333/CloudTrail/us-east-1/(\d{4})/(\d{2})/(\d{2})/"
        r"111122223333_CloudTrail_us-east-1_(\d{4})(\d{2})(\d{2})T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz")
    files = samples.trail_files()
    assert 100 < len(files) < 500
    for path in files:
        rel = path.relative_to(SAMPLES_DIR / samples.TRAIL_DIR).as_posix()
        m = pattern.fullmatch(rel)
        assert m, rel
        assert m.group(1, 2, 3) == m.group(4, 5, 6)  # filed under the delivery date
        with gzip.open(path, "rt") as fh:
            doc = json.load(fh)
        assert list(doc) == ["Records"] and doc["Records"]
        stamp = dt.datetime.strptime(rel.split("_")[-2], "%Y%m%dT%H%MZ")
        latest = max(dt.datetime.strptime(r["eventTime"], "%Y-%m-%dT%H:%M:%SZ") for r in doc["Records"])
        assert dt.timedelta(0) < stamp - latest < dt.timedelta(minutes=75)


def test_insights_export_shape_and_content(bundled):
    records, _, by_id = bundled
    doc = json.loads((SAMPLES_DIR / samples.INSIGHTS_NAME).read_text())
    assert doc["status"] == "Complete" and re.fullmatch(r"[0-9a-f-]{36}", doc["queryId"])
    assert all(isinstance(v, float) for v in doc["statistics"].values())
    rows = doc["results"]
    assert doc["statistics"]["recordsMatched"] == len(rows)
    stamps = []
    by_rec = {r["eventID"]: r for r in records}
    for row in rows:
        assert [c["field"] for c in row] == ["@timestamp", "@message", "@ptr"]
        assert all(isinstance(c["value"], str) for c in row)
        stamp, message = row[0]["value"], json.loads(row[1]["value"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", stamp)
        assert message == by_rec[message["eventID"]]  # same record as the JSON lines
        delay = dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f") - \
            dt.datetime.strptime(message["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
        assert dt.timedelta(minutes=1) <= delay <= dt.timedelta(minutes=5)
        stamps.append(stamp)
    assert stamps == sorted(stamps, reverse=True)
    stories_in = Counter(by_id[json.loads(r[1]["value"])["eventID"]]["story"] for r in rows)
    assert stories_in["intrusion"] == sum(1 for r in by_id.values() if r["story"] == "intrusion")


def test_readme_describes_the_files():
    text = (SAMPLES_DIR / samples.README_NAME).read_text()
    for needle in ("make samples", samples.JSONL_NAME, samples.INSIGHTS_NAME, samples.TRUTH_NAME,
                   "AWSLogs/111122223333/CloudTrail/us-east-1", "| intrusion |"):
        assert needle in text, needle


# ---- API and CLI --------------------------------------------------------------------------
def test_sample_path_helpers(tmp_path):
    assert samples.sample_path("jsonl") == SAMPLES_DIR / "events.jsonl.gz"
    assert samples.sample_path("trail").is_dir()
    assert samples.read_truth()[next(iter(samples.read_truth()))][0]
    with pytest.raises(FileNotFoundError, match="s3audit samples --out"):
        samples.sample_path("jsonl", tmp_path)
    with pytest.raises(ValueError, match="unknown sample"):
        samples.sample_path("nope")


def test_public_api_export():
    import s3audit

    assert s3audit.generate_samples is samples.generate_samples


def test_iter_json_lines_streams_in_chunks():
    lines = list(samples.iter_json_lines(250, seed=4, chunk=100))
    recs = [json.loads(line) for line in lines]
    assert sum(1 for r in recs if r["eventCategory"] == "Data") == 250
    assert len({r["eventID"] for r in recs}) == len(recs)


def test_cli_writes_a_directory(tmp_path, capsys):
    out = tmp_path / "s"
    assert cli_main(["samples", "--events", "300", "--seed", "5", "--out", str(out)]) == 0
    assert "300 data events" in capsys.readouterr().out
    for name in (samples.JSONL_NAME, samples.INSIGHTS_NAME, samples.TRUTH_NAME, samples.README_NAME):
        assert (out / name).is_file()
    assert list((out / samples.TRAIL_DIR / "AWSLogs").rglob("*.json.gz"))
    assert directory_snapshot(out) == directory_snapshot(
        _regen(tmp_path / "api", events=300, seed=5))


def _regen(path: Path, **kw) -> Path:
    samples.generate_samples(path, **kw)
    return path


def test_cli_rejects_too_few_events(tmp_path, capsys):
    assert cli_main(["samples", "--events", "3", "--out", str(tmp_path)]) == 2
    assert "at least" in capsys.readouterr().err


@pytest.mark.parametrize("module", ["s3audit.samples", "s3audit.samples_stories",
                                    "s3audit.samples_records", "s3audit.samples_formats"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
