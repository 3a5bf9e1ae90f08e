"""Mount the dashboard in the shared aiohttp server: the page, its data, and the sign-in link."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot.dashboard.access import (
    COOKIE,
    LINK_MINUTES,
    LOCAL,
    SESSION_HOURS,
    Passes,
    Viewer,
)
from bot.dashboard.page import Names, person_name, render_notice, render_page
from bot.settings import is_loopback
from nudges.i18n import normalize_locale
from nudges.people import directory
from nudges.ports import Clock
from nudges.pulse.dashboard import TeamPanel, workspace_dashboard
from nudges.store.database import Database
from nudges.store.org import Person, Workspace

logger = logging.getLogger(__name__)

PAGE_PATH = "/dashboard"
DATA_PATH = "/dashboard/data.json"
SIGNIN_PATH = "/dashboard/signin"


def signin_link(passes: Passes, public_url: str, workspace_id: int, person: str) -> str:
    """Return a sign-in link good for ``LINK_MINUTES`` for one admin of one workspace."""
    token = passes.issue(workspace_id, person, "link")
    return f"{public_url.rstrip('/')}{SIGNIN_PATH}?token={token}"


class _Refused(Exception):
    """Raised with the page to show instead of the dashboard."""

    def __init__(self, status: int, key: str, **params: object) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.params = params


class Dashboard:
    """The admins' dashboard; ``local_ok`` lets this machine in without a sign-in."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        passes: Passes,
        *,
        public_url: str,
        local_ok: bool,
    ) -> None:
        self.db = db
        self.clock = clock
        self.passes = passes
        self.public_url = public_url.rstrip("/")
        self.local_ok = local_ok

    def add_routes(self, app: web.Application) -> None:
        """Mount the page, its data and the sign-in link."""
        app.router.add_get(PAGE_PATH, self.page)
        app.router.add_get(DATA_PATH, self.data)
        app.router.add_get(SIGNIN_PATH, self.signin)

    link_minutes = LINK_MINUTES

    def link_for(self, workspace_id: int, person_external_id: str) -> str:
        """Return a sign-in link good for ``LINK_MINUTES`` for one admin."""
        return signin_link(self.passes, self.public_url, workspace_id, person_external_id)

    async def signin(self, request: web.Request) -> web.Response:
        """Trade a sign-in link for a session cookie, then show the dashboard."""
        locale = _locale(request)
        viewer = self.passes.read(request.query.get("token", ""), "link")
        if viewer is None:
            return _notice(locale, 403, "dashboard.signin_expired")
        response = web.HTTPSeeOther(f"{PAGE_PATH}?workspace={viewer.workspace_id}")
        assert viewer.workspace_id is not None and viewer.person_external_id is not None
        response.set_cookie(
            COOKIE,
            self.passes.issue(viewer.workspace_id, viewer.person_external_id, "session"),
            max_age=SESSION_HOURS * 3600,
            httponly=True,
            samesite="Strict",
            secure=self.public_url.startswith("https://"),
            path=PAGE_PATH,
        )
        raise response

    async def page(self, request: web.Request) -> web.Response:
        """Render the dashboard of one workspace as HTML."""
        try:
            workspace, workspaces, panels, locale = await self._load(request)
            names = await self._names(workspace)
        except _Refused as refused:
            return _notice(_locale(request), refused.status, refused.key, **refused.params)
        threshold = directory.policy_of(workspace).anonymity_threshold
        html = render_page(locale, workspace, workspaces, panels, threshold, names)
        return web.Response(text=html, content_type="text/html", headers=_NO_STORE)

    async def data(self, request: web.Request) -> web.Response:
        """Return the same figures as JSON, for a spreadsheet or a test."""
        try:
            workspace, _, panels, locale = await self._load(request)
            names = await self._names(workspace)
        except _Refused as refused:
            return web.json_response({"error": refused.key}, status=refused.status)
        body = {
            "workspace": {
                "id": workspace.id,
                "platform": workspace.platform,
                "name": workspace.name or workspace.external_id,
            },
            "threshold": directory.policy_of(workspace).anonymity_threshold,
            "teams": [_panel_json(p, locale, names) for p in panels],
        }
        return web.json_response(body, headers=_NO_STORE, dumps=_dumps)

    async def _names(self, workspace: Workspace) -> dict[str, str | None]:
        """Return the display name of everyone the workspace holds, by platform id."""
        try:
            async with self.db.session() as session:
                rows = await session.execute(
                    select(Person.external_id, Person.display_name).where(
                        Person.workspace_id == workspace.id
                    )
                )
                return {external_id: name for external_id, name in rows}
        except SQLAlchemyError:
            logger.warning("dashboard: the database did not answer")
            raise web.HTTPServiceUnavailable(text="database unavailable; try again") from None

    def _viewer(self, request: web.Request) -> Viewer:
        cookie = request.cookies.get(COOKIE)
        if cookie:
            viewer = self.passes.read(cookie, "session")
            if viewer is not None:
                return viewer
        # A request a proxy forwarded came from elsewhere, whatever its socket says.
        forwarded = "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
        if self.local_ok and not forwarded and is_loopback(request.remote):
            return LOCAL
        raise _Refused(401, "dashboard.signin_needed")

    async def _load(
        self, request: web.Request
    ) -> tuple[Workspace, list[Workspace], list[TeamPanel], str]:
        viewer = self._viewer(request)
        wanted = request.query.get("workspace", "")
        try:
            async with self.db.session() as session:
                workspaces = list(
                    (await session.scalars(select(Workspace).order_by(Workspace.id))).all()
                )
                if not viewer.local:
                    workspaces = [w for w in workspaces if w.id == viewer.workspace_id]
                    person = await directory.find_person(
                        session, viewer.workspace_id or 0, viewer.person_external_id or ""
                    )
                    if person is None or not person.is_admin:
                        raise _Refused(403, "dashboard.not_admin")
                if not workspaces:
                    raise _Refused(404, "dashboard.no_teams")
                workspace = _pick(workspaces, wanted)
                panels = await workspace_dashboard(session, workspace, self.clock.now())
        except SQLAlchemyError:
            logger.warning("dashboard: the database did not answer")
            raise web.HTTPServiceUnavailable(text="database unavailable; try again") from None
        locale = normalize_locale(request.query.get("lang")) or workspace.default_locale
        return workspace, workspaces, panels, locale


_NO_STORE = {"Cache-Control": "no-store"}


def _pick(workspaces: list[Workspace], wanted: str) -> Workspace:
    if not wanted:
        return workspaces[0]
    for workspace in workspaces:
        if str(workspace.id) == wanted:
            return workspace
    raise _Refused(404, "dashboard.bad_workspace", workspace=wanted[:40])


def _locale(request: web.Request) -> str:
    header = request.headers.get("Accept-Language", "")
    return normalize_locale(request.query.get("lang")) or normalize_locale(header[:5]) or "en"


def _notice(locale: str, status: int, key: str, **params: object) -> web.Response:
    return web.Response(
        text=render_notice(locale, key, **params),
        status=status,
        content_type="text/html",
        headers=_NO_STORE,
    )


def _panel_json(panel: TeamPanel, locale: str, names: Names) -> dict[str, Any]:
    return {
        "key": panel.key,
        "team": panel.team,
        "managers": list(panel.manager_ids),
        "manager_names": [person_name(locale, m, names) for m in panel.manager_ids],
        "open_polls": panel.open_polls,
        "trends": [
            {
                "dimension": trend.dimension.value if trend.dimension else "own",
                "hidden_polls": trend.hidden,
                "points": [asdict(point) for point in trend.points],
            }
            for trend in panel.trends
        ],
        "hidden_polls": [asdict(poll) for poll in panel.hidden],
        "outcomes": {kind: dict(counts) for kind, counts in panel.outcomes.items()},
        "reasons": {key: count for key, (count, _params) in panel.reasons.items()},
    }


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


__all__ = ["LINK_MINUTES", "Dashboard", "signin_link"]
