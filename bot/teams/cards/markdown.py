"""Translate neutral markup to Teams markdown: escaping, <at> mentions, cuts at whole atoms."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.edge.rendering import fit, plain_text
from nudges.messages import typed_spans

TEXT_MAX = 4000
LABEL_MAX = 200

MENTION = re.compile(r"<@([^<>\s]+)>")
# Characters Adaptive Card markdown (a CommonMark subset) could read as markup, and ``<``/``>``
# so typed text can never spell ``<at>…</at>``.
_MARKDOWN_SPECIALS = frozenset("\\*[]`<>#|~")
_NUMBERED = re.compile(r"^(\s*\d+)\.(\s)")
# Pieces a cut must never split: a mention, an escaped character, a bold marker.
_ATOM = re.compile(r"<at>.*?</at>|\\.|\*\*|.", re.DOTALL)


@dataclass
class Mentions:
    """Collect the mention entities a card's texts refer to."""

    names: Mapping[str, str]
    by_text: dict[str, dict[str, Any]] = field(default_factory=dict)

    def tag(self, user_id: str) -> str:
        # Without a known name the id stands in: Teams still resolves the mention to the person.
        name = (
            plain(self.names.get(user_id) or user_id, LABEL_MAX).replace("<", "").replace(">", "")
        )
        text = f"<at>{name}</at>"
        existing = self.by_text.get(text)
        if existing is not None and existing["mentioned"]["id"] != user_id:
            # Two people with one display name need distinct tags to keep their entities apart.
            text = f"<at>{name} ({user_id})</at>"
        self.by_text.setdefault(
            text, {"type": "mention", "text": text, "mentioned": {"id": user_id, "name": name}}
        )
        return text

    def entities_in(self, texts: Iterable[str]) -> list[dict[str, Any]]:
        joined = "\n".join(texts)
        return [entity for text, entity in self.by_text.items() if text in joined]


def to_markdown(markup: str, names: Mapping[str, str] | None = None) -> str:
    """Translate neutral markup to Teams markdown, escaping everything that is not markup."""
    return markdown(markup, Mentions(names or {}), limit=10**9)


def markdown(markup: str, mentions: Mentions, *, limit: int = TEXT_MAX) -> str:
    """Translate neutral markup: bold, italic and bullets stay, mentions become <at> tags."""
    lines = markup.replace("\r\n", "\n").strip().split("\n")
    out: list[str] = []
    previous_bullet = False
    for number, line in enumerate(lines):
        body = line.lstrip(" ")
        bullet = body.startswith("- ")
        if number:
            # A single newline only breaks between list items; elsewhere Teams wants a blank line.
            out.append("\n" if bullet and previous_bullet else "\n\n")
        if bullet:
            out.append("- ")
            body = body[2:]
        out.append(_inline(body, mentions, line_start=not bullet))
        previous_bullet = bullet
    return cut("".join(out), limit)


def _inline(text: str, mentions: Mentions, *, line_start: bool) -> str:
    parts: list[str] = []
    for span, is_typed in typed_spans(text):
        start = line_start and not parts
        if is_typed:
            # What a person typed is shown as typed: no markup, no mention, no list.
            parts.append(_escape_typed(span, start))
        else:
            parts.append(_inline_markup(span, mentions, line_start=start))
    return "".join(parts)


def _escape_typed(text: str, line_start: bool) -> str:
    escaped = "".join("\\" + c if c in _MARKDOWN_SPECIALS or c == "_" else c for c in text)
    if line_start:
        escaped = _NUMBERED.sub(r"\1\\.\2", escaped)
        if escaped.startswith(("+ ", "- ")):
            escaped = "\\" + escaped
    return escaped


def _inline_markup(text: str, mentions: Mentions, *, line_start: bool) -> str:
    parts: list[str] = []
    position = 0
    for match in MENTION.finditer(text):
        parts.append(_escape(text[position : match.start()], line_start and not parts))
        parts.append(mentions.tag(match.group(1)))
        position = match.end()
    parts.append(_escape(text[position:], line_start and not parts))
    return "".join(parts)


def _escape(text: str, line_start: bool) -> str:
    """Escape what Teams would read as markup; neutral ``**`` and ``_`` stay markup."""
    out: list[str] = []
    index = 0
    while index < len(text):
        if text.startswith("**", index):
            out.append("**")
            index += 2
            continue
        char = text[index]
        out.append("\\" + char if char in _MARKDOWN_SPECIALS else char)
        index += 1
    escaped = "".join(out)
    if line_start:
        # "1. x" at the start of a line would become a numbered list; "- " is ours, "+ " is not.
        escaped = _NUMBERED.sub(r"\1\\.\2", escaped)
        if escaped.startswith(("+ ", "* ")):
            escaped = "\\" + escaped
    return escaped


def plain(text: str, limit: int) -> str:
    """Plain text (titles, labels): no markup is read there, only the length is kept."""
    return fit(list(plain_text(text)), limit)


def cut(text: str, limit: int) -> str:
    """Cut markdown at whole atoms (never inside a mention or an escape) and add an ellipsis."""
    return fit(_ATOM.findall(text), limit, tidy=_close_bold)


def _close_bold(cut: str) -> str:
    cut = cut.rstrip()
    if cut.count("**") % 2:
        # An unclosed bold marker would print as two stars.
        cut = cut[: cut.rfind("**")].rstrip()
    return cut
