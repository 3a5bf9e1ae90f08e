"""With an app id, /api/messages runs nothing without a valid Bot Framework token.

The tokens are signed by our own RSA key, published the way login.botframework.com publishes
its keys (an OpenID document whose jwks_uri lists keys endorsed for msteams), and botbuilder's
``ConfigurationBotFrameworkAuthentication`` is pointed at that document. botbuilder fetches keys
with blocking ``requests``, so the key server runs in a thread, not on the test's event loop.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from bot.teams.adapter import AuthConfig
from nudges.store.database import Database
from tests.bot.teams.inbound_harness import TeamsHarness, running_teams, sample
from tests.fakes.bot_connector import FakeBotConnector

APP_ID = "c82078e5-d7c2-0c3e-f3f3-e7362a22947f"
ISSUER = "https://api.botframework.com"
KID = "nudgebot-test-key"


class KeyServer:
    """Serve an OpenID configuration and its key set on loopback, from a thread."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": KID, "use": "sig", "endorsements": ["msteams"]})
        self.keys = {"keys": [jwk]}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/openid":
                    body = {"issuer": ISSUER, "jwks_uri": f"{server.url}/keys"}
                else:
                    body = server.keys
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def token(self, service_url: str, **claims: Any) -> str:
        """Sign a connector-to-bot token; ``claims`` override the valid defaults."""
        now = int(time.time())
        payload = {
            "aud": APP_ID,
            "iss": ISSUER,
            "nbf": now - 60,
            "exp": now + 3600,
            "serviceurl": service_url,
            **claims,
        }
        key = claims.pop("_key", None) or self.key
        payload.pop("_key", None)
        return jwt.encode(payload, key, algorithm="RS256", headers={"kid": KID})


@pytest.fixture(scope="module")
def keys() -> Iterator[KeyServer]:
    server = KeyServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()


@pytest.fixture
async def teams(db: Database, keys: KeyServer) -> AsyncIterator[TeamsHarness]:
    async with FakeBotConnector() as connector:
        config = AuthConfig(
            APP_ID=APP_ID,
            APP_PASSWORD="client-secret",
            APP_TYPE="MultiTenant",
            APP_TENANTID=None,
            TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=f"{keys.url}/openid",
            TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=ISSUER,
            TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=f"{keys.url}/openid",
            TO_CHANNEL_FROM_BOT_LOGIN_URL=f"{connector.base_url}/botframework.com",
            TO_CHANNEL_FROM_BOT_OAUTH_SCOPE="https://api.botframework.com",
            VALIDATE_AUTHORITY=False,
        )
        async with running_teams(db, config=config, connector=connector) as harness:
            yield harness


def _install() -> dict[str, Any]:
    return sample("installationUpdate_add_personal.json")


async def _refused(teams: TeamsHarness, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = await teams.post(_install(), headers=headers)
    assert response.status == 401, await response.text()
    # Nothing ran: no conversation stored, nobody filed, nothing sent.
    assert await teams.conversations() == []
    assert teams.connector.calls == []


async def test_a_valid_token_is_accepted(teams: TeamsHarness, keys: KeyServer) -> None:
    token = keys.token(teams.connector.service_url)
    response = await teams.post(_install(), headers={"Authorization": f"Bearer {token}"})
    assert response.status == 201
    assert len(await teams.conversations()) == 1


async def test_a_missing_token_is_401(teams: TeamsHarness) -> None:
    await _refused(teams, None)


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer not-a-jwt", "Bearer a.b.c", "Basic dXNlcjpwYXNz", "Bearer x.y.z extra"],
)
async def test_a_malformed_token_is_401_not_500(teams: TeamsHarness, header: str) -> None:
    await _refused(teams, header)


async def test_an_expired_token_is_401(teams: TeamsHarness, keys: KeyServer) -> None:
    old = int(time.time()) - 7200
    token = keys.token(teams.connector.service_url, nbf=old - 3600, exp=old)
    await _refused(teams, f"Bearer {token}")


async def test_a_token_for_another_bot_is_401(teams: TeamsHarness, keys: KeyServer) -> None:
    token = keys.token(teams.connector.service_url, aud="another-app")
    await _refused(teams, f"Bearer {token}")


async def test_a_token_for_another_service_url_is_401(teams: TeamsHarness, keys: KeyServer) -> None:
    token = keys.token("https://smba.trafficmanager.net/emea/")
    await _refused(teams, f"Bearer {token}")


async def test_a_token_signed_by_another_key_is_401(teams: TeamsHarness, keys: KeyServer) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = keys.token(teams.connector.service_url, _key=other)
    await _refused(teams, f"Bearer {token}")


async def test_a_token_from_another_issuer_is_401(teams: TeamsHarness, keys: KeyServer) -> None:
    token = keys.token(teams.connector.service_url, iss="https://evil.example.com")
    await _refused(teams, f"Bearer {token}")


async def test_a_body_that_is_not_json_is_415(teams: TeamsHarness, keys: KeyServer) -> None:
    token = keys.token(teams.connector.service_url)
    response = await teams.post(
        b"type=message",
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status == 415
    assert await teams.conversations() == []


async def test_json_that_is_not_an_activity_is_400(teams: TeamsHarness, keys: KeyServer) -> None:
    token = keys.token(teams.connector.service_url)
    for body in (b"[1, 2]", b"{not json", b'{"text": "no type"}'):
        response = await teams.post(body, headers={"Authorization": f"Bearer {token}"})
        assert response.status == 400, body
