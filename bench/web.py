"""Web client measurements: bundle size, first page load, a 10,000-message room.

    python -m bench.web [--messages 10000] [--scroll 3000] [--out bench/results/...json]
    make bench-web

Starts from a fresh SQLite data dir under data/bench-web/ (or --database-url for
PostgreSQL, a database this command may wipe), migrates, seeds one room with
--messages messages straight through the ORM (bulk insert: seconds, not 10k HTTP
calls), starts a real server process (`manage.py serve`, uvicorn) and drives
Debian's Chromium with Playwright:

- bundle: the built JavaScript and CSS of static/app, raw and gzipped (level 9);
- first load: a fresh browser context (cold cache) that is already signed in opens
  `/#/room/<id>`; from navigation start to the room list shown, to the app
  interactive (the composer accepts input) and to the room's newest message drawn;
- scroll: from the newest message upwards through --scroll messages (the list loads
  older pages as it goes), scrolling a fixed step every animation frame; every
  frame's duration (requestAnimationFrame deltas), long tasks (> 50 ms), and the
  DOM size (all elements, message rows) sampled while scrolling.

The measuring functions (`seed_big_room`, `measure_first_load`, `measure_scroll`,
`bundle_sizes`) are shared with tests/browser/test_perf.py, which asserts generous
thresholds on the same numbers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .util import steal_jiffies, steal_share

ROOT = Path(__file__).resolve().parent.parent
APP_DIR = ROOT / "static" / "app"
RESULTS = ROOT / "bench" / "results"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "bench web password"

# Bodies like a team's chat: short lines, a few long ones, code, links, lists.
_BODIES = [
    "deploy of api-{n} finished, all green",
    "can someone look at the 502s on edge-{n}? started a few minutes ago",
    "ok",
    "thanks!",
    "I think it's the connection pool again; we saw the same thing last week when the "
    "batch job ran during peak hours and every worker held on to its connections for far "
    "longer than it needed. Raising the pool size only moved the problem.",
    "```\n$ kubectl -n prod get pods | grep api-{n}\napi-{n}-7f9c   1/1   Running   0   3h\n```",
    "see https://example.com/runbooks/{n} for the steps",
    "- check the dashboards\n- drain node {n}\n- restart the agent",
    "**heads up**: maintenance window tonight at 22:00 UTC (ticket OPS-{n})",
    "`ERR_CONN_RESET` from 10.2.3.{m} again",
    "merged #{n}, rolling out now",
    "> the cache hit rate dropped to 40%\nthat matches the eviction spike",
]


def seed_big_room(messages: int = 10_000, *, reader: str = "reader",
                  password: str = PASSWORD, room_name: str = "big-room") -> dict[str, Any]:
    """One public room holding `messages` top-level messages by five authors over
    the last 30 days, and a reader who has read them all. Runs inside Django
    (the environment chooses the database). Rows are bulk-inserted: the room's
    last_seq and everyone's read position are set to match, so the client sees
    a quiet, fully read room (no event log is needed to replay anything)."""
    from django.db import transaction
    from django.utils import timezone

    from chatserver.accounts.models import User
    from chatserver.chat import actions, markdown
    from chatserver.chat.models import Membership, Message, Room

    t0 = time.monotonic()
    me = User(username=reader, display_name=reader.title())
    me.set_password(password)
    me.save()
    authors = [me] + [User.objects.create(username=f"{reader}-peer{i}", display_name=f"Peer {i}",
                                          password="!") for i in range(4)]
    room = actions.create_room(actor=me, name=room_name, topic="10,000 messages")
    actions.invite(actor=me, room_id=room.id, user_ids=[u.id for u in authors[1:]])
    base_seq = Room.objects.get(id=room.id).last_seq
    start = timezone.now() - dt.timedelta(days=30)
    step = dt.timedelta(days=30) / max(messages, 1)
    rendered: dict[str, str] = {}
    rows = []
    for i in range(messages):
        body = _BODIES[(i * 7) % len(_BODIES)].format(n=i, m=i % 250)
        html = rendered.get(body) or markdown.render(body, set())
        rendered[body] = html
        # Runs of 1-3 messages by the same author, as people write.
        author = authors[(i // (1 + i % 3)) % len(authors)]
        rows.append(Message(room_id=room.id, seq=base_seq + i + 1, author=author, body=body,
                            html=html, created_at=start + step * i))
    with transaction.atomic():
        Message.objects.bulk_create(rows, batch_size=1000)
        last = base_seq + messages
        Room.objects.filter(id=room.id).update(last_seq=last)
        Membership.objects.filter(room_id=room.id).update(last_read_seq=last)
    newest = (Message.objects.filter(room_id=room.id).order_by("-seq")
              .values_list("id", flat=True)[0])
    return {"room_id": room.id, "reader": reader, "password": password, "messages": messages,
            "newest_id": newest, "seconds": round(time.monotonic() - t0, 2)}


def bundle_sizes(app_dir: Path = APP_DIR) -> dict[str, Any]:
    """Raw and gzipped (level 9) bytes of the built client's JS and CSS."""
    out: dict[str, Any] = {"js": [], "css": []}
    for path in sorted((app_dir / "assets").glob("*")):
        kind = path.suffix.lstrip(".")
        if kind not in out:
            continue
        data = path.read_bytes()
        out[kind].append({"file": path.name, "bytes": len(data),
                          "gzip_bytes": len(gzip.compress(data, compresslevel=9))})
    for kind in ("js", "css"):
        out[f"{kind}_bytes"] = sum(f["bytes"] for f in out[kind])
        out[f"{kind}_gzip_bytes"] = sum(f["gzip_bytes"] for f in out[kind])
    return out


# Installed before the app's own scripts: notes when the room list, the composer and
# a given message row first appear, and collects long tasks.
_MARKS_SCRIPT = """
(() => {
  const marks = (window.__marks = {});
  window.__longTasks = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push(Math.round(e.duration));
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) {}
  const want = {
    roomList: '[data-testid="room-list"] [data-testid^="room-item-"]',
    interactive: '[data-testid="composer-input"]:not([disabled])',
    listReady: '[data-testid="message-list"][data-state="ready"]',
  };
  const check = () => {
    for (const [name, sel] of Object.entries(want)) {
      if (!(name in marks) && document.querySelector(sel)) marks[name] = performance.now();
    }
    const newest = window.__newestSelector;
    if (newest && !('newestMessage' in marks) && document.querySelector(newest)) {
      marks.newestMessage = performance.now();
    }
  };
  new MutationObserver(check).observe(document,
    { childList: true, subtree: true, attributes: true });
})();
"""


def login_cookies(base_url: str, username: str, password: str) -> list[dict[str, Any]]:
    """Sign in over HTTP and return the cookies for a browser context."""
    import httpx

    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
        r.raise_for_status()
        return [{"name": c.name, "value": c.value or "", "url": base_url}
                for c in client.cookies.jar]


def measure_first_load(browser, base_url: str, seed: dict[str, Any],
                       viewport: dict[str, int] | None = None,
                       on_page: Callable[[Any], None] | None = None) -> dict[str, Any]:
    """A cold, signed-in page load of the big room. Returns milliseconds from
    navigation start, and leaves the page open for measure_scroll (the caller
    closes `result["page"]`'s context). `on_page` sees the page before it loads
    (tests watch its console)."""
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 800})
    context.add_cookies(login_cookies(base_url, seed["reader"], seed["password"]))
    context.add_init_script(
        f"window.__newestSelector = 'article[data-message-id=\"{seed['newest_id']}\"]';"
        + _MARKS_SCRIPT)
    page = context.new_page()
    if on_page is not None:
        on_page(page)
    page.goto(f"{base_url}/#/room/{seed['room_id']}")
    page.wait_for_function(
        "() => ['roomList','interactive','newestMessage'].every(k => k in window.__marks)",
        timeout=30_000)
    nav = page.evaluate("""() => {
      const n = performance.getEntriesByType('navigation')[0];
      const fcp = performance.getEntriesByName('first-contentful-paint')[0];
      return {
        marks: window.__marks,
        dom_content_loaded_ms: n ? n.domContentLoadedEventEnd : null,
        load_event_ms: n ? n.loadEventEnd : null,
        first_contentful_paint_ms: fcp ? fcp.startTime : null,
        transfer_bytes: performance.getEntriesByType('resource')
          .filter(r => r.initiatorType === 'script' || r.initiatorType === 'link')
          .reduce((s, r) => s + (r.transferSize || 0), 0),
        long_tasks_ms: window.__longTasks.slice(),
        // The waterfall: what was fetched when, from navigation start.
        requests: performance.getEntriesByType('resource').map(r => [
          r.name.replace(location.origin, ''), Math.round(r.startTime),
          Math.round(r.responseEnd)]),
      };
    }""")
    marks = nav.pop("marks")
    return {
        "page": page,
        "room_list_ms": round(marks["roomList"], 1),
        "interactive_ms": round(marks["interactive"], 1),
        "newest_message_ms": round(marks["newestMessage"], 1),
        **{k: (round(v, 1) if isinstance(v, float) else v) for k, v in nav.items()},
    }


# Scrolls the message list up by `step` px every animation frame until `target`
# messages below the newest were brought into view (ids are consecutive in the
# seeded room) or `maxMs` passed. Records each frame's duration and the DOM size.
_SCROLL_SCRIPT = """
async ({ step, target, maxMs, newestId }) => {
  const scroller = document.querySelector('[data-testid="message-list"] [data-virtuoso-scroller]');
  if (!scroller) throw new Error('no message list scroller');
  window.__longTasks.length = 0;
  const frames = [];
  let maxNodes = 0, maxRows = 0, minId = newestId, samples = 0;
  const t0 = performance.now();
  let last = t0;
  await new Promise((resolve) => {
    const tick = (now) => {
      frames.push(now - last);
      last = now;
      if (frames.length % 5 === 0) {
        const rows = scroller.querySelectorAll('article[data-message-id]');
        maxRows = Math.max(maxRows, rows.length);
        maxNodes = Math.max(maxNodes, document.getElementsByTagName('*').length);
        samples += 1;
        for (const r of rows) minId = Math.min(minId, Number(r.getAttribute('data-message-id')));
      }
      if (newestId - minId >= target || now - t0 > maxMs) { resolve(); return; }
      scroller.scrollTop = Math.max(0, scroller.scrollTop - step);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame((now) => { last = now; requestAnimationFrame(tick); });
  });
  return {
    frames, maxNodes, maxRows, samples,
    scrolled: newestId - minId,
    elapsed: performance.now() - t0,
    longTasks: window.__longTasks.slice(),
    nodesAfter: document.getElementsByTagName('*').length,
  };
}
"""


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def measure_scroll(page, seed: dict[str, Any], *, target: int = 3000, step: int = 300,
                   max_ms: int = 120_000) -> dict[str, Any]:
    """Scroll the open big room up through `target` messages; frame and DOM numbers."""
    nodes_before = page.evaluate("() => document.getElementsByTagName('*').length")
    raw = page.evaluate(_SCROLL_SCRIPT, {"step": step, "target": target, "maxMs": max_ms,
                                         "newestId": seed["newest_id"]})
    frames = raw["frames"][1:]  # the first delta spans the evaluate call itself
    return {
        "target_messages": target,
        "scrolled_messages": raw["scrolled"],
        "step_px_per_frame": step,
        "seconds": round(raw["elapsed"] / 1000, 2),
        "frames": len(frames),
        "frame_ms_p50": round(_percentile(frames, 50), 1),
        "frame_ms_p95": round(_percentile(frames, 95), 1),
        "frame_ms_p99": round(_percentile(frames, 99), 1),
        "frame_ms_max": round(max(frames, default=0.0), 1),
        "frames_over_50ms": sum(1 for f in frames if f > 50),
        "frames_over_200ms": sum(1 for f in frames if f > 200),
        "long_tasks": len(raw["longTasks"]),
        "long_task_ms_max": max(raw["longTasks"], default=0),
        "dom_nodes_before": nodes_before,
        "dom_nodes_max": raw["maxNodes"],
        "dom_nodes_after": raw["nodesAfter"],
        "message_rows_max": raw["maxRows"],
    }


# --- the command ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early (code {proc.returncode})")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start in {timeout:.0f}s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--scroll", type=int, default=3000, help="messages to scroll up through")
    ap.add_argument("--database-url", default="",
                    help="PostgreSQL URL of a database to wipe and use (default: fresh SQLite)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    if not (APP_DIR / "index.html").exists():
        raise SystemExit("static/app is missing: build the client (cd frontend && npm run build)")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing (apt-get install chromium)")

    load_before = os.getloadavg()[0]
    steal_before = steal_jiffies()
    work = ROOT / "data" / "bench-web"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "CHAT_DATA_DIR")}
    env["CHAT_DATA_DIR"] = str(work)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    os.environ.clear()
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatserver.settings")

    import logging

    import django
    from django.core.management import call_command

    logging.getLogger("httpx").setLevel(logging.WARNING)

    django.setup()
    call_command("migrate", verbosity=0)
    if args.database_url:
        call_command("flush", interactive=False, verbosity=0)
    print(f"seeding {args.messages} messages ...", flush=True)
    seed = seed_big_room(args.messages)
    print(f"  seeded in {seed['seconds']} s", flush=True)
    from django.db import connections

    connections.close_all()

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = work / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "serve", "--port",
                                 str(port)], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    try:
        _wait_healthy(url, proc)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                # The first of three loads warms the server (Python imports, DB
                # connections); the reported first load is the median of the other two.
                loads = []
                for _ in range(3):
                    load = measure_first_load(browser, url, seed)
                    page = load.pop("page")
                    loads.append(load)
                    if len(loads) < 3:
                        page.context.close()
                scroll = measure_scroll(page, seed, target=args.scroll)
                page.context.close()
                phone = measure_first_load(browser, url, seed,
                                           viewport={"width": 390, "height": 844})
                phone.pop("page").context.close()
            finally:
                browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()

    measured = sorted(loads[1:], key=lambda x: x["newest_message_ms"])
    result = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        # A busy machine (other work on the same cores) shows in the frame times.
        "loadavg_1m_before_after": [load_before, os.getloadavg()[0]],
        # A virtual machine's host taking CPU time shows here, not in the load.
        "cpu_steal_share": steal_share(steal_before),
        "cpus": os.cpu_count(),
        "database": "postgresql" if args.database_url else "sqlite",
        "seed": {k: seed[k] for k in ("messages", "seconds")},
        "bundle": bundle_sizes(),
        "first_load": measured[0],
        "first_load_runs": loads,
        "first_load_phone": phone,
        "scroll": scroll,
    }
    out = args.out or RESULTS / f"{dt.datetime.now(dt.UTC).date().isoformat()}-web.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    b, fl, sc = result["bundle"], result["first_load"], scroll
    print(f"bundle: JS {b['js_bytes'] / 1024:.1f} KB, gzipped {b['js_gzip_bytes'] / 1024:.1f} KB; "
          f"CSS gzipped {b['css_gzip_bytes'] / 1024:.1f} KB")
    print(f"first load: room list {fl['room_list_ms']} ms, interactive {fl['interactive_ms']} ms, "
          f"newest message of the {seed['messages']}-message room {fl['newest_message_ms']} ms")
    print(f"scroll: {sc['scrolled_messages']} messages in {sc['seconds']} s, frames p50 "
          f"{sc['frame_ms_p50']} / p95 {sc['frame_ms_p95']} / max {sc['frame_ms_max']} ms, "
          f"{sc['frames_over_50ms']} over 50 ms, DOM max {sc['dom_nodes_max']} elements "
          f"({sc['message_rows_max']} message rows)")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
