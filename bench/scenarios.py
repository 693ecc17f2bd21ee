"""The scenarios: what is seeded, what the clients do, what is measured."""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from array import array
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from .env import Server, Setup
from .pool import Pool
from .profile import Profiler
from .util import CpuMeter, db_pids, log, percentiles, us_to_ms, wait_quiet

# Set from the command line: how long to wait for other sessions' load to go away,
# and whether to sample the server processes with py-spy during measured windows.
QUIET = {"limit": 0.25, "timeout": 300.0}
PROFILE = {"on": False}


def profiler(setup: Setup, servers: list[Server], label: str) -> Profiler:
    return Profiler([s.pid for s in servers] if PROFILE["on"] else [], setup.dir, label)

# Scenario presets; CLI flags override them. `rate` is per sender, msgs/s.
PRESETS: dict[str, dict[str, Any]] = {
    "big-room": dict(clients=500, senders=50, rate=1.0, duration=30, warmup=5,
                     room_size=None, rooms_per_client=1),
    "big-room-1k": dict(clients=1000, senders=5, rate=1.0, duration=30, warmup=5,
                        room_size=None, rooms_per_client=1),
    "many-rooms": dict(clients=2000, senders=440, rate=1.0, duration=30, warmup=5,
                       room_size=50, rooms_per_client=5),
    "throughput": dict(clients=200, senders=200, rate=500.0, duration=20, warmup=3,
                       room_size=2, rooms_per_client=1, window=2),
    "idle-memory": dict(clients=2000, senders=0, room_size=50, rooms_per_client=3,
                        duration=5),
    "storm": dict(clients=5000, senders=0, room_size=50, rooms_per_client=2, duration=0),
    "cold-start": dict(clients=2, senders=1, repeats=3),
}
ALL = ["cold-start", "big-room", "big-room-1k", "many-rooms", "throughput", "idle-memory",
       "storm"]

# Production targets (the issue); checked for every run, meaningful at target sizes.
TARGETS = {
    "big-room": [("delivery_ms.p99", "<=", 100), ("lost", "==", 0)],
    "big-room-1k": [("delivery_ms.p50", "<=", 25), ("delivery_ms.p99", "<=", 100),
                    ("lost", "==", 0)],
    "many-rooms": [("frames_per_s", ">=", 20000), ("delivery_ms.p99", "<=", 250),
                   ("lost", "==", 0)],
    "throughput": [("ws_max.acked_per_s", ">=", 1500), ("ws_500.ack_ms.p99", "<=", 50),
                   ("rest_500.api_ms.p99", "<=", 50), ("lost", "==", 0)],
    "idle-memory": [("kib_per_connection", "<=", 40)],
    "storm": [("all_ready_s", "<=", 10), ("not_ready", "==", 0), ("probe_lost", "==", 0),
              ("server_errors", "==", 0)],
    "cold-start": [("first_post_s.max", "<=", 2.0)],
}
TARGET_SIZES = {
    "big-room": dict(clients=500, senders=50, rate=1.0),
    "big-room-1k": dict(clients=1000, senders=5, rate=1.0),
    "many-rooms": dict(),
    "throughput": dict(rate=500.0),
    "idle-memory": dict(),
    "storm": dict(clients=5000),
    "cold-start": dict(),
}


@dataclass
class Params:
    scenario: str
    clients: int
    senders: int
    rate: float
    duration: float
    warmup: float
    room_size: int | None
    rooms_per_client: int
    window: int = 2
    repeats: int = 3
    workers: int = 2
    compression: str | None = "deflate"
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, scenario: str, overrides: dict[str, Any]) -> Params:
        base = dict(clients=0, senders=0, rate=1.0, duration=30, warmup=5, room_size=None,
                    rooms_per_client=1)
        base.update(PRESETS[scenario])
        base.update({k: v for k, v in overrides.items() if v is not None})
        base["scenario"] = scenario
        return cls(**base)


def get(d: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(d, dict) or part not in d:
            return None
        d = d[part]
    return d


def check_targets(scenario: str, metrics: dict) -> list[dict]:
    out = []
    for key, op, bound in TARGETS.get(scenario, []):
        value = get(metrics, key)
        if value is None:
            met = None
        elif op == "<=":
            met = value <= bound
        elif op == ">=":
            met = value >= bound
        else:
            met = value == bound
        out.append({"metric": key, "target": f"{op} {bound}", "value": value, "met": met})
    return out


# --- plans --------------------------------------------------------------------------------


def plan_rooms(n: int, room_size: int | None, per_client: int, seed: int = 7) -> list[list[int]]:
    """Each client in `per_client` rooms of about `room_size` members (None: one room of all)."""
    if not room_size or room_size >= n:
        return [list(range(n))]
    rng = random.Random(seed)
    rooms: list[list[int]] = []
    for _layer in range(per_client):
        order = list(range(n))
        rng.shuffle(order)
        for k in range(0, n, room_size):
            rooms.append(sorted(order[k:k + room_size]))
    return rooms


def client_specs(seed: dict, servers: list[Server], senders: int,
                 send_rooms_of=None) -> list[dict]:
    rooms_of: dict[int, dict[int, int]] = defaultdict(dict)
    for room in seed["rooms"]:
        for i in room["members"]:
            rooms_of[i][room["id"]] = room["last_seq"]
    specs = []
    for i, user in enumerate(seed["users"]):
        srv = servers[i % len(servers)]
        spec = {
            "idx": i, "uid": user["id"], "token": user["token"], "url": srv.ws_url,
            "http": srv.http_url, "rooms": rooms_of[i], "user_seq": user["stream_seq"],
        }
        if i < senders:
            spec["send_rooms"] = (send_rooms_of(i, rooms_of[i]) if send_rooms_of
                                  else sorted(rooms_of[i]))
        specs.append(spec)
    return specs


# --- shared pieces ------------------------------------------------------------------------


def lat_from(replies: list[dict], key: str) -> array:
    out = array("q")
    for r in replies:
        out.frombytes(r[key])
    return out


def merge_counts(replies: list[dict], key: str) -> dict[int, int]:
    total: dict[int, int] = defaultdict(int)
    for r in replies:
        for k, v in r[key].items():
            total[int(k)] += v
    return dict(total)


def acked_so_far(pool: Pool) -> tuple[dict[int, int], dict[int, int]]:
    replies = pool.call("acked", progress=0)
    rooms: dict[int, int] = defaultdict(int)
    max_seq: dict[int, int] = {}
    for r in replies:
        for k, v in r["rooms"].items():
            rooms[int(k)] += v
        for k, v in r["max_seq"].items():
            max_seq[int(k)] = max(max_seq.get(int(k), 0), v)
    return dict(rooms), max_seq


def steady_rate(per_sec: dict[int, int], t_from: float, t_to: float) -> float:
    """Mean events/s over whole seconds inside [t_from, t_to)."""
    lo, hi = int(t_from) + 1, int(t_to)
    if hi <= lo:
        return 0.0
    return sum(per_sec.get(s, 0) for s in range(lo, hi)) / (hi - lo)


def drain_and_collect(pool: Pool, timeout: float = 20.0) -> dict:
    """Wait for all expected deliveries, then gather per-worker results and sum them."""
    expected, max_seq = acked_so_far(pool)
    exp_s = {str(k): v for k, v in expected.items()}
    drained = pool.call("drain", {"expected": exp_s, "timeout": timeout}, label="drain")
    replies = pool.call("collect", {"expected": exp_s,
                                    "last_seqs": {str(k): v for k, v in max_seq.items()}},
                        progress=0)
    summed: dict[str, Any] = {}
    for key in ("expected", "received", "lost", "extra", "behind_room_subscriptions", "gaps",
                "dupes", "resyncs"):
        summed[key] = sum(r[key] for r in replies)
    for key in ("closes", "send_errors", "connect_errors", "other_frames"):
        merged: dict[str, int] = defaultdict(int)
        for r in replies:
            for k, v in r[key].items():
                merged[str(k)] += v
        summed[key] = dict(merged)
    summed["drain_wait_s"] = max(d["waited"] for d in drained)
    summed["_replies"] = replies
    return summed


def lag_summary(replies: list[dict]) -> dict:
    lags = lat_from(replies, "lags")
    return us_to_ms(percentiles(lags, ps=(50, 99)))


class PgWindow:
    """pg_stat_activity sampling over a measured window (production mode only)."""

    def __init__(self, setup: Setup):
        self.sampler = None
        if setup.mode == "production":
            from .env import PG_ADMIN, PG_DB
            from .pgstat import PgSampler

            self.sampler = PgSampler(f"{PG_ADMIN}/{PG_DB}", PG_DB)

    def start(self) -> None:
        if self.sampler is not None:
            self.sampler.start()

    def stop(self) -> dict | None:
        return self.sampler.stop() if self.sampler is not None else None


def meter_for(setup: Setup, servers: list[Server], pool: Pool) -> CpuMeter:
    """Server, clients, and (production) the database backends and private Redis."""
    groups: dict = {"server": [s.pid for s in servers], "clients": pool.pids}
    if setup.mode == "production":
        extra = [setup.redis.proc.pid] if setup.redis and setup.redis.proc else []
        groups["db_redis"] = lambda: db_pids() + extra
    return CpuMeter(groups)


def quiet(servers: list[Server], pool: Pool | None = None) -> dict:
    """Wait (bounded) until processes other than ours leave the CPUs alone."""
    if QUIET["timeout"] <= 0:
        return {"skipped": True}
    pids = [s.pid for s in servers] + (pool.pids if pool is not None else [])
    return wait_quiet(QUIET["limit"], QUIET["timeout"], pids)


class Watch:
    """Progress extras: server RSS (and its peak)."""

    def __init__(self, servers: list[Server]):
        self.servers = servers
        self.peak = 0

    def __call__(self) -> str:
        rss = sum(s.rss_kib() for s in self.servers)
        self.peak = max(self.peak, rss)
        return f" server_rss={rss / 1024:.0f}MiB"


def start_pool(specs: list[dict], p: Params, servers: list[Server]) -> tuple[Pool, Watch]:
    watch = Watch(servers)
    pool = Pool(specs, p.workers, {"compression": p.compression}, watch=watch)
    return pool, watch


def connect_all(pool: Pool, n: int) -> dict:
    t0 = time.monotonic()
    replies = pool.call("connect", label="connect", timeout=300)
    elapsed = time.monotonic() - t0
    ready = sum(r["ready"] for r in replies)
    errs: dict[str, int] = defaultdict(int)
    for r in replies:
        for k, v in r["connect_errors"].items():
            errs[k] += v
    out = {"clients": n, "ready": ready, "failed": n - ready, "seconds": round(elapsed, 2),
           "deflate_negotiated": sum(r["deflate_negotiated"] for r in replies),
           "connect_errors": dict(errs)}
    log(f"connected {ready}/{n} in {elapsed:.1f} s (deflate negotiated on "
        f"{out['deflate_negotiated']})")
    return out


# --- fan-out: big-room, big-room-1k, many-rooms --------------------------------------------


def run_fanout(setup: Setup, p: Params) -> dict:
    rooms = plan_rooms(p.clients, p.room_size, p.rooms_per_client)
    seed = setup.prepare({"users": p.clients, "rooms": rooms})
    servers = setup.start_servers()
    specs = client_specs(seed, servers, p.senders)
    pool, watch = start_pool(specs, p, servers)
    try:
        conn = connect_all(pool, p.clients)
        time.sleep(4.0)  # past the server's resume grace; presence settles
        background = quiet(servers, pool)
        pool.call("reset_stats", progress=0)
        meter = meter_for(setup, servers, pool)
        t0 = time.time() + 1.0
        t_warm, t_end = t0 + p.warmup, t0 + p.duration
        rss_before = sum(s.rss_kib() for s in servers)
        log(f"sending: {p.senders} senders x {p.rate} msg/s for {p.duration} s "
            f"(first {p.warmup} s warm-up, not in latency stats)")
        cpu: dict = {}
        prof = profiler(setup, servers, p.scenario)
        pg = PgWindow(setup)
        pgstat: dict = {}
        sent = pool.call(
            "send", {"mode": "open", "t0": t0, "warmup": p.warmup, "duration": p.duration,
                     "rate": p.rate}, label="send", timeout=p.duration + 120,
            timers=[(t_warm, meter.start), (t_warm, lambda: prof.start(p.duration - p.warmup)),
                    (t_warm, pg.start),
                    (t_end, lambda: cpu.update(meter.stop())),
                    (t_end, lambda: pgstat.update(pg.stop() or {}))])
        profile = prof.finish()
        res = drain_and_collect(pool)
        replies = res.pop("_replies")
        lat = lat_from(replies, "lat")
        ack = lat_from(replies, "ack_lat")
        recv_ps = merge_counts(replies, "recv_per_sec")
        ack_ps = merge_counts(replies, "ack_per_sec")
        msgs_measured = steady_rate(ack_ps, t_warm, t_end)
        metrics = {
            "connect": conn,
            "offered_msgs_per_s": p.senders * p.rate,
            "sent": sum(r["sent"] for r in sent),
            "unacked": sum(r["unacked"] for r in sent),
            "acked_per_s": round(msgs_measured, 1),
            "frames_per_s": round(steady_rate(recv_ps, t_warm, t_end), 1),
            "delivery_ms": us_to_ms(percentiles(lat)),
            "ack_ms": us_to_ms(percentiles(ack)),
            "lost": res["lost"],
            "deliveries": {k: res[k] for k in ("expected", "received", "extra", "gaps", "dupes",
                                               "resyncs", "behind_room_subscriptions")},
            "closes": res["closes"],
            "send_errors": res["send_errors"],
            "drain_wait_s": res["drain_wait_s"],
            "cpu": cpu,
            "server_rss_mib": {"before_send": round(rss_before / 1024, 1),
                               "peak": round(watch.peak / 1024, 1)},
            "client_loop_lag_ms": lag_summary(replies),
            "background_before": background,
            "rooms": len(rooms),
            "room_size": len(rooms[0]),
        }
        if pgstat:
            metrics["pg_activity"] = pgstat
        if cpu.get("server_cores") and metrics["frames_per_s"]:
            # CPU per unit of work holds up better than latency on a shared machine.
            metrics["server_cpu_us_per_frame"] = round(
                cpu["server_cores"] * 1e6 / metrics["frames_per_s"], 1)
        if profile:
            metrics["profile"] = profile
        return metrics
    finally:
        pool.close()
        setup.stop_servers()


# --- throughput -----------------------------------------------------------------------------


def run_throughput(setup: Setup, p: Params) -> dict:
    rooms = plan_rooms(p.clients, p.room_size, 1)
    seed = setup.prepare({"users": p.clients, "rooms": rooms})
    servers = setup.start_servers()
    specs = client_specs(seed, servers, p.senders)
    pool, watch = start_pool(specs, p, servers)
    phases: dict[str, dict] = {}
    try:
        conn = connect_all(pool, p.clients)
        time.sleep(4.0)
        per_sender = p.rate / max(1, p.senders)

        def phase(name: str, op: str, args: dict) -> None:
            background = quiet(servers, pool)
            pool.call("reset_stats", progress=0)
            meter = meter_for(setup, servers, pool)
            t0 = time.time() + 1.0
            t_warm, t_end = t0 + p.warmup, t0 + p.duration
            cpu: dict = {}
            log(f"phase {name}: {args}")
            prof = profiler(setup, servers, name)
            pg = PgWindow(setup)
            pgstat: dict = {}
            sent = pool.call(op, dict(args, t0=t0, warmup=p.warmup, duration=p.duration),
                             label=name, timeout=p.duration + 120,
                             timers=[(t_warm, meter.start),
                                     (t_warm, lambda: prof.start(p.duration - p.warmup)),
                                     (t_warm, pg.start),
                                     (t_end, lambda: cpu.update(meter.stop())),
                                     (t_end, lambda: pgstat.update(pg.stop() or {}))])
            profile = prof.finish()
            replies = pool.call("collect", {"expected": {}, "last_seqs": {}}, progress=0)
            ack_ps = merge_counts(replies, "ack_per_sec")
            ack = lat_from(replies, "ack_lat")
            rest = lat_from(replies, "rest_lat")
            out = {
                "sent": sum(r["sent"] for r in sent),
                "acked_per_s": round(steady_rate(ack_ps, t_warm, t_end), 1),
                "cpu": cpu,
                "client_loop_lag_ms": lag_summary(replies),
                "background_before": background,
            }
            if op == "send":
                out["unacked"] = sum(r["unacked"] for r in sent)
                out["ack_ms"] = us_to_ms(percentiles(ack))
            else:
                status: dict[str, int] = defaultdict(int)
                for r in sent:
                    for k, v in r["status"].items():
                        status[k] += v
                out["status"] = dict(status)
                out["api_ms"] = us_to_ms(percentiles(rest))
            errs: dict[str, int] = defaultdict(int)
            closes: dict[str, int] = defaultdict(int)
            for r in replies:
                for k, v in r["send_errors"].items():
                    errs[k] += v
                for k, v in r["closes"].items():
                    closes[str(k)] += v
            out["send_errors"] = dict(errs)
            out["socket_closes_so_far"] = dict(closes)
            if pgstat:
                out["pg_activity"] = pgstat
            if cpu.get("server_cores") and out["acked_per_s"]:
                out["server_cpu_ms_per_msg"] = round(
                    cpu["server_cores"] * 1000 / out["acked_per_s"], 2)
            if profile:
                out["profile"] = profile
            phases[name] = out
            log(f"phase {name}: acked {out['acked_per_s']}/s "
                + (f"ack p99 {out['ack_ms']['p99']} ms" if "ack_ms" in out
                   else f"api p99 {out['api_ms']['p99']} ms"))

        # ack_wait: let a backlog drain before the next phase starts.
        phase("ws_500", "send", {"mode": "open", "rate": per_sender, "seq0": 0, "ack_wait": 60})
        phase("rest_500", "rest", {"rate": per_sender, "seq0": 1_000_000})
        phase("ws_max", "send", {"mode": "closed", "window": p.window, "seq0": 2_000_000,
                                 "ack_wait": 60})
        res = drain_and_collect(pool)
        res.pop("_replies")
        metrics = {
            "connect": conn,
            **phases,
            "lost": res["lost"],
            "deliveries": {k: res[k] for k in ("expected", "received", "extra", "gaps", "dupes",
                                               "resyncs")},
            "closes": res["closes"],
            "server_rss_mib_peak": round(watch.peak / 1024, 1),
            "rooms": len(rooms),
        }
        return metrics
    finally:
        pool.close()
        setup.stop_servers()


# --- idle memory ------------------------------------------------------------------------------


def run_idle_memory(setup: Setup, p: Params) -> dict:
    rooms = plan_rooms(p.clients, p.room_size, p.rooms_per_client)
    seed = setup.prepare({"users": p.clients, "rooms": rooms})
    servers = setup.start_servers()
    specs = client_specs(seed, servers, 0)
    warm_n = min(40, p.clients // 2)
    warm_pool = Pool(specs[-warm_n:], 1, {"compression": p.compression})
    try:
        warm_pool.call("connect", progress=0)  # imports, caches, thread pools warmed up
        time.sleep(1.0)
        warm_pool.call("close", progress=0)
    finally:
        warm_pool.close()
    time.sleep(2.0)
    background = quiet(servers)
    before = {s.pid: s.rss_kib() for s in servers}
    pool, watch = start_pool(specs, p, servers)
    try:
        conn = connect_all(pool, p.clients)
        log(f"idle for {p.duration} s")
        time.sleep(p.duration)
        after = {s.pid: s.rss_kib() for s in servers}
        ready = conn["ready"]
        delta = sum(after.values()) - sum(before.values())
        pool.call("close", progress=0)
        time.sleep(2.0)
        closed = {s.pid: s.rss_kib() for s in servers}
        metrics = {
            "connect": conn,
            "rss_kib_before": before,
            "rss_kib_connected": after,
            "rss_kib_after_close": closed,
            "kib_per_connection": round(delta / max(1, ready), 1),
            "rooms": len(rooms),
            "rooms_per_client": p.rooms_per_client,
            "background_before": background,
        }
        log(f"server RSS {sum(before.values()) / 1024:.0f} -> {sum(after.values()) / 1024:.0f} "
            f"MiB for {ready} sockets: {metrics['kib_per_connection']} KiB per connection")
        return metrics
    finally:
        pool.close()
        setup.stop_servers()


# --- reconnect storm -----------------------------------------------------------------------


def run_storm(setup: Setup, p: Params) -> dict:
    rooms = plan_rooms(p.clients, p.room_size, p.rooms_per_client)
    seed = setup.prepare({"users": p.clients, "rooms": rooms})
    servers = setup.start_servers()
    specs = client_specs(seed, servers, 0)
    pool, watch = start_pool(specs, p, servers)
    try:
        conn = connect_all(pool, p.clients)
        time.sleep(4.0)
        background = quiet(servers, pool)
        errors_before = setup.server_errors()["count"]
        meter = meter_for(setup, servers, pool)
        at = time.time() + 1.0
        log(f"storm: dropping all {p.clients} sockets at once, reconnecting with resume")
        cpu: dict = {}
        meter_started = [False]

        prof = profiler(setup, servers, "storm")

        def start_meter() -> None:
            meter.start()
            meter_started[0] = True
            prof.start(10)

        replies = pool.call("storm", {"at": at}, label="storm", timeout=180, progress=1.0,
                            timers=[(at, start_meter)])
        if meter_started[0]:
            cpu = meter.stop()
        profile = prof.finish()
        ready_us = array("q")
        for r in replies:
            ready_us.frombytes(r["ready_us"])
        t_drop = min(r["t_drop_ns"] for r in replies)
        skew_ms = (max(r["t_drop_ns"] for r in replies) - t_drop) / 1e6
        not_ready = sum(r["failed"] for r in replies)
        errs: dict[str, int] = defaultdict(int)
        for r in replies:
            for k, v in r["connect_errors"].items():
                errs[k] += v
        stats = us_to_ms(percentiles(ready_us))
        all_ready_s = (None if not_ready else round(stats["max"] / 1000.0, 2))
        log(f"storm: {len(ready_us)}/{p.clients} back and ready; last after "
            f"{stats['max']} ms")
        time.sleep(1.0)
        # Resubscribed? One probe message per room, must reach every member.
        first_member: dict[int, int] = {}
        for room in seed["rooms"]:
            first_member[room["id"]] = room["members"][0]
        per_worker: dict[int, dict] = defaultdict(lambda: {"posts": {}})
        for rid, idx in first_member.items():
            per_worker[pool.owner[idx]]["posts"][str(rid)] = idx
        probe = pool.call("probe", workers=sorted(per_worker), per_worker=dict(per_worker),
                          label="probe")
        res = drain_and_collect(pool)
        res.pop("_replies")
        errors_after = setup.server_errors()
        metrics = {
            "connect": conn,
            "all_ready_s": all_ready_s,
            "ready_ms": stats,
            "not_ready": not_ready,
            "drop_skew_ms": round(skew_ms, 1),
            "reconnect_errors": dict(errs),
            "probe_posted": sum(r["posted"] for r in probe),
            "probe_acked": sum(r["acked"] for r in probe),
            "probe_lost": res["lost"],
            "deliveries": {k: res[k] for k in ("expected", "received", "extra", "gaps",
                                               "dupes", "resyncs")},
            "closes": res["closes"],
            "server_errors": errors_after["count"] - errors_before,
            "cpu": cpu,
            "server_rss_mib_peak": round(watch.peak / 1024, 1),
            "background_before": background,
            "rooms": len(rooms),
        }
        if profile:
            metrics["profile"] = profile
        return metrics
    finally:
        pool.close()
        setup.stop_servers()


# --- cold start --------------------------------------------------------------------------------


async def _first_ws_and_post(server: Server, token: str, room: int, seq: int,
                             compression: str | None) -> dict:
    import websockets

    t_spawn = server.spawned_at
    attempts = 0
    while True:
        attempts += 1
        try:
            ws = await websockets.connect(
                server.ws_url, additional_headers={"Authorization": f"Bearer {token}"},
                compression=compression, proxy=None, open_timeout=10, ping_interval=None)
            break
        except (OSError, TimeoutError, websockets.InvalidHandshake):
            if server.proc is not None and server.proc.poll() is not None:
                raise RuntimeError(f"server exited:\n{server.tail()}") from None
            if time.monotonic() - t_spawn > 60:
                raise
            await asyncio.sleep(0.01)
    t_open = time.monotonic()
    await ws.send(json.dumps({"type": "resume", "rooms": {str(room): seq}}))
    while json.loads(await asyncio.wait_for(ws.recv(), 10)).get("type") != "ready":
        pass
    t_ready = time.monotonic()
    cmid = f"cold-{time.time_ns()}"
    await ws.send(json.dumps({"type": "message.send", "room": room, "body": "cold start",
                              "client_msg_id": cmid}))
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame.get("type") == "ack" and frame.get("client_msg_id") == cmid:
            break
        if frame.get("type") == "error":
            raise RuntimeError(f"cold-start post failed: {frame}")
    t_ack = time.monotonic()
    await ws.close()
    return {"ws_open_s": t_open - t_spawn, "ws_ready_s": t_ready - t_spawn,
            "first_post_s": t_ack - t_spawn, "connect_attempts": attempts}


async def _all_first(servers: list[Server], seed: dict, room: dict,
                     compression: str | None) -> list[dict]:
    return await asyncio.gather(*(
        _first_ws_and_post(s, seed["users"][i % 2]["token"], room["id"], room["last_seq"],
                           compression)
        for i, s in enumerate(servers)))


def run_cold_start(setup: Setup, p: Params) -> dict:
    seed = setup.prepare({"users": 2, "rooms": [[0, 1]]})
    room = seed["rooms"][0]
    runs = []
    background = quiet([])
    for rep in range(p.repeats):
        servers = setup.make_servers()
        for s in servers:
            s.spawn()
        try:
            got = asyncio.run(_all_first(servers, seed, room, p.compression))
            worst: dict[str, Any] = {k: round(max(g[k] for g in got), 3)
                                     for k in ("ws_open_s", "ws_ready_s", "first_post_s")}
            worst["rss_mib"] = round(sum(s.rss_kib() for s in servers) / 1024, 1)
            worst["per_process"] = [{k: round(v, 3) for k, v in g.items()} for g in got]
            runs.append(worst)
            log(f"cold start {rep + 1}/{p.repeats}: first ws ready {worst['ws_ready_s']:.2f} s,"
                f" first post acked {worst['first_post_s']:.2f} s")
        finally:
            setup.stop_servers()
        room["last_seq"] += len(servers)
    posts = [r["first_post_s"] for r in runs]
    readies = [r["ws_ready_s"] for r in runs]
    return {
        "processes": setup.procs,
        "ws_ready_s": {"median": round(statistics.median(readies), 3), "max": max(readies)},
        "first_post_s": {"median": round(statistics.median(posts), 3), "max": max(posts)},
        "runs": runs,
        "background_before": background,
        "note": "from spawning `manage.py serve` (all processes of the mode at once) to the "
                "first WebSocket `ready` and the first acked message.send on every process; "
                "database already migrated; OS page cache warm",
    }


RUNNERS = {
    "big-room": run_fanout,
    "big-room-1k": run_fanout,
    "many-rooms": run_fanout,
    "throughput": run_throughput,
    "idle-memory": run_idle_memory,
    "storm": run_storm,
    "cold-start": run_cold_start,
}
