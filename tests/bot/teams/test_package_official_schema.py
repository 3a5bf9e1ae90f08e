"""The package `nudgebot teams-package` builds, against Microsoft's full official schemas.

The schemas are the ones Microsoft publishes for each manifest version, as bundled by npm
@microsoft/app-manifest (tests/validators); the manifest is checked against the version it
declares, the Dutch file against that version's localisation schema.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import jsonschema
import pytest

from bot.teams.package import PackageOptions, build_package
from tests.validators.official import teams_schema

APP_ID = "C9E8C047-2A74-40A2-B28A-B162D5F5327C"
OPTIONS = {
    "defaults": PackageOptions(APP_ID),
    "own_domain_and_name": PackageOptions(APP_ID, name="Nudges", domain="nudgebot.example.com"),
    "without_chat_read": PackageOptions(APP_ID, chat_read=False),
}


def _errors(document: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def _package(options: PackageOptions) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(build_package(options)))


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_the_manifest_meets_the_official_schema_of_its_version(name: str) -> None:
    package = _package(OPTIONS[name])
    manifest = json.loads(package.read("manifest.json"))
    version = manifest["manifestVersion"]
    assert manifest["$schema"].endswith(f"/v{version}/MicrosoftTeams.schema.json")
    assert _errors(manifest, teams_schema(version)) == []


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_every_localisation_file_meets_the_official_localisation_schema(name: str) -> None:
    package = _package(OPTIONS[name])
    manifest = json.loads(package.read("manifest.json"))
    schema = teams_schema(manifest["manifestVersion"], "MicrosoftTeams.Localization")
    languages = manifest["localizationInfo"]["additionalLanguages"]
    assert languages
    for language in languages:
        translation = json.loads(package.read(language["file"]))
        assert translation["$schema"].endswith("/MicrosoftTeams.Localization.schema.json")
        assert _errors(translation, schema) == []


def test_the_official_schemas_refuse_what_teams_refuses() -> None:
    package = _package(OPTIONS["defaults"])
    manifest = json.loads(package.read("manifest.json"))
    schema = teams_schema(manifest["manifestVersion"])
    assert _errors({**manifest, "name": {"short": "x" * 31}}, schema)
    assert _errors({**manifest, "id": "not-a-guid"}, schema)
    assert _errors({**manifest, "surprise": True}, schema)
    translation = json.loads(package.read("nl.json"))
    localisation = teams_schema(manifest["manifestVersion"], "MicrosoftTeams.Localization")
    assert _errors({**translation, "name.short": ""}, localisation)
    assert _errors({**translation, "bots[0].commandLists[0].commands[0].verb": "x"}, localisation)
