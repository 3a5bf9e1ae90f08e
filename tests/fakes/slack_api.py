"""Play the Slack Web API on loopback: a real aiohttp server with Slack's answers and checks.

Answer shapes follow ``platform-samples/slack/web_api``. Every message and view is checked
against Block Kit's limits (``platform-samples/slack/block_kit_limits.md``) with limits written
down here independently of the renderer, so a renderer bug surfaces as Slack's ``invalid_blocks``.

Use it as an async context manager::

    async with FakeSlackApi(users={"U1": {"tz": "Europe/Amsterdam"}}) as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)

For load and fault runs it can also answer slowly (``latency``), rate-limit each workspace (one
bot token is one workspace) with 429 and Retry-After, fail at random (``Faults``), and count
what every recipient received. It runs as a process of its own too::

    python -m tests.fakes.slack_api --port 0 --latency-ms 50 --rate 20

prints its API URL on the first line and serves ``GET /_fake/stats`` (the counters as JSON;
``?summary=1`` leaves out the per-recipient and per-delivery maps),
``POST /_fake/faults`` (a JSON object of ``Faults`` fields), ``POST /_fake/reset``,
``POST /_fake/users`` (``{user id: users.info overrides}``), ``GET /_fake/messages`` and
``GET /_fake/ephemerals`` (ephemeral messages and response_url posts).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import gc
import hashlib
import itertools
import json
import math
import random
import re
import signal
import sys
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

TEAM_ID = "T0NUDGE01"
BOT_USER_ID = "U0NUDGEBOT"
BOT_ID = "B0NUDGEBOT"
APP_ID = "A0NUDGEAPP"

# Block Kit limits as Slack documents them; kept apart from bot.slack.blocks on purpose.
_MESSAGE_BLOCKS = 50
_VIEW_BLOCKS = 100
_MESSAGE_TEXT = 40_000
_SECTION_TEXT = 3000
_SECTION_FIELDS = 10
_FIELD_TEXT = 2000
_HEADER_TEXT = 150
_CONTEXT_ELEMENTS = 10
_CONTEXT_TEXT = 2000
_ACTIONS_ELEMENTS = 25
_BUTTON_TEXT = 75
_BUTTON_VALUE = 2000
_BUTTON_URL = 3000
_ACTION_ID = 255
_BLOCK_ID = 255
_SELECT_OPTIONS = 100
_OPTION_TEXT = 75
_OPTION_VALUE = 150
_PLACEHOLDER = 150
_INPUT_LABEL = 2000
_TEXT_INPUT_LENGTH = 3000
_MODAL_TEXT = 24
_PRIVATE_METADATA = 3000
_CALLBACK_ID = 255

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CDG][A-Z0-9]{2,}$")
_JSON_FIELDS = ("blocks", "view", "metadata", "attachments")


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    token: str | None


@dataclass(slots=True)
class _Failure:
    error: str
    status: int
    retry_after: int | None
    disconnect: bool
    remaining: int
    after_accept: bool = False


@dataclass(slots=True)
class Faults:
    """Failures the fake serves at random to message posts, each with its own probability.

    ``server_error`` answers HTTP 500 without posting; ``drop`` closes the connection without
    posting; ``lost_answer`` posts the message and then closes the connection, as when an answer
    is lost on the way back; ``hang`` holds the request ``hang_seconds`` (posting it first when
    ``hang_posts``) and then closes the connection, as a timeout looks to the client;
    ``storm`` answers every post with 429 while it is on.
    """

    server_error: float = 0.0
    drop: float = 0.0
    lost_answer: float = 0.0
    hang: float = 0.0
    hang_seconds: float = 3.0
    hang_posts: bool = True
    storm: bool = False
    storm_retry_after: int = 1
    methods: tuple[str, ...] = ("chat.postMessage",)

    def update(self, changes: Mapping[str, Any]) -> None:
        """Change some fields; unknown names raise ``ValueError``."""
        known = {f.name for f in dataclasses.fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(known))}")
            setattr(self, name, tuple(value) if name == "methods" else value)


@dataclass(slots=True)
class RateLimit:
    """A token bucket per workspace: ``rate`` messages a second with bursts of ``burst``."""

    rate: float
    burst: int = 3
    methods: tuple[str, ...] = ("chat.postMessage",)
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, workspace: str, now: float) -> float | None:
        """Spend one token; return None when allowed, else the seconds until one is free."""
        tokens, stamp = self._buckets.get(workspace, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - stamp) * self.rate)
        if tokens >= 1.0:
            self._buckets[workspace] = (tokens - 1.0, now)
            return None
        self._buckets[workspace] = (tokens, now)
        return (1.0 - tokens) / self.rate


@dataclass(slots=True)
class Counters:
    """What the fake saw: messages per recipient and per delivery, and what it refused."""

    posts: int = 0
    by_recipient: Counter[str] = field(default_factory=Counter)
    by_delivery: Counter[str] = field(default_factory=Counter)
    by_workspace: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    ratelimited: int = 0
    server_errors: int = 0
    dropped: int = 0
    lost_answers: int = 0
    hangs: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    first_post_at: float | None = None
    last_post_at: float | None = None

    def as_json(self, *, summary: bool = False) -> dict[str, Any]:
        """Return the counters as plain JSON (recipients and deliveries as maps, unless summary)."""
        maps = (
            {}
            if summary
            else {
                "by_recipient": dict(self.by_recipient),
                "by_delivery": dict(self.by_delivery),
            }
        )
        return {
            "posts": self.posts,
            "recipients": len(self.by_recipient),
            **maps,
            "by_workspace": dict(self.by_workspace),
            "duplicates": self.duplicates,
            "ratelimited": self.ratelimited,
            "server_errors": self.server_errors,
            "dropped": self.dropped,
            "lost_answers": self.lost_answers,
            "hangs": self.hangs,
            "requests": dict(self.requests),
            "first_post_at": self.first_post_at,
            "last_post_at": self.last_post_at,
        }


@dataclass(slots=True)
class _Answer:
    body: dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


def slack_user(user_id: str, **overrides: Any) -> dict[str, Any]:
    """Build a full ``users.info`` user object shaped like Slack's, with ``overrides`` applied."""
    name = user_id.lower()
    user: dict[str, Any] = {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": name,
        "deleted": False,
        "color": "9f69e7",
        "real_name": name,
        "tz": "Europe/Amsterdam",
        "tz_label": "Central European Time",
        "tz_offset": 3600,
        "profile": {
            "avatar_hash": "ge3b51ca72de",
            "display_name": name,
            "display_name_normalized": name,
            "real_name": name,
            "real_name_normalized": name,
            "status_text": "",
            "status_emoji": "",
            "team": TEAM_ID,
        },
        "is_admin": False,
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": False,
        "is_app_user": False,
        "updated": 1502138686,
        "locale": "en-US",
        "has_2fa": False,
    }
    user.update(overrides)
    if user["deleted"]:
        # Slack no longer reports a zone for deactivated accounts.
        for key in ("tz", "tz_label", "tz_offset"):
            user.pop(key, None)
    return user


class FakeSlackApi:
    """A local Slack Web API that records calls, keeps messages and can be told to fail."""

    def __init__(
        self,
        *,
        users: Mapping[str, Mapping[str, Any]] | None = None,
        valid_tokens: Collection[str] | None = None,
        latency: float = 0.0,
        rate: float | None = None,
        burst: int = 3,
        faults: Faults | None = None,
        seed: int | None = None,
        keep_calls: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        for user_id, fields in (users or {}).items():
            self.add_user(user_id, **fields)
        self.valid_tokens = set(valid_tokens) if valid_tokens is not None else None
        self.calls: list[ApiCall] = []
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.home_views: dict[str, dict[str, Any]] = {}
        self.opened_views: list[dict[str, Any]] = []
        # Files uploaded with files.getUploadURLExternal + upload + files.completeUploadExternal:
        # by file id, the filename, the bytes, and (once completed) the channel and comment.
        self.files: dict[str, dict[str, Any]] = {}
        self._file_ids = itertools.count(1)
        # Bodies posted to response_url addresses (see ``response_url``), oldest first.
        self.responses: list[dict[str, Any]] = []
        # OAuth codes ``oauth.v2.access`` accepts, mapped to the answer it gives for each.
        self.oauth_codes: dict[str, dict[str, Any]] = {}
        self.oauth_client: tuple[str, str] | None = None
        # What auth.test reports in its x-oauth-scopes header; None leaves the header out.
        self.granted_scopes: list[str] | None = None
        # What auth.test says about particular tokens (e.g. an org-wide install's), by token.
        self.token_identities: dict[str, dict[str, Any]] = {}
        # Socket Mode: the open WebSocket connections and the acks received per envelope id.
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_acks: dict[str, dict[str, Any]] = {}
        self._socket_ack_waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._socket_connected = asyncio.Event()
        self._envelopes = itertools.count(1)
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._ts = itertools.count(1)
        self._view_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        # Load and fault knobs; all off by default so existing tests see a prompt, perfect Slack.
        self.latency = latency
        self.rate_limit = RateLimit(rate, burst) if rate else None
        self.faults = faults or Faults()
        self.counters = Counters()
        self.keep_calls = keep_calls
        self._random = random.Random(seed)
        self._host = host
        self._port = port
        self._channel_users: dict[str, str] = {}
        # The token of the call being handled; handlers run without awaiting, so it cannot mix.
        self._token_now: str | None = None
        self._channel_messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._handlers: dict[str, Callable[[dict[str, Any]], _Answer]] = {
            "auth.test": self._auth_test,
            "conversations.open": self._conversations_open,
            "chat.postMessage": self._chat_post_message,
            "conversations.history": self._conversations_history,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "users.info": self._users_info,
            "views.publish": self._views_publish,
            "views.open": self._views_open,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    # -- life cycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Return the URL to pass as ``AsyncWebClient(base_url=...)``."""
        if self._base_url is None:
            raise RuntimeError("FakeSlackApi is not started")
        return self._base_url

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        app.router.add_post("/hooks/{path:.*}", self._handle_response_url)
        app.router.add_get("/socket", self._handle_socket)
        app.router.add_get("/_fake/stats", self._handle_stats)
        app.router.add_post("/_fake/faults", self._handle_faults)
        app.router.add_post("/_fake/reset", self._handle_reset)
        app.router.add_post("/_fake/users", self._handle_users)
        app.router.add_get("/_fake/messages", self._handle_messages)
        app.router.add_get("/_fake/ephemerals", self._handle_ephemerals)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self._base_url = f"http://{host}:{port}/api/"

    async def stop(self) -> None:
        """Stop listening."""
        for ws in list(self.sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlackApi:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- test helpers -------------------------------------------------------------------------

    def add_user(self, user_id: str, **fields: Any) -> None:
        """Make ``users.info`` know a user; ``fields`` override the default shape."""
        self.users[user_id] = slack_user(user_id, **fields)

    def received(self, recipient: str) -> int:
        """Return how many messages were posted to ``recipient`` (a user id or a channel)."""
        return self.counters.by_recipient[self._channel_users.get(recipient, recipient)]

    def reset_counters(self) -> None:
        """Forget the counters (not the messages, which a history lookup still finds)."""
        self.counters = Counters()

    def calls_to(self, method: str) -> list[ApiCall]:
        """Return the calls made to one API method, oldest first."""
        return [call for call in self.calls if call.method == method]

    def fail_next(
        self,
        method: str,
        error: str | None = None,
        *,
        status: int | None = None,
        retry_after: int | None = None,
        times: int = 1,
        disconnect: bool = False,
        after_accept: bool = False,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail.

        ``fail_next(m)`` rate-limits (HTTP 429, Retry-After 1); ``fail_next(m, status=500)``
        answers a server error; ``fail_next(m, "user_not_found")`` answers HTTP 200 with
        ``ok: false`` as Slack does for most errors; ``disconnect=True`` drops the connection.
        With ``after_accept=True`` the call is carried out first and only its answer is lost,
        as when a connection breaks after Slack posted the message.
        """
        if status is None:
            status = 429 if error in (None, "ratelimited") else 200
        if error is None:
            error = {429: "ratelimited"}.get(status, "internal_error" if status >= 500 else "")
        if status == 429 and retry_after is None:
            retry_after = 1
        self._failures[method].append(
            _Failure(error, status, retry_after, disconnect or after_accept, times, after_accept)
        )

    def response_url(self, name: str = "1") -> str:
        """Return a ``response_url`` that lands in ``responses`` (as hooks.slack.com would)."""
        root = self.base_url.removesuffix("/api/")
        return f"{root}/hooks/commands/{TEAM_ID}/{name}"

    def add_oauth_code(
        self,
        code: str,
        *,
        client_id: str,
        client_secret: str,
        token: str,
        team_id: str = TEAM_ID,
        team_name: str = "Nudgebot Test",
        scope: str = "chat:write,commands",
        installer: str = "U0INSTALLER",
    ) -> None:
        """Make ``oauth.v2.access`` exchange ``code`` for a bot token, like Slack's answer."""
        self.oauth_client = (client_id, client_secret)
        self.oauth_codes[code] = {
            "ok": True,
            "access_token": token,
            "token_type": "bot",
            "scope": scope,
            "bot_user_id": BOT_USER_ID,
            "app_id": APP_ID,
            "team": {"name": team_name, "id": team_id},
            "enterprise": None,
            "authed_user": {"id": installer},
            "is_enterprise_install": False,
        }

    def add_oauth_answer(
        self, code: str, answer: Mapping[str, Any], *, client_id: str, client_secret: str
    ) -> None:
        """Make ``oauth.v2.access`` exchange ``code`` for ``answer`` (e.g. a recorded one)."""
        self.oauth_client = (client_id, client_secret)
        self.oauth_codes[code] = dict(answer)

    async def wait_for_socket(self, limit: float = 5.0) -> None:
        """Wait until a Socket Mode client has connected."""
        await asyncio.wait_for(self._socket_connected.wait(), limit)

    async def socket_send(
        self, kind: str, payload: Mapping[str, Any], *, retry_attempt: int = 0, limit: float = 5.0
    ) -> dict[str, Any]:
        """Push an envelope over Socket Mode as Slack does and return the client's ack."""
        envelope_id = f"env-{next(self._envelopes)}"
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._socket_ack_waiters[envelope_id] = waiter
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": dict(payload),
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": retry_attempt,
            "retry_reason": "timeout" if retry_attempt else "",
        }
        await self.sockets[-1].send_str(json.dumps(envelope))
        return await asyncio.wait_for(waiter, limit)

    def dm_channel(self, user_id: str) -> str:
        """Return the DM channel ``conversations.open`` gives for ``user_id``."""
        return "D" + hashlib.sha1(user_id.encode()).hexdigest()[:10].upper()

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        """Return the current state of a posted message."""
        return self.messages[(channel, ts)]

    # -- HTTP ---------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await _read_params(request)
        token = _bearer(request.headers.get("Authorization")) or params.pop("token", None)
        if self.keep_calls:
            self.calls.append(ApiCall(method, params, token))
        self.counters.requests[method] += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        limited = self._rate_limited(method, token)
        if limited is not None:
            return limited
        chaos = await self._chaos(request, method, params, token)
        if chaos is not None:
            return chaos

        failure = self._take_failure(method)
        if failure is not None:
            if failure.after_accept and method in self._handlers:
                self._token_now = token
                self._handlers[method](params)
            if failure.disconnect:
                if request.transport is not None:
                    request.transport.close()
                return web.Response()
            return _respond(_failure_answer(failure))

        if method == "oauth.v2.access":
            # Exchanged with the app's client id and secret (HTTP Basic), not with a token.
            return _respond(self._oauth_v2_access(params, request.headers.get("Authorization")))
        if not token:
            return _respond(_Answer({"ok": False, "error": "not_authed"}))
        if method == "apps.connections.open":
            # Only an app-level token opens a Socket Mode connection.
            if not token.startswith("xapp-"):
                return _respond(_error("not_allowed_token_type"))
            return _respond(self._apps_connections_open(params))
        if self.valid_tokens is not None and token not in self.valid_tokens:
            return _respond(_Answer({"ok": False, "error": "invalid_auth"}))
        handler = self._handlers.get(method)
        if handler is None:
            return _respond(_Answer({"ok": False, "error": "unknown_method", "req_method": method}))
        self._token_now = token
        return _respond(handler(params))

    def _rate_limited(self, method: str, token: str | None) -> web.StreamResponse | None:
        faults = self.faults
        if faults.storm and method in faults.methods:
            self.counters.ratelimited += 1
            return _ratelimited(faults.storm_retry_after)
        limit = self.rate_limit
        if limit is None or method not in limit.methods:
            return None
        wait = limit.take(token or "", time.monotonic())
        if wait is None:
            return None
        self.counters.ratelimited += 1
        return _ratelimited(max(1, math.ceil(wait)))

    async def _chaos(
        self, request: web.Request, method: str, params: dict[str, Any], token: str | None
    ) -> web.StreamResponse | None:
        faults = self.faults
        if method not in faults.methods or method not in self._handlers:
            return None
        roll = self._random.random()
        kind = None
        for chance, name in (
            (faults.server_error, "server_error"),
            (faults.drop, "drop"),
            (faults.lost_answer, "lost_answer"),
            (faults.hang, "hang"),
        ):
            if roll < chance:
                kind = name
                break
            roll -= chance
        if kind is None:
            return None
        if kind == "server_error":
            self.counters.server_errors += 1
            return _respond(_Answer({"ok": False, "error": "internal_error"}, 500))
        if kind == "lost_answer" or (kind == "hang" and faults.hang_posts):
            self._token_now = token
            self._handlers[method](params)
        if kind == "hang":
            self.counters.hangs += 1
            await asyncio.sleep(faults.hang_seconds)
        elif kind == "drop":
            self.counters.dropped += 1
        else:
            self.counters.lost_answers += 1
        if request.transport is not None:
            request.transport.close()
        return web.Response()

    async def _handle_stats(self, request: web.Request) -> web.StreamResponse:
        # Polled while a load runs: the per-recipient maps grow to thousands of entries, and
        # encoding them twice a second would stall this process and bunch its answers.
        summary = bool(request.query.get("summary"))
        return web.json_response(self.counters.as_json(summary=summary))

    async def _handle_faults(self, request: web.Request) -> web.StreamResponse:
        changes = await request.json()
        try:
            self.faults.update(changes)
        except ValueError as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        return web.json_response({"ok": True, "faults": asdict(self.faults)})

    async def _handle_users(self, request: web.Request) -> web.StreamResponse:
        for user_id, overrides in (await request.json()).items():
            self.add_user(user_id, **overrides)
        return web.json_response({"ok": True, "users": len(self.users)})

    async def _handle_messages(self, request: web.Request) -> web.StreamResponse:
        out = [
            {**message, "channel": channel, "recipient": self._channel_users.get(channel)}
            for (channel, _ts), message in self.messages.items()
        ]
        return web.json_response(out)

    async def _handle_ephemerals(self, request: web.Request) -> web.StreamResponse:
        return web.json_response([*self.ephemerals, *self.responses])

    async def _handle_reset(self, request: web.Request) -> web.StreamResponse:
        self.reset_counters()
        self.faults = Faults()
        return web.json_response({"ok": True})

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.popleft()
        return failure

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": APP_ID}}
        await ws.send_str(json.dumps(hello))
        self._socket_connected.set()
        async for frame in ws:
            if frame.type != web.WSMsgType.TEXT:
                continue
            ack = json.loads(frame.data)
            envelope_id = str(ack.get("envelope_id", ""))
            self.socket_acks[envelope_id] = ack
            waiter = self._socket_ack_waiters.pop(envelope_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(ack)
        self.sockets.remove(ws)
        return ws

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else {}
        self.responses.append({"path": request.match_info["path"], **body})
        self.counters.requests["response_url"] += 1
        return web.Response(text="ok")

    # -- methods ------------------------------------------------------------------------------

    def _oauth_v2_access(self, params: dict[str, Any], authorization: str | None) -> _Answer:
        client = (str(params.get("client_id", "")), str(params.get("client_secret", "")))
        if authorization and authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization.removeprefix("Basic ")).decode()
            client_id, _, secret = decoded.partition(":")
            client = (client_id, secret)
        if self.oauth_client is not None and client != self.oauth_client:
            return _error("invalid_client_id")
        answer = self.oauth_codes.pop(str(params.get("code", "")), None)
        return _Answer(answer) if answer is not None else _error("invalid_code")

    def _apps_connections_open(self, params: dict[str, Any]) -> _Answer:
        root = self.base_url.removesuffix("/api/").replace("http://", "ws://", 1)
        return _Answer({"ok": True, "url": f"{root}/socket?ticket=fake"})

    def _auth_test(self, params: dict[str, Any]) -> _Answer:
        headers = {}
        if self.granted_scopes is not None:
            headers["x-oauth-scopes"] = ",".join(self.granted_scopes)
        return _Answer(
            {
                "ok": True,
                "url": "https://nudgebot-test.slack.com/",
                "team": "Nudgebot Test",
                "user": "nudgebot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
                **self.token_identities.get(self._token_now or "", {}),
            },
            headers=headers,
        )

    def _root_url(self) -> str:
        return self.base_url.removesuffix("api/")

    def shared_files(self, channel: str) -> list[dict[str, Any]]:
        """Return the completed uploads shared into ``channel``, oldest first."""
        return [f for f in self.files.values() if f.get("channel") == channel]

    def _files_get_upload_url(self, params: dict[str, Any]) -> _Answer:
        filename, length = params.get("filename"), params.get("length")
        if not filename:
            return _error("invalid_arguments")
        if not str(length or "").isdigit():
            return _error("invalid_arguments")
        file_id = f"F{next(self._file_ids):08d}"
        self.files[file_id] = {"filename": str(filename), "length": int(str(length)), "data": None}
        return _Answer(
            {
                "ok": True,
                "file_id": file_id,
                "upload_url": f"{self.base_url.removesuffix('api/')}upload/{file_id}",
            }
        )

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        entry = self.files.get(request.match_info["file_id"])
        if entry is None:
            return web.Response(status=404, text="unknown upload")
        entry["data"] = await request.read()
        return web.Response(text=f"OK - {len(entry['data'])}")

    def _files_complete_upload(self, params: dict[str, Any]) -> _Answer:
        files = params.get("files")
        if isinstance(files, str):
            # Sent form-encoded, the list arrives as a JSON string.
            with contextlib.suppress(ValueError):
                files = json.loads(files)
        if not isinstance(files, list) or not files:
            return _error("invalid_arguments")
        done = []
        for item in files:
            entry = self.files.get(str(item.get("id")) if isinstance(item, dict) else "")
            if entry is None or entry["data"] is None:
                return _error("file_not_found")
            if len(entry["data"]) != entry["length"]:
                return _error("file_upload_size_mismatch")
            channel = self._resolve_channel(params.get("channel_id"))
            if params.get("channel_id") and channel is None:
                return _error("channel_not_found")
            entry["channel"] = channel
            entry["initial_comment"] = params.get("initial_comment")
            done.append({"id": item["id"], "name": entry["filename"], "title": item.get("title")})
        return _Answer({"ok": True, "files": done})

    def _conversations_open(self, params: dict[str, Any]) -> _Answer:
        if params.get("channel"):
            return _Answer({"ok": True, "channel": {"id": str(params["channel"])}})
        users = [u for u in str(params.get("users", "")).split(",") if u]
        if not users:
            return _error("users_list_not_supplied")
        for user_id in users:
            problem = self._dm_problem(user_id)
            if problem is not None:
                return problem
        if len(users) > 1:
            channel = "G" + self.dm_channel(",".join(sorted(users)))[1:]
        else:
            channel = self.dm_channel(users[0])
            self._channel_users[channel] = users[0]
        return _Answer(
            {"ok": True, "no_op": True, "already_open": True, "channel": {"id": channel}}
        )

    def _dm_problem(self, user_id: str) -> _Answer | None:
        """Say why the app cannot have a DM with ``user_id``, if it cannot."""
        if not _USER_ID.match(user_id):
            return _error("user_not_found")
        known = self.users.get(user_id)
        if known is not None and known["deleted"]:
            return _error("user_disabled")
        if known is not None and known["is_bot"]:
            return _error("cannot_dm_bot")
        return None

    def _chat_post_message(self, params: dict[str, Any]) -> _Answer:
        raw = str(params.get("channel") or "")
        if _USER_ID.match(raw):
            # Posting to a user id opens the app's DM with them, refused as opening it would be.
            problem = self._dm_problem(raw)
            if problem is not None:
                return problem
        channel = self._resolve_channel(params.get("channel"))
        if channel is None:
            return _error("channel_not_found")
        problem = _message_problem(params)
        if problem is not None:
            return problem
        ts = self._next_ts()
        message = self._stored_message(params, ts)
        self.messages[(channel, ts)] = message
        self._channel_messages[channel].append(message)
        self._count_post(channel, params)
        return _Answer({"ok": True, "channel": channel, "ts": ts, "message": message})

    def _count_post(self, channel: str, params: dict[str, Any]) -> None:
        counters = self.counters
        now = time.time()
        counters.posts += 1
        counters.first_post_at = counters.first_post_at or now
        counters.last_post_at = now
        counters.by_recipient[self._channel_users.get(channel, channel)] += 1
        counters.by_workspace[self._token_now or ""] += 1
        metadata = params.get("metadata")
        payload = metadata.get("event_payload") if isinstance(metadata, dict) else None
        delivery_id = payload.get("delivery_id") if isinstance(payload, dict) else None
        if delivery_id is not None:
            counters.by_delivery[str(delivery_id)] += 1
            if counters.by_delivery[str(delivery_id)] > 1:
                counters.duplicates += 1

    def _conversations_history(self, params: dict[str, Any]) -> _Answer:
        channel = str(params.get("channel", ""))
        if not channel:
            return _error("channel_not_found")
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        limit = int(params.get("limit", 100) or 100)
        found = sorted(
            self._channel_messages.get(channel, ()), key=lambda m: float(m["ts"]), reverse=True
        )[:limit]
        out = []
        for message in found:
            item = {k: v for k, v in message.items() if k != "metadata"}
            raw = message.get("metadata")
            if with_metadata and raw is not None:
                item["metadata"] = json.loads(raw) if isinstance(raw, str) else raw
            out.append(item)
        return _Answer({"ok": True, "messages": out, "has_more": False})

    def _chat_update(self, params: dict[str, Any]) -> _Answer:
        channel = str(params.get("channel", ""))
        ts = str(params.get("ts", ""))
        if not channel:
            return _error("channel_not_found")
        current = self.messages.get((channel, ts))
        if current is None:
            return _error("message_not_found")
        problem = _message_problem(params)
        if problem is not None:
            return problem
        for key in ("text", "blocks", "metadata"):
            if key in params:
                current[key] = params[key]
        current["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return _Answer(
            {"ok": True, "channel": channel, "ts": ts, "text": current["text"], "message": current}
        )

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> _Answer:
        channel = self._resolve_channel(params.get("channel"))
        if channel is None:
            return _error("channel_not_found")
        if not _USER_ID.match(str(params.get("user", ""))):
            return _error("user_not_found")
        problem = _message_problem(params)
        if problem is not None:
            return problem
        ts = self._next_ts()
        self.ephemerals.append({**self._stored_message(params, ts), "channel": channel})
        return _Answer({"ok": True, "message_ts": ts})

    def _users_info(self, params: dict[str, Any]) -> _Answer:
        user = self.users.get(str(params.get("user", "")))
        if user is None:
            return _error("user_not_found")
        shown = dict(user)
        if not _truthy(params.get("include_locale")):
            shown.pop("locale", None)
        return _Answer({"ok": True, "user": shown})

    def _views_publish(self, params: dict[str, Any]) -> _Answer:
        user_id = str(params.get("user_id", ""))
        if not _USER_ID.match(user_id):
            return _Answer(
                {
                    "ok": False,
                    "error": "invalid_arguments",
                    "response_metadata": {"messages": ["invalid `user_id`"]},
                }
            )
        view = params.get("view")
        problem = _view_problem(view, "home")
        if problem is not None:
            return problem
        assert isinstance(view, dict)
        stored = self._stored_view(view)
        self.home_views[user_id] = stored
        return _Answer({"ok": True, "view": stored})

    def _views_open(self, params: dict[str, Any]) -> _Answer:
        if not params.get("trigger_id"):
            return _error("invalid_trigger_id")
        view = params.get("view")
        problem = _view_problem(view, "modal")
        if problem is not None:
            return problem
        assert isinstance(view, dict)
        stored = self._stored_view(view)
        self.opened_views.append(stored)
        return _Answer({"ok": True, "view": stored})

    # -- state --------------------------------------------------------------------------------

    def _resolve_channel(self, raw: Any) -> str | None:
        channel = str(raw or "")
        if _USER_ID.match(channel):
            # Posting to a user id lands in the app's DM with that user.
            dm = self.dm_channel(channel)
            self._channel_users[dm] = channel
            return dm
        return channel if _CHANNEL_ID.match(channel) else None

    def _next_ts(self) -> str:
        n = next(self._ts)
        return f"{1_700_000_000 + n}.{n:06d}"

    def _stored_message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "subtype": "bot_message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": str(params.get("text", "")),
            "ts": ts,
        }
        for key in ("blocks", "metadata", "thread_ts"):
            if key in params:
                message[key] = params[key]
        return message

    def _stored_view(self, view: dict[str, Any]) -> dict[str, Any]:
        view_id = f"V{next(self._view_ids):09d}"
        return {
            "id": view_id,
            "team_id": TEAM_ID,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "type": view["type"],
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "state": {"values": {}},
            "hash": f"{view_id}.hash",
            "clear_on_close": False,
            "notify_on_close": False,
            "previous_view_id": None,
            "root_view_id": view_id,
        }


# -- validation -----------------------------------------------------------------------------


def block_kit_errors(blocks: Any, *, max_blocks: int = _MESSAGE_BLOCKS) -> list[str]:
    """List Slack-style errors for a ``blocks`` array; empty when Slack would accept it."""
    errors: list[str] = []
    if not isinstance(blocks, list):
        return ["must be an array [json-pointer:/blocks]"]
    if len(blocks) > max_blocks:
        errors.append(f"must contain at most {max_blocks} items [json-pointer:/blocks]")
    block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        pointer = f"/blocks/{index}"
        if not isinstance(block, dict):
            errors.append(f"must be an object [json-pointer:{pointer}]")
            continue
        checker = _BLOCK_CHECKERS.get(str(block.get("type")))
        if checker is None:
            errors.append(f"unsupported type {block.get('type')!r} [json-pointer:{pointer}/type]")
            continue
        if "block_id" in block:
            block_id = block["block_id"]
            _string(block_id, f"{pointer}/block_id", errors, 1, _BLOCK_ID)
            if block_id in block_ids:
                errors.append(f"duplicate block_id [json-pointer:{pointer}/block_id]")
            block_ids.add(block_id)
        checker(block, pointer, errors)
    return errors


def view_errors(view: Any, kind: str) -> list[str]:
    """List Slack-style errors for a ``home`` or ``modal`` view."""
    if not isinstance(view, dict):
        return ["must be an object [json-pointer:/view]"]
    errors: list[str] = []
    if view.get("type") != kind:
        errors.append(f"must be {kind!r} [json-pointer:/view/type]")
    allowed = {"type", "blocks", "private_metadata", "callback_id", "external_id"}
    if kind == "modal":
        allowed |= {"title", "submit", "close", "clear_on_close", "notify_on_close"}
        allowed |= {"submit_disabled"}
        _text_object(view.get("title"), "/view/title", errors, _MODAL_TEXT, plain=True)
        for key in ("submit", "close"):
            if key in view:
                _text_object(view[key], f"/view/{key}", errors, _MODAL_TEXT, plain=True)
        blocks = view.get("blocks")
        has_inputs = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_inputs and "submit" not in view:
            errors.append("a modal with inputs needs submit [json-pointer:/view/submit]")
    _unknown_keys(view, allowed, "/view", errors)
    if "private_metadata" in view:
        _string(view["private_metadata"], "/view/private_metadata", errors, 0, _PRIVATE_METADATA)
    if "callback_id" in view:
        _string(view["callback_id"], "/view/callback_id", errors, 0, _CALLBACK_ID)
    errors.extend(
        e.replace("json-pointer:/blocks", "json-pointer:/view/blocks")
        for e in block_kit_errors(view.get("blocks", []), max_blocks=_VIEW_BLOCKS)
    )
    return errors


def _message_problem(params: dict[str, Any]) -> _Answer | None:
    text = params.get("text")
    blocks = params.get("blocks")
    if not text and not blocks:
        return _error("no_text")
    if text is not None and (not isinstance(text, str) or len(text) > _MESSAGE_TEXT):
        return _error("msg_too_long")
    if blocks is not None:
        errors = block_kit_errors(blocks)
        if errors:
            return _invalid_blocks(errors)
    metadata = params.get("metadata")
    if metadata is not None and not (
        isinstance(metadata, dict)
        and isinstance(metadata.get("event_type"), str)
        and isinstance(metadata.get("event_payload"), dict)
    ):
        return _error("invalid_metadata_format")
    return None


def _view_problem(view: Any, kind: str) -> _Answer | None:
    errors = view_errors(view, kind)
    return _invalid_blocks(errors) if errors else None


def _invalid_blocks(errors: list[str]) -> _Answer:
    return _Answer(
        {
            "ok": False,
            "error": "invalid_blocks",
            "errors": errors,
            "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
        }
    )


def _check_section(block: dict[str, Any], pointer: str, errors: list[str]) -> None:
    _unknown_keys(
        block, {"type", "block_id", "text", "fields", "accessory", "expand"}, pointer, errors
    )
    if "text" not in block and "fields" not in block:
        errors.append(f"must provide text or fields [json-pointer:{pointer}]")
    if "text" in block:
        _text_object(block["text"], f"{pointer}/text", errors, _SECTION_TEXT)
    if "fields" in block:
        fields = block["fields"]
        if not isinstance(fields, list) or not 1 <= len(fields) <= _SECTION_FIELDS:
            errors.append(f"must hold 1 to {_SECTION_FIELDS} fields [json-pointer:{pointer}]")
        else:
            for i, item in enumerate(fields):
                _text_object(item, f"{pointer}/fields/{i}", errors, _FIELD_TEXT)
    if "accessory" in block:
        _element(block["accessory"], f"{pointer}/accessory", errors)


def _check_header(block: dict[str, Any], pointer: str, errors: list[str]) -> None:
    _unknown_keys(block, {"type", "block_id", "text"}, pointer, errors)
    _text_object(block.get("text"), f"{pointer}/text", errors, _HEADER_TEXT, plain=True)


def _check_context(block: dict[str, Any], pointer: str, errors: list[str]) -> None:
    _unknown_keys(block, {"type", "block_id", "elements"}, pointer, errors)
    elements = block.get("elements")
    if not isinstance(elements, list) or not 1 <= len(elements) <= _CONTEXT_ELEMENTS:
        errors.append(f"must hold 1 to {_CONTEXT_ELEMENTS} elements [json-pointer:{pointer}]")
        return
    for i, element in enumerate(elements):
        _text_object(element, f"{pointer}/elements/{i}", errors, _CONTEXT_TEXT)


def _check_divider(block: dict[str, Any], pointer: str, errors: list[str]) -> None:
    _unknown_keys(block, {"type", "block_id"}, pointer, errors)


def _check_actions(block: dict[str, Any], pointer: str, errors: list[str]) -> None:
    _unknown_keys(block, {"type", "block_id", "elements"}, pointer, errors)
    elements = block.get("elements")
    if not isinstance(elements, list) or not 1 <= len(elements) <= _ACTIONS_ELEMENTS:
        errors.append(f"must hold 1 to {_ACTIONS_ELEMENTS} elements [json-pointer:{pointer}]")
        return
    action_ids: set[Any] = set()
    for i, element in enumerate(elements):
        _element(element, f"{pointer}/elements/{i}", errors)
        if isinstance(element, dict) and "action_id" in element:
            if element["action_id"] in action_ids:
                errors.append(f"duplicate action_id [json-pointer:{pointer}/elements/{i}]")
            action_ids.add(element["action_id"])


def _check_input(block: dict[str, Any], pointer: str, errors: list[str]) -> None:
    allowed = {"type", "block_id", "label", "element", "hint", "optional", "dispatch_action"}
    _unknown_keys(block, allowed, pointer, errors)
    _text_object(block.get("label"), f"{pointer}/label", errors, _INPUT_LABEL, plain=True)
    _element(block.get("element"), f"{pointer}/element", errors)


_BLOCK_CHECKERS: dict[str, Callable[[dict[str, Any], str, list[str]], None]] = {
    "section": _check_section,
    "header": _check_header,
    "context": _check_context,
    "divider": _check_divider,
    "actions": _check_actions,
    "input": _check_input,
}


def _element(element: Any, pointer: str, errors: list[str]) -> None:
    if not isinstance(element, dict):
        errors.append(f"must be an object [json-pointer:{pointer}]")
        return
    kind = element.get("type")
    if "action_id" in element:
        _string(element["action_id"], f"{pointer}/action_id", errors, 1, _ACTION_ID)
    if kind == "button":
        allowed = {"type", "text", "action_id", "value", "style", "url", "confirm"}
        _unknown_keys(element, allowed | {"accessibility_label"}, pointer, errors)
        _text_object(element.get("text"), f"{pointer}/text", errors, _BUTTON_TEXT, plain=True)
        if "value" in element:
            _string(element["value"], f"{pointer}/value", errors, 1, _BUTTON_VALUE)
        if "url" in element:
            _string(element["url"], f"{pointer}/url", errors, 1, _BUTTON_URL)
        if "style" in element and element["style"] not in ("primary", "danger"):
            errors.append(f"must be primary or danger [json-pointer:{pointer}/style]")
    elif kind == "static_select":
        allowed = {"type", "action_id", "placeholder", "options", "initial_option", "confirm"}
        _unknown_keys(element, allowed | {"focus_on_load"}, pointer, errors)
        if "placeholder" in element:
            _text_object(
                element["placeholder"], f"{pointer}/placeholder", errors, _PLACEHOLDER, plain=True
            )
        options = element.get("options")
        if not isinstance(options, list) or not 1 <= len(options) <= _SELECT_OPTIONS:
            errors.append(f"must hold 1 to {_SELECT_OPTIONS} options [json-pointer:{pointer}]")
            return
        for i, option in enumerate(options):
            _option(option, f"{pointer}/options/{i}", errors)
    elif kind == "plain_text_input":
        allowed = {"type", "action_id", "placeholder", "initial_value", "multiline"}
        allowed |= {"min_length", "max_length", "focus_on_load", "dispatch_action_config"}
        _unknown_keys(element, allowed, pointer, errors)
        if "placeholder" in element:
            _text_object(
                element["placeholder"], f"{pointer}/placeholder", errors, _PLACEHOLDER, plain=True
            )
        max_length = element.get("max_length", _TEXT_INPUT_LENGTH)
        if not isinstance(max_length, int) or not 1 <= max_length <= _TEXT_INPUT_LENGTH:
            errors.append(f"must be 1 to {_TEXT_INPUT_LENGTH} [json-pointer:{pointer}/max_length]")
        elif "initial_value" in element:
            _string(element["initial_value"], f"{pointer}/initial_value", errors, 0, max_length)
    elif kind == "datepicker":
        allowed = {"type", "action_id", "initial_date", "placeholder", "confirm", "focus_on_load"}
        _unknown_keys(element, allowed, pointer, errors)
        if "initial_date" in element:
            try:
                date.fromisoformat(str(element["initial_date"]))
            except ValueError:
                errors.append(f"must be YYYY-MM-DD [json-pointer:{pointer}/initial_date]")
    else:
        errors.append(f"unsupported element type {kind!r} [json-pointer:{pointer}/type]")


def _option(option: Any, pointer: str, errors: list[str]) -> None:
    if not isinstance(option, dict):
        errors.append(f"must be an object [json-pointer:{pointer}]")
        return
    _unknown_keys(option, {"text", "value", "description"}, pointer, errors)
    _text_object(option.get("text"), f"{pointer}/text", errors, _OPTION_TEXT, plain=True)
    _string(option.get("value"), f"{pointer}/value", errors, 1, _OPTION_VALUE)


def _text_object(
    obj: Any, pointer: str, errors: list[str], max_length: int, *, plain: bool = False
) -> None:
    if not isinstance(obj, dict):
        errors.append(f"must be a text object [json-pointer:{pointer}]")
        return
    kind = obj.get("type")
    if kind == "plain_text":
        _unknown_keys(obj, {"type", "text", "emoji"}, pointer, errors)
    elif kind == "mrkdwn" and not plain:
        _unknown_keys(obj, {"type", "text", "verbatim"}, pointer, errors)
    else:
        errors.append(f"unsupported text type {kind!r} [json-pointer:{pointer}/type]")
    _string(obj.get("text"), f"{pointer}/text", errors, 1, max_length)


def _string(value: Any, pointer: str, errors: list[str], min_length: int, max_length: int) -> None:
    if not isinstance(value, str):
        errors.append(f"must be a string [json-pointer:{pointer}]")
    elif len(value) > max_length:
        errors.append(f"must be less than {max_length + 1} characters [json-pointer:{pointer}]")
    elif len(value.strip()) < min_length:
        errors.append(f"must be more than {min_length - 1} characters [json-pointer:{pointer}]")


def _unknown_keys(obj: dict[str, Any], allowed: set[str], pointer: str, errors: list[str]) -> None:
    for key in obj:
        if key not in allowed:
            errors.append(f"unknown property {key!r} [json-pointer:{pointer}]")


# -- plumbing -------------------------------------------------------------------------------


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        else:
            params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    for key in _JSON_FIELDS:
        # Form-encoded calls carry structured arguments as JSON strings.
        if isinstance(params.get(key), str):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])
    return params


def _bearer(header: str | None) -> str | None:
    if header and header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip() or None
    return None


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _error(code: str) -> _Answer:
    return _Answer({"ok": False, "error": code})


def _failure_answer(failure: _Failure) -> _Answer:
    headers = {}
    if failure.retry_after is not None:
        headers["Retry-After"] = str(failure.retry_after)
    return _Answer({"ok": False, "error": failure.error}, failure.status, headers)


def _ratelimited(retry_after: int) -> web.Response:
    # Shaped like platform-samples/slack/web_api/ratelimited_429.http, which closes the connection.
    response = _respond(_Answer({"ok": False, "error": "ratelimited"}, 429))
    response.headers["Retry-After"] = str(retry_after)
    response.force_close()
    return response


def _respond(answer: _Answer) -> web.Response:
    return web.json_response(answer.body, status=answer.status, headers=answer.headers)


# -- standalone -----------------------------------------------------------------------------


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.slack_api",
        description="Serve the fake Slack Web API until SIGINT/SIGTERM; print its URL first.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every call")
    parser.add_argument("--rate", type=float, default=None, help="messages/s per workspace")
    parser.add_argument("--burst", type=int, default=3, help="messages a workspace may burst")
    parser.add_argument("--server-error", type=float, default=0.0, help="chance of a 500")
    parser.add_argument("--drop", type=float, default=0.0, help="chance of a dropped connection")
    parser.add_argument(
        "--lost-answer", type=float, default=0.0, help="chance a post lands but its answer is lost"
    )
    parser.add_argument("--hang", type=float, default=0.0, help="chance a post hangs, then drops")
    parser.add_argument("--hang-seconds", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--stats-file", default=None, help="write the counters as JSON here on exit"
    )
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    faults = Faults(
        server_error=args.server_error,
        drop=args.drop,
        lost_answer=args.lost_answer,
        hang=args.hang,
        hang_seconds=args.hang_seconds,
    )
    api = FakeSlackApi(
        latency=args.latency_ms / 1000,
        rate=args.rate,
        burst=args.burst,
        faults=faults,
        seed=args.seed,
        keep_calls=False,
        host=args.host,
        port=args.port,
    )
    await api.start()
    # Standing in for Slack's servers under load: every post is kept (for history lookups), and
    # full collections over that growing heap would stall all answers at once, bunching them.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 1_000)
    print(api.base_url, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await api.stop()
        if args.stats_file:
            text = json.dumps(api.counters.as_json())
            await asyncio.to_thread(Path(args.stats_file).write_text, text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run the fake as a process of its own."""
    asyncio.run(_serve(_parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
