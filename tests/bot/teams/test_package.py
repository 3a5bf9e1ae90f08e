"""The Teams app package: a valid manifest, two icons of the right size, in a flat zip."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot.cli import main
from bot.teams.package import (
    CHAT_READ_PERMISSION,
    PackageError,
    PackageOptions,
    build_localization,
    build_manifest,
    build_package,
)
from nudges.commands.topics import TOPICS

APP_ID = "C9E8C047-2A74-40A2-B28A-B162D5F5327C"
SCHEMA = json.loads(
    resources.files("bot.teams").joinpath("manifest/manifest.schema.json").read_text("utf-8")
)
LOCALIZATION_SCHEMA = json.loads(
    resources.files("bot.teams").joinpath("manifest/localization.schema.json").read_text("utf-8")
)


def _png(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """Decode our own PNGs (RGBA, 8 bit, no filter) checking every chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position = 8
    chunks: dict[bytes, bytes] = {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks[kind] = chunks.get(kind, b"") + body
        position += 12 + length
    width, height, depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, color_type) == (8, 6)
    raw = zlib.decompress(chunks[b"IDAT"])
    pixels = []
    stride = width * 4 + 1
    for y in range(height):
        row = raw[y * stride + 1 : (y + 1) * stride]
        pixels.extend(struct.unpack("4B", row[i : i + 4]) for i in range(0, len(row), 4))
    return width, height, pixels


def _zip(options: PackageOptions) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(build_package(options)))


def test_the_manifest_is_valid_against_the_schema() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    manifest = build_manifest(PackageOptions(APP_ID, domain="nudgebot.example.com"))
    jsonschema.validate(manifest, SCHEMA)
    assert manifest["manifestVersion"] == "1.22"
    assert manifest["id"] == APP_ID.lower()
    (bot,) = manifest["bots"]
    assert bot["botId"] == APP_ID.lower()
    assert set(bot["scopes"]) == {"personal", "team"}
    assert manifest["validDomains"] == ["nudgebot.example.com"]
    assert manifest["developer"]["privacyUrl"] == "https://nudgebot.example.com/"
    rsc = manifest["authorization"]["permissions"]["resourceSpecific"]
    assert rsc == [{"name": CHAT_READ_PERMISSION, "type": "Application"}]


def test_the_schema_refuses_what_teams_refuses() -> None:
    manifest = build_manifest(PackageOptions(APP_ID))
    broken: list[dict[str, Any]] = [
        {**manifest, "manifestVersion": "1.23"},
        {**manifest, "id": "not-a-guid"},
        {**manifest, "accentColor": "green"},
        {**manifest, "surprise": True},
        {**manifest, "name": {"short": "x" * 31}},
    ]
    commands = manifest["bots"][0]["commandLists"][0]["commands"]
    broken.append(
        {
            **manifest,
            "bots": [
                {
                    **manifest["bots"][0],
                    "commandLists": [{"scopes": ["personal"], "commands": commands * 2}],
                }
            ],
        }
    )
    for candidate in broken:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(candidate, SCHEMA)


def test_the_command_lists_name_real_commands_with_their_catalogue_summary() -> None:
    manifest = build_manifest(PackageOptions(APP_ID))
    words = {topic.words for topic in TOPICS if not topic.parent}
    lists = manifest["bots"][0]["commandLists"]
    assert [entry["scopes"] for entry in lists] == [["personal"], ["team"]]
    for entry in lists:
        assert 0 < len(entry["commands"]) <= 10
        for command in entry["commands"]:
            assert command["title"] in words
            assert command["description"]
    assert lists[0]["commands"][0] == {
        "title": "help",
        "description": "List the commands, or explain one",
    }


def test_the_package_is_a_flat_zip_with_the_manifest_and_two_icons_of_the_right_size() -> None:
    archive = _zip(PackageOptions(APP_ID, name="Nudges"))
    assert sorted(archive.namelist()) == ["color.png", "manifest.json", "nl.json", "outline.png"]
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["name"]["short"] == "Nudges"
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    width, height, colour = _png(archive.read("color.png"))
    assert (width, height) == (192, 192)
    assert all(alpha == 255 for *_, alpha in colour)
    width, height, outline = _png(archive.read("outline.png"))
    assert (width, height) == (32, 32)
    # Teams wants the outline white on transparency, nothing else.
    assert {p for p in outline if p[3]} == {(255, 255, 255, 255)}
    assert any(p[3] == 0 for p in outline)


def test_the_dutch_translation_is_valid_and_names_every_command_in_dutch() -> None:
    jsonschema.Draft7Validator.check_schema(LOCALIZATION_SCHEMA)
    options = PackageOptions(APP_ID, name="Nudges")
    manifest = build_manifest(options)
    assert manifest["localizationInfo"]["additionalLanguages"] == [
        {"languageTag": "nl", "file": "nl.json"}
    ]
    dutch = json.loads(_zip(options).read("nl.json"))
    assert dutch == build_localization(options, "nl")
    jsonschema.validate(dutch, LOCALIZATION_SCHEMA)
    assert dutch["name.short"] == "Nudges"
    for index, entry in enumerate(manifest["bots"][0]["commandLists"]):
        for position, command in enumerate(entry["commands"]):
            key = f"bots[0].commandLists[{index}].commands[{position}].description"
            assert dutch[key] and dutch[key] != command["description"], key
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {**dutch, "bots[0].commandLists[0].commands[10].title": "x"}, LOCALIZATION_SCHEMA
        )


def test_building_twice_gives_the_same_bytes() -> None:
    assert build_package(PackageOptions(APP_ID)) == build_package(PackageOptions(APP_ID))


def test_the_chat_read_permission_can_be_left_out() -> None:
    manifest = build_manifest(PackageOptions(APP_ID, chat_read=False))
    assert "authorization" not in manifest and "webApplicationInfo" not in manifest
    jsonschema.validate(manifest, SCHEMA)


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (PackageOptions("1234"), "--app-id"),
        (PackageOptions(APP_ID, name="x" * 31), "--name"),
        (PackageOptions(APP_ID, domain="https://bot.example.com/"), "--domain"),
        (PackageOptions(APP_ID, website_url="http://x.example.com"), "--website-url"),
    ],
)
def test_a_bad_option_is_one_clear_line(options: PackageOptions, fragment: str) -> None:
    with pytest.raises(PackageError) as caught:
        build_manifest(options)
    assert str(caught.value).startswith(fragment)
    assert "\n" not in str(caught.value)


def test_the_command_line_writes_the_package(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "app.zip"
    code = main(["teams-package", "--app-id", APP_ID, "--name", "Nudgebot", "--out", str(out)])
    assert code == 0
    assert zipfile.ZipFile(out).namelist()
    assert str(out) in capsys.readouterr().out


def test_the_command_line_refuses_a_bad_app_id_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "app.zip"
    assert main(["teams-package", "--app-id", "bot", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--app-id" in err and "00000000-0000" in err
    assert not out.exists()
