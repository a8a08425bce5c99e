"""The access stories of the sample account: who reads which bucket, by which path, and when.

Each story is a function ``(scenario, n) -> None`` that emits exactly ``n`` data events through
:meth:`Scenario.emit`, each tagged with its true access source (issue-5 vocabulary) and the story
name. :data:`STORIES` lists them with their share of the total volume and their minimum count, so
even a small sample holds every source.

Times: sessions start at times drawn from a time profile (office hours on weekdays, app users
evenings too, nightly batch windows, flat scanner noise) in the company's local time
(US Eastern, UTC-4 in the default window); events within a session follow each other by seconds.
"""
from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import ipaddress
import itertools
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from s3audit import samples_world as w
from s3audit.samples_records import Creds, RecordFactory, iso

DAY = 86400
HOUR = 3600

# local hour -> relative activity
_OFFICE = (0.02, 0.02, 0.02, 0.02, 0.02, 0.03, 0.08, 0.3, 0.8, 1.0, 1.0, 1.0,
           0.7, 1.0, 1.0, 1.0, 0.9, 0.7, 0.35, 0.15, 0.12, 0.1, 0.05, 0.03)
_CONSUMER = (0.15, 0.08, 0.05, 0.04, 0.04, 0.08, 0.3, 0.6, 0.7, 0.8, 0.8, 0.8,
             0.9, 0.8, 0.8, 0.8, 0.8, 0.9, 1.0, 1.0, 1.0, 0.9, 0.6, 0.3)
_FLAT = (1.0,) * 24
PROFILES: dict[str, tuple[tuple[float, ...], float]] = {
    # name -> (hourly shape, weekend factor)
    "office": (_OFFICE, 0.1),
    "consumer": (_CONSUMER, 0.8),
    "flat": (_FLAT, 1.0),
}


def _hosts(net: str) -> Callable[[random.Random], str]:
    network = ipaddress.ip_network(net)
    size = network.num_addresses

    def pick(rng: random.Random) -> str:
        return str(network[rng.randrange(1, size - 1)])

    return pick


class Scenario:
    """Collects the events of one generated sample.

    Parameters
    ----------
    rng : random.Random
        The only source of randomness.
    start : int
        Epoch seconds of the window start (UTC).
    days : int
        Window length in days.
    """

    def __init__(self, rng: random.Random, start: int, days: int) -> None:
        self.rng = rng
        self.start = start
        self.days = days
        self.f = RecordFactory(rng)
        self.rows: list[tuple[int, int, dict[str, Any], str, str]] = []
        self._seq = itertools.count()
        self._cum: dict[str, list[float]] = {}
        self._pools: dict[str, list[str]] = {}

    # ---- output --------------------------------------------------------------------------
    def emit(self, rec: dict[str, Any], t: int, source: str, story: str) -> dict[str, Any]:
        self.rows.append((t, next(self._seq), rec, source, story))
        return rec

    # ---- time ----------------------------------------------------------------------------
    def local_hour(self, t: int) -> int:
        return ((t // HOUR) + w.LOCAL_UTC_OFFSET_HOURS) % 24

    def local_weekday(self, t: int) -> int:
        # 1970-01-01 was a Thursday (weekday 3)
        return ((t + w.LOCAL_UTC_OFFSET_HOURS * HOUR) // DAY + 3) % 7

    def profile_time(self, profile: str) -> int:
        """A random second in the window, distributed by ``profile``."""
        cum = self._cum.get(profile)
        if cum is None:
            shape, weekend = PROFILES[profile]
            acc, cum = 0.0, []
            for h in range(self.days * 24):
                t = self.start + h * HOUR
                weight = shape[self.local_hour(t)]
                if self.local_weekday(t) >= 5:
                    weight *= weekend
                acc += weight
                cum.append(acc)
            self._cum[profile] = cum
        h = bisect.bisect_right(cum, self.rng.random() * cum[-1])
        return self.start + min(h, len(cum) - 1) * HOUR + self.rng.randrange(HOUR)

    def daily_time(self, local_hour: float, spread_minutes: int, day: int | None = None) -> int:
        """A time on ``day`` (random if None) near ``local_hour`` local time."""
        day = self.rng.randrange(self.days) if day is None else day
        base = self.start + day * DAY + int((local_hour - w.LOCAL_UTC_OFFSET_HOURS) % 24 * HOUR)
        return base + self.rng.randrange(max(1, spread_minutes * 60))

    def sessions(self, n: int, when: Callable[[], int], mean: float,
                 gap: float) -> Iterator[list[int]]:
        """Split ``n`` events into sessions: lists of event times, ``gap`` s apart on average."""
        rng = self.rng
        left = n
        while left > 0:
            size = min(left, 1 + int(rng.expovariate(1.0 / max(mean - 1, 0.01))))
            t = when()
            times = []
            end = self.start + self.days * DAY - 1
            for _ in range(size):
                times.append(min(t, end))
                t += int(rng.expovariate(1.0 / gap)) if gap > 0 else 0
            left -= size
            yield times

    def scheduled(self, n: int, local_hours: tuple[float, ...], spread_minutes: int,
                  gap: float) -> Iterator[list[int]]:
        """Split ``n`` events over daily runs at ``local_hours`` (every day of the window), run
        sizes varying by +-40 %: the regular rhythm of batch jobs."""
        rng = self.rng
        runs = [(day, hour) for day in range(self.days) for hour in local_hours]
        weights = [rng.uniform(0.6, 1.4) for _ in runs]
        total = sum(weights)
        sizes = [int(n * wt / total) for wt in weights]
        for i in rng.sample(range(len(runs)), n - sum(sizes)):
            sizes[i] += 1
        end = self.start + self.days * DAY - 1
        for (day, hour), size in zip(runs, sizes):
            if size == 0:
                continue
            t = self.daily_time(hour, spread_minutes, day=day)
            times = []
            for _ in range(size):
                times.append(min(t, end))
                t += int(rng.expovariate(1.0 / gap)) if gap > 0 else 0
            yield times

    # ---- addresses -----------------------------------------------------------------------
    def aws_ip(self, pool: str = "ec2-us-east-1") -> str:
        prefixes = w.AWS_PREFIXES[pool][0]
        return _hosts(self.rng.choice(prefixes))(self.rng)

    def pool(self, name: str, make: Callable[[], str], size: int) -> str:
        """A value from a stable pool of ``size`` values (e.g. the same 40 home addresses)."""
        values = self._pools.get(name)
        if values is None:
            values = [make() for _ in range(size)]
            self._pools[name] = values
        return self.rng.choice(values)

    def home_ip(self) -> str:
        if self.rng.random() < 0.3:
            return self.pool("home6", lambda: _hosts(w.HOME_IPV6_NET)(self.rng), 30)
        return self.pool("home4", lambda: _hosts(w.HOME_IPV4_NET)(self.rng), 60)

    def employee_ip(self, t: int) -> str:
        office = self.local_weekday(t) < 5 and 8 <= self.local_hour(t) < 18
        if office and self.rng.random() < 0.75:
            return self.rng.choice(w.OFFICE_NAT_IPS)
        return self.home_ip()

    # ---- object catalog ------------------------------------------------------------------
    def day_str(self, t: int, fmt: str = "%Y-%m-%d") -> str:
        return (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=t)).strftime(fmt)

    def size(self, median: float, sigma: float = 0.6, lo: int = 1, hi: int = 5 * 1024**3) -> int:
        return max(lo, min(hi, int(self.rng.lognormvariate(math.log(median), sigma))))

    def payslip_key(self) -> str:
        return f"payslips/2026/{self.rng.choice(('08', '09'))}/emp-{self.rng.randrange(10001, 10850)}.pdf"

    def export_key(self, t: int | None = None) -> str:
        if t is None:
            t = self.start + self.rng.randrange(self.days) * DAY
        return f"exports/payroll-{self.day_str(t)}.csv.gz"

    def lake_key(self, area: str | None = None) -> str:
        rng = self.rng
        area = area or rng.choice(("raw", "curated", "curated"))
        day = self.day_str(self.start + rng.randrange(self.days) * DAY)
        part = rng.randrange(0, 64)
        if area == "raw":
            return f"raw/clickstream/dt={day}/part-{part:05d}-c000.snappy.parquet"
        if area == "governed":
            return f"governed/customers/region={rng.choice(('emea', 'amer', 'apac'))}/part-{part:05d}.parquet"
        if area == "ml":
            return f"ml/training/features-v3/part-{part:03d}.parquet"
        table = rng.choice(("sales", "orders", "inventory", "web_sessions"))
        return f"curated/{table}/year=2026/month=10/day={day[-2:]}/part-{part:05d}.snappy.parquet"


# ---------------------------------------------------------------------------------------------
# The stories
# ---------------------------------------------------------------------------------------------
NO_SUCH_KEY = ("NoSuchKey", "The specified key does not exist.")
ACCESS_DENIED = ("AccessDenied", "Access Denied")
P = w.PRINCIPALS


def _cli(ua: str, command: str) -> str:
    return ua.replace("{command}", command)


def dev_laptop(s: Scenario, n: int) -> None:
    """Developers' laptops: CLI/Boto3 with long-term keys or SSO sessions, office or home."""
    rng = s.rng
    for times in s.sessions(n, lambda: s.profile_time("office"), mean=7, gap=6):
        who = rng.choice(("dev-kenji", "dev-sam", "developer", "developer"))
        session = rng.choice(w.DEVELOPER_SESSIONS) if who == "developer" else ""
        creds = s.f.creds(P[who], times[0], session)
        ip = s.employee_ip(times[0])
        tool = rng.choice(("cli", "cli", "boto3-win", "jupyter"))
        bucket = w.PAYROLL_BUCKET if rng.random() < 0.06 else w.DATALAKE_BUCKET
        for i, t in enumerate(times):
            op = "ListObjects" if i == 0 else rng.choice(
                ("GetObject", "GetObject", "GetObject", "HeadObject", "PutObject", "ListObjects"))
            if tool == "cli":  # whole-object GETs come from s3api (s3 cp would use ranged GETs)
                command = {"ListObjects": "s3.ls", "GetObject": "s3api.get-object",
                           "HeadObject": "s3api.head-object", "PutObject": "s3.cp"}[op]
                ua = _cli(w.UA_CLI_MAC, command)
            else:
                ua = w.UA_BOTO3_WINDOWS if tool == "boto3-win" else w.UA_BOTO3_JUPYTER
            kw: dict[str, Any] = {}
            if bucket == w.PAYROLL_BUCKET:  # developers are not allowed in the payroll bucket
                kw["error"] = ACCESS_DENIED
                kw["bytes_out"] = 243
                key = s.export_key()
            elif op == "PutObject":
                key = f"scratch/{creds.session or creds.principal.name}/{rng.randrange(1000)}.csv"
                kw["bytes_in"] = s.size(400_000)
                kw["sse"] = "s3"
            else:
                key = s.lake_key()
                if op == "GetObject":
                    if rng.random() < 0.02:
                        kw["error"], kw["bytes_out"] = NO_SUCH_KEY, 350
                    else:
                        kw["bytes_out"] = s.size(20_000_000, 1.0)
                elif op == "ListObjects":
                    kw["bytes_out"] = s.size(9_000, 0.8)
            prefix = rng.choice(("curated/", "raw/clickstream/", "", "scratch/"))
            s.emit(s.f.data_event(t, creds, op, bucket, key=key, prefix=prefix, ip=ip, ua=ua, **kw),
                   t, "external", "dev-laptop")


def ci_runner(s: Scenario, n: int) -> None:
    """CI deploys Glue scripts with an IAM user key from hosted runners (outside AWS)."""
    rng = s.rng
    for times in s.sessions(n, lambda: s.profile_time("office"), mean=6, gap=1):
        creds = s.f.creds(P["ci-deploy"], times[0])
        ip = s.pool("ci", lambda: _hosts(w.CI_RUNNER_NET)(rng), 20)
        for t in times:
            op = rng.choice(("ListObjects", "PutObject", "PutObject"))
            key = f"code/glue-scripts/{rng.choice(('clickstream_etl', 'sales_rollup', 'compaction'))}.py"
            s.emit(s.f.data_event(t, creds, op, w.DATALAKE_BUCKET, key=key, prefix="code/", ip=ip,
                                  ua=_cli(w.UA_CLI_LINUX, "s3.sync"),
                                  bytes_in=s.size(12_000) if op == "PutObject" else 0,
                                  bytes_out=s.size(3_000) if op == "ListObjects" else 0,
                                  sse="s3"),
                   t, "external", "ci-runner")


def intrusion(s: Scenario, n: int) -> None:
    """The one story to find: a night-time burst of large GetObjects with a stolen key.

    The long-term key of ``svc-payroll-sync`` (normally used only from on-prem through the
    interface endpoint, by aws-sdk-go) is used from an unknown address outside AWS at 02:07 local
    time on the Wednesday of the second week, by aws-cli on Kali, to list the payroll bucket and
    fetch exports and payslips one ``s3api get-object`` at a time.
    """
    rng = s.rng
    day = min(9, s.days - 1)
    t0 = s.daily_time(2 + 7 / 60, 0, day=day)
    creds = s.f.creds(P["svc-payroll-sync"], t0)
    duration = 40 * 60
    times = sorted(t0 + 20 + rng.randrange(duration) for _ in range(n))
    n_list = max(1, n // 25)
    for i, t in enumerate(times):
        kw: dict[str, Any] = {}
        if i < n_list:
            op, ua = "ListObjects", _cli(w.UA_CLI_INTRUDER, "s3.ls")
            prefix = rng.choice(("", "exports/", "payslips/2026/09/", "hr/", "payslips/"))
            key = None
            kw["bytes_out"] = s.size(30_000, 0.5)
            if prefix == "hr/":
                kw["error"], kw["bytes_out"] = ACCESS_DENIED, 243
        else:
            op, ua, prefix = "GetObject", _cli(w.UA_CLI_INTRUDER, "s3api.get-object"), None
            r = rng.random()
            if r < 0.35:
                key = s.export_key()
                kw["bytes_out"] = s.size(60_000_000, 0.4, lo=20_000_000)
            elif r < 0.95:
                key = s.payslip_key()
                kw["bytes_out"] = s.size(180_000, 0.4)
            else:
                key = f"hr/contracts/emp-{rng.randrange(10001, 10850)}.pdf"
                kw["error"], kw["bytes_out"] = ACCESS_DENIED, 243
        s.emit(s.f.data_event(t, creds, op, w.PAYROLL_BUCKET, key=key, prefix=prefix,
                              ip=w.INTRUDER_IP, ua=ua, **kw), t, "external", "intrusion")
    # the intruder looks around first (management events, not data events)
    for dt_, name, bucket in ((0, "ListBuckets", None), (6, "GetBucketPolicy", w.PAYROLL_BUCKET),
                              (9, "GetBucketLocation", w.PAYROLL_BUCKET)):
        s.emit(s.f.management_event(t0 + dt_, creds, name, bucket, ip=w.INTRUDER_IP,
                                    ua=_cli(w.UA_CLI_INTRUDER, "s3api." + name.lower())),
               t0 + dt_, "-", "intrusion")


def onprem_interface_endpoint(s: Scenario, n: int) -> None:
    """On-prem payroll sync over Direct Connect to the interface endpoint (endpoint DNS Host).

    The interface endpoint also logs network activity events: each call gets an AwsVpceEvent twin.
    """
    rng = s.rng
    host_ip = "172.16.41.23"
    for times in s.sessions(n, lambda: s.profile_time("office") if rng.random() < 0.7
                            else s.daily_time(23, 50), mean=5, gap=2):
        creds = s.f.creds(P["svc-payroll-sync"], times[0])
        for t in times:
            op = rng.choice(("ListObjects", "PutObject", "PutObject", "GetObject", "HeadObject"))
            bucket = w.PAYROLL_BUCKET
            kw: dict[str, Any] = {}
            if op == "PutObject":
                key = f"inbound/hr-system/{s.day_str(t, '%Y%m%d')}/delta-{rng.randrange(100):03d}.csv"
                kw.update(bytes_in=s.size(800_000), sse="kms")
            elif op == "GetObject":
                key = s.export_key(t - DAY)
                kw["bytes_out"] = s.size(40_000_000, 0.3)
            else:
                key = s.export_key(t - DAY)
                kw["bytes_out"] = s.size(2_000) if op == "ListObjects" else 0
            rec = s.f.data_event(t, creds, op, bucket, key=key, prefix="inbound/hr-system/",
                                 ip=host_ip, ua=w.UA_GO_V1,
                                 host=f"{bucket}.{w.INTERFACE_ENDPOINT_DNS}",
                                 vpce=w.INTERFACE_ENDPOINT, vpce_account=w.ACCOUNT_ID, **kw)
            s.emit(rec, t, "vpc-endpoint", "onprem-interface-endpoint")
            s.emit(s.f.network_activity(rec), t, "-", "onprem-interface-endpoint")


def vpce_policy_denied(s: Scenario, count: int) -> None:
    """Network activity only: uploads to a personal bucket denied by the endpoint policy."""
    creds = s.f.creds(P["developer"], s.start, "li.wei@example.com")
    for _ in range(count):
        t = s.profile_time("office")
        rec = s.f.data_event(t, creds, "PutObject", "liwei-personal-backup", key="notes.tar.gz",
                             ip="172.16.42.118", ua=_cli(w.UA_CLI_LINUX, "s3.cp"),
                             vpce=w.INTERFACE_ENDPOINT, vpce_account=w.ACCOUNT_ID)
        s.emit(s.f.network_activity(rec, denied=True), t, "-", "vpce-policy-denied")


def payroll_batch(s: Scenario, n: int) -> None:
    """The payroll batch server (EC2 instance profile) in the prod VPC, via the gateway endpoint."""
    rng = s.rng
    ip = "10.20.11.37"
    nightly = n * 4 // 5
    runs = itertools.chain(s.scheduled(nightly, (1,), 20, gap=3),
                           s.sessions(n - nightly, lambda: s.profile_time("office"), mean=6, gap=2))
    for times in runs:
        creds = s.f.creds(P["payroll-batch"], times[0])
        for t in times:
            op = rng.choice(("GetObject", "PutObject", "PutObject", "HeadObject", "ListObjects"))
            kw: dict[str, Any] = {}
            if op == "PutObject":
                key = s.payslip_key() if rng.random() < 0.8 else s.export_key(t)
                kw.update(bytes_in=s.size(200_000 if key.endswith(".pdf") else 50_000_000, 0.4),
                          sse="kms")
            elif op == "GetObject":
                key = f"inbound/hr-system/{s.day_str(t - DAY, '%Y%m%d')}/delta-{rng.randrange(100):03d}.csv"
                kw["bytes_out"] = s.size(800_000)
                if rng.random() < 0.01:
                    kw["error"], kw["bytes_out"] = NO_SUCH_KEY, 350
            else:
                key = s.payslip_key()
                kw["bytes_out"] = s.size(6_000) if op == "ListObjects" else 0
            s.emit(s.f.data_event(t, creds, op, w.PAYROLL_BUCKET, key=key, prefix="inbound/hr-system/",
                                  ip=ip, ua=w.UA_JAVA2_EC2, vpce=w.GATEWAY_ENDPOINT,
                                  vpce_account=w.ACCOUNT_ID, **kw),
                   t, "vpc-endpoint", "gateway-endpoint-batch")


def emr_on_ec2(s: Scenario, n: int) -> None:
    """An EMR on EC2 cluster (instance profile, EMRFS) through the gateway endpoint."""
    rng = s.rng
    instances = P["emr-ec2"].extra["instances"].split(",")
    for times in s.scheduled(n, (0.25,), 30, gap=1):
        i = rng.randrange(len(instances))
        creds = s.f.creds(P["emr-ec2"], times[0], instance=instances[i])
        ip = f"10.20.128.{11 + i}"
        for t in times:
            op = rng.choice(("GetObject", "GetObject", "PutObject", "ListObjects", "HeadObject"))
            kw: dict[str, Any] = {}
            key = s.lake_key("raw" if op in ("GetObject", "HeadObject") else "curated")
            if op == "GetObject":
                kw["bytes_out"] = s.size(64_000_000, 0.5)
            elif op == "PutObject":
                kw.update(bytes_in=s.size(96_000_000, 0.5), sse="s3")
            elif op == "ListObjects":
                kw["bytes_out"] = s.size(12_000)
            s.emit(s.f.data_event(t, creds, op, w.DATALAKE_BUCKET, key=key, prefix="raw/clickstream/",
                                  ip=ip, ua=w.UA_EMRFS, vpce=w.GATEWAY_ENDPOINT,
                                  vpce_account=w.ACCOUNT_ID, **kw),
                   t, "vpc-endpoint", "emr-on-ec2")


def partner_endpoint(s: Scenario, n: int) -> None:
    """A partner polls the data-lake feed from its own VPC through its own endpoint."""
    rng = s.rng
    for times in s.sessions(n, lambda: s.profile_time("flat"), mean=3, gap=1):
        creds = s.f.creds(P["partner-xacct"], times[0])
        ip = s.pool("partner", lambda: _hosts(w.PARTNER_VPC_NET)(rng), 4)
        for i, t in enumerate(times):
            op = "ListObjects" if i == 0 else "GetObject"
            key = f"partner-feed/acme-feed-{s.day_str(t - DAY)}.json.gz"
            s.emit(s.f.data_event(t, creds, op, w.DATALAKE_BUCKET, key=key, prefix="partner-feed/",
                                  ip=ip, ua=w.UA_GO_V2, vpce=w.PARTNER_ENDPOINT,
                                  vpce_account=w.PARTNER_ACCOUNT_ID, shared=True,
                                  version=rng.choice(("1.09", "1.10", "1.10")),
                                  bytes_out=s.size(5_000_000) if op == "GetObject" else s.size(2_000)),
                   t, "other-vpc-endpoint", "partner-endpoint")


def ec2_public(s: Scenario, n: int) -> None:
    """A report server on EC2 with a public Elastic IP, instance-profile credentials, no endpoint."""
    rng = s.rng
    ip = "35.171.44.12"
    for times in s.sessions(n, lambda: s.profile_time("office"), mean=6, gap=3):
        creds = s.f.creds(P["report-server"], times[0])
        for t in times:
            op = rng.choice(("GetObject", "GetObject", "ListObjects", "PutObject"))
            if op == "PutObject":
                rec = s.f.data_event(t, creds, op, w.PAYROLL_BUCKET,
                                     key=f"reports/daily/{s.day_str(t)}-summary.xlsx", ip=ip,
                                     ua=w.UA_JAVA2_EC2, bytes_in=s.size(300_000), sse="kms")
            elif rng.random() < 0.5:
                rec = s.f.data_event(t, creds, op, w.PAYROLL_BUCKET, key=s.export_key(t - DAY),
                                     prefix="exports/", ip=ip, ua=w.UA_JAVA2_EC2,
                                     bytes_out=s.size(45_000_000 if op == "GetObject" else 3_000, 0.3))
            else:
                rec = s.f.data_event(t, creds, op, w.DATALAKE_BUCKET, key=s.lake_key("curated"),
                                     prefix="curated/", ip=ip, ua=w.UA_JAVA2_EC2,
                                     bytes_out=s.size(8_000_000))
            s.emit(rec, t, "ec2", "ec2-public-report")


UA_BOTO3_LINUX = (
    "[Boto3/1.42.50 md/Botocore#1.42.50 ua/2.1 os/linux#6.1.153-175.280.amzn2023.x86_64 "
    "md/arch#x86_64 lang/python#3.12.11 md/pyimpl#CPython m/Z,b cfg/retry-mode#legacy "
    "Botocore/1.42.50]"
)


def cross_account(s: Scenario, n: int) -> None:
    """The analytics account's role reads the data lake from its EC2 NAT (bucket policy grant)."""
    rng = s.rng
    for times in s.sessions(n, lambda: s.profile_time("office"), mean=8, gap=2):
        creds = s.f.creds(P["analytics-xacct"], times[0])
        ip = rng.choice(("44.205.61.17", "44.210.3.88"))
        for i, t in enumerate(times):
            op = "ListObjects" if i == 0 else rng.choice(("GetObject", "GetObject", "HeadObject"))
            s.emit(s.f.data_event(t, creds, op, w.DATALAKE_BUCKET, key=s.lake_key("curated"),
                                  prefix="curated/sales/", ip=ip, ua=UA_BOTO3_LINUX, shared=True,
                                  bytes_out=s.size(15_000_000) if op == "GetObject" else
                                  (s.size(4_000) if op == "ListObjects" else 0)),
                   t, "aws-network", "cross-account-role")


def _analyst(s: Scenario, t: int, invoked_by: str | None = None) -> Creds:
    principal = P["data-analyst"]
    if invoked_by:
        principal = dataclasses.replace(principal, invoked_by=invoked_by)
    return s.f.creds(principal, t, s.rng.choice(w.ANALYST_SESSIONS))


def athena(s: Scenario, n: int) -> None:
    """Athena queries read with the analyst's credentials (forward access session)."""
    rng = s.rng
    svc = "athena.amazonaws.com"
    for times in s.sessions(n, lambda: s.profile_time("office"), mean=25, gap=0.4):
        creds = _analyst(s, times[0], svc)
        qid = s.f.uuid4()
        area = rng.choice(("curated", "curated", "raw"))
        for i, t in enumerate(times):
            last = i == len(times) - 1
            if i == 0:
                op, key, kw = "ListObjects", None, {"bytes_out": s.size(20_000)}
            elif last and len(times) > 2:
                op, key = "PutObject", f"athena-results/{qid}.csv"
                kw = {"bytes_in": s.size(50_000, 1.2), "sse": "s3"}
            else:
                op, key = "GetObject", s.lake_key(area)
                kw = {"bytes_out": s.size(4_000_000, 0.8)}
            s.emit(s.f.data_event(t, creds, op, w.DATALAKE_BUCKET, key=key,
                                  prefix=f"{area}/", ip=svc, ua=svc, **kw),
                   t, "athena", "athena-query")


def lake_formation(s: Scenario, n: int) -> None:
    """Lake Formation-governed tables: reads with LF-vended credentials (AWSLF-00-<engine>-...)."""
    rng = s.rng
    for times in s.sessions(n, lambda: s.profile_time("office"), mean=15, gap=0.5):
        engine, svc = rng.choice((("AT", "athena.amazonaws.com"), ("AT", "athena.amazonaws.com"),
                                  ("RE", "redshift.amazonaws.com")))
        suffix = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(10))
        principal = dataclasses.replace(P["lakeformation"], invoked_by=svc)
        creds = s.f.creds(principal, times[0], f"AWSLF-00-{engine}-{w.ACCOUNT_ID}-{suffix}")
        for i, t in enumerate(times):
            op = "ListObjects" if i == 0 else "GetObject"
            rec = s.f.data_event(t, creds, op, w.DATALAKE_BUCKET, key=s.lake_key("governed"),
                                 prefix="governed/customers/", ip=svc, ua=svc,
                                 bytes_out=s.size(3_000_000 if op == "GetObject" else 5_000))
            if rng.random() < 0.5:  # SET_SOURCE_IDENTITY opt-in (since Feb 2026)
                rec["userIdentity"]["sessionContext"]["sourceIdentity"] = (
                    f"V2.{w.ACCOUNT_ID}.{P['data-analyst'].principal_id}")
            s.emit(rec, t, "lake-formation", "lakeformation-" + ("athena" if engine == "AT"
                                                                 else "redshift"))


def glue(s: Scenario, n: int) -> None:
    """Glue ETL jobs (GlueJobRunnerSession) from Glue workers' AWS public addresses."""
    rng = s.rng
    for times in s.scheduled(n, (3, 11, 23), 10, gap=1):
        creds = s.f.creds(P["glue"], times[0])
        ips = [s.aws_ip() for _ in range(3)]
        for t in times:
            op = rng.choice(("GetObject", "GetObject", "PutObject", "ListObjects", "HeadObject",
                             "DeleteObject"))
            kw: dict[str, Any] = {}
            bucket = w.DATALAKE_BUCKET
            if op == "GetObject":
                key = s.lake_key("raw")
                kw["bytes_out"] = s.size(48_000_000, 0.6)
            elif op == "PutObject":
                key = s.lake_key("curated")
                kw.update(bytes_in=s.size(32_000_000, 0.6), sse="s3")
                if rng.random() < 0.01:  # a job misconfigured to write into the payroll bucket
                    bucket, key = w.PAYROLL_BUCKET, "exports/_temporary/0/part-00000.csv"
                    kw = {"error": ACCESS_DENIED, "bytes_out": 243, "bytes_in": 0}
            elif op == "DeleteObject":
                key = f"curated/_temporary/0/_temporary/attempt_{rng.randrange(10**6):06d}/part-00000"
            else:
                key = s.lake_key("raw")
                kw["bytes_out"] = s.size(15_000) if op == "ListObjects" else 0
            s.emit(s.f.data_event(t, creds, op, bucket, key=key, prefix="raw/clickstream/",
                                  ip=rng.choice(ips), ua=w.UA_JAVA1_HADOOP, **kw),
                   t, "glue", "glue-job")


def emr_serverless(s: Scenario, n: int) -> None:
    """EMR Serverless jobs: the runtime role, invoked by ops.emr-serverless (service endpoint)."""
    rng = s.rng
    svc = "ops.emr-serverless.amazonaws.com"
    for times in s.scheduled(n, (6, 18), 15, gap=1):
        job = "".join(rng.choice("0123456789abcdefghijklmnopqrstuv") for _ in range(16))
        creds = s.f.creds(P["emr-serverless"], times[0], f"00{job[:14]},{rng.randrange(1, 3)}")
        for t in times:
            op = rng.choice(("GetObject", "GetObject", "PutObject", "ListObjects"))
            s.emit(s.f.data_event(t, creds, op, w.DATALAKE_BUCKET,
                                  key=s.lake_key("raw" if op != "PutObject" else "curated"),
                                  prefix="raw/", ip=svc, ua=svc,
                                  vpce="emr-serverless.amazonaws.com",
                                  vpce_account="emr-serverless.amazonaws.com",
                                  bytes_out=s.size(30_000_000, 0.5) if op == "GetObject" else 0,
                                  bytes_in=s.size(20_000_000, 0.5) if op == "PutObject" else 0,
                                  sse="s3"),
                   t, "emr", "emr-serverless")


def redshift(s: Scenario, n: int) -> None:
    """Redshift Spectrum scans (RedshiftIamRoleSession) from the Spectrum fleet's AWS addresses."""
    rng = s.rng
    for times in s.sessions(n, lambda: s.profile_time("office"), mean=20, gap=0.3):
        creds = s.f.creds(P["redshift"], times[0])
        for t in times:
            op = rng.choice(("GetObject", "GetObject", "GetObject", "ListObjects"))
            s.emit(s.f.data_event(t, creds, op, w.DATALAKE_BUCKET, key=s.lake_key("curated"),
                                  prefix="curated/sales/", ip=s.aws_ip(), ua=w.UA_REDSHIFT,
                                  bytes_out=s.size(2_000_000 if op == "GetObject" else 8_000, 0.9)),
                   t, "redshift", "redshift-spectrum")


def sagemaker(s: Scenario, n: int) -> None:
    """SageMaker training jobs (session SageMaker); some run in the VPC via the gateway endpoint."""
    rng = s.rng
    for times in s.sessions(n, lambda: s.profile_time("office"), mean=30, gap=1):
        creds = s.f.creds(P["sagemaker"], times[0])
        in_vpc = rng.random() < 0.3
        ip = f"10.20.200.{rng.randrange(10, 250)}" if in_vpc else s.aws_ip()
        for i, t in enumerate(times):
            op = "ListObjects" if i == 0 else ("PutObject" if i == len(times) - 1 else "GetObject")
            key = (f"ml/models/churn-xgb-{s.day_str(t, '%Y%m%d')}/output/model.tar.gz"
                   if op == "PutObject" else s.lake_key("ml"))
            s.emit(s.f.data_event(t, creds, op, w.DATALAKE_BUCKET, key=key, prefix="ml/training/",
                                  ip=ip, ua=w.UA_SAGEMAKER,
                                  vpce=w.GATEWAY_ENDPOINT if in_vpc else None,
                                  vpce_account=w.ACCOUNT_ID if in_vpc else None,
                                  bytes_out=s.size(25_000_000) if op == "GetObject" else 0,
                                  bytes_in=s.size(90_000_000) if op == "PutObject" else 0, sse="s3"),
                   t, "sagemaker", "sagemaker-training")


def aws_backup(s: Scenario, n: int) -> None:
    """AWS Backup reads the payroll bucket nightly on your behalf (invokedBy backup)."""
    rng = s.rng
    svc = "backup.amazonaws.com"
    for times in s.scheduled(n, (3,), 10, gap=1):
        creds = s.f.creds(P["backup"], times[0])
        for i, t in enumerate(times):
            op = "ListObjectVersions" if i == 0 else rng.choice(
                ("GetObject", "GetObject", "GetObjectTagging", "GetObjectAcl"))
            key = s.payslip_key() if rng.random() < 0.8 else s.export_key()
            s.emit(s.f.data_event(t, creds, op, w.PAYROLL_BUCKET, key=key, prefix="", ip=svc, ua=svc,
                                  bytes_out=s.size(200_000 if key.endswith("pdf") else 50_000_000, 0.4)
                                  if op == "GetObject" else s.size(1_500)),
                   t, "service-other", "aws-backup")


def log_delivery(s: Scenario, n: int) -> None:
    """S3 server access logs delivered into the log bucket by the s3.amazonaws.com principal."""
    rng = s.rng
    creds = s.f.creds(P["log-delivery"], s.start)
    svc = "s3.amazonaws.com"
    for _ in range(n):
        t = s.profile_time("consumer") if rng.random() < 0.6 else s.profile_time("flat")
        src = rng.choice(("payroll", "payroll", "datalake"))
        key = f"{src}/{s.day_str(t, '%Y-%m-%d-%H-%M-%S')}-{s.f.request_id()}"
        s.emit(s.f.data_event(t, creds, "PutObject", w.LOGS_BUCKET, key=key, ip=svc, ua=svc,
                              host=f"s3.{w.REGION}.amazonaws.com", bytes_in=s.size(4_000, 1.0),
                              shared=True, sse="s3", version=rng.choice(("1.09", "1.10"))),
               t, "aws-service", "log-delivery")


def _console_creds(s: Scenario, t: int) -> Creds:
    return s.f.creds(P["payroll-admin"], t)


def aws_internal(s: Scenario, n: int) -> None:
    """Console features that S3 runs internally for the user (e.g. "Calculate total size")."""
    for times in s.sessions(n, lambda: s.profile_time("office"), mean=3, gap=1):
        creds = _console_creds(s, times[0])
        for t in times:
            s.emit(s.f.data_event(t, creds, "ListObjects", s.rng.choice(w.BUCKETS[:2]),
                                  prefix=s.rng.choice(("payslips/", "exports/", "curated/")),
                                  ip="AWS Internal", ua="AWS Internal", vpce="AWS Internal",
                                  bytes_out=s.size(40_000)),
                   t, "aws-internal", "console-internal")


def console_backend(s: Scenario, n: int) -> None:
    """S3 console backend calls: S3Console UA, AWS-owned short endpoint, the user's browser IP."""
    rng = s.rng
    for times in s.sessions(n, lambda: s.profile_time("office"), mean=9, gap=8):
        creds = _console_creds(s, times[0])
        ip = s.employee_ip(times[0])
        bucket = rng.choice((w.PAYROLL_BUCKET, w.PAYROLL_BUCKET, w.DATALAKE_BUCKET, w.LOGS_BUCKET))
        for i, t in enumerate(times):
            op = "HeadBucket" if i == 0 else rng.choice(
                ("ListObjects", "ListObjects", "ListObjects", "HeadObject", "GetObjectTagging",
                 "GetObjectAcl", "DeleteObject"))
            key = s.payslip_key() if bucket == w.PAYROLL_BUCKET else s.lake_key()
            s.emit(s.f.data_event(t, creds, op, bucket, key=key,
                                  prefix=rng.choice(("", "payslips/2026/", "exports/")),
                                  ip=ip, ua=w.UA_CONSOLE, host=f"s3.{w.REGION}.amazonaws.com",
                                  vpce=w.CONSOLE_ENDPOINT,
                                  bytes_out=s.size(3_000) if op.startswith(("List", "GetObject"))
                                  else 0),
                   t, "console", "console-backend")


def _presign(t: int, expires: str = "300") -> dict[str, str]:
    stamp = iso(t - 2).replace("-", "").replace(":", "")
    return {"X-Amz-Date": stamp, "X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Expires": expires}


def console_download(s: Scenario, n: int) -> None:
    """Console Open/Download: the browser fetches a 300-second presigned URL (no endpoint)."""
    rng = s.rng
    for times in s.sessions(n, lambda: s.profile_time("office"), mean=2, gap=20):
        creds = _console_creds(s, times[0])
        ip = s.employee_ip(times[0])
        ua = rng.choice(w.UA_BROWSERS[:4])
        for t in times:
            key = s.payslip_key() if rng.random() < 0.7 else s.export_key()
            presign = _presign(t)
            presign["X-Amz-SignedHeaders"] = "host"
            presign["response-content-disposition"] = rng.choice(("inline", "attachment"))
            s.emit(s.f.data_event(t, creds, "GetObject", w.PAYROLL_BUCKET, key=key, ip=ip, ua=ua,
                                  presign=presign,
                                  bytes_out=s.size(200_000 if key.endswith(".pdf") else 40_000_000,
                                                   0.4)),
                   t, "console-browser", "console-download")


def console_upload(s: Scenario, n: int) -> None:
    """Console Upload: an anonymous CORS PreflightRequest, then the presigned browser PUT."""
    rng = s.rng
    anon = s.f.creds(P["anonymous-cors"], s.start)
    for times in s.sessions(n, lambda: s.profile_time("office"), mean=2, gap=1):
        creds = _console_creds(s, times[0])
        ip = s.employee_ip(times[0])
        ua = rng.choice(w.UA_BROWSERS[:4])
        key = f"reports/manual/{rng.choice(('bonus', 'adjustments', 'headcount'))}-{s.day_str(times[0])}.xlsx"
        for i, t in enumerate(times):
            if i == 0 and len(times) > 1:
                s.emit(s.f.data_event(t, anon, "PreflightRequest", w.PAYROLL_BUCKET, key=key, ip=ip,
                                      ua=ua, shared=True), t, "anonymous", "console-upload")
                continue
            presign = _presign(t)
            presign["X-Amz-SignedHeaders"] = "content-md5;content-type;host;x-amz-acl;x-amz-storage-class"
            presign["x-amz-acl"] = "bucket-owner-full-control"
            presign["x-amz-storage-class"] = "STANDARD"
            s.emit(s.f.data_event(t, creds, "PutObject", w.PAYROLL_BUCKET, key=key, ip=ip, ua=ua,
                                  presign=presign, bytes_in=s.size(60_000), sse="kms"),
                   t, "console-browser", "console-upload")


def app_presigned(s: Scenario, n: int) -> None:
    """Employees download payslips from the portal: URLs signed by the portal Lambda's role."""
    rng = s.rng
    for times in s.sessions(n, lambda: s.profile_time("consumer"), mean=1.6, gap=30):
        creds = s.f.creds(P["portal-lambda"], times[0])
        ip = s.home_ip()
        ua = rng.choice(w.UA_BROWSERS)
        for t in times:
            key = s.payslip_key()
            presign = _presign(t, "900")
            presign["X-Amz-SignedHeaders"] = "host"
            presign["response-content-disposition"] = f'attachment; filename="{key.rsplit("/", 1)[1]}"'
            s.emit(s.f.data_event(t, creds, "GetObject", w.PAYROLL_BUCKET, key=key, ip=ip, ua=ua,
                                  presign=presign, bytes_out=s.size(180_000, 0.4)),
                   t, "presigned-url", "app-presigned")


def partner_presigned_upload(s: Scenario, n: int) -> None:
    """A partner uploads order files with curl to day-long presigned URLs we send them."""
    rng = s.rng
    creds = s.f.creds(P["svc-partner-upload"], s.start)
    for times in s.scheduled(n, (7,), 30, gap=4):
        for t in times:
            presign = _presign(t - rng.randrange(3600, 20000), "86400")
            presign["X-Amz-SignedHeaders"] = "host"
            s.emit(s.f.data_event(t, creds, "PutObject", w.DATALAKE_BUCKET,
                                  key=f"inbound/partner/{s.day_str(t)}/orders-{rng.randrange(100):02d}.csv",
                                  ip="203.0.113.230", ua=w.UA_CURL, presign=presign,
                                  bytes_in=s.size(2_000_000), sse="s3"),
                   t, "presigned-url", "partner-presigned-upload")


def cloudshell(s: Scenario, n: int) -> None:
    """CloudShell sessions (aws-cli with exec-env/CloudShell) from the shell Region's AWS address."""
    rng = s.rng
    for times in s.sessions(n, lambda: s.profile_time("office"), mean=5, gap=15):
        tokyo = rng.random() < 0.2  # kenji opens CloudShell in ap-northeast-1 sometimes
        if tokyo:
            creds = s.f.creds(P["developer"], times[0], "kenji.tanaka@example.com")
            ip = s.pool("cs-tokyo", lambda: s.aws_ip("ec2-ap-northeast-1"), 3)
        else:
            creds = _console_creds(s, times[0])
            ip = s.pool("cs-use1", lambda: s.aws_ip("ec2-us-east-1"), 6)
        bucket = w.DATALAKE_BUCKET if tokyo else w.PAYROLL_BUCKET
        for i, t in enumerate(times):
            op = "ListObjects" if i == 0 else rng.choice(("GetObject", "HeadObject", "ListObjects"))
            command = {"ListObjects": "s3.ls", "GetObject": "s3.cp", "HeadObject": "s3api.head-object"}[op]
            key = s.lake_key() if tokyo else s.export_key()
            s.emit(s.f.data_event(t, creds, op, bucket, key=key, prefix="", ip=ip,
                                  ua=_cli(w.UA_CLOUDSHELL, command),
                                  bytes_out=s.size(30_000_000 if op == "GetObject" else 3_000)),
                   t, "cloudshell", "cloudshell")


def lambda_portal(s: Scenario, n: int) -> None:
    """The payroll portal's Lambda (not in a VPC) reads and caches payslips."""
    rng = s.rng
    for times in s.sessions(n, lambda: s.profile_time("consumer"), mean=3, gap=1):
        creds = s.f.creds(P["portal-lambda"], times[0])
        ip = s.pool("lambda-ips", lambda: s.aws_ip("ec2-us-east-1" if rng.random() < 0.7
                                                   else "amazon-us-east-1"), 25)
        for t in times:
            op = rng.choice(("GetObject", "GetObject", "HeadObject", "HeadObject", "PutObject"))
            kw: dict[str, Any] = {}
            key = s.payslip_key()
            if op == "GetObject":
                if rng.random() < 0.015:
                    kw["error"], kw["bytes_out"] = NO_SUCH_KEY, 350
                else:
                    kw["bytes_out"] = s.size(180_000, 0.4)
            elif op == "PutObject":
                key = f"cache/thumbnails/{key.rsplit('/', 1)[1]}.png"
                kw.update(bytes_in=s.size(20_000), sse="kms")
            s.emit(s.f.data_event(t, creds, op, w.PAYROLL_BUCKET, key=key, ip=ip, ua=w.UA_LAMBDA_PY,
                                  **kw), t, "lambda", "lambda-payroll-portal")


def lambda_export(s: Scenario, n: int) -> None:
    """A nightly Node.js Lambda that exports payroll totals to the data lake."""
    rng = s.rng
    for times in s.scheduled(n, (4,), 5, gap=2):
        creds = s.f.creds(P["export-lambda"], times[0])
        ip = s.aws_ip()
        for t in times:
            if rng.random() < 0.6:
                rec = s.f.data_event(t, creds, "GetObject", w.PAYROLL_BUCKET, key=s.export_key(t - DAY),
                                     ip=ip, ua=w.UA_LAMBDA_NODE, bytes_out=s.size(50_000_000, 0.3))
            else:
                rec = s.f.data_event(t, creds, "PutObject", w.DATALAKE_BUCKET,
                                     key=f"curated/payroll_totals/day={s.day_str(t)}/totals.parquet",
                                     ip=ip, ua=w.UA_LAMBDA_NODE, bytes_in=s.size(300_000), sse="s3")
            s.emit(rec, t, "lambda", "lambda-payroll-export")


def lambda_in_vpc(s: Scenario, n: int) -> None:
    """A VPC-attached compaction Lambda: private address through the gateway endpoint."""
    rng = s.rng
    for times in s.sessions(n, lambda: s.profile_time("flat"), mean=8, gap=1):
        creds = s.f.creds(P["thumbnail-lambda"], times[0])
        ip = f"10.20.64.{rng.randrange(10, 250)}"
        for t in times:
            op = rng.choice(("GetObject", "PutObject", "DeleteObject", "ListObjects"))
            s.emit(s.f.data_event(t, creds, op, w.DATALAKE_BUCKET, key=s.lake_key("raw"),
                                  prefix="raw/clickstream/", ip=ip, ua=w.UA_LAMBDA_PY,
                                  vpce=w.GATEWAY_ENDPOINT, vpce_account=w.ACCOUNT_ID,
                                  bytes_out=s.size(9_000_000) if op == "GetObject" else 0,
                                  bytes_in=s.size(60_000_000) if op == "PutObject" else 0, sse="s3"),
                   t, "lambda", "lambda-in-vpc")


_PROBE_KEYS = (".env", "backup.sql", "config.json", "db.sql.gz", "wp-config.php.bak", ".git/config",
               "credentials.csv", "index.html")


def anonymous_probe(s: Scenario, n: int) -> None:
    """Internet scanners guessing bucket names: unsigned requests, all denied."""
    rng = s.rng
    anon = s.f.creds(P["anonymous"], s.start)
    for times in s.sessions(n, lambda: s.profile_time("flat"), mean=4, gap=1):
        ip = s.pool("scanners", lambda: _hosts(rng.choice(w.SCANNER_NETS))(rng), 25)
        ua = rng.choice(w.UA_SCANNERS)
        bucket = rng.choice(w.BUCKETS[:2])
        host = rng.choice((f"{bucket}.s3.amazonaws.com", f"{bucket}.s3.{w.REGION}.amazonaws.com"))
        for i, t in enumerate(times):
            op = "ListObjects" if i == 0 else rng.choice(("GetObject", "GetObject", "HeadBucket"))
            s.emit(s.f.data_event(t, anon, op, bucket, key=rng.choice(_PROBE_KEYS), prefix="", ip=ip,
                                  ua=ua, host=host, error=ACCESS_DENIED, bytes_out=243),
                   t, "anonymous", "anonymous-probe")


def management(s: Scenario, count: int) -> None:
    """A few S3 management events, as a trail that also logs management events holds."""
    rng = s.rng
    for _ in range(count):
        t = s.profile_time("office")
        kind = rng.random()
        if kind < 0.4:
            creds = _console_creds(s, t)
            name = rng.choice(("GetBucketLocation", "GetBucketPolicy", "GetBucketVersioning",
                               "GetBucketPublicAccessBlock"))
            rec = s.f.management_event(t, creds, name, rng.choice(w.BUCKETS), ip=s.employee_ip(t),
                                       ua=w.UA_CONSOLE)
            rec["vpcEndpointId"] = w.CONSOLE_ENDPOINT
        elif kind < 0.7:
            creds = s.f.creds(P["dev-kenji"], t)
            rec = s.f.management_event(t, creds, "ListBuckets", None, ip=s.employee_ip(t),
                                       ua=_cli(w.UA_CLI_MAC, "s3.ls"))
        else:
            creds = s.f.creds(P["ci-deploy"], t)
            rec = s.f.management_event(t, creds, rng.choice(("GetBucketEncryption", "GetBucketPolicy",
                                                             "GetBucketAcl", "GetBucketVersioning")),
                                       rng.choice(w.BUCKETS), ua=w.UA_TERRAFORM,
                                       ip=_hosts(w.CI_RUNNER_NET)(rng))
        s.emit(rec, t, "-", "management")


@dataclass(frozen=True)
class Story:
    """One access story: its emitter, share of the data events and minimum count."""

    name: str
    emit: Callable[[Scenario, int], None]
    share: float
    minimum: int = 1


#: The data-event stories. Shares need not sum to 1 (they are normalised).
STORIES: tuple[Story, ...] = (
    Story("dev-laptop", dev_laptop, 0.075, 3),
    Story("ci-runner", ci_runner, 0.01),
    Story("intrusion", intrusion, 0.025, 30),
    Story("onprem-interface-endpoint", onprem_interface_endpoint, 0.035),
    Story("gateway-endpoint-batch", payroll_batch, 0.08),
    Story("emr-on-ec2", emr_on_ec2, 0.05),
    Story("partner-endpoint", partner_endpoint, 0.035),
    Story("ec2-public-report", ec2_public, 0.04),
    Story("cross-account-role", cross_account, 0.03),
    Story("athena-query", athena, 0.13, 3),
    Story("lakeformation", lake_formation, 0.055, 2),
    Story("glue-job", glue, 0.07),
    Story("emr-serverless", emr_serverless, 0.03),
    Story("redshift-spectrum", redshift, 0.03),
    Story("sagemaker-training", sagemaker, 0.03, 2),
    Story("aws-backup", aws_backup, 0.02),
    Story("log-delivery", log_delivery, 0.06),
    Story("console-internal", aws_internal, 0.004),
    Story("console-backend", console_backend, 0.045),
    Story("console-download", console_download, 0.01),
    Story("console-upload", console_upload, 0.004, 2),
    Story("app-presigned", app_presigned, 0.06),
    Story("partner-presigned-upload", partner_presigned_upload, 0.006),
    Story("cloudshell", cloudshell, 0.015, 2),
    Story("lambda-payroll-portal", lambda_portal, 0.07),
    Story("lambda-payroll-export", lambda_export, 0.02),
    Story("lambda-in-vpc", lambda_in_vpc, 0.01),
    Story("anonymous-probe", anonymous_probe, 0.012),
)


#: The fewest data events that still hold every story.
MIN_EVENTS = sum(st.minimum for st in STORIES)


def allocate(n: int) -> list[int]:
    """Split ``n`` data events over :data:`STORIES` (largest remainder, minimums respected)."""
    minimum = MIN_EVENTS
    if n < minimum:
        raise ValueError(f"need at least {minimum} events to cover every story, got {n}")
    total_share = sum(st.share for st in STORIES)
    exact = [st.share / total_share * n for st in STORIES]
    counts = [max(st.minimum, int(x)) for st, x in zip(STORIES, exact)]
    order = sorted(range(len(STORIES)), key=lambda i: (-(exact[i] - int(exact[i])), i))
    k = 0
    while sum(counts) < n:
        counts[order[k % len(order)]] += 1
        k += 1
    while sum(counts) > n:  # minimums pushed us over: take from the biggest
        i = max(range(len(counts)), key=lambda j: (counts[j] - STORIES[j].minimum, -j))
        counts[i] -= 1
    return counts
