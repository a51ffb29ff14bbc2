"""The web app: chat page, escaping, static and vendored assets, health, Content-Security-Policy."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.config import Settings
from bot.web.app import create_app

RASA_URL = "http://127.0.0.1:5999"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        var_dir=tmp_path,
        rasa_url=RASA_URL,
        shop_name="<b>Shop & Co</b>",
        max_message_chars=2000,
    )


@pytest.fixture
def client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings))


def test_chat_page_passes_the_rasa_url_in_a_data_attribute(client: TestClient) -> None:
    page = client.get("/")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f'data-rasa-url="{RASA_URL}"' in page.text


def test_chat_page_escapes_the_shop_name(client: TestClient) -> None:
    page = client.get("/")

    assert "Chat with &lt;b&gt;Shop &amp; Co&lt;/b&gt;" in page.text
    assert "<b>Shop" not in page.text


def test_chat_page_has_the_accessible_chat_parts(client: TestClient) -> None:
    page = client.get("/").text

    assert 'role="log"' in page
    assert 'aria-live="polite"' in page
    assert '<label class="visually-hidden" for="message">' in page
    assert 'maxlength="2000"' in page
    assert 'src="/static/chat.js"' in page
    assert 'src="/static/vendor/socket.io.min.js"' in page


def test_chat_page_has_no_inline_script_or_handler(client: TestClient) -> None:
    page = client.get("/").text

    assert "<script>" not in page
    assert " onclick=" not in page
    assert " style=" not in page


def test_chat_page_sends_a_content_security_policy(client: TestClient) -> None:
    policy = client.get("/").headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))

    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"].split() == [RASA_URL, "ws://127.0.0.1:5999"]


def test_content_security_policy_uses_secure_schemes_for_https_rasa(settings: Settings) -> None:
    secure = dataclasses.replace(settings, rasa_url="https://chat.example.com/")
    policy = TestClient(create_app(secure)).get("/").headers["content-security-policy"]

    assert "connect-src https://chat.example.com wss://chat.example.com;" in policy


def test_chat_script_and_stylesheet_are_served(client: TestClient) -> None:
    script = client.get("/static/chat.js")
    stylesheet = client.get("/static/chat.css")

    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "session_request" in script.text
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")


def test_health(client: TestClient) -> None:
    reply = client.get("/healthz")

    assert reply.status_code == 200
    assert reply.json() == {"status": "ok"}


def test_vendored_socketio_client_is_served_from_var_dir(
    settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "vendor").mkdir(exist_ok=True)
    (tmp_path / "vendor" / "socket.io.min.js").write_text("/* fake socket.io */")
    client = TestClient(create_app(settings))

    reply = client.get("/static/vendor/socket.io.min.js")

    assert reply.status_code == 200
    assert reply.text == "/* fake socket.io */"


def test_missing_vendor_file_is_a_404(client: TestClient) -> None:
    assert client.get("/static/vendor/socket.io.min.js").status_code == 404
