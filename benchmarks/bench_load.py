"""Benchmark: ``s3audit.load_events`` against the obvious baseline on 1,000,000 events.

The baseline is ``json.loads`` per line plus ``pandas.json_normalize``. Each side runs in its own
subprocess so its peak RSS (``ru_maxrss``) is its own. The events are CloudTrail S3 records as
CloudWatch Logs delivers them (one JSON object per line), generated from templates with varied
fields: several eventNames with their own requestParameters, responseElements null or an object,
optional tlsDetails / vpcEndpointId, ~1% NetworkActivity copies, a few management events, some
records with the old list-valued ``Host``. Written to a temporary directory and deleted after.

Usage::

    python -m benchmarks bench_load                 # 1,000,000 events (~1.7 GB)
    python -m benchmarks bench_load --events=50000  # while developing
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ACCOUNT = "111122223333"
BUCKETS = ("acme-finance", "acme-raw", "acme-ml")
UAS = (
    "[aws-cli/2.17.60 md/awscrt#0.21.2 ua/2.0 os/linux#6.1.0-1024-aws md/arch#x86_64 lang/python#3.12.6 "
    "md/command#s3.cp]",
    "[Boto3/1.35.20 md/Botocore#1.35.20 ua/2.0 os/linux#5.10.226-214.880.amzn2.x86_64 lang/python#3.11.9]",
    "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750 Linux/5.10.219-186.866.amzn2int.x86_64 "
    "OpenJDK_64-Bit_Server_VM/25.412-b09 java/1.8.0_412]",
    "[aws-sdk-java/2.25.16 Linux/5.10.216-204.855.amzn2.x86_64 Java/17.0.11 exec-env/AWS_Lambda_java17]",
)
NAMES = ("GetObject", "GetObject", "GetObject", "PutObject", "HeadObject", "ListObjects", "DeleteObject",
         "CopyObject")


def _template(rng: random.Random, name: str, variant: int) -> str:
    """A record with %(...)s placeholders for the per-event fields."""
    bucket = BUCKETS[variant % len(BUCKETS)]
    role = ("analytics-etl", "app-backend", "data-scientist", "ops-admin")[variant % 4]
    host = f"{bucket}.s3.eu-west-1.amazonaws.com"
    params: dict = {"bucketName": bucket, "Host": host}
    if name == "ListObjects":
        params.update({"list-type": "2", "prefix": "r/", "delimiter": "/", "encoding-type": "url",
                       "max-keys": "1000"})
    else:
        params["key"] = "__KEY__"
    if name == "CopyObject":
        params["x-amz-copy-source"] = f"{bucket}/__KEY__"
    if variant % 7 == 3 and name == "GetObject":
        params.update({"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Date": "20261102T101500Z",
                       "X-Amz-Expires": "300", "X-Amz-SignedHeaders": "host"})
    response = None
    if name in ("PutObject", "CopyObject"):
        response = {"x-amz-server-side-encryption": "AES256", "x-amz-version-id": "__VER__"}
    record = {
        "eventVersion": ("1.08", "1.09", "1.10")[variant % 3],
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": f"AROAEXAMPLE{variant:04d}:s-{variant}",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/s-{variant}",
            "accountId": ACCOUNT,
            "accessKeyId": f"ASIAEXAMPLE{variant:08d}",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": f"AROAEXAMPLEID{variant:04d}",
                                  "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}", "accountId": ACCOUNT,
                                  "userName": role},
                "attributes": {"creationDate": "2026-11-02T09:00:00Z", "mfaAuthenticated": "false"},
            },
        },
        "eventTime": "__TIME__",
        "eventSource": "s3.amazonaws.com",
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "__IP__",
        "userAgent": UAS[variant % len(UAS)],
        "requestParameters": params,
        "responseElements": response,
        "additionalEventData": {
            "SignatureVersion": "SigV4",
            "CipherSuite": "TLS_AES_128_GCM_SHA256",
            "bytesTransferredIn": 0 if name != "PutObject" else "__BIN__",
            "AuthenticationMethod": "QueryString" if "X-Amz-Expires" in params else "AuthHeader",
            "x-amz-id-2": "__ID2__",
            "bytesTransferredOut": "__BOUT__" if name == "GetObject" else 0,
        },
        "requestID": "__REQ__",
        "eventID": "__EID__",
        "readOnly": name in ("GetObject", "HeadObject", "ListObjects"),
        "resources": [
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/__KEY__"},
            {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
        ],
        "eventType": "AwsApiCall",
        "managementEvent": False,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Data",
    }
    if variant % 5 < 3:
        record["vpcEndpointId"] = f"vpce-0a1b2c3d4e5f6{variant % 3:04d}"
        record["vpcEndpointAccountId"] = ACCOUNT
    if variant % 4:
        record["tlsDetails"] = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                                "clientProvidedHostHeader": host}
    if variant == 9:  # older records: Host as a list
        params["Host"] = [host]
    if variant == 11:  # a management event in the stream
        record.update({"eventName": "GetBucketPolicy", "managementEvent": True, "eventCategory": "Management"})
    if variant == 13:  # the NetworkActivity copy of a call through an endpoint
        record.update({"eventCategory": "NetworkActivity", "eventType": "AwsVpceEvent"})
    text = json.dumps(record, separators=(",", ":"))  # compact, as CloudTrail writes it
    text = text.replace("%", "%%")
    for token, field in (("__KEY__", "key"), ("__TIME__", "time"), ("__IP__", "ip"), ("__REQ__", "req"),
                         ("__EID__", "eid"), ("__ID2__", "id2"), ("__VER__", "ver")):
        text = text.replace(token, f"%({field})s")
    text = text.replace('"__BIN__"', "%(bin)d").replace('"__BOUT__"', "%(bout)d")
    return text


def generate(path: Path, n: int, seed: int = 7) -> int:
    """Write ``n`` events as JSON lines to ``path``; returns the file size in bytes."""
    rng = random.Random(seed)
    variants = 200
    templates = [_template(rng, NAMES[v % len(NAMES)], v) for v in range(variants)]
    # variant 9/11/13 are the odd ones; make them rare by weighting the rest
    common = [t for v, t in enumerate(templates) if v not in (9, 11, 13)]
    rare = {9: 1 / 5000, 11: 1 / 500, 13: 1 / 100}
    t0 = 1793577600  # 2026-11-02T00:00:00Z
    with open(path, "w", encoding="utf-8") as out:
        buf: list[str] = []
        for i in range(n):
            r = rng.random()
            if r < rare[9]:
                t = templates[9]
            elif r < rare[9] + rare[11]:
                t = templates[11]
            elif r < rare[9] + rare[11] + rare[13]:
                t = templates[13]
            else:
                t = common[i % len(common)]
            ts = t0 + i * 1209600 // max(n, 1)
            buf.append(t % {
                "key": f"r/{i % 977}/p{i}.parquet",
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts)),
                "ip": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}",
                "req": f"{rng.getrandbits(64):016X}",
                "eid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "id2": f"{rng.getrandbits(192):048x}" + "Qw==",
                "ver": f"v{i:012d}",
                "bin": rng.randrange(1, 50_000_000),
                "bout": rng.randrange(1, 50_000_000),
            })
            if len(buf) >= 10_000:
                out.write("\n".join(buf) + "\n")
                buf = []
        if buf:
            out.write("\n".join(buf) + "\n")
    return path.stat().st_size


def _run_baseline(path: str) -> int:
    import pandas as pd

    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    df = pd.json_normalize(rows)
    return len(df)


def _run_loader(path: str) -> int:
    from s3audit.loader import load_events

    df = load_events(path, keep="all")
    return len(df)


def _child(which: str, path: str) -> None:
    import pandas  # noqa: F401  (import cost is not part of the measurement)
    import pyarrow  # noqa: F401

    if which == "loader":
        import s3audit.loader  # noqa: F401
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    rows = (_run_loader if which == "loader" else _run_baseline)(path)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"rows": rows, "seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime,
                      "peak_rss_mib": usage.ru_maxrss / 1024}))


MIN_AVAILABLE = 1.5 * 2**30
"""The machine is shared: a child is stopped if free memory falls below this (reported, not hidden)."""


def _measure(which: str, path: Path) -> dict:
    import psutil

    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.bench_load", f"--child={which}", f"--file={path}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    while proc.poll() is None:
        if psutil.virtual_memory().available < MIN_AVAILABLE:
            proc.kill()
            proc.wait()
            raise RuntimeError(f"{which}: stopped, the machine ran low on memory "
                               f"(< {MIN_AVAILABLE / 2**30:.1f} GiB available)")
        time.sleep(0.5)
    out, err = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"{which} failed ({proc.returncode}): {err[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_load", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--child", choices=["baseline", "loader"], help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--skip-baseline", action="store_true", help="measure only load_events")
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.file)
        return 0
    with tempfile.TemporaryDirectory(prefix="s3audit-bench-") as tmp:
        path = Path(tmp) / "events.jsonl"
        t = time.perf_counter()
        size = generate(path, args.events)
        print(f"generated {args.events:,} events, {size / 1e9:.2f} GB ({size / args.events:.0f} B/event) "
              f"in {time.perf_counter() - t:.1f} s", flush=True)
        results = {}
        for which in (["loader"] if args.skip_baseline else ["baseline", "loader"]):
            r = _measure(which, path)
            results[which] = r
            print(f"{which:9s} {r['rows']:>10,} rows  {r['seconds']:8.1f} s wall  {r['rows'] / r['seconds']:>10,.0f} "
                  f"events/s  ({r['cpu_seconds']:.1f} s CPU, {r['rows'] / r['cpu_seconds']:,.0f} events/CPU-s)"
                  f"  peak RSS {r['peak_rss_mib']:>8,.0f} MiB", flush=True)
    if "baseline" in results:
        b, lo = results["baseline"], results["loader"]
        speed = (lo["rows"] / lo["seconds"]) / (b["rows"] / b["seconds"])
        cpu = b["cpu_seconds"] / lo["cpu_seconds"]
        mem = lo["peak_rss_mib"] / b["peak_rss_mib"]
        print(f"load_events: {speed:.1f}x the baseline's throughput (wall; {cpu:.1f}x by CPU time), "
              f"{mem:.2f}x its peak RSS (target >= 5x and < 1x)")
        return 0 if speed >= 5 and mem < 1 else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
