"""Settings: every environment key is documented, and bad values are refused clearly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import load_settings


def test_every_setting_read_is_documented_in_env_example(root: Path) -> None:
    read = set(re.findall(r'_env(?:_int)?\("([A-Z_]+)"', (root / "bot" / "config.py").read_text()))
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", (root / ".env.example").read_text(), re.M))
    assert read and read <= documented, read - documented


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
