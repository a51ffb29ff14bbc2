"""Dependency floors: the versions with known advisories are not what gets installed."""

from __future__ import annotations

import importlib.metadata as metadata

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

FLOORS = {
    "starlette": "0.49.1",  # CVE-2025-62727: Range header denial of service in StaticFiles
    "jinja2": "3.1.6",  # CVE-2025-27516 and the sandbox breakouts before it
}


@pytest.mark.parametrize(("package", "floor"), sorted(FLOORS.items()))
def test_installed_versions_are_at_or_above_the_floors(package: str, floor: str) -> None:
    assert Version(metadata.version(package)) >= Version(floor)


def test_every_directly_imported_package_is_declared() -> None:
    declared = [Requirement(r) for r in metadata.requires("rapport") or []]
    names = {r.name.lower() for r in declared if not r.marker}
    for package in ("sanic", "sanic-jwt", "python-socketio", "pydantic", "jsonschema", "limits"):
        assert package in names, package
