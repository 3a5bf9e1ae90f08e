"""Lay out the dashboard as one HTML page: plain markup, inline SVG, no script, no outside asset."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import escape

from bot.dashboard.charts import OUTCOME_COLOURS, ScorePoint, score_chart, stacked_bar
from nudges.domain import LOCALES, Dimension
from nudges.i18n import format_day, has, t
from nudges.people.directory import workspace_label
from nudges.pulse.dashboard import TeamPanel
from nudges.pulse.messages import dimension_label, rate_text, score_text
from nudges.store.org import Workspace

_MENTION = re.compile(r"<@([A-Za-z0-9:_\-]+)>")

STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2125;
background:#f6f7f9}
header{background:#283593;color:#fff;padding:12px 16px;display:flex;flex-wrap:wrap;gap:12px;
align-items:center;justify-content:space-between}
header h1{font-size:19px;margin:0}header a{color:#fff}header form{display:flex;gap:8px}
main{max-width:1100px;margin:0 auto;padding:12px}
.explain{color:#4a5058;font-size:13px}
section.team{background:#fff;border-radius:8px;box-shadow:0 1px 2px #0002;padding:12px 16px;
margin:14px 0}
section.team h2{font-size:17px;margin:0 0 4px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px}
figure{margin:0}figcaption{font-weight:600;font-size:14px}
.chart{width:100%;height:auto}.chart .grid{stroke:#e3e6ea}.chart .axis{font-size:10px;fill:#6b7178}
.chart .line{fill:none;stroke:#283593;stroke-width:2}.chart .dot{fill:#283593}
.muted{color:#6b7178;font-size:13px}ul{padding-left:18px}
.legend span{display:inline-block;margin-right:10px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:-1px}
"""


# Platform id -> the name the platform shows (None until a profile was read), for everyone
# the workspace still holds; an id missing from it belongs to someone erased.
Names = Mapping[str, str | None]


def person_name(locale: str, external_id: str, names: Names) -> str:
    """Name a person: their display name, else their platform id; "erased" once erased."""
    if external_id not in names:
        return t(locale, "dashboard.erased")
    return names[external_id] or external_id


def plain_mentions(text: str, locale: str = "en", names: Names | None = None) -> str:
    """Show ``<@ID>`` mentions as @name (or the plain id when no names are given)."""
    if names is None:
        return _MENTION.sub(lambda m: f"@{m.group(1)}", text)
    return _MENTION.sub(lambda m: "@" + person_name(locale, m.group(1), names), text)


def _team_title(locale: str, panel: TeamPanel, names: Names) -> str:
    if panel.team:
        return t(locale, "dashboard.team_named", team=panel.team)
    manager = person_name(locale, panel.manager_ids[0], names) if panel.manager_ids else "?"
    return t(locale, "dashboard.team_reports", manager=manager)


def _label(locale: str, dimension: Dimension | None) -> str:
    return dimension_label(locale, dimension)


def _trends(locale: str, panel: TeamPanel) -> str:
    figures = []
    for trend in panel.trends:
        label = _label(locale, trend.dimension)
        key = trend.dimension.value if trend.dimension else "own"
        if not trend.points:
            figures.append(
                f'<figure data-dimension="{key}"><figcaption>{escape(label)}</figcaption>'
                f'<p class="muted">{escape(t(locale, "dashboard.only_hidden"))}</p></figure>'
            )
            continue
        points = [
            ScorePoint(format_day(locale, p.closes_at.date()), p.score, p.answered)
            for p in trend.points
        ]
        last = trend.points[-1]
        caption = t(
            locale,
            "dashboard.last_point",
            score=score_text(locale, last.score),
            answered=last.answered,
            invited=last.invited,
            rate=rate_text(locale, last.participation),
        )
        figures.append(
            f'<figure data-dimension="{key}"><figcaption>{escape(label)}</figcaption>'
            f"{score_chart(points, t(locale, 'dashboard.chart_title', dimension=label))}"
            f'<p class="muted">{escape(caption)}</p></figure>'
        )
    if not figures:
        return f'<p class="muted">{escape(t(locale, "dashboard.no_polls"))}</p>'
    return f'<div class="grid">{"".join(figures)}</div>'


def _hidden(locale: str, panel: TeamPanel) -> str:
    if not panel.hidden:
        return ""
    items = "".join(
        "<li>"
        + escape(
            t(
                locale,
                "dashboard.hidden_poll",
                dimension=_label(locale, poll.dimension),
                day=format_day(locale, poll.closes_at.date()),
                answered=poll.answered,
                threshold=poll.threshold,
            )
        )
        + "</li>"
        for poll in panel.hidden
    )
    return f'<ul class="hidden-polls muted">{items}</ul>'


def _kind_label(locale: str, kind: str) -> str:
    key = f"dashboard.kind.{kind}"
    return t(locale, key) if has(key) else kind


def _nudges(locale: str, panel: TeamPanel, names: Names) -> str:
    title = f"<h3>{escape(t(locale, 'dashboard.nudges_title'))}</h3>"
    if not panel.outcomes:
        return title + f'<p class="muted">{escape(t(locale, "dashboard.no_nudges"))}</p>'
    outcome_labels = {o: t(locale, f"dashboard.outcome.{o}") for o in OUTCOME_COLOURS}
    rows = []
    for kind, counts in sorted(panel.outcomes.items()):
        name = t(
            locale,
            "dashboard.outcome_title",
            kind=_kind_label(locale, kind),
            total=sum(counts.values()),
        )
        legend = "".join(
            f'<span data-outcome="{o}"><i class="o-{o}"></i>{escape(outcome_labels[o])}: '
            f"{counts[o]}</span>"
            for o in outcome_labels
            if counts.get(o)
        )
        rows.append(
            f'<figure data-kind="{escape(kind)}"><figcaption>{escape(name)}</figcaption>'
            f"{stacked_bar(dict(counts), outcome_labels, name)}"
            f'<div class="legend">{legend}</div></figure>'
        )
    reasons = "".join(
        f"<li>{escape(plain_mentions(t(locale, key, **params), locale, names))} ({count}×)</li>"
        for key, (count, params) in sorted(panel.reasons.items(), key=lambda kv: -kv[1][0])
        if has(key)
    )
    why = (
        f"<h3>{escape(t(locale, 'dashboard.reasons_title'))}</h3><ul>{reasons}</ul>"
        if reasons
        else ""
    )
    return title + f'<div class="grid">{"".join(rows)}</div>' + why


def render_page(
    locale: str,
    workspace: Workspace,
    workspaces: Sequence[Workspace],
    panels: Sequence[TeamPanel],
    threshold: int,
    names: Names,
) -> str:
    """Render the whole page for one workspace, naming people by their display names."""
    options = "".join(
        f'<option value="{w.id}"{" selected" if w.id == workspace.id else ""}>'
        f"{escape(workspace_label(w))}</option>"
        for w in workspaces
    )
    picker = (
        f'<form method="get" action="/dashboard"><label>{escape(t(locale, "dashboard.workspace"))} '
        f'<select name="workspace">{options}</select></label>'
        f'<input type="hidden" name="lang" value="{locale}"><button>OK</button></form>'
        if len(workspaces) > 1
        else ""
    )
    languages = " ".join(
        f'<a href="/dashboard?workspace={workspace.id}&amp;lang={lang}" lang="{lang}">'
        f"{lang.upper()}</a>"
        for lang in LOCALES
    )
    sections = []
    for panel in panels:
        managers = t(
            locale,
            "dashboard.managers",
            managers=", ".join(person_name(locale, m, names) for m in panel.manager_ids),
        )
        open_note = (
            f'<p class="muted">{escape(t(locale, "dashboard.open_polls", count=panel.open_polls))}'
            "</p>"
            if panel.open_polls
            else ""
        )
        sections.append(
            f'<section class="team" data-team="{escape(panel.key)}">'
            f"<h2>{escape(_team_title(locale, panel, names))}</h2>"
            f'<p class="muted">{escape(managers)}</p>{open_note}'
            f"{_trends(locale, panel)}{_hidden(locale, panel)}{_nudges(locale, panel, names)}"
            "</section>"
        )
    if not sections:
        sections.append(f'<p class="muted">{escape(t(locale, "dashboard.no_teams"))}</p>')
    colours = "".join(f".o-{o}{{background:{c}}}" for o, c in OUTCOME_COLOURS.items())
    title = escape(t(locale, "dashboard.title"))
    shown = t(locale, "dashboard.showing", workspace=workspace_label(workspace))
    return (
        f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Nudgebot · {title}</title><style>{STYLE}{colours}</style></head><body>"
        f"<header><h1>Nudgebot · {title}</h1>{picker}<nav>{languages}</nav></header><main>"
        f'<p class="shown-workspace">{escape(shown)}</p>'
        f'<p class="explain">{escape(t(locale, "dashboard.explain", threshold=threshold))}</p>'
        f"{''.join(sections)}</main></body></html>"
    )


def render_notice(locale: str, key: str, **params: object) -> str:
    """Render a small page with one sentence (sign-in needed, expired link, not an admin)."""
    text = escape(t(locale, key, **params))
    return (
        f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Nudgebot</title><style>{STYLE}</style></head><body><main>"
        f'<p class="notice">{text}</p></main></body></html>'
    )
