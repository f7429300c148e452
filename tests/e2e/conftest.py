"""Browser suites: the built UI (frontend/dist) served by the local server on 127.0.0.1, the
same DynamoDB Local + localstripe stack as the integration suite, driven by Playwright in
Debian's /usr/bin/chromium (no browser is downloaded). Everything started here is stopped here."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

# The same stack fixtures as the integration suite (one DynamoDB Local, one localstripe, one
# API server per session); re-exported so pytest finds them under tests/e2e too.
from tests.integration.conftest import (  # noqa: F401
    alipay_base,
    api,
    ddb,
    ddb_client,
    ddb_endpoint,
    env,
    fresh_client_limits,
    make_services,
    platform_key,
    s3_endpoint,
    server_url,
    stripe_base,
    wechatpay_base,
)
from tests.support.builders import Agent, create_agent
from tests.support.client import ApiClient

ROOT = Path(__file__).resolve().parent.parent.parent
DIST = ROOT / "frontend" / "dist"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get install chromium)")
    return found


@pytest.fixture(scope="session")
def ui_url(server_url: str) -> str:  # noqa: F811 (the imported fixture)
    if not (DIST / "index.html").exists() or not (DIST / "pay.html").exists():
        pytest.fail("frontend/dist is not built: `make test` builds it (npm ci && npm run build)")
    return server_url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS, headless=True)
        try:
            yield b
        finally:
            b.close()


class PageErrors(list[str]):
    """Uncaught exceptions and console errors of the page; a test fails if any appear."""


# The pages open in the running test, and what went wrong on the wire: a failing test's report
# shows each page's address, its visible text and the API answers of 400 and above, so a failure
# seen once in CI can be read without reproducing it.
_OPEN_PAGES: list[tuple[Any, list[str]]] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    for n, (page, wire) in enumerate(_OPEN_PAGES):
        try:
            text = page.inner_text("body", timeout=2_000)
        except Exception as exc:  # noqa: BLE001 (a closed or crashed page: say so, keep the report)
            text = f"(no text: {exc})"
        report.sections.append((f"page {n}: {page.url}", text[-4_000:]))
        if wire:
            report.sections.append((f"page {n}: answers >= 400 and failed requests", "\n".join(wire[-30:])))


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


def new_page(browser: Any, errors: PageErrors, width: int, height: int, locale: str = "zh-CN") -> Any:
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    context.set_default_timeout(15_000)
    page = context.new_page()
    wire: list[str] = []
    page.on(
        "response",
        lambda r: wire.append(f"{r.status} {r.request.method} {r.url}") if r.status >= 400 else None,
    )
    page.on("requestfailed", lambda r: wire.append(f"failed {r.method} {r.url}: {r.failure}"))
    _OPEN_PAGES.append((page, wire))
    page.on("close", lambda _: _forget(page))
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: (
            errors.append(f"console.{msg.type}: {msg.text}")
            if msg.type == "error" and "Failed to load resource" not in msg.text
            else None
        ),
    )
    return page


def _forget(page: Any) -> None:
    _OPEN_PAGES[:] = [(p, w) for p, w in _OPEN_PAGES if p is not page]


@contextmanager
def checked_page(browser: Any, errors: PageErrors, width: int, height: int) -> Iterator[Any]:
    """A new page of width x height px for the block; closed after it, and the test fails if any
    error appeared on it."""
    page = new_page(browser, errors, width, height)
    try:
        yield page
    finally:
        page.context.close()
    assert not errors, errors


@pytest.fixture
def phone(browser: Any, page_errors: PageErrors) -> Iterator[Any]:
    """A 360 px wide phone screen."""
    with checked_page(browser, page_errors, 360, 740) as page:
        yield page


@pytest.fixture
def desktop(browser: Any, page_errors: PageErrors) -> Iterator[Any]:
    """A 1440 px wide desktop screen."""
    with checked_page(browser, page_errors, 1440, 900) as page:
        yield page


@pytest.fixture
def agent(api: ApiClient, platform_key: str) -> Agent:  # noqa: F811 (the imported fixtures)
    return create_agent(api, platform_key)
