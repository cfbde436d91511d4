"""Headless Chromium for the web UI's tests: Debian's `chromium` driven by Playwright.

Playwright's own browser download is not used: `FLOW_CHROMIUM` (default /usr/bin/chromium)
names the browser. Without it, or without the `playwright` package, the UI tests skip and say
what to install.
"""

from __future__ import annotations

import os
import pathlib
import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

CHROMIUM_ENV = "FLOW_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
PASSWORD = "ui-test-password-1"


def chromium_path() -> str:
    """The browser to drive; skips the test when it is missing."""
    path = os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        found = shutil.which("chromium")
        if found is None:
            pytest.skip(f"no Chromium at {path}: install Debian's 'chromium' package "
                        f"(apt-get install chromium) or set {CHROMIUM_ENV}")
        path = found
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for a test module."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the UI tests need the 'playwright' Python package "
                                      "(pip install -e '.[dev]')")
    executable = chromium_path()
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """Where the tests save a screenshot of each main view ($FLOW_SCREENSHOTS or a temp dir)."""
    configured = os.environ.get("FLOW_SCREENSHOTS")
    folder = pathlib.Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def create_user(http_base: str, token: str, username: str, role: str) -> None:
    """A user with PASSWORD, through the users API (as an admin would)."""
    response = httpx.post(f"{http_base}/api/v1/users", timeout=30,
                          headers={"Authorization": f"Bearer {token}"},
                          json={"username": username, "role": role, "password": PASSWORD})
    assert response.status_code == 200, response.text


def sign_in(browser: Any, http_base: str, username: str) -> Any:
    """A new browser context signed in as `username`: its page shows the DAG list. Page
    errors (uncaught exceptions) are collected in `page.flow_errors`."""
    context = browser.new_context(base_url=http_base, viewport={"width": 1400, "height": 900},
                                  accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.flow_errors = errors
    page.goto("/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#dag-table")
    return page
