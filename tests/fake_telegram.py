"""A local fake of the Telegram Bot API (aiohttp, loopback only) for the test suites.

THUNES' Telegram code is pointed at it with `base_url`; it answers the methods THUNES uses,
records every request, serves injected updates to `getUpdates` (long polling), and can be
told to misbehave: answer 500, answer 429 with `retry_after`, be slow, or be down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

SEND_METHODS = frozenset({"sendMessage", "sendPhoto"})
DEFAULT_TOKEN = "123456789:THUNES-fake-token_abcdefghijklmnop"
BOT_ID = 123456789


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received (the token is kept apart from the parameters)."""

    method: str
    params: dict[str, str]
    files: dict[str, bytes]
    time: float
    token_ok: bool


@dataclass
class Misbehaviour:
    """An answer to give instead of success: an HTTP error or a 429 with `retry_after`."""

    status: int = 500
    retry_after: int | None = None


@dataclass
class _Chat:
    id: int
    type: str = "private"
    title: str = "operator"


@dataclass
class FakeBotApi:
    """The fake server; `await start()` returns the `base_url` to give python-telegram-bot."""

    token: str = DEFAULT_TOKEN
    host: str = "127.0.0.1"
    port: int = 0
    known_chats: tuple[int, ...] = (424242,)
    max_poll_wait: float = 0.5
    requests: list[RecordedRequest] = field(default_factory=list)
    delay: float = 0.0  # seconds every send method waits before answering
    down: bool = False  # every send method answers 500
    unavailable: bool = False  # every method answers 502 (the whole API is down)
    _failures: deque[Misbehaviour] = field(default_factory=deque)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _next_update_id: int = 1
    _next_message_id: int = 1
    _runner: web.AppRunner | None = None
    _new_update: asyncio.Event | None = None

    # ---- control -------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        """The next `count` send requests answer HTTP `status`."""
        self._failures.extend(Misbehaviour(status=status) for _ in range(count))

    def throttle_next(self, retry_after: int, count: int = 1) -> None:
        """The next `count` send requests answer 429 with `retry_after` seconds."""
        self._failures.extend(
            Misbehaviour(status=429, retry_after=retry_after) for _ in range(count)
        )

    def inject_message(self, chat_id: int, text: str, user_id: int = 777) -> int:
        """Queue a text message from `chat_id` for `getUpdates`; returns its update id."""
        update_id = self._next_update_id
        self._next_update_id += 1
        message: dict[str, Any] = {
            "message_id": self._message_id(),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "operator"},
            "from": {"id": user_id, "is_bot": False, "first_name": "operator"},
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        self._updates.append({"update_id": update_id, "message": message})
        if self._new_update is not None:
            self._new_update.set()
        return update_id

    def calls(self, method: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method]

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        """Texts of successful-or-not `sendMessage` calls (optionally to one chat)."""
        return [
            r.params.get("text", "")
            for r in self.calls("sendMessage")
            if chat_id is None or r.params.get("chat_id") == str(chat_id)
        ]

    def photos(self) -> list[bytes]:
        return [r.files["photo"] for r in self.calls("sendPhoto") if "photo" in r.files]

    # ---- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> str:
        self._new_update = asyncio.Event()
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        return self.base_url

    async def stop(self) -> None:
        if self._new_update is not None:
            self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---- request handling ----------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        token_ok = request.match_info["token"] == self.token
        params, files = await _read_params(request)
        self.requests.append(RecordedRequest(method, params, files, time.monotonic(), token_ok))
        if self.unavailable:
            return _error(502, "Bad Gateway")
        if not token_ok:
            return _error(401, "Unauthorized")
        if method in SEND_METHODS:
            problem = await self._misbehave()
            if problem is not None:
                return problem
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        result: web.Response = await handler(params, files)
        return result

    async def _misbehave(self) -> web.Response | None:
        if self.delay > 0:
            await asyncio.sleep(self.delay)
        if self.down:
            return _error(500, "Internal Server Error")
        if self._failures:
            failure = self._failures.popleft()
            if failure.retry_after is not None:
                return _error(
                    429,
                    f"Too Many Requests: retry after {failure.retry_after}",
                    {"retry_after": failure.retry_after},
                )
            return _error(failure.status, "Internal Server Error")
        return None

    def _message_id(self) -> int:
        self._next_message_id += 1
        return self._next_message_id - 1

    def _message(self, chat_id: str, **extra: Any) -> dict[str, Any]:
        return {
            "message_id": self._message_id(),
            "date": int(time.time()),
            "chat": {"id": int(chat_id), "type": "private"},
            "from": _bot_user(),
            **extra,
        }

    async def _m_getMe(self, params: dict[str, str], files: dict[str, bytes]) -> web.Response:
        return _ok(_bot_user())

    async def _m_getChat(self, params: dict[str, str], files: dict[str, bytes]) -> web.Response:
        chat_id = int(params.get("chat_id", "0"))
        if chat_id not in self.known_chats:
            return _error(400, "Bad Request: chat not found")
        chat = _Chat(chat_id)
        return _ok(
            {
                "id": chat.id,
                "type": chat.type,
                "title": chat.title,
                "accent_color_id": 0,
                "max_reaction_count": 0,
            }
        )

    async def _m_sendMessage(self, params: dict[str, str], files: dict[str, bytes]) -> web.Response:
        return _ok(self._message(params["chat_id"], text=params.get("text", "")))

    async def _m_sendPhoto(self, params: dict[str, str], files: dict[str, bytes]) -> web.Response:
        photo = [{"file_id": "photo-1", "file_unique_id": "u1", "width": 800, "height": 600}]
        extra: dict[str, Any] = {"photo": photo}
        if "caption" in params:
            extra["caption"] = params["caption"]
        return _ok(self._message(params["chat_id"], **extra))

    async def _m_getUpdates(self, params: dict[str, str], files: dict[str, bytes]) -> web.Response:
        offset = int(params.get("offset", "0") or 0)
        wait = min(float(params.get("timeout", "0") or 0), self.max_poll_wait)
        pending = [u for u in self._updates if u["update_id"] >= offset]
        if not pending and wait > 0 and self._new_update is not None:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), wait)
            pending = [u for u in self._updates if u["update_id"] >= offset]
        return _ok(pending)

    async def _m_deleteWebhook(
        self, params: dict[str, str], files: dict[str, bytes]
    ) -> web.Response:
        return _ok(True)

    async def _m_setMyCommands(
        self, params: dict[str, str], files: dict[str, bytes]
    ) -> web.Response:
        return _ok(True)

    async def _m_answerCallbackQuery(
        self, params: dict[str, str], files: dict[str, bytes]
    ) -> web.Response:
        return _ok(True)


def _bot_user() -> dict[str, Any]:
    return {
        "id": BOT_ID,
        "is_bot": True,
        "first_name": "THUNES",
        "username": "thunes_test_bot",
        "can_join_groups": False,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


async def _read_params(request: web.Request) -> tuple[dict[str, str], dict[str, bytes]]:
    params: dict[str, str] = dict(request.query)
    files: dict[str, bytes] = {}
    if request.content_type == "application/json":
        body = await request.json()
        params.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()})
        return params, files
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            files[key] = value.file.read()
        elif isinstance(value, bytes | bytearray):
            params[key] = bytes(value).decode()
        else:
            params[key] = str(value)
    return params, files


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)
