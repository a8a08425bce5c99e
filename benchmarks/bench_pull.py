"""Benchmark: s3audit.pull_events vs awswrangler's read_logs on the same fake Logs Insights.

The fake service (``s3audit.testing.FakeLogsInsights``, time mode) runs in a separate process with
realistic per-call latency; it holds ``--events`` synthetic CloudTrail events over 30 days with
bursts, each stamped with a delivery delay of 1-10 minutes. Both clients ask for the same window.

Reported per client: events returned vs the truth (completeness, duplicates), StartQuery count,
wall time. Targets (issue 4): 100 % complete; StartQuery count <= 1.3 x the minimum the
100,000-row limit allows + the planning queries; wall time <= 1.5 x what the concurrency
budget allows under the fake's own timing model (``ideal`` below: one planning query over the
window, as the issue describes the recipe, then the minimum number of data queries in waves of
``max_concurrency``, each paying its run time plus its pages). s3audit counts a long window with
several planning queries at once (``plan_queries``); the report also shows the ideal with the
same split, which is the stricter comparison. That ideal holds no client work at all; the report also shows the
one client cost no pull can avoid, building the frame: ``s3audit.load_events`` run standalone on
the same messages (``frame floor``), and compares s3audit with ``ideal + frame floor`` as well.
The target verdict is always taken against the raw ideal.

s3audit pulls ``--repeat`` times (default 2) in the benchmark's process: the first pull is that
of a fresh process, the later ones are what a notebook session that has done some work gets.
A single run decides little on a shared machine (the host's load moves the same work's CPU time
by up to 50 %), so ``--fresh N`` (default 3) adds N - 1 first pulls, each in a new process of its
own, and the wall-time verdict is taken on the median of the N first pulls.
The difference is mostly system CPU time: the kernel handing out fresh memory (a pull builds
~2 GB), cheap on ordinary machines, ~2 s per GB on a VM that returns idle guest memory to its
host; the report shows each pull's user and system CPU time.

Run: ``python -m benchmarks bench_pull [--events 1000000] [--quick]``.
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import statistics
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from typing import Any

START = datetime(2026, 9, 1, tzinfo=timezone.utc)
DAYS = 30

# the fake's timing model (seconds)
LATENCY = (0.05, 0.15)  # per API call
PER_ROW = 20e-6  # per returned row (a 10,000-row page of ~10 MB: +0.2 s, i.e. 50 MB/s)
QUERY_BASE = 1.5  # every query
SCAN_RATE = 500_000.0  # records scanned per second (a 1M-event month: 2 s)


def _data(n: int, seed: int) -> tuple[Any, Any, datetime, datetime]:
    from s3audit.testing import synthetic_trail

    end = START + timedelta(days=DAYS)
    burst_total = int(n * 0.3)
    bursts = [
        (START + timedelta(days=3, hours=9), burst_total // 2, 600),  # 10 minutes
        (START + timedelta(days=11, hours=14), burst_total // 3, 120),  # 2 minutes
        (START + timedelta(days=22, hours=2), burst_total - burst_total // 2 - burst_total // 3, 30),
    ]
    ts, msgs = synthetic_trail(n - burst_total, START, end, bursts=bursts, delay_s=(60, 600), seed=seed)
    return ts, msgs, START, end


def _serve(conn: Any, n: int, seed: int) -> None:
    """Child process: build the data, serve it, report the URL and the truth, wait for 'stop'."""
    from s3audit.testing import FakeLogsInsights

    ts, msgs, start, end = _data(n, seed)
    fake = FakeLogsInsights(mode="time", latency=LATENCY, per_row_latency=PER_ROW, query_base_s=QUERY_BASE,
                            scan_rate=SCAN_RATE, max_concurrent=100)
    fake.put_events("aws-cloudtrail-logs", ts, msgs, lengths=msgs.lengths())
    # render the message text now, not per page: on a 2-core box the fake would otherwise burn
    # the CPU the measured client needs (the latency model, not the fake's CPU, is the server)
    fake.prerender("aws-cloudtrail-logs")
    ev = msgs.event_time_s
    truth = int(((ev >= start.timestamp()) & (ev < end.timestamp())).sum())
    pad = 15 * 60
    padded = fake.count_between("aws-cloudtrail-logs", int((start.timestamp() - pad) * 1000),
                                int((end.timestamp() + pad) * 1000) + 1)
    fake.start()
    conn.send({"url": fake.endpoint_url, "truth": truth, "padded": padded, "stored": len(ts)})
    conn.recv()
    fake.stop()


def _stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "/__fake__/stats") as r:  # noqa: S310 - loopback
        return json.loads(r.read())


def _reset(url: str) -> None:
    req = urllib.request.Request(url + "/__fake__/reset", data=b"{}", method="POST")  # noqa: S310
    urllib.request.urlopen(req).read()  # noqa: S310


class _PeakRss:
    """Peak RSS growth (MB) of this process while the block runs (sampled every 50 ms)."""

    def __enter__(self) -> "_PeakRss":
        import threading

        self.start = self.peak = _rss_mb()
        self._stop = threading.Event()

        def sample() -> None:
            while not self._stop.wait(0.05):
                self.peak = max(self.peak, _rss_mb())

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())

    @property
    def growth(self) -> float:
        return self.peak - self.start


def _rss_mb() -> float:
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:  # pragma: no cover
        return float("nan")


def min_data_queries(events: int, limit: int = 100_000) -> int:
    """The fewest data queries that can prove a window complete: a query that returns exactly
    ``limit`` rows cannot be told from a truncated one (issue 4: "a slice that *returns* the
    limit is saturated"), so each holds at most ``limit - 1`` events."""
    return max(1, math.ceil(events / (limit - 1)))


def ideal_seconds(padded_events: int, concurrency: int, limit: int = 100_000, page: int = 10_000,
                  plan_parts: int = 1) -> float:
    """Wall time the concurrency budget allows under the fake's model (no client CPU): the
    planning (``plan_parts`` queries at once, each scanning its share of the window), then the
    fewest data queries in waves of ``concurrency``, each paying its run time and its pages."""
    lat = sum(LATENCY) / 2
    plan = lat + QUERY_BASE + padded_events / plan_parts / SCAN_RATE + lat
    q = min_data_queries(padded_events, limit)
    per_query_rows = padded_events / q
    pages = math.ceil(per_query_rows / page)
    one = lat + QUERY_BASE + per_query_rows / SCAN_RATE + pages * (lat + page * PER_ROW)
    return plan + math.ceil(q / concurrency) * one


def frame_floor(n: int, seed: int) -> float:
    """Seconds ``s3audit.load_events`` takes on the benchmark's messages as one pyarrow string
    array (the form a pull holds them in), in a fresh process (imports excluded). A pull parses
    its pages while others download, so only part of this remains after the last query."""
    return float(_in_fresh_process(_load_alone, n, seed, timeout=30))


def _in_fresh_process(target: Any, *args: Any, timeout: float = 60) -> Any:
    """What ``target(conn, *args)`` sends back, run in a new (spawned) process of its own."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=target, args=(child, *args), daemon=True)
    proc.start()
    child.close()  # only the child holds its end now: if it dies, recv() raises EOFError instead of hanging
    out = parent.recv()
    proc.join(timeout=timeout)
    return out


def _load_alone(conn: Any, n: int, seed: int) -> None:
    from s3audit.loader import load_events

    ts, msgs, start, end = _data(n, seed)
    pad = 15 * 60 * 1000
    inside = (ts >= int(start.timestamp() * 1000) - pad) & (ts <= int(end.timestamp() * 1000) + pad)
    import pyarrow as pa

    texts = pa.array(msgs.render_many([int(i) for i in inside.nonzero()[0]]), pa.large_string())
    load_events(texts[:10])  # imports
    t = time.perf_counter()
    load_events(texts, max_skipped=len(texts))
    conn.send(time.perf_counter() - t)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench_pull")
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--quick", action="store_true", help="200,000 events")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--concurrency", type=int, default=25)
    p.add_argument("--skip-awswrangler", action="store_true")
    p.add_argument("--repeat", type=int, default=2,
                   help="s3audit pulls in the same process (the first in a fresh process; later ones as in a "
                        "notebook session that has run before)")
    p.add_argument("--fresh", type=int, default=3,
                   help="first pulls of a fresh process (the benchmark's own plus N-1 in new processes); the "
                        "wall-time verdict is taken on their median")
    args = p.parse_args(argv)
    n = 200_000 if args.quick else args.events

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(child, n, args.seed), daemon=True)
    t = time.perf_counter()
    proc.start()
    info = parent.recv()
    print(f"fake service: {info['stored']:,} events stored ({info['truth']:,} with eventTime in the 30-day window, "
          f"{info['padded']:,} log events in the padded query window); setup {time.perf_counter() - t:.1f}s", flush=True)
    url = info["url"]
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": url})
    rows = []
    try:
        for i in range(max(1, args.repeat)):
            rows.append(_run_s3audit(url, info, args.concurrency, i))
        later = rows[1:]  # pulls in the same process after the first
        firsts = [rows[0]] + [_fresh_pull(url, info, args.concurrency, k) for k in range(1, max(1, args.fresh))]
        rows += firsts[1:]
        if not args.skip_awswrangler:
            for limit in (None, 100_000):
                rows.append(_run_awswrangler(url, info, limit))
    finally:
        parent.send("stop")
        proc.join(timeout=10)
    floor = frame_floor(n, args.seed)

    minimum = min_data_queries(info["padded"])
    ideal = ideal_seconds(info["padded"], args.concurrency)
    print()
    print(f"{'client':44} {'events':>10} {'complete':>9} {'dups':>5} {'StartQuery':>10} {'wall s':>8} {'peak RSS +MB':>12}")
    for r in rows:
        print(f"{r['client']:44} {r['events']:>10,} {r['complete']:>8.1%} {r['dups']:>5} {r['start_queries']:>10} "
              f"{r['wall']:>8.1f} {r['rss']:>12.0f}")
    s = rows[0]
    budget_q = 1.3 * minimum + s["planning"]
    print()
    print(f"truth: {info['truth']:,} events; minimum data queries at 100,000 rows (each below the limit): {minimum}; "
          f"s3audit used {s['data_queries']} data + {s['planning']} planning queries "
          f"(target <= 1.3 x {minimum} + {s['planning']} = {budget_q:.1f}) -> "
          f"{'OK' if s['start_queries'] <= budget_q else 'MISSED'}"
          + (f" (StartQuery in the fresh processes: {', '.join(str(r['start_queries']) for r in firsts[1:])})"
             if len(firsts) > 1 else ""))
    if s["plan_parts"] > 1:
        one = s["start_queries"] - s["plan_parts"] + 1
        print(f"  (counted as if the window were planned by one query: {one} StartQuery against "
              f"1.3 x {minimum} + 1 = {1.3 * minimum + 1:.1f} -> {'OK' if one <= 1.3 * minimum + 1 else 'MISSED'}; "
              f"the split adds {s['plan_parts'] - 1} planning queries that scan nothing more)")
    walls = sorted(r["wall"] for r in firsts)
    median = statistics.median(walls)
    print(f"ideal wall time under the budget ({args.concurrency} concurrent, server side only): {ideal:.1f}s; "
          f"s3audit {median:.1f}s = {median / ideal:.2f}x (target <= 1.5x) -> "
          f"{'OK' if median <= 1.5 * ideal else 'MISSED'}  (first pull of a fresh process"
          + (f", median of {len(walls)}: " + ", ".join(f"{w:.1f}" for w in walls) + " s = "
             + ", ".join(f"{w / ideal:.2f}" for w in walls) + "x; met in "
             + f"{sum(w <= 1.5 * ideal for w in walls)} of {len(walls)})" if len(walls) > 1 else ")"))
    for r in later:
        print(f"  {r['client']}: {r['wall']:.1f}s = {r['wall'] / ideal:.2f}x -> "
              f"{'OK' if r['wall'] <= 1.5 * ideal else 'MISSED'}")
    print("  client CPU (user + system): first pulls " + ", ".join(f"{r['cpu_user']:.1f} + {r['cpu_sys']:.1f} s"
                                                                for r in firsts)
          + ("; later pulls " + ", ".join(f"{r['cpu_user']:.1f} + {r['cpu_sys']:.1f} s" for r in later) if later else "")
          + " (system time is mostly the kernel handing out fresh pages; see docs/insights.md)")
    if s["plan_parts"] > 1:
        split = ideal_seconds(info["padded"], args.concurrency, plan_parts=s["plan_parts"])
        print(f"  the ideal plans with one query (the issue's recipe); s3audit counts the window in {s['plan_parts']} "
              f"parts at once. With the same split the ideal is {split:.1f}s and s3audit = {median / split:.2f}x of it")
    print(f"  phases of the benchmark process's first pull: network part (plan + fetch, pages parsed meanwhile) {s['net_s']:.1f}s = {s['net_s'] / ideal:.2f}x the ideal; "
          f"frame building after the last query {s['frame_s']:.1f}s")
    print(f"frame floor (s3audit.load_events alone on the same {info['padded']:,} messages, fresh process): {floor:.1f}s; "
          f"ideal + frame floor = {ideal + floor:.1f}s; s3audit (median of the first pulls) = "
          f"{median / (ideal + floor):.2f}x of that")
    ok = all(r["complete"] == 1.0 and r["dups"] == 0 and r["start_queries"] <= budget_q
             for r in firsts + later)
    return 0 if ok else 1


def _fresh_pull(url: str, info: dict[str, Any], concurrency: int, k: int) -> dict[str, Any]:
    """One first pull in a new process of its own (spawned: nothing imported or allocated before)."""
    row = _in_fresh_process(_pull_alone, url, info, concurrency)
    row["client"] = f"s3audit.pull_events (fresh process {k + 1})"
    return row


def _pull_alone(conn: Any, url: str, info: dict[str, Any], concurrency: int) -> None:
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": url})
    conn.send(_run_s3audit(url, info, concurrency, 0))


def _run_s3audit(url: str, info: dict[str, Any], concurrency: int, run: int = 0) -> dict[str, Any]:
    import s3audit

    # resolve the lazy export before the clock starts: importing s3audit's pull module (and with
    # it pandas, pyarrow and boto3, ~0.3 s) is not part of a pull, as awswrangler's import and the
    # frame floor's imports are not timed either (a notebook imports once, then pulls)
    pull_events = s3audit.pull_events
    _reset(url)
    cpu0 = os.times()
    with _PeakRss() as mem:
        t = time.perf_counter()
        df = pull_events("aws-cloudtrail-logs", START, START + timedelta(days=DAYS),
                         max_concurrency=concurrency, progress=False)
        wall = time.perf_counter() - t
    cpu1 = os.times()
    cov = df.attrs["coverage"]
    st = _stats(url)
    tm = cov.get("timings", {})
    frame_s = tm.get("frame_s", float("nan"))
    print(f"s3audit phases: plan {tm.get('plan_s', 0):.1f}s, fetch (pages parsed as they arrive) {tm.get('fetch_s', 0):.1f}s, "
          f"rest of the frame building {frame_s:.1f}s; ledger: {cov['data_queries']} data + "
          f"{cov['planning_queries']} planning queries, {cov['bytes_scanned'] / 2**30:.2f} GiB scanned", flush=True)
    client = "s3audit.pull_events" if run == 0 else f"s3audit.pull_events (pull {run + 1}, same proc.)"
    return {"client": client, "events": len(df), "complete": df["eventID"].nunique() / info["truth"],
            "dups": int(df["eventID"].duplicated().sum()), "start_queries": st["calls"].get("StartQuery", 0),
            "planning": cov["planning_queries"], "data_queries": cov["data_queries"], "wall": wall,
            "plan_parts": len({(p["start"], p["end"]) for p in cov["planning"]
                               if p["bin"] == cov["planning"][0]["bin"]}) if cov["planning"] else 0,
            "rss": mem.growth, "frame_s": frame_s, "net_s": tm.get("plan_s", 0.0) + tm.get("fetch_s", 0.0),
            "cpu_user": cpu1.user - cpu0.user, "cpu_sys": cpu1.system - cpu0.system}


def _run_awswrangler(url: str, info: dict[str, Any], limit: int | None) -> dict[str, Any]:
    import awswrangler as wr
    import boto3

    _reset(url)
    session = boto3.Session(region_name="us-east-1")
    with _PeakRss() as mem:
        t = time.perf_counter()
        df = wr.cloudwatch.read_logs("fields @timestamp, @message | sort @timestamp asc", ["aws-cloudtrail-logs"],
                                     start_time=START - timedelta(minutes=15),
                                     end_time=START + timedelta(days=DAYS, minutes=15), limit=limit,
                                     boto3_session=session)
        wall = time.perf_counter() - t
    st = _stats(url)
    ids = df["message"].map(lambda m: json.loads(m)["eventID"]) if len(df) else df.get("message", [])
    times = df["message"].map(lambda m: json.loads(m)["eventTime"]) if len(df) else []
    inside = [x for x, tt in zip(ids, times) if START.strftime("%Y-%m-%dT%H:%M:%SZ") <= tt
              < (START + timedelta(days=DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ")]
    return {"client": f"awswrangler.read_logs(limit={limit})", "events": len(inside),
            "complete": len(set(inside)) / info["truth"], "dups": len(inside) - len(set(inside)),
            "start_queries": st["calls"].get("StartQuery", 0), "planning": 0, "data_queries": 1, "wall": wall,
            "rss": mem.growth, "frame_s": 0.0}


if __name__ == "__main__":
    raise SystemExit(main())
