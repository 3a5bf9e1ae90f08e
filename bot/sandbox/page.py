"""Lay out the sandbox page: the people, one person's chat or Home, the clock, the controls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from importlib.resources import files

from bot.sandbox.render import inline
from nudges.i18n import t

STYLE = (files("bot.sandbox") / "sandbox.css").read_text(encoding="utf-8")

SCRIPT = (files("bot.sandbox") / "sandbox.js").read_text(encoding="utf-8")


@dataclass(frozen=True)
class PersonLink:
    """One person in the picker."""

    id: str
    name: str
    role: str
    current: bool


@dataclass(frozen=True)
class PageParts:
    """What the page shows, already rendered where it holds messages."""

    locale: str
    people: Sequence[PersonLink]
    person_id: str
    person_name: str
    view: str
    body: str
    clock_text: str
    clock_movable: bool
    flash: str = ""


def _tab(label: str, href: str, current: bool) -> str:
    mark = ' aria-current="page"' if current else ""
    return f'<a href="{escape(href)}"{mark}>{escape(label)}</a>'


def _clock(parts: PageParts) -> str:
    locale = parts.locale
    note = t(
        locale, "sandbox.clock.whole_process" if parts.clock_movable else "sandbox.clock.locked"
    )
    buttons = ""
    if parts.clock_movable:
        steps = (
            ("next_tuesday", t(locale, "sandbox.clock.next_tuesday"), ""),
            ("plus_day", t(locale, "sandbox.clock.plus_day"), ""),
            ("close_poll", t(locale, "sandbox.clock.close_poll"), "sandbox.clock.close_poll_hint"),
        )
        buttons = "".join(
            '<form method="post" action="/sandbox/clock">'
            f'<input type="hidden" name="as" value="{escape(parts.person_id)}">'
            f'<button class="btn" name="step" value="{step}" id="clock-{step}">'
            f"{escape(label)}</button>"
            + (f'<p class="hint">{escape(t(locale, hint))}</p>' if hint else "")
            + "</form>"
            for step, label, hint in steps
        )
    return (
        f'<section class="clock"><h2>{escape(t(locale, "sandbox.clock.heading"))}</h2>'
        f'<p id="clock-now">{escape(parts.clock_text)}</p>{buttons}'
        f'<p class="hint">{escape(note)}</p></section>'
    )


def render_page(parts: PageParts) -> str:
    """Lay out the whole sandbox page."""
    locale = parts.locale
    people = "".join(
        f'<li><a href="/?as={escape(p.id)}&amp;view={escape(parts.view)}" data-person="'
        f'{escape(p.id)}"{" aria-current=true" if p.current else ""}>{escape(p.name)}'
        f"<small>{escape(p.role)}</small></a></li>"
        for p in parts.people
    )
    languages = "".join(
        f'<option value="{code}"{" selected" if code == locale else ""}>{label}</option>'
        for code, label in (("en", "English"), ("nl", "Nederlands"))
    )
    me = escape(parts.person_id)
    tabs = _tab(
        t(locale, "sandbox.chat"), f"/?as={parts.person_id}&view=chat", parts.view == "chat"
    ) + _tab(t(locale, "sandbox.home"), f"/?as={parts.person_id}&view=home", parts.view == "home")
    flash = f'<p class="flash" role="status">{inline(parts.flash, str)}</p>' if parts.flash else ""
    return f"""<!doctype html>
<html lang="{escape(locale)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(t(locale, "sandbox.title"))}</title>
<style>{STYLE}</style><script>{SCRIPT}</script></head>
<body>
<header><h1>{escape(t(locale, "sandbox.title"))}</h1>
<form method="post" action="/sandbox/language"><input type="hidden" name="as" value="{me}">
<label>{escape(t(locale, "sandbox.language"))}
<select name="language" id="language" onchange="this.form.submit()">{languages}</select></label>
<noscript><button class="btn">OK</button></noscript></form>
<form method="post" action="/sandbox/reset" id="reset"
 data-confirm="{escape(t(locale, "sandbox.reset_confirm"))}">
<input type="hidden" name="as" value="{me}">
<button class="btn" id="reset-button">{escape(t(locale, "sandbox.reset"))}</button></form>
</header>
<p class="intro">{escape(t(locale, "sandbox.intro"))}</p>
{flash}
<main>
<aside><section><h2>{escape(t(locale, "sandbox.people"))}</h2>
<ul class="people">{people}</ul></section>
{_clock(parts)}</aside>
<article><h2>{escape(parts.person_name)}</h2><nav class="tabs">{tabs}</nav>
{parts.body}</article>
</main>
</body></html>"""


def render_error(locale: str, message: str, back: str = "/") -> str:
    """Lay out a page that says in one line what was wrong with the request."""
    return f"""<!doctype html>
<html lang="{escape(locale)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(t(locale, "sandbox.errors.heading"))}</title><style>{STYLE}</style></head>
<body><header><h1>{escape(t(locale, "sandbox.title"))}</h1></header>
<main><article><h2>{escape(t(locale, "sandbox.errors.heading"))}</h2>
<p class="error" id="error">{inline(message, str)}</p>
<p><a href="{escape(back)}">{escape(t(locale, "sandbox.errors.back"))}</a></p></article></main>
</body></html>"""
