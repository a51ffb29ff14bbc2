"""Settings: every environment key is documented, and bad values are refused clearly."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from bot import config
from bot.config import load_settings


class RecordingEnvironment(dict[str, str]):
    """The environment, noting every name that is looked up."""

    def __init__(self, names: set[str]) -> None:
        super().__init__(os.environ)
        self.names = names

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        self.names.add(name)
        return super().get(name, default)

    def __getitem__(self, name: str) -> str:
        self.names.add(name)
        return super().__getitem__(name)

    def __contains__(self, name: object) -> bool:
        self.names.add(str(name))
        return super().__contains__(name)


def test_every_setting_read_is_documented_in_env_example(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The names are those `load_settings` really looks up, computed ones included."""
    read: set[str] = set()
    monkeypatch.setattr(config.os, "environ", RecordingEnvironment(read))
    load_settings()
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", (root / ".env.example").read_text(), re.M))
    assert {"RAPPORT_SHOP_SECRET", "RAPPORT_ALLOWED_ORIGINS", "RAPPORT_MESSAGE_RATE"} <= read
    assert read <= documented, read - documented


def test_defaults_bind_to_localhost_and_use_sqlite_under_var(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("RAPPORT_DATABASE_URL", raising=False)
    monkeypatch.setenv("RAPPORT_VAR_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.web_host == "127.0.0.1"
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'rapport.db'}"
    assert settings.questions_per_session == 3 and settings.consent_retry_days == 30


def test_a_non_numeric_budget_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_QUESTIONS_PER_SESSION", "three")
    with pytest.raises(ValueError, match="RAPPORT_QUESTIONS_PER_SESSION must be a whole number"):
        load_settings()


def test_sensitive_export_needs_a_reason() -> None:
    from bot.cli import main

    assert main(["profiles", "export", "--include-sensitive"]) == 2


@pytest.mark.parametrize("payload", ['/greet{"a": 1}', "greet", "/", "/inform/affirm"])
def test_the_widget_payload_must_be_a_plain_intent(
    monkeypatch: pytest.MonkeyPatch, payload: str
) -> None:
    monkeypatch.setenv("RAPPORT_WIDGET_INIT_PAYLOAD", payload)
    with pytest.raises(ValueError, match="RAPPORT_WIDGET_INIT_PAYLOAD must be a slash"):
        load_settings()
