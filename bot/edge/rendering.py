"""What every renderer of the neutral message model does alike, whatever its wire format.

Limits are parameters: each adapter passes its platform's own. May import the core only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from nudges.messages import (
    Actions,
    Block,
    Choices,
    Context,
    DateInput,
    Divider,
    Header,
    Message,
    Option,
    Page,
    Text,
    TextInput,
    untyped,
)

logger = logging.getLogger(__name__)

# Shown where a platform requires a text that is empty or was cut; it reads in any language.
ELLIPSIS = "…"

Item = TypeVar("Item")
Out_co = TypeVar("Out_co", covariant=True)


class BlockRenderer(Protocol[Out_co]):
    """One platform's rendering of each kind of block of the neutral model."""

    def header(self, block: Header) -> Out_co:
        """Render a header."""
        ...

    def text(self, block: Text) -> Out_co:
        """Render a paragraph of markup."""
        ...

    def context(self, block: Context) -> Out_co:
        """Render a line of small print."""
        ...

    def divider(self, block: Divider) -> Out_co:
        """Render a divider."""
        ...

    def actions(self, block: Actions) -> Out_co:
        """Render a row of buttons."""
        ...

    def choices(self, block: Choices) -> Out_co:
        """Render a menu."""
        ...


# The renderer's method for each kind of block.
_METHODS: dict[type[Block], str] = {
    Header: "header",
    Text: "text",
    Context: "context",
    Divider: "divider",
    Actions: "actions",
    Choices: "choices",
}


def render_block(block: Block, renderer: BlockRenderer[Out_co]) -> Out_co:
    """Hand a block to the renderer's method for its kind."""
    method = _METHODS.get(type(block))
    if method is None:
        raise TypeError(f"cannot render {type(block).__name__}")
    render: Callable[[Block], Out_co] = getattr(renderer, method)
    return render(block)


def readable_texts(message: Message | Page) -> Iterator[str]:
    """Yield a message's fallback (pages have none), then the texts of its text blocks."""
    if isinstance(message, Message):
        yield message.fallback
    for block in message.blocks:
        if isinstance(block, Header | Text | Context):
            yield block.text


def first_text(message: Message, translate: Callable[[str], str]) -> str:
    """Return the first non-empty translated text of a message, for notifications."""
    for text in readable_texts(message):
        translated = translate(text)
        if translated:
            return translated
    return ELLIPSIS


def plain_text(text: str) -> str:
    """Text shown plainly (titles, labels): no typed-text markers, no surrounding blanks."""
    return untyped(text).replace("\r\n", "\n").strip()


def fit(
    atoms: Sequence[str],
    limit: int,
    *,
    ellipsis: str = ELLIPSIS,
    units: Callable[[str], int] = len,
    tidy: Callable[[str], str] = str.rstrip,
) -> str:
    """Join atoms; over ``limit`` keep whole atoms, ``tidy`` the cut and append ``ellipsis``."""
    joined = "".join(atoms)
    if units(joined) <= limit:
        return joined
    budget = limit - units(ellipsis)
    kept: list[str] = []
    used = 0
    for atom in atoms:
        size = units(atom)
        if used + size > budget:
            break
        kept.append(atom)
        used += size
    return tidy("".join(kept)) + ellipsis


def distinct_options(
    options: Iterable[Option], label_of: Callable[[str], str], value_of: Callable[[str], str]
) -> list[tuple[str, str]]:
    """Return (label, value) pairs with both non-empty, each value once so a pick is clear."""
    seen: set[str] = set()
    pairs: list[tuple[str, str]] = []
    for option in options:
        label = label_of(option.label)
        value = value_of(option.value)
        if not label or not value or value in seen:
            continue
        seen.add(value)
        pairs.append((label, value))
    return pairs


def at_most(items: list[Item], limit: int, what: str) -> list[Item]:
    """Keep the first ``limit`` items, saying in the log how many ``what`` were dropped."""
    if len(items) > limit:
        logger.warning("dropping %d %s over the limit of %d", len(items) - limit, what, limit)
        return items[:limit]
    return items


def chunked(items: Sequence[Item], size: int) -> list[list[Item]]:
    """Split items into consecutive runs of at most ``size``."""
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


def text_input_limits(item: TextInput, length_max: int) -> tuple[int, str]:
    """Return a text input's maximum length (0: none) and its initial text, cut to fit."""
    max_length = min(item.max_length, length_max)
    return max_length, item.initial[: max_length if max_length > 0 else length_max]


def put_present(target: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Set only the fields that are not empty: platforms refuse or misread empty optional ones."""
    target.update((key, value) for key, value in fields.items() if value)
    return target


def initial_date(item: DateInput) -> str:
    """Return a date input's initial date as YYYY-MM-DD, or "" when it has none."""
    return item.initial.isoformat() if item.initial is not None else ""
