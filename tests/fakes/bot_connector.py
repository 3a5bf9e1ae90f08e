"""Play the Bot Framework connector (and the bits of Microsoft Graph we read) on loopback.

Answer shapes follow ``platform-samples/teams`` (``create_conversation.*.docs.json``, the status
table in PROACTIVE.md). Every activity is checked independently of the renderer: Adaptive Cards
above version 1.5, unknown element types, Action.Execute below 1.4, duplicate input ids, mention
tags without an entity and activities over the size limit are refused the way Teams refuses them,
so a renderer bug surfaces as a 400 or a 413 rather than a passing test.

Use it as an async context manager; its ``service_url`` goes where Teams' serviceUrl would::

    async with FakeBotConnector() as connector:
        reference.service_url = connector.service_url
"""

from __future__ import annotations

import itertools
import json
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.server import FakeServer

TENANT_ID = "2878b816-75f2-1f2d-093c-15c7c6afb063"
BOT_ID = "28:c82078e5-d7c2-0c3e-f3f3-e7362a22947f"
BOT_APP_ID = "c82078e5-d7c2-0c3e-f3f3-e7362a22947f"

# Teams documents ~100 KB for a bot message, counted as UTF-16 (LIMITS.md).
SIZE_LIMIT_BYTES = 100_000
_MAX_VERSION = (1, 5)
# Element and action types of Adaptive Cards up to 1.5, with the version that introduced them.
_ELEMENTS = {
    "TextBlock": (1, 0),
    "Image": (1, 0),
    "Container": (1, 0),
    "ColumnSet": (1, 0),
    "Column": (1, 0),
    "FactSet": (1, 0),
    "ImageSet": (1, 0),
    "Media": (1, 1),
    "ActionSet": (1, 2),
    "RichTextBlock": (1, 2),
    "Table": (1, 5),
    "Input.Text": (1, 0),
    "Input.Number": (1, 0),
    "Input.Date": (1, 0),
    "Input.Time": (1, 0),
    "Input.Toggle": (1, 0),
    "Input.ChoiceSet": (1, 0),
}
_ACTIONS = {
    "Action.OpenUrl": (1, 0),
    "Action.Submit": (1, 0),
    "Action.ShowCard": (1, 0),
    "Action.ToggleVisibility": (1, 2),
    "Action.Execute": (1, 4),
}
_AT = re.compile(r"<at>.*?</at>", re.DOTALL)


@dataclass
class Call:
    """One request the fake received."""

    method: str
    path: str
    body: Any
    headers: Mapping[str, str]

    @property
    def activity(self) -> dict[str, Any]:
        """The request body as an activity."""
        return dict(self.body) if isinstance(self.body, Mapping) else {}


@dataclass
class Fault:
    """A canned failure for the next matching request."""

    status: int
    code: str
    operation: str | None
    retry_after: float | None
    times: int
    deliver: bool
    drop: bool = False


@dataclass
class Posted:
    """A message the connector accepted."""

    conversation_id: str
    activity_id: str
    activity: dict[str, Any]
    versions: list[dict[str, Any]] = field(default_factory=list)


def card_errors(activity: Mapping[str, Any]) -> list[str]:
    """List what Teams would refuse in an activity's Adaptive Cards."""
    errors: list[str] = []
    for attachment in activity.get("attachments") or []:
        if attachment.get("contentType") != "application/vnd.microsoft.card.adaptive":
            continue
        errors.extend(_card_errors(attachment.get("content")))
    return errors


def _version(raw: Any) -> tuple[int, int] | None:
    if not isinstance(raw, str) or not re.fullmatch(r"\d+\.\d+", raw):
        return None
    major, minor = raw.split(".")
    return int(major), int(minor)


def _card_errors(card: Any) -> list[str]:
    if not isinstance(card, Mapping) or card.get("type") != "AdaptiveCard":
        return ["content is not an AdaptiveCard"]
    version = _version(card.get("version"))
    if version is None:
        return [f"bad card version {card.get('version')!r}"]
    errors: list[str] = []
    if version > _MAX_VERSION:
        errors.append(f"card version {card['version']} is above 1.5")
    ids: list[str] = []
    texts: list[str] = []

    def action(item: Any, where: str) -> None:
        if not isinstance(item, Mapping):
            errors.append(f"{where}: action is not an object")
            return
        kind = item.get("type")
        if kind not in _ACTIONS:
            errors.append(f"{where}: unknown action {kind!r}")
            return
        if _ACTIONS[kind] > version:
            errors.append(f"{where}: {kind} needs card version {_ACTIONS[kind]}")
        if not isinstance(item.get("title"), str) or not item["title"]:
            errors.append(f"{where}: action without a title")
        if kind == "Action.Execute" and not isinstance(item.get("verb"), str):
            errors.append(f"{where}: Action.Execute without a verb")
        fallback = item.get("fallback")
        if isinstance(fallback, Mapping):
            action(fallback, where + ".fallback")
        elif fallback is not None and fallback != "drop":
            errors.append(f"{where}: fallback must be an action or 'drop'")

    def element(item: Any, where: str) -> None:
        if not isinstance(item, Mapping):
            errors.append(f"{where}: element is not an object")
            return
        kind = item.get("type")
        if kind not in _ELEMENTS:
            errors.append(f"{where}: unknown element {kind!r}")
            return
        if _ELEMENTS[kind] > version:
            errors.append(f"{where}: {kind} needs card version {_ELEMENTS[kind]}")
        if isinstance(item.get("id"), str):
            ids.append(item["id"])
        if kind.startswith("Input.") and not item.get("id"):
            errors.append(f"{where}: input without an id")
        if kind == "TextBlock":
            if not isinstance(item.get("text"), str) or not item["text"]:
                errors.append(f"{where}: TextBlock without text")
            else:
                texts.append(item["text"])
        if kind == "Input.ChoiceSet" and not item.get("choices"):
            errors.append(f"{where}: ChoiceSet without choices")
        for index, child in enumerate(item.get("items") or []):
            element(child, f"{where}.items[{index}]")
        for index, child in enumerate(item.get("actions") or []):
            action(child, f"{where}.actions[{index}]")

    for index, item in enumerate(card.get("body") or []):
        element(item, f"body[{index}]")
    for index, item in enumerate(card.get("actions") or []):
        action(item, f"actions[{index}]")
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        errors.append(f"duplicate ids {sorted(duplicates)}")
    entities = (card.get("msteams") or {}).get("entities") or []
    declared = {e.get("text") for e in entities if isinstance(e, Mapping)}
    for tag in {m for text in texts for m in _AT.findall(text)}:
        if tag not in declared:
            errors.append(f"mention {tag} has no entity")
    for entity in entities:
        mentioned = entity.get("mentioned") if isinstance(entity, Mapping) else None
        if not isinstance(mentioned, Mapping) or not mentioned.get("id"):
            errors.append("mention entity without mentioned.id")
    return errors


def size_of(activity: Any) -> int:
    """Measure a payload as Teams does: UTF-16 bytes of its JSON."""
    return len(json.dumps(activity, ensure_ascii=False).encode("utf-16-le"))


class FakeBotConnector(FakeServer):
    """A loopback Bot Connector: conversations, activities, a token endpoint and Graph chats."""

    def __init__(self, *, size_limit: int = SIZE_LIMIT_BYTES) -> None:
        super().__init__()
        self.size_limit = size_limit
        self.calls: list[Call] = []
        self.posted: list[Posted] = []
        self.conversations: dict[str, dict[str, Any]] = {}
        # The 1:1 conversation Teams keeps per (tenant, user): asking again returns the same id.
        self._personal: dict[tuple[str, str], str] = {}
        self._faults: list[Fault] = []
        self._ids = itertools.count(1_700_000_000_000)
        self._conversation_ids = itertools.count(1)
        self.blocked: set[str] = set()
        # Team rosters: team id -> Entra object id -> 29: id.
        self.rosters: dict[str, dict[str, str]] = {}
        # Display names by Entra object id, as the roster reports them.
        self.member_names: dict[str, str] = {}
        self.graph_calls: list[Call] = []
        self.graph_enabled = True
        # Mailbox settings by Entra object id, as GET /users/{id}/mailboxSettings has them; the
        # fake answers the workingHours part of them.
        self.mailboxes: dict[str, dict[str, Any]] = {}
        # False: the app lacks MailboxSettings.Read, and Graph says so with a 403.
        self.mailbox_access = True
        # A status Graph answers instead of messages or working hours (e.g. 503), once per entry.
        self.graph_failures: list[int] = []
        self.by_conversation: dict[str, list[Posted]] = defaultdict(list)
        # When set, the token endpoint refuses any other client secret, as Entra does.
        self.accepted_secret: str | None = None
        # When set, the token endpoint knows only these tenants (plus botframework.com).
        self.tenants: set[str] | None = None

    # --- lifecycle ----------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        """Mount the Bot Connector, the token endpoint and the Graph messages of chats."""
        app.router.add_post("/v3/conversations", self._create_conversation)
        app.router.add_post("/v3/conversations/{cid}/activities", self._send)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._reply)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._update)
        app.router.add_get("/v3/conversations/{cid}/members/{mid}", self._member)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/graph/v1.0/chats/{chat}/messages", self._graph_messages)
        app.router.add_get(
            "/graph/v1.0/users/{user}/mailboxSettings/workingHours", self._working_hours
        )

    @property
    def base_url(self) -> str:
        """The fake's root, ``http://127.0.0.1:port``; the login URL tests hand the adapter."""
        return self.root_url

    @property
    def service_url(self) -> str:
        """The serviceUrl to put in conversation references."""
        return self.base_url + "/"

    @property
    def graph_url(self) -> str:
        """The Microsoft Graph base URL the fake answers under."""
        return self.base_url + "/graph/v1.0/"

    # --- test controls ---------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        code: str = "",
        *,
        operation: str | None = None,
        retry_after: float | None = None,
        times: int = 1,
        deliver: bool = False,
        drop: bool = False,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status``.

        ``operation`` is ``create``, ``send`` or ``update`` (None: any). With ``deliver`` the
        message is stored first and only the answer fails, as when a gateway times out after
        Teams accepted the message. With ``drop`` (and ``deliver``) the connection is closed
        instead of answered.
        """
        default = {
            403: "BotNotInConversationRoster",
            404: "ConversationNotFound",
            412: "PreconditionFailed",
            413: "MessageSizeTooBig",
            429: "Throttled",
        }.get(status, "ServiceError")
        self._faults.append(
            Fault(status, code or default, operation, retry_after, times, deliver, drop)
        )

    def calls_to(self, operation: str) -> list[Call]:
        """Return the calls of one kind: ``create``, ``send`` or ``update``."""
        return [c for c in self.calls if _operation(c.method, c.path) == operation]

    def messages_in(self, conversation_id: str) -> list[Posted]:
        """Return the messages the connector holds for a conversation."""
        return list(self.by_conversation.get(conversation_id, []))

    # --- handlers ------------------------------------------------------------------

    async def _record(self, request: web.Request) -> tuple[Call, Any]:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        call = Call(request.method, request.path, body, dict(request.headers))
        self.calls.append(call)
        return call, body

    def _fault_for(self, operation: str) -> Fault | None:
        for fault in self._faults:
            if fault.operation in (None, operation):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    @staticmethod
    def _error(
        status: int, code: str, message: str, retry_after: float | None = None
    ) -> web.Response:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
        return web.json_response(
            {"error": {"code": code, "message": message}}, status=status, headers=headers
        )

    def _check(self, body: Any) -> web.Response | None:
        if not isinstance(body, Mapping) or body.get("type") != "message":
            return self._error(400, "BadArgument", "activity must be a message")
        if size_of(body) > self.size_limit:
            return self._error(413, "MessageSizeTooBig", "Message size too big")
        errors = card_errors(body)
        if errors:
            return self._error(400, "BadArgument", "; ".join(errors))
        return None

    async def _create_conversation(self, request: web.Request) -> web.Response:
        _, body = await self._record(request)
        fault = self._fault_for("create")
        if fault is not None:
            return self._error(fault.status, fault.code, "canned", fault.retry_after)
        members = (body or {}).get("members") or []
        tenant = ((body or {}).get("channelData") or {}).get("tenant", {}).get("id") or (
            body or {}
        ).get("tenantId")
        if not members or not tenant:
            return self._error(400, "BadArgument", "members and tenant id are required")
        user = str(members[0].get("id", ""))
        if user in self.blocked:
            return self._error(403, "ConversationBlockedByUser", "User blocked the bot")
        key = (str(tenant), user)
        if key not in self._personal:
            cid = f"a:fake{next(self._conversation_ids)}"
            self._personal[key] = cid
            self.conversations[cid] = {"tenant": tenant, "user": user}
        return web.json_response({"id": self._personal[key]}, status=201)

    async def _post(self, request: web.Request, cid: str) -> web.Response:
        _, body = await self._record(request)
        fault = self._fault_for("send")
        if fault is not None and not fault.deliver:
            return self._error(fault.status, fault.code, "canned", fault.retry_after)
        problem = self._check(body)
        if problem is not None:
            return problem
        if self.conversations.get(cid, {}).get("user") in self.blocked:
            return self._error(403, "ConversationBlockedByUser", "User blocked the bot")
        activity_id = str(next(self._ids))
        posted = Posted(cid, activity_id, dict(body), [dict(body)])
        self.posted.append(posted)
        self.by_conversation[cid].append(posted)
        if fault is not None and fault.drop and request.transport is not None:
            # The message is in; the bot never hears so.
            request.transport.close()
            raise ConnectionResetError("answer dropped")
        if fault is not None:
            return self._error(fault.status, fault.code, "answer lost", fault.retry_after)
        return web.json_response({"id": activity_id}, status=201)

    async def _send(self, request: web.Request) -> web.Response:
        return await self._post(request, request.match_info["cid"])

    async def _reply(self, request: web.Request) -> web.Response:
        return await self._post(request, request.match_info["cid"])

    async def _update(self, request: web.Request) -> web.Response:
        _, body = await self._record(request)
        fault = self._fault_for("update")
        if fault is not None:
            return self._error(fault.status, fault.code, "canned", fault.retry_after)
        problem = self._check(body)
        if problem is not None:
            return problem
        cid, aid = request.match_info["cid"], request.match_info["aid"]
        for posted in self.by_conversation.get(cid, []):
            if posted.activity_id == aid:
                posted.activity = dict(body)
                posted.versions.append(dict(body))
                return web.json_response({"id": aid})
        return self._error(404, "ActivityNotFoundInConversation", "unknown activity")

    async def _member(self, request: web.Request) -> web.Response:
        await self._record(request)
        roster = self.rosters.get(request.match_info["cid"])
        if roster is None:
            return self._error(404, "ConversationNotFound", "unknown conversation")
        wanted = request.match_info["mid"]
        for aad, user_id in roster.items():
            if wanted in (aad, user_id):
                name = self.member_names.get(aad, "")
                return web.json_response({"id": user_id, "aadObjectId": aad, "name": name})
        return self._error(404, "MemberNotFoundInConversation", "member not found")

    async def _token(self, request: web.Request) -> web.Response:
        await self._record(request)
        form = await request.post()
        if form.get("grant_type") != "client_credentials" or not form.get("client_id"):
            return web.json_response({"error": "invalid_request"}, status=400)
        tenant = request.match_info["tenant"]
        if self.tenants is not None and tenant not in self.tenants | {"botframework.com"}:
            return web.json_response(
                {
                    "error": "invalid_request",
                    "error_description": f"AADSTS90002: Tenant '{tenant}' not found.",
                },
                status=400,
            )
        if self.accepted_secret is not None and form.get("client_secret") != self.accepted_secret:
            return web.json_response(
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                },
                status=401,
            )
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3599, "access_token": "fake-connector-token"}
        )

    async def _graph_messages(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.graph_calls.append(Call(request.method, request.path, raw, dict(request.headers)))
        if self.graph_failures:
            status = self.graph_failures.pop(0)
            return web.json_response(
                {"error": {"code": "ServiceUnavailable", "message": "try later"}}, status=status
            )
        if not self.graph_enabled:
            return web.json_response(
                {"error": {"code": "Forbidden", "message": "Missing role permissions"}},
                status=403,
            )
        chat = request.match_info["chat"]
        messages = []
        for posted in reversed(self._posted_in_chat(chat)):
            attachments = [
                # Graph returns card content as a JSON string, not an object.
                {
                    "id": str(index),
                    "contentType": a.get("contentType"),
                    "content": json.dumps(a.get("content")),
                }
                for index, a in enumerate(posted.activity.get("attachments") or [])
            ]
            messages.append(
                {
                    "id": posted.activity_id,
                    "messageType": "message",
                    "from": {"application": {"id": BOT_APP_ID}},
                    "body": {"contentType": "html", "content": ""},
                    "attachments": attachments,
                }
            )
        top = int(request.query.get("$top", "50"))
        return web.json_response({"value": messages[:top]})

    def _posted_in_chat(self, chat: str) -> list[Posted]:
        # Graph names a bot's 1:1 chat 19:<user aad id>_<app id>@unq.gbl.spaces; the fake keeps
        # personal conversations under that name too, so both ids find the same messages.
        found = list(self.by_conversation.get(chat, []))
        for cid, meta in self.conversations.items():
            if meta.get("graph_chat") == chat:
                found.extend(self.by_conversation.get(cid, []))
        return found

    def set_working_hours(
        self,
        aad_object_id: str,
        days: list[str],
        start: str,
        end: str,
        zone: str = "W. Europe Standard Time",
    ) -> None:
        """Give a person Outlook working hours (``days`` as Graph names them, times HH:MM)."""
        self.mailboxes[aad_object_id] = {
            "timeZone": zone,
            "language": {"locale": "en-US", "displayName": "English (United States)"},
            "workingHours": {
                "daysOfWeek": days,
                "startTime": f"{start}:00.0000000",
                "endTime": f"{end}:00.0000000",
                "timeZone": {"name": zone},
            },
        }

    async def _working_hours(self, request: web.Request) -> web.Response:
        self.graph_calls.append(Call(request.method, request.path, None, dict(request.headers)))
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return web.json_response(
                {"error": {"code": "InvalidAuthenticationToken", "message": "empty"}}, status=401
            )
        if self.graph_failures:
            status = self.graph_failures.pop(0)
            return web.json_response(
                {"error": {"code": "TooManyRequests", "message": "try later"}}, status=status
            )
        if not self.mailbox_access:
            return web.json_response(
                {"error": {"code": "ErrorAccessDenied", "message": "Access is denied."}},
                status=403,
            )
        found = self.mailboxes.get(request.match_info["user"])
        if found is None:
            return web.json_response(
                {"error": {"code": "MailboxNotEnabledForRESTAPI", "message": "no mailbox"}},
                status=404,
            )
        user = request.match_info["user"]
        context = f"https://graph.microsoft.com/v1.0/$metadata#users('{user}')/mailboxSettings"
        return web.json_response(
            {"@odata.context": f"{context}/workingHours", **found.get("workingHours", {})}
        )

    def name_graph_chat(self, conversation_id: str, chat_id: str) -> None:
        """Tell the fake which Graph chat id a connector conversation has."""
        self.conversations.setdefault(conversation_id, {})["graph_chat"] = chat_id


def _operation(method: str, path: str) -> str:
    parts = path.strip("/").split("/")
    if method == "POST" and parts == ["v3", "conversations"]:
        return "create"
    if method == "POST" and len(parts) >= 4 and parts[3] == "activities":
        return "send"
    if method == "PUT" and len(parts) == 5 and parts[3] == "activities":
        return "update"
    return "other"
