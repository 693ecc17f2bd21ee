"""python -m bench run --mode embedded|production --server uvicorn|daphne --scenario NAME|all
python -m bench report [RESULT.json ...]
python -m bench search --engine postgres|sqlite [--messages N]

See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time
import traceback
from importlib import metadata
from pathlib import Path

from .scenarios import ALL, PRESETS, RUNNERS, TARGET_SIZES, Params, check_targets
from .util import RESULTS_DIR, fmt_ms, log, raise_nofile

# Scenarios that need more than a person's send rate, and what they raise.
DISTURBED = 0.3  # cores used by other processes that make a window unreliable

RAISED_LIMITS = {
    "throughput": {"CHAT_SEND_RATE": "100000/10", "CHAT_FRAME_RATE": "100000/10"},
}


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("django", "channels", "uvicorn", "daphne", "websockets", "redis", "psycopg",
                 "uvloop"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def server_code() -> dict:
    """Which server code was measured: HEAD and files changed since (read-only git)."""
    import subprocess

    from .util import ROOT

    def git(*a: str) -> str:
        try:
            return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    dirty = [line[3:] for line in git("status", "--porcelain", "--", "chatserver", "bots",
                                      "manage.py", "pyproject.toml").splitlines()]
    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": dirty}


def machine() -> dict:
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return {"cpus": os.cpu_count(), "mem_gib": round(mem_kib / 1024 / 1024, 1),
            "kernel": platform.release(), "nofile": raise_nofile()}


def scaled_note(scenario: str, p: Params) -> str | None:
    want = TARGET_SIZES.get(scenario, {})
    diffs = [f"{k}={getattr(p, k)} (target {v})" for k, v in want.items()
             if getattr(p, k) != v]
    return ("not at the target size: " + ", ".join(diffs)) if diffs else None


def other_cores(metrics: dict) -> float | None:
    """The most CPU other processes used in any measured window of a result."""
    found = []

    def walk(d) -> None:
        if isinstance(d, dict):
            if "other_cores" in d:
                found.append(d["other_cores"])
            for v in d.values():
                walk(v)

    walk({k: v for k, v in metrics.items() if k != "profile"})
    return max(found) if found else None


def run_one(args, scenario: str) -> dict:
    from .env import Setup

    overrides = {
        "clients": args.clients, "senders": args.senders, "rate": args.rate,
        "duration": args.duration, "warmup": args.warmup, "room_size": args.room_size,
        "rooms_per_client": args.rooms_per_client, "window": args.window,
        "repeats": args.repeats, "workers": args.workers,
    }
    if scenario == "cold-start":
        overrides = {"repeats": args.repeats}
    p = Params.build(scenario, overrides)
    p.compression = None if args.compression == "none" else "deflate"
    server_env = dict(RAISED_LIMITS.get(scenario, {}))
    if args.switch_interval:
        server_env["BENCH_SWITCH_INTERVAL"] = str(args.switch_interval)
    for item in args.env or []:
        k, _, v = item.partition("=")
        server_env[k] = v
    name = f"{time.strftime('%Y%m%d-%H%M%S')}-{args.mode}-{args.server}-{scenario}"
    setup = Setup(mode=args.mode, server=args.server, name=name, server_env=server_env)
    log(f"=== {scenario} | {args.mode} ({setup.procs} process{'es' if setup.procs > 1 else ''})"
        f" | {args.server} ===")
    started = time.time()
    result: dict = {
        "scenario": scenario, "mode": args.mode, "server": args.server,
        "processes": setup.procs,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "params": {k: v for k, v in vars(p).items() if k not in ("scenario", "extra_env")},
        "server_env": server_env,
        "notes": [],
        "machine": machine(),
        "server_code": server_code(),
        "versions": versions(),
    }
    if server_env:
        result["notes"].append(
            "server settings changed for this scenario: "
            + ", ".join(f"{k}={v}" for k, v in server_env.items())
            + (" (default CHAT_SEND_RATE 30/10 per user and CHAT_FRAME_RATE 100/10 per socket"
               " are a person's rate; this scenario needs more)"
               if scenario in RAISED_LIMITS else ""))
    note = scaled_note(scenario, p)
    if note:
        result["notes"].append(note)
    if args.mode == "embedded":
        result["notes"].append("targets are set for production; shown here for comparison")
    if args.mode == "production":
        from .env import REDIS

        result["redis"] = ("private redis-server started for this run (pub/sub channels are "
                           "not scoped by db number)" if REDIS == "private" else REDIS)
    try:
        metrics = RUNNERS[scenario](setup, p)
        result["metrics"] = metrics
        result["targets"] = check_targets(scenario, metrics)
        others = other_cores(metrics)
        result["disturbed"] = others is not None and others > DISTURBED
        if result["disturbed"]:
            result["notes"].append(
                f"DISTURBED: other processes on the machine used up to {others} cores during "
                f"a measured window; run again on a quiet machine")
    except Exception as exc:
        traceback.print_exc()
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        setup.close()
    result["server_errors"] = setup.server_errors()
    result["elapsed_s"] = round(time.time() - started, 1)
    result["work_dir"] = str(setup.dir)
    if args.note:
        result["notes"].append(args.note)
    if args.switch_interval:
        result["notes"].append(f"experiment: servers ran with sys.setswitchinterval("
                               f"{args.switch_interval}) via bench.serve_wrapper (server code "
                               f"unchanged)")
    if args.profile:
        result["notes"].append("profiled with py-spy (100 Hz, --nonblocking --gil: samples the "
                               "GIL holder) during the measured window; adds some CPU load")
    if not args.no_save:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        tag = f"-{args.tag}" if args.tag else ""
        path = RESULTS_DIR / (f"{time.strftime('%Y-%m-%d')}-{args.mode}-{args.server}-"
                              f"{scenario}{tag}.json")
        path.write_text(json.dumps(result, indent=1, default=str) + "\n")
        log(f"wrote {path.relative_to(RESULTS_DIR.parent.parent)}")
    print_summary([result])
    return result


# --- summary table ----------------------------------------------------------------------------


def headline(r: dict) -> list[str]:
    m = r.get("metrics") or {}
    s = r["scenario"]
    if "error" in r:
        return [f"ERROR {r['error'][:80]}"]
    if s in ("big-room", "big-room-1k", "many-rooms"):
        d = m["delivery_ms"]
        a = m["ack_ms"]
        return [
            f"{m['connect']['ready']} clients, {m['rooms']} room(s) of {m['room_size']}, "
            f"{r['params']['senders']}x{r['params']['rate']:g} msg/s",
            f"delivery p50/p95/p99 {fmt_ms(d['p50'])}/{fmt_ms(d['p95'])}/{fmt_ms(d['p99'])} ms"
            f" (max {fmt_ms(d['max'])})",
            f"{m['frames_per_s']:.0f} frames/s, {m['acked_per_s']:.0f} acked msg/s, "
            f"ack p50/p99 {fmt_ms(a['p50'])}/{fmt_ms(a['p99'])} ms",
            f"lost {m['lost']}, gaps {m['deliveries']['gaps']}, closes {m['closes'] or 0}, "
            f"server cpu {m['cpu'].get('server_cores', '-')} cores, "
            f"clients {m['cpu'].get('clients_cores', '-')}, "
            + (f"pg+redis {m['cpu']['db_redis_cores']}, " if "db_redis_cores" in m["cpu"] else "")
            + f"others {m['cpu'].get('other_cores', '-')}"
            + (f", host took {m['cpu']['cpu_steal_share']:.1%}"
               if "cpu_steal_share" in m["cpu"] else ""),
        ]
    if s == "throughput":
        w5, r5, wm = m["ws_500"], m["rest_500"], m["ws_max"]
        return [
            f"ws @500/s: acked {w5['acked_per_s']:.0f}/s, ack p50/p95/p99 "
            f"{fmt_ms(w5['ack_ms']['p50'])}/{fmt_ms(w5['ack_ms']['p95'])}/"
            f"{fmt_ms(w5['ack_ms']['p99'])} ms",
            f"REST @500/s: ok {r5['acked_per_s']:.0f}/s, p50/p95/p99 "
            f"{fmt_ms(r5['api_ms']['p50'])}/{fmt_ms(r5['api_ms']['p95'])}/"
            f"{fmt_ms(r5['api_ms']['p99'])} ms",
            f"ws max (closed loop): {wm['acked_per_s']:.0f} acked/s, ack p50/p99 "
            f"{fmt_ms(wm['ack_ms']['p50'])}/{fmt_ms(wm['ack_ms']['p99'])} ms, "
            f"server cpu {wm['cpu'].get('server_cores', '-')} cores",
            f"lost {m['lost']}",
        ]
    if s == "idle-memory":
        c = m["connect"]
        return [f"{c['ready']} idle sockets (deflate offered, negotiated on "
                f"{c['deflate_negotiated']}): {m['kib_per_connection']} KiB per connection"]
    if s == "storm":
        rm = m["ready_ms"]
        return [
            f"{m['connect']['clients']} clients dropped at once: all back+ready in "
            f"{m['all_ready_s']} s (p50 {fmt_ms(rm['p50'])} ms, p99 {fmt_ms(rm['p99'])} ms), "
            f"not ready {m['not_ready']}",
            f"probe msgs lost {m['probe_lost']}, server errors {m['server_errors']}, "
            f"reconnect errors {sum(m['reconnect_errors'].values())}",
        ]
    if s == "cold-start":
        return [f"first ws ready {m['ws_ready_s']['median']} s, first post acked "
                f"{m['first_post_s']['median']} s (median of {len(m['runs'])}; max "
                f"{m['first_post_s']['max']} s), {m['processes']} process(es)"]
    return [json.dumps(m)[:100]]


def verdict(r: dict) -> str:
    t = r.get("targets") or []
    if not t:
        return "-"
    missed = [x["metric"] for x in t if x["met"] is False]
    unknown = [x["metric"] for x in t if x["met"] is None]
    if missed:
        return "MISSED: " + ", ".join(missed)
    if unknown:
        return "n/a: " + ", ".join(unknown)
    return "met"


def print_summary(results: list[dict]) -> None:
    print()
    print(f"{'scenario':<12} {'mode':<10} {'server':<8} result")
    print("-" * 100)
    for r in results:
        lines = headline(r)
        print(f"{r['scenario']:<12} {r['mode']:<10} {r['server']:<8} {lines[0]}")
        for line in lines[1:]:
            print(f"{'':<32} {line}")
        print(f"{'':<32} targets: {verdict(r)}")
        for n in r.get("notes") or []:
            print(f"{'':<32} note: {n}")
    print(flush=True)


PIVOT = [
    # (scenario, label, value path(s), target text, target metric or None)
    ("cold-start", "cold start: first post acked, s (median)", "first_post_s.median", "<= 2",
     "first_post_s.max"),
    ("big-room", "500 in one room, 50 msg/s: delivery p50 / p99 ms",
     "delivery_ms.p50|delivery_ms.p99", "p99 <= 100", "delivery_ms.p99"),
    ("big-room", "  acked msg/s / lost", "acked_per_s|lost", "50 / 0", "lost"),
    ("big-room-1k", "1,000 in one room, 5 msg/s: delivery p50 / p99 ms",
     "delivery_ms.p50|delivery_ms.p99", "p50 <= 25, p99 <= 100",
     "delivery_ms.p99,delivery_ms.p50"),
    ("many-rooms", "2,000 in 200 rooms, 440 msg/s offered: frames/s", "frames_per_s",
     ">= 20,000", "frames_per_s"),
    ("many-rooms", "  delivery p50 / p99 ms", "delivery_ms.p50|delivery_ms.p99", "p99 <= 250",
     "delivery_ms.p99"),
    ("many-rooms", "  acked msg/s / lost", "acked_per_s|lost", "400 / 0", "lost"),
    ("throughput", "max persisted msg/s (WS, acked after commit)", "ws_max.acked_per_s",
     ">= 1,500", "ws_max.acked_per_s"),
    ("throughput", "WS send offered 500/s: acked/s, ack p99 ms",
     "ws_500.acked_per_s|ws_500.ack_ms.p99", "p99 <= 50", "ws_500.ack_ms.p99"),
    ("throughput", "REST POST offered 500/s: ok/s, p99 ms",
     "rest_500.acked_per_s|rest_500.api_ms.p99", "p99 <= 50", "rest_500.api_ms.p99"),
    ("throughput", "  server CPU ms per message (WS max)", "ws_max.server_cpu_ms_per_msg", "",
     None),
    ("idle-memory", "KiB per idle connection (2,000, deflate offered)", "kib_per_connection",
     "<= 40", "kib_per_connection"),
    ("storm", "5,000 dropped at once: all back + resubscribed, s", "all_ready_s", "<= 10",
     "all_ready_s"),
    ("storm", "  probe messages lost / server errors", "probe_lost|server_errors", "0 / 0",
     "probe_lost"),
]


def _pick(metrics: dict, spec: str) -> list:
    """Values of full dotted paths separated by '|'."""
    return [get_path(metrics, path) for path in spec.split("|")]


def get_path(d, dotted: str):
    for part in dotted.split("."):
        if not isinstance(d, dict) or part not in d:
            return None
        d = d[part]
    return d


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.0f}" if v >= 100 else (f"{v:.1f}" if v >= 10 else f"{v:.2f}".rstrip("0")
                                             .rstrip("."))
    return f"{v:,}" if isinstance(v, int) else str(v)


def print_markdown(results: list[dict]) -> None:
    """One row per headline metric, one column per mode + server; misses in bold."""
    cols: list[tuple[str, str]] = []
    by: dict[tuple[str, str, str], dict] = {}
    for r in results:
        key = (r["mode"], r["server"])
        if key not in cols:
            cols.append(key)
        by[(r["mode"], r["server"], r["scenario"])] = r
    names = {"embedded": "embedded (SQLite, 1 proc)",
             "production": "production (PG+Redis, 2 procs)"}
    print("| metric | target | " + " | ".join(f"{names[m]} {s}" for m, s in cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for scenario, label, spec, target, tmetric in PIVOT:
        cells = []
        for mode, server in cols:
            r = by.get((mode, server, scenario))
            if r is None or "metrics" not in r:
                cells.append("" if r is None else "error")
                continue
            text = " / ".join(_fmt(v) for v in _pick(r["metrics"], spec))
            missed = any(t["met"] is False for t in r.get("targets") or []
                         if tmetric and t["metric"] in tmetric.split(","))
            cells.append(f"**{text}**" if missed else text)
        print(f"| {label} | {target} | " + " | ".join(cells) + " |")


def cmd_report(args) -> None:
    paths = [Path(p) for p in args.files] or sorted(RESULTS_DIR.glob("*.json"))
    results = []
    for path in paths:
        try:
            results.append(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            print(f"skipping {path}: {exc}", file=sys.stderr)
    # Only the load scenarios' files (bench/results also holds search and web runs).
    results = [r for r in results if {"mode", "server", "scenario"} <= r.keys()]
    order = {s: i for i, s in enumerate(ALL)}
    results.sort(key=lambda r: (r["mode"], r["server"], order.get(r["scenario"], 99)))
    if args.markdown:
        print_markdown(results)
    else:
        print_summary(results)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["write"]:
        from . import write

        return write.main(argv[1:])
    if argv[:1] == ["search"]:  # its own options: see bench/search.py
        from .search import main as search_main

        return search_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="run scenarios against fresh server processes")
    run.add_argument("--mode", choices=["embedded", "production"], default="embedded")
    run.add_argument("--server", choices=["uvicorn", "daphne"], default="uvicorn")
    run.add_argument("--scenario", default="all",
                     help=f"one of {', '.join(ALL)}, a comma-separated list, or all")
    run.add_argument("--clients", type=int, help="WebSocket clients (scenario default)")
    run.add_argument("--senders", type=int, help="clients that also send")
    run.add_argument("--rate", type=float,
                     help="msgs/s per sender (throughput: total msgs/s of the fixed phases)")
    run.add_argument("--duration", type=float, help="seconds of sending (idle-memory: idle time)")
    run.add_argument("--warmup", type=float, help="first seconds left out of latency stats")
    run.add_argument("--room-size", type=int, help="members per room (many rooms)")
    run.add_argument("--rooms-per-client", type=int, help="rooms each client is in")
    run.add_argument("--window", type=int, help="throughput max phase: sends in flight per sender")
    run.add_argument("--repeats", type=int, help="cold-start: how many starts")
    run.add_argument("--workers", type=int, default=2, help="client worker processes")
    run.add_argument("--compression", choices=["deflate", "none"], default="deflate",
                     help="offer permessage-deflate like browsers do (default) or not")
    run.add_argument("--env", action="append", metavar="NAME=VALUE",
                     help="extra server environment (e.g. CHAT_SOCKET_QUEUE=2000); recorded")
    run.add_argument("--quiet-timeout", type=float, default=300.0,
                     help="wait up to this long for other processes to leave the CPUs alone "
                          "before measuring (0: do not wait)")
    run.add_argument("--redis", default=None,
                     help="production: 'private' (default: a redis-server of our own, since "
                          "pub/sub channels are shared across db numbers) or a redis:// URL")
    run.add_argument("--profile", action="store_true",
                     help="sample the server processes with py-spy during measured windows "
                          "(py-spy on PATH or BENCH_PYSPY=/path/to/py-spy); adds CPU load")
    run.add_argument("--switch-interval", type=float,
                     help="experiment: start the servers with sys.setswitchinterval(S) "
                          "(CPython default 0.005); recorded in the result")
    run.add_argument("--tag", help="suffix for the result file name")
    run.add_argument("--note", help="free text stored in the result")
    run.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    rep = sub.add_parser("report", help="print the table of stored results")
    rep.add_argument("files", nargs="*")
    rep.add_argument("--markdown", action="store_true", help="a Markdown table")
    args = parser.parse_args(argv)
    if args.cmd == "report":
        cmd_report(args)
        return 0
    raise_nofile()
    from . import scenarios as scen

    scen.QUIET["timeout"] = args.quiet_timeout
    scen.PROFILE["on"] = args.profile
    if args.profile:
        from .profile import pyspy

        if pyspy() is None:
            parser.error("--profile needs py-spy: pip install py-spy, or set BENCH_PYSPY")
    if args.redis:
        from . import env

        env.REDIS = args.redis
    scenarios = ALL if args.scenario == "all" else args.scenario.split(",")
    for s in scenarios:
        if s not in PRESETS:
            parser.error(f"unknown scenario {s!r}; choose from {', '.join(ALL)}")
    t0 = time.time()
    results = [run_one(args, s) for s in scenarios]
    if len(results) > 1:
        log(f"all scenarios done in {(time.time() - t0) / 60:.1f} min")
        print_summary(results)
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
