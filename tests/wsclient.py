"""A small WebSocket test client: JSON frames, waiting for a frame of a type."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets


class WS:
    def __init__(self, conn):
        self.conn = conn
        self.frames: list[dict[str, Any]] = []

    @classmethod
    async def connect(cls, server, token: str | None = None, **kwargs) -> WS:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        conn = await websockets.connect(server.ws_url, additional_headers=headers,
                                        max_size=4 * 1024 * 1024, **kwargs)
        return cls(conn)

    async def send(self, data: dict[str, Any] | str) -> None:
        await self.conn.send(data if isinstance(data, str) else json.dumps(data))

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        frame = json.loads(await asyncio.wait_for(self.conn.recv(), timeout))
        self.frames.append(frame)
        return frame

    async def until(self, type_: str, timeout: float = 5.0, **match) -> dict[str, Any]:
        """Receive until a frame of this type (and matching fields) arrives; return it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.recv(max(0.01, deadline - loop.time()))
            if frame.get("type") == type_ and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def resume(self, rooms: dict[int, int] | None = None, user_seq: int | None = None,
                     timeout: float = 10.0) -> list[dict[str, Any]]:
        """Send resume and return the frames before `ready`."""
        start = len(self.frames)
        msg: dict[str, Any] = {"type": "resume", "rooms": {str(k): v for k, v in (rooms or {}).items()}}
        if user_seq is not None:
            msg["user_seq"] = user_seq
        await self.send(msg)
        await self.until("ready", timeout)
        return self.frames[start:-1]

    async def drain(self, quiet: float = 0.3) -> list[dict[str, Any]]:
        """Receive until nothing arrives for `quiet` seconds."""
        out = []
        while True:
            try:
                out.append(await self.recv(quiet))
            except TimeoutError:
                return out

    async def close(self) -> None:
        await self.conn.close()
