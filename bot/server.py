"""Serve the service's own HTTP endpoints: health, readiness and metrics."""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import text

from nudges.store.database import Database
from nudges.store.migrate import schema_state

logger = logging.getLogger(__name__)

DATABASE_KEY = web.AppKey("database", Database)


async def healthz(_request: web.Request) -> web.Response:
    """Answer while the process is alive."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Answer 200 when the database is reachable and this code may run on its schema.

    That is a schema at this release's head, or a newer one whose floor (written by the newer
    release's migration) says this release still runs on it: the body says which.
    """
    db = request.app[DATABASE_KEY]
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        state = await schema_state(db.engine)
    except Exception as exc:
        logger.warning("readiness check failed: %s", exc)
        return web.json_response(
            {"status": "unavailable", "reason": "database unreachable"}, status=503
        )
    body: dict[str, object] = {
        "schema": state.revision,
        "code": state.head,
        "schema_newer": state.newer,
    }
    if state.newer:
        body["safe"] = state.runnable
        body["runs_from"] = state.floor
    if not state.runnable:
        return web.json_response(
            {"status": "unavailable", "reason": state.describe(), **body}, status=503
        )
    if state.newer:
        body["note"] = state.describe()
    return web.json_response({"status": "ready", **body})


async def metrics(_request: web.Request) -> web.Response:
    """Expose Prometheus metrics."""
    body = generate_latest(REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_web_app(db: Database) -> web.Application:
    """Build the aiohttp application with the service's own routes; platforms add theirs."""
    app = web.Application()
    app[DATABASE_KEY] = db
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app
