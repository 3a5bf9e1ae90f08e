"""Ask Entra for the bot's app-only tokens, and Microsoft Graph for what the bot may read.

One client-credentials request serves every caller: ``doctor`` (for the Bot Framework scope, to
check the app's secret), and ``GraphTokens`` (for the Graph scope, per tenant, cached until
shortly before expiry), which the in-doubt chat lookup and the Outlook working hours share.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.settings import Settings

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
TIMEOUT_SECONDS = 10.0
# A cached token this close to expiry is renewed first.
RENEW_BEFORE_SECONDS = 60.0


@dataclass(frozen=True)
class TokenAnswer:
    """What the token endpoint answered: status, body and its Date header."""

    status: int
    body: Any
    date: str | None

    @property
    def token(self) -> str | None:
        """Return the access token, or None when the endpoint refused."""
        if self.status == 200 and isinstance(self.body, dict) and self.body.get("access_token"):
            return str(self.body["access_token"])
        return None

    @property
    def lifetime(self) -> float:
        """Return how many seconds the token lives, as the endpoint says."""
        raw = self.body.get("expires_in", 300) if isinstance(self.body, dict) else 300
        try:
            return float(raw)
        except (TypeError, ValueError):
            return 300.0


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


async def request_token(
    login_url: str,
    authority: str,
    *,
    app_id: str,
    app_password: str,
    scope: str,
) -> TokenAnswer:
    """Ask ``authority`` (a tenant id or ``botframework.com``) for an app-only token.

    Raises ``aiohttp.ClientError``, ``OSError`` or ``TimeoutError`` when the endpoint cannot
    be reached; a refusal is an answer, with its status and body.
    """
    url = f"{_slash(login_url)}{quote(authority, safe='')}/oauth2/v2.0/token"
    form = {
        "grant_type": "client_credentials",
        "client_id": app_id,
        "client_secret": app_password,
        "scope": scope,
    }
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)) as session,
        session.post(url, data=form) as response,
    ):
        body: Any = None
        with contextlib.suppress(aiohttp.ContentTypeError, ValueError):
            body = await response.json(content_type=None)
        return TokenAnswer(response.status, body, response.headers.get("Date"))


class GraphError(LookupError):
    """Raised when Graph (or its token endpoint) refuses or fails a request."""

    def __init__(self, what: str, status: int, code: str = "") -> None:
        super().__init__(f"{what} answered {status}{' ' + code if code else ''}")
        self.what = what
        self.status = status
        self.code = code

    @property
    def lasting(self) -> bool:
        """Tell whether asking again later cannot help (no permission, no such thing)."""
        return self.status in (400, 401, 403, 404)

    @property
    def denied(self) -> bool:
        """Tell whether the app lacks a permission (or consent) rather than the thing missing."""
        return self.status in (401, 403) or (self.what == "token endpoint" and self.status == 400)


class GraphTokens:
    """App-only Graph tokens per tenant, fetched once and renewed shortly before they expire."""

    def __init__(
        self,
        *,
        app_id: str,
        app_password: str,
        login_url: str = "https://login.microsoftonline.com/",
    ) -> None:
        self.app_id = app_id
        self._password = app_password
        self.login_url = _slash(login_url)
        self._tokens: dict[str, tuple[str, float]] = {}
        # Callers that need a tenant's token at once wait for one request instead of each asking.
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def token(self, tenant_id: str) -> str:
        """Return a Graph token for ``tenant_id``; raise ``GraphError`` when refused."""
        async with self._locks[tenant_id]:
            return await self._token(tenant_id)

    async def _token(self, tenant_id: str) -> str:
        cached = self._tokens.get(tenant_id)
        if cached is not None and cached[1] > time.monotonic() + RENEW_BEFORE_SECONDS:
            return cached[0]
        answer = await request_token(
            self.login_url,
            tenant_id,
            app_id=self.app_id,
            app_password=self._password,
            scope=GRAPH_SCOPE,
        )
        token = answer.token
        if token is None:
            error = answer.body.get("error") if isinstance(answer.body, dict) else None
            raise GraphError("token endpoint", answer.status, str(error or ""))
        self._tokens[tenant_id] = (token, time.monotonic() + answer.lifetime)
        return token


class GraphClient:
    """Read JSON from Microsoft Graph with an app-only token of the right tenant."""

    def __init__(self, tokens: GraphTokens, graph_url: str) -> None:
        self.tokens = tokens
        self.graph_url = _slash(graph_url)

    @property
    def app_id(self) -> str:
        """Return the app the tokens are issued to."""
        return self.tokens.app_id

    async def get(
        self, tenant_id: str, path: str, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """GET ``path`` (relative to the Graph URL); raise ``GraphError`` unless it is a 200."""
        token = await self.tokens.token(tenant_id)
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(
                self.graph_url + path,
                params=params,
                headers={"Authorization": f"Bearer {token}"},
            ) as response,
        ):
            body: Any = None
            with contextlib.suppress(aiohttp.ContentTypeError, ValueError):
                body = await response.json(content_type=None)
            if response.status != 200 or not isinstance(body, dict):
                raise GraphError("graph", response.status, _error_code(body))
            return body


def _error_code(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("code") or "") if isinstance(error, dict) else ""


def graph_client(settings: Settings) -> GraphClient | None:
    """Return a Graph client for the bot's app, or None when the app has no client secret."""
    if not settings.microsoft_app_id or not settings.microsoft_app_password:
        return None
    tokens = GraphTokens(
        app_id=settings.microsoft_app_id,
        app_password=settings.microsoft_app_password,
        login_url=settings.microsoft_login_url,
    )
    return GraphClient(tokens, settings.microsoft_graph_url)


__all__ = [
    "GRAPH_SCOPE",
    "GraphClient",
    "GraphError",
    "GraphTokens",
    "TokenAnswer",
    "graph_client",
    "request_token",
]
