"""Build the Teams app package: manifest.json, its Dutch translation and two icons, zipped flat.

The manifest follows schema 1.22. The bot is offered in personal chat and in teams; its command
lists show the core's most used commands with their summaries from the catalogues (English in
the manifest, Dutch in ``nl.json``, which Teams shows to Dutch users). The
icons are drawn here (a colour icon of 192×192 and a white-on-transparent outline of 32×32), so
the package needs no image files or imaging library.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from bot import __version__
from nudges.commands.topics import TOPICS_BY_KEY

MANIFEST_VERSION = "1.22"
COLOR_SIZE = 192
OUTLINE_SIZE = 32
NAME_MAX = 30
COMMANDS_MAX = 10
# The commands shown in Teams' command menu: everyone's first, then the admin's daily ones.
PERSONAL_COMMANDS = (
    "help",
    "me_status",
    "me_pause",
    "me_resume",
    "status",
    "test",
    "send_now",
    "team",
    "cadence",
    "pulse_results",
)
TEAM_COMMANDS = ("help", "status", "pulse_results")
# Lets the bot read its own 1:1 chat through Microsoft Graph, to check whether a card whose send
# answer was lost did arrive before sending it again.
CHAT_READ_PERMISSION = "ChatMessage.Read.Chat"

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_DOMAIN = re.compile(r"^(\*\.)?([A-Za-z0-9-]+\.)+[A-Za-z]{2,}(:\d+)?$")
_ACCENT = (0x2E, 0x7D, 0x6B)


class PackageError(ValueError):
    """Raised with one readable line when the package cannot be built from the given options."""


@dataclass(frozen=True)
class PackageOptions:
    """What the operator chooses for their Teams app."""

    app_id: str
    name: str = "Nudgebot"
    domain: str | None = None
    website_url: str | None = None
    chat_read: bool = True


def _check(options: PackageOptions) -> None:
    if not _GUID.match(options.app_id):
        raise PackageError(
            f"--app-id must be the bot's Microsoft App ID (a GUID), e.g. "
            f"00000000-0000-0000-0000-000000000000, not {options.app_id!r}"
        )
    name = options.name.strip()
    if not name or len(name) > NAME_MAX:
        raise PackageError(f"--name must be 1 to {NAME_MAX} characters, e.g. --name Nudgebot")
    if options.domain is not None and not _DOMAIN.match(options.domain):
        raise PackageError(
            f"--domain must be a host name without scheme or path, e.g. nudgebot.example.com, "
            f"not {options.domain!r}"
        )
    if options.website_url is not None and not options.website_url.startswith("https://"):
        raise PackageError("--website-url must start with https://, e.g. https://example.com/")


# Teams shows these languages from the package; English is the manifest's own.
LANGUAGES = ("nl",)
COMMAND_LISTS = (("personal", PERSONAL_COMMANDS), ("team", TEAM_COMMANDS))


def _data(name: str) -> dict[str, Any]:
    text = resources.files("bot.teams").joinpath(f"manifest/{name}").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _commands(keys: tuple[str, ...]) -> list[dict[str, str]]:
    return [
        {
            "title": TOPICS_BY_KEY[key].words,
            "description": TOPICS_BY_KEY[key].text("en", "summary"),
        }
        for key in keys[:COMMANDS_MAX]
    ]


def build_manifest(options: PackageOptions) -> dict[str, Any]:
    """Return the manifest for ``options``; raise PackageError on a bad option."""
    _check(options)
    base = _data("manifest.base.json")
    website = options.website_url or (
        f"https://{options.domain}/" if options.domain else "https://example.com/nudgebot/"
    )
    name = options.name.strip()
    manifest: dict[str, Any] = {
        **base,
        "version": __version__,
        "id": options.app_id.lower(),
        "name": {"short": name, "full": name},
        "developer": {
            **base["developer"],
            "websiteUrl": website,
            "privacyUrl": website,
            "termsOfUseUrl": website,
        },
        "bots": [
            {
                "botId": options.app_id.lower(),
                "scopes": ["personal", "team"],
                "isNotificationOnly": False,
                "supportsFiles": False,
                "commandLists": [
                    {"scopes": [scope], "commands": _commands(keys)}
                    for scope, keys in COMMAND_LISTS
                ],
            }
        ],
        "validDomains": [options.domain] if options.domain else [],
        "localizationInfo": {
            "defaultLanguageTag": "en",
            "additionalLanguages": [
                {"languageTag": language, "file": f"{language}.json"} for language in LANGUAGES
            ],
        },
    }
    if options.chat_read:
        manifest["webApplicationInfo"] = {"id": options.app_id.lower()}
        manifest["authorization"] = {
            "permissions": {
                "resourceSpecific": [{"name": CHAT_READ_PERMISSION, "type": "Application"}]
            }
        }
    return manifest


def build_localization(options: PackageOptions, language: str) -> dict[str, Any]:
    """Return the translation file of ``language``: descriptions and command summaries."""
    _check(options)
    name = options.name.strip()
    texts: dict[str, Any] = {
        **_data(f"{language}.base.json"),
        "name.short": name,
        "name.full": name,
    }
    for index, (_, keys) in enumerate(COMMAND_LISTS):
        for position, key in enumerate(keys[:COMMANDS_MAX]):
            texts[f"bots[0].commandLists[{index}].commands[{position}].description"] = (
                TOPICS_BY_KEY[key].text(language, "summary")
            )
    return texts


def build_package(options: PackageOptions) -> bytes:
    """Return the zipped app package: manifest.json, color.png and outline.png at the root."""
    manifest = build_manifest(options)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        files = [
            ("manifest.json", manifest),
            *((f"{lang}.json", build_localization(options, lang)) for lang in LANGUAGES),
        ]
        for name, data in (
            *((n, json.dumps(d, indent=2, ensure_ascii=False).encode()) for n, d in files),
            ("color.png", color_icon()),
            ("outline.png", outline_icon()),
        ):
            # A fixed date keeps the zip identical from one build to the next.
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def write_package(options: PackageOptions, out: Path) -> Path:
    """Build the package and write it to ``out``."""
    data = build_package(options)
    out.write_bytes(data)
    return out


# --- icons ------------------------------------------------------------------------

Pixel = tuple[int, int, int, int]


def _png(size: int, pixel: Callable[[float, float], Pixel]) -> bytes:
    """Encode a square RGBA PNG; ``pixel`` gets the centre of each pixel in 0..1 coordinates."""
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # no filter
        for x in range(size):
            rows.extend(pixel((x + 0.5) / size, (y + 0.5) / size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def _distance(x: float, y: float, cx: float, cy: float) -> float:
    return float(((x - cx) ** 2 + (y - cy) ** 2) ** 0.5)


def color_icon() -> bytes:
    """Draw the 192×192 colour icon: a white speech dot with a small nudge mark on the accent."""
    white: Pixel = (255, 255, 255, 255)
    accent: Pixel = (*_ACCENT, 255)

    def pixel(x: float, y: float) -> Pixel:
        if _distance(x, y, 0.62, 0.4) < 0.08:
            return accent
        if _distance(x, y, 0.5, 0.47) < 0.3 or (
            0.3 < x < 0.45 and 0.6 < y < 0.82 and x - 0.3 > (y - 0.6) * 0.6
        ):
            return white
        return accent

    return _png(COLOR_SIZE, pixel)


def outline_icon() -> bytes:
    """Draw the 32×32 outline icon: the same dot as a white ring on transparency."""
    clear: Pixel = (255, 255, 255, 0)
    white: Pixel = (255, 255, 255, 255)

    def pixel(x: float, y: float) -> Pixel:
        ring = 0.3 < _distance(x, y, 0.5, 0.47) < 0.4
        mark = _distance(x, y, 0.56, 0.42) < 0.09
        return white if ring or mark else clear

    return _png(OUTLINE_SIZE, pixel)


__all__ = [
    "PackageError",
    "PackageOptions",
    "build_localization",
    "build_manifest",
    "build_package",
    "color_icon",
    "outline_icon",
    "write_package",
]
