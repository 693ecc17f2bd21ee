"""A client worker process: one asyncio loop driving many WebSocket clients.

The parent sends commands over a Pipe ({"op": ..., "args": {...}}) and gets one
reply per command. Live counters for progress go to a shared array.

Every bench message body is "bench <send time_ns> <sender> <n> <phase>"
(phase w = warm-up, m = measured, p = probe), so each receiver computes its
delivery latency against the same clock (one machine). A listener tracks,
per room, the last seq it has and counts gaps, duplicates and bench messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import threading
import time
import traceback
from array import array
from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from .util import raise_nofile

# Counter slots per worker in the shared array.
CONNECTED, READY, SENT, ACKED, RECV, ERRORS, CLOSES, RECONNECTS = range(8)
NCOUNTERS = 8

NEW_RE = re.compile(r'\{"type":"message\.new","room":(\d+),"seq":(\d+),')
BODY_RE = re.compile(r'"body":"bench (\d+) (\d+) (\d+) ([wmp])')
ROOM_SEQ_RE = re.compile(r'"room":(\d+),"seq":(\d+)')



class RawHttp:
    """A minimal HTTP/1.1 keep-alive client for the REST phase.

    httpx cost the load generator ~10 ms of CPU per request on this machine, so at
    500 posts/s the client workers saturated both cores and the phase measured
    them, not the server (client loop lag p99 0.57 s). This writes one request
    and reads one response (Content-Length or chunked) per connection at a time.
    """

    def __init__(self, base: str):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post_json(self, path: str, body: bytes, token: str) -> tuple[int, bytes]:
        if self.idle:
            try:
                return await self._post(self.idle.pop(), path, body, token)
            except (asyncio.IncompleteReadError, ConnectionError):
                # The server closed an idle keep-alive connection (uvicorn: after 5 s);
                # send again on a new one (the client_msg_id makes that safe).
                pass
        conn = await asyncio.open_connection(self.host, self.port)
        return await self._post(conn, path, body, token)

    async def _post(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], path: str,
                    body: bytes, token: str) -> tuple[int, bytes]:
        reader, writer = conn
        try:
            writer.write(
                b"POST %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n"
                b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                % (path.encode(), self.host.encode(), self.port, token.encode(), len(body),
                   body))
            head = await reader.readuntil(b"\r\n\r\n")
            code = int(head[9:12])
            headers = {}
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip().lower()
            if b"content-length" in headers:
                data = await reader.readexactly(int(headers[b"content-length"]))
            elif headers.get(b"transfer-encoding") == b"chunked":
                chunks = []
                while True:
                    size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                    chunk = await reader.readexactly(size + 2)
                    if not size:
                        break
                    chunks.append(chunk[:-2])
                data = b"".join(chunks)
            else:
                data = await reader.read()
                headers[b"connection"] = b"close"
        except BaseException:
            writer.close()
            raise
        if headers.get(b"connection") == b"close":
            writer.close()
        else:
            self.idle.append(conn)
        return code, data

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()

class Client:
    __slots__ = ("idx", "uid", "token", "url", "http", "rooms", "user_seq", "send_rooms", "ws",
                 "ready", "reader", "counts", "gaps", "dupes", "pending", "deflate", "expect_close",
                 "ready_at", "closes", "resyncs")

    def __init__(self, spec: dict):
        self.idx: int = spec["idx"]
        self.uid: int = spec["uid"]
        self.token: str = spec["token"]
        self.url: str = spec["url"]
        self.http: str = spec["http"]
        self.rooms: dict[int, int] = {int(k): v for k, v in spec["rooms"].items()}
        self.user_seq: int = spec["user_seq"]
        self.send_rooms: list[int] = spec.get("send_rooms") or []
        self.ws: Any = None
        self.ready: asyncio.Future | None = None
        self.reader: asyncio.Task | None = None
        self.counts: dict[int, int] = defaultdict(int)  # bench messages received per room
        self.gaps = 0
        self.dupes = 0
        self.pending: dict[str, tuple[int, Any]] = {}  # client_msg_id -> (send ns, future|None)
        self.deflate = False
        self.expect_close = False
        self.ready_at = 0
        self.closes: dict[int, int] = defaultdict(int)
        self.resyncs = 0


class Worker:
    def __init__(self, wid: int, pipe, specs: list[dict], counters, opts: dict):
        self.wid = wid
        self.pipe = pipe
        self.clients = [Client(s) for s in specs]
        self.counters = counters
        self.base = wid * NCOUNTERS
        self.opts = opts
        self.compression = opts.get("compression") or None
        self.lat = array("q")  # delivery latency of measured messages, µs
        self.ack_lat = array("q")  # send -> ack, µs (measured phase)
        self.rest_lat = array("q")  # REST POST round trip, µs (measured phase)
        self.recv_per_sec: dict[int, int] = defaultdict(int)  # unix second -> frames
        self.ack_per_sec: dict[int, int] = defaultdict(int)
        self.acked_rooms: dict[int, int] = defaultdict(int)  # room -> acked bench sends
        self.acked_max_seq: dict[int, int] = {}
        self.send_errors: dict[str, int] = defaultdict(int)
        self.connect_errors: dict[str, int] = defaultdict(int)
        self.other_frames: dict[str, int] = defaultdict(int)
        self.stopping = False
        self.lags = array("q")
        self.reconnecting: set[asyncio.Task] = set()
        self.sem: asyncio.Semaphore | None = None

    def bump(self, slot: int, n: int = 1) -> None:
        self.counters[self.base + slot] += n

    # --- command loop ---------------------------------------------------------------

    async def main(self) -> None:
        loop = asyncio.get_running_loop()
        self.sem = asyncio.Semaphore(int(self.opts.get("handshake_concurrency", 200)))
        inbox: asyncio.Queue = asyncio.Queue()

        def read_pipe() -> None:  # a thread, so the pipe's fd stays blocking for big replies
            while True:
                try:
                    cmd = self.pipe.recv()
                except (EOFError, OSError):
                    cmd = {"op": "exit"}
                loop.call_soon_threadsafe(inbox.put_nowait, cmd)
                if cmd["op"] == "exit":
                    return

        threading.Thread(target=read_pipe, daemon=True).start()
        lag_task = asyncio.ensure_future(self._lag_monitor())
        while True:
            cmd = await inbox.get()
            op = cmd["op"]
            if op == "exit":
                break
            try:
                result = await getattr(self, f"op_{op}")(**cmd.get("args", {}))
            except Exception as exc:  # report, do not die: the parent decides
                result = {"error": repr(exc), "traceback": traceback.format_exc()}
            self.pipe.send(result)
        lag_task.cancel()
        self.stopping = True
        await self._close_all()
        self.pipe.send({"ok": True})

    async def _lag_monitor(self) -> None:
        """Event-loop lag of this worker: how late a 50 ms sleep wakes up (µs)."""
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.05)
            self.lags.append(int((time.perf_counter() - t - 0.05) * 1e6))

    # --- connections ----------------------------------------------------------------

    async def _open(self, c: Client, attempts: int = 50) -> bool:
        """Connect, resume from the seqs we have, wait for ready. Retries with backoff."""
        delay = 0.05
        for _ in range(attempts):
            if self.stopping:
                return False
            try:
                assert self.sem is not None
                async with self.sem:
                    ws = await connect(
                        c.url,
                        additional_headers={"Authorization": f"Bearer {c.token}"},
                        compression=self.compression,
                        proxy=None,
                        open_timeout=30,
                        ping_interval=None,
                        close_timeout=2,
                        max_queue=1024,
                        max_size=4 * 1024 * 1024,
                    )
                    ext = ws.response.headers.get("Sec-WebSocket-Extensions") or ""
                    c.deflate = "permessage-deflate" in ext
                    c.ws = ws
                    c.expect_close = False
                    loop = asyncio.get_running_loop()
                    c.ready = ready = loop.create_future()
                    c.reader = asyncio.ensure_future(self._read(c, ws, ready))
                    self.bump(CONNECTED)
                    await ws.send(json.dumps({
                        "type": "resume",
                        "rooms": {str(r): s for r, s in c.rooms.items()},
                        "user_seq": c.user_seq,
                    }))
                    await asyncio.wait_for(asyncio.shield(ready), 30)
                c.ready_at = time.time_ns()
                self.bump(READY)
                return True
            except Exception as exc:  # noqa: BLE001 - any failure: count, back off, retry
                self.connect_errors[type(exc).__name__] += 1
                self.bump(ERRORS)
                if c.ws is not None:
                    c.expect_close = True
                    with contextlib.suppress(Exception):
                        c.ws.transport.abort()
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(2.0, delay * 2)
        return False

    async def _read(self, c: Client, ws, ready: asyncio.Future) -> None:
        try:
            async for raw in ws:
                self._on_frame(c, raw)
        except ConnectionClosed:
            pass
        except Exception:  # noqa: BLE001
            self.other_frames["reader_crash"] += 1
            traceback.print_exc()
        self.bump(CONNECTED, -1)
        if ready.done() and not ready.exception():
            self.bump(READY, -1)
        else:
            # Closed while opening: _open sees this and retries.
            if not ready.done():
                ready.set_exception(ConnectionError(f"closed {ws.close_code}"))
                ready.exception()  # _open may have given up already: nobody else reads it
            return
        if ws is not c.ws or c.expect_close or self.stopping:
            return
        # Unexpected close (4408 fell behind, 1012 restart, ...): come back and resume.
        code = ws.close_code if ws.close_code is not None else 1006
        c.closes[code] += 1
        self.bump(CLOSES)
        for _ts, fut in c.pending.values():
            if fut is not None and not fut.done():
                fut.set_exception(ConnectionError(f"closed {code}"))
        task = asyncio.ensure_future(self._reconnect(c))
        self.reconnecting.add(task)
        task.add_done_callback(self.reconnecting.discard)

    async def _reconnect(self, c: Client) -> None:
        self.bump(RECONNECTS)
        await asyncio.sleep(random.random() * 0.2)
        await self._open(c)

    def _on_frame(self, c: Client, raw) -> None:
        if isinstance(raw, bytes):
            raw = raw.decode()
        m = NEW_RE.match(raw)
        if m is not None:
            now = time.time_ns()
            room = int(m[1])
            seq = int(m[2])
            have = c.rooms.get(room, 0)
            if seq <= have:
                c.dupes += 1
                return
            if seq != have + 1:
                c.gaps += 1
            c.rooms[room] = seq
            b = BODY_RE.search(raw, m.end())
            if b is not None:
                c.counts[room] += 1
                self.bump(RECV)
                self.recv_per_sec[now // 1_000_000_000] += 1
                if b[4] == "m":
                    self.lat.append((now - int(b[1])) // 1000)
            return
        data = json.loads(raw)
        kind = data.get("type")
        if kind == "ack":
            self._on_ack(c, data)
        elif kind == "ready":
            if c.ready is not None and not c.ready.done():
                c.ready.set_result(True)
        elif kind == "error":
            ref = data.get("ref")
            code = data.get("code", "?")
            self.send_errors[code] += 1
            self.bump(ERRORS)
            entry = c.pending.pop(ref, None) if isinstance(ref, str) else None
            if entry is not None and entry[1] is not None and not entry[1].done():
                entry[1].set_result(False)
        elif kind == "resync_required":
            c.resyncs += 1
            c.rooms[int(data["room"])] = int(data.get("last_seq") or 0)
        else:
            room, seq = data.get("room"), data.get("seq")
            if isinstance(room, int) and isinstance(seq, int):
                have = c.rooms.get(room, 0)
                if seq <= have:
                    c.dupes += 1
                else:
                    if seq != have + 1:
                        c.gaps += 1
                    c.rooms[room] = seq
            self.other_frames[str(kind)] += 1
            if "user_seq" in data and isinstance(data["user_seq"], int):
                c.user_seq = max(c.user_seq, data["user_seq"])

    def _on_ack(self, c: Client, data: dict) -> None:
        now = time.time_ns()
        cmid = data.get("client_msg_id")
        entry = c.pending.pop(cmid, None)
        msg = data.get("message") or {}
        room, seq = msg.get("room"), msg.get("seq")
        if isinstance(room, int) and isinstance(seq, int):
            self.acked_rooms[room] += 1
            if seq > self.acked_max_seq.get(room, 0):
                self.acked_max_seq[room] = seq
        self.bump(ACKED)
        self.ack_per_sec[now // 1_000_000_000] += 1
        if entry is not None:
            sent_ns, fut = entry
            body = msg.get("body") or ""
            if body.endswith(" m"):
                self.ack_lat.append((now - sent_ns) // 1000)
            if fut is not None and not fut.done():
                fut.set_result(True)

    async def _close_all(self) -> None:
        for t in list(self.reconnecting):
            t.cancel()
        for c in self.clients:
            c.expect_close = True
            if c.ws is not None:
                with contextlib.suppress(Exception):
                    c.ws.transport.abort()

    # --- ops ---------------------------------------------------------------------------

    async def op_connect(self) -> dict:
        t0 = time.time_ns()
        ok = await asyncio.gather(*(self._open(c) for c in self.clients))
        times = sorted((c.ready_at - t0) // 1000 for c in self.clients if c.ready_at)
        return {
            "ready": sum(ok),
            "failed": len(ok) - sum(ok),
            "deflate_negotiated": sum(1 for c in self.clients if c.deflate),
            "connect_errors": dict(self.connect_errors),
            "elapsed_us": times[-1] if times else None,
        }

    async def _send_one(self, c: Client, room: int, n: int, phase: str, want_future: bool):
        ts = time.time_ns()
        cmid = f"b{c.idx}-{n}-{phase}"
        fut = asyncio.get_running_loop().create_future() if want_future else None
        c.pending[cmid] = (ts, fut)
        body = f"bench {ts} {c.idx} {n} {phase}"
        frame = f'{{"type":"message.send","room":{room},"body":"{body}","client_msg_id":"{cmid}"}}'
        try:
            await c.ws.send(frame)
        except Exception:  # noqa: BLE001 - closed under us; the reconnect path handles it
            c.pending.pop(cmid, None)
            self.send_errors["send_failed_closed"] += 1
            self.bump(ERRORS)
            return None
        self.bump(SENT)
        return fut

    async def _open_loop_sender(self, c: Client, rate: float, t0: float, t_warm: float,
                                t_end: float, seq0: int) -> int:
        interval = 1.0 / rate
        next_t = t0 + random.random() * interval
        n = 0
        rooms = c.send_rooms
        while next_t < t_end and not self.stopping:
            delay = next_t - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            phase = "w" if next_t < t_warm else "m"
            await self._send_one(c, rooms[n % len(rooms)], seq0 + n, phase, False)
            n += 1
            next_t += interval
        return n

    async def _closed_loop_sender(self, c: Client, window: int, t0: float, t_warm: float,
                                  t_end: float, seq0: int) -> int:
        await asyncio.sleep(max(0.0, t0 - time.time()) + random.random() * 0.05)
        counter = [0]

        async def lane() -> None:
            while time.time() < t_end and not self.stopping:
                n = seq0 + counter[0]
                counter[0] += 1
                phase = "w" if time.time() < t_warm else "m"
                fut = await self._send_one(c, c.send_rooms[n % len(c.send_rooms)], n, phase,
                                           True)
                if fut is None:
                    await asyncio.sleep(0.1)
                    continue
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(fut, 30)

        await asyncio.gather(*(lane() for _ in range(window)))
        return counter[0]

    async def op_send(self, mode: str, t0: float, warmup: float, duration: float,
                      rate: float = 1.0, window: int = 1, seq0: int = 0,
                      ack_wait: float = 15.0) -> dict:
        """Senders send for `duration` seconds from unix time t0; wait for their acks."""
        t_warm, t_end = t0 + warmup, t0 + duration
        senders = [c for c in self.clients if c.send_rooms]
        if mode == "open":
            coros = [self._open_loop_sender(c, rate, t0, t_warm, t_end, seq0) for c in senders]
        else:
            coros = [self._closed_loop_sender(c, window, t0, t_warm, t_end, seq0)
                     for c in senders]
        sent = await asyncio.gather(*coros)
        deadline = time.time() + ack_wait
        while time.time() < deadline and any(c.pending for c in senders):
            await asyncio.sleep(0.05)
        unacked = sum(len(c.pending) for c in senders)
        for c in senders:
            c.pending.clear()
        await asyncio.sleep(max(0.0, t_end - time.time()))
        return {"sent": sum(sent), "unacked": unacked}

    async def op_rest(self, t0: float, warmup: float, duration: float, rate: float,
                      seq0: int = 0, max_inflight: int = 200, grace: float = 10.0) -> dict:
        """Senders POST to /api/v1/rooms/{id}/messages at `rate` each (open loop).

        At most `max_inflight` requests per worker: a send due while that many are
        waiting is skipped and counted (`skipped_backlog`), so a server slower than the
        offered rate does not pile up thousands of requests. Requests still open
        `grace` s after the end are cancelled and counted (`cancelled_at_end`).
        """
        t_warm, t_end = t0 + warmup, t0 + duration
        senders = [c for c in self.clients if c.send_rooms]
        # One small keep-alive pool per sender (see RawHttp: httpx was the bottleneck).
        pools = {c.idx: RawHttp(c.http) for c in senders}
        status: dict[str, int] = defaultdict(int)
        inflight: set[asyncio.Task] = set()

        async def post(c: Client, room: int, n: int, phase: str) -> None:
            ts = time.time_ns()
            body = f"bench {ts} {c.idx} {n} {phase}"
            try:
                code, data = await pools[c.idx].post_json(
                    f"/api/v1/rooms/{room}/messages",
                    json.dumps({"body": body, "client_msg_id": f"r{c.idx}-{n}"}).encode(),
                    c.token)
            except Exception as exc:  # noqa: BLE001
                status[type(exc).__name__] += 1
                self.bump(ERRORS)
                return
            now = time.time_ns()
            status[str(code)] += 1
            if code in (200, 201):
                msg = json.loads(data)
                self.acked_rooms[msg["room"]] += 1
                self.acked_max_seq[msg["room"]] = max(self.acked_max_seq.get(msg["room"], 0),
                                                      msg["seq"])
                self.bump(ACKED)
                self.ack_per_sec[now // 1_000_000_000] += 1
                if phase == "m":
                    self.rest_lat.append((now - ts) // 1000)
            else:
                self.bump(ERRORS)

        async def sender(c: Client) -> int:
            interval = 1.0 / rate
            next_t = t0 + random.random() * interval
            n = 0
            while next_t < t_end:
                delay = next_t - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                phase = "w" if next_t < t_warm else "m"
                n += 1
                next_t += interval
                if len(inflight) >= max_inflight:
                    status["skipped_backlog"] += 1
                    continue
                task = asyncio.ensure_future(
                    post(c, c.send_rooms[n % len(c.send_rooms)], seq0 + n, phase))
                inflight.add(task)
                task.add_done_callback(inflight.discard)
                self.bump(SENT)
            return n

        sent = await asyncio.gather(*(sender(c) for c in senders))
        if inflight:
            await asyncio.wait(set(inflight), timeout=grace)
        if inflight:
            status["cancelled_at_end"] += len(inflight)
            for task in list(inflight):
                task.cancel()
            await asyncio.wait(set(inflight), timeout=5)
        for pool in pools.values():
            pool.close()
        return {"sent": sum(sent) - status["skipped_backlog"], "status": dict(status)}

    async def op_probe(self, posts: dict) -> dict:
        """Post one probe message per room: posts = {room_id: client_idx}."""
        by_idx = {c.idx: c for c in self.clients}
        futs = []
        for room, idx in posts.items():
            c = by_idx[int(idx)]
            fut = await self._send_one(c, int(room), 10_000_000 + int(room), "p", True)
            if fut is not None:
                futs.append(fut)
        done = 0
        for fut in futs:
            with contextlib.suppress(Exception):
                if await asyncio.wait_for(fut, 30):
                    done += 1
        return {"posted": len(posts), "acked": done}

    async def op_drain(self, expected: dict, timeout: float) -> dict:
        """Wait until every client has every expected bench message of its rooms."""
        exp = {int(k): v for k, v in expected.items()}
        deadline = time.time() + timeout
        t0 = time.time()

        def missing() -> int:
            total = 0
            for c in self.clients:
                for room in c.rooms:
                    want = exp.get(room, 0)
                    have = c.counts.get(room, 0)
                    if have < want:
                        total += want - have
            return total

        miss = missing()
        while miss and time.time() < deadline:
            await asyncio.sleep(0.1)
            miss = missing()
        return {"missing": miss, "waited": round(time.time() - t0, 2)}

    async def op_collect(self, expected: dict, last_seqs: dict) -> dict:
        exp = {int(k): v for k, v in expected.items()}
        last = {int(k): v for k, v in last_seqs.items()}
        lost = extra = behind = 0
        expected_total = received_total = 0
        for c in self.clients:
            for room in c.rooms:
                want = exp.get(room, 0)
                have = c.counts.get(room, 0)
                expected_total += want
                received_total += have
                if have < want:
                    lost += want - have
                elif have > want:
                    extra += have - want
                if c.rooms[room] < last.get(room, 0):
                    behind += 1
        closes: dict[int, int] = defaultdict(int)
        for c in self.clients:
            for code, n in c.closes.items():
                closes[code] += n
        return {
            "lat": self.lat.tobytes(),
            "ack_lat": self.ack_lat.tobytes(),
            "rest_lat": self.rest_lat.tobytes(),
            "lags": self.lags.tobytes(),
            "recv_per_sec": dict(self.recv_per_sec),
            "ack_per_sec": dict(self.ack_per_sec),
            "expected": expected_total,
            "received": received_total,
            "lost": lost,
            "extra": extra,
            "behind_room_subscriptions": behind,
            "gaps": sum(c.gaps for c in self.clients),
            "dupes": sum(c.dupes for c in self.clients),
            "resyncs": sum(c.resyncs for c in self.clients),
            "closes": dict(closes),
            "send_errors": dict(self.send_errors),
            "connect_errors": dict(self.connect_errors),
            "other_frames": dict(self.other_frames),
        }

    async def op_acked(self) -> dict:
        """Acked sends per room so far (and the highest acked seq per room)."""
        return {"rooms": dict(self.acked_rooms), "max_seq": dict(self.acked_max_seq)}

    async def op_reset_stats(self) -> dict:
        self.lat = array("q")
        self.ack_lat = array("q")
        self.rest_lat = array("q")
        self.lags = array("q")
        self.recv_per_sec.clear()
        self.ack_per_sec.clear()
        return {"ok": True}

    async def op_storm(self, at: float, settle_timeout: float = 60.0) -> dict:
        """At unix time `at` abort every socket at once; reconnect all, resuming."""
        await asyncio.sleep(max(0.0, at - time.time()))
        t_drop = time.time_ns()
        for c in self.clients:
            c.expect_close = True
            c.ready_at = 0
            if c.ws is not None:
                with contextlib.suppress(Exception):
                    c.ws.transport.abort()
        await asyncio.sleep(0)  # let the readers see the drop
        self.connect_errors.clear()
        ok = await asyncio.wait_for(
            asyncio.gather(*(self._open(c) for c in self.clients)), settle_timeout)
        times = [(c.ready_at - t_drop) // 1000 for c in self.clients if c.ready_at]
        return {
            "t_drop_ns": t_drop,
            "ready": sum(ok),
            "failed": len(ok) - sum(ok),
            "ready_us": array("q", times).tobytes(),
            "connect_errors": dict(self.connect_errors),
        }

    async def op_close(self) -> dict:
        """Close every socket cleanly (1000) and forget it."""
        self.stopping = True

        async def close(c: Client) -> None:
            c.expect_close = True
            if c.ws is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(c.ws.close(), 3)

        await asyncio.gather(*(close(c) for c in self.clients))
        self.stopping = False
        return {"ok": True}


def worker_main(wid: int, pipe, specs: list[dict], counters, opts: dict) -> None:
    raise_nofile()
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover
        runner = asyncio.run
    worker = Worker(wid, pipe, specs, counters, opts)
    runner(worker.main())


__all__ = ["worker_main", "NCOUNTERS", "websockets"]
