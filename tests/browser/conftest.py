"""Fixtures of the browser tests: Debian's Chromium, the running stack, a fresh page per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.support import CHROMIUM, CHROMIUM_ARGS, VENDOR_FILE
from tests.harness import Stack, start_stack


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's Chromium; a missing browser is a failure, not a skip."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` to install Debian's chromium")
    if not VENDOR_FILE.exists():
        pytest.fail(f"{VENDOR_FILE} is missing: run `make vendor`")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def stack(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The running stack (asks for `chromium` first so a missing browser fails fast)."""
    running = start_stack(tmp_path_factory.mktemp("browser"))
    yield running
    running.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (empty storage, so a new shopper) per test."""
    context = browser.new_context(viewport={"width": 640, "height": 820})
    yield context.new_page()
    context.close()


@pytest.fixture
def page_errors(page: Page) -> list[str]:
    """Console errors and uncaught exceptions of `page` (CSP violations show up here)."""
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors
