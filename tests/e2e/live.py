"""The browser tests' server and browser (fixtures the test modules import; not a
conftest.py, whose module name would clash with tests/conftest.py).

The app is served as in production (ENV unset): its own Content-Security-Policy (script-src
'self'; style-src 'self'), so an inline script or style anywhere shows up as a console
error, and the `__Host-` session cookie with Secure, which Chromium accepts from
http://127.0.0.1 as a secure context. Any console error or uncaught JavaScript error fails
the test.
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from conftest import join_import_threads, make_app

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


class LiveServer:
    def __init__(self, app, url: str):
        self.app, self.url = app, url


@pytest.fixture
def live_server(tmp_path):
    app = make_app(tmp_path)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(10)
        join_import_threads()
        app.extensions["engine"].dispose()


@pytest.fixture
def page():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN",
                                      timezone_id="Asia/Shanghai")
        page = context.new_page()
        page.set_default_timeout(30_000)
        problems: list[str] = []
        page.expected_statuses = set()      # a test that opens a refused page on purpose says so
        page.on("pageerror", lambda exc: problems.append(f"JavaScript error: {exc}"))
        page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
                if msg.type == "error" and not expected_load_error(msg.text, page.expected_statuses) else None)
        page.problems = problems
        yield page
        context.close()
        browser.close()
    assert problems == [], "\n".join(problems)


def expected_load_error(text: str, statuses: set[int]) -> bool:
    """Chromium logs a page answered with 4xx as a console error ("Failed to load resource");
    only the statuses the test expects are excused."""
    return text.startswith("Failed to load resource: the server responded with a status of") and any(
        f"status of {code} " in text for code in statuses)


def sign_in(page, server: LiveServer, user, password: str | None = None) -> None:
    """Through the login page, as a person does."""
    page.goto(f"{server.url}/login")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(password or user.password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/login" not in url)
