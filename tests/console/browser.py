"""Headless Chromium (Debian's, through Playwright) and the router served over real HTTP, for page tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from playwright.sync_api import Page
from werkzeug.serving import make_server

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}


@contextmanager
def serve(app: Flask, port: int = 0) -> Iterator[str]:
    """Serve the app on 127.0.0.1 (a free port unless given) from a thread; yield its base URL."""
    httpd = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()


def shot(page: Page, folder: Path, name: str) -> Path:
    """Save a full-page screenshot into the test's output folder and say where."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def fits(page: Page, selector: str) -> bool:
    """Tell whether an element is shown inside the first screen, with no scrolling, sideways or down."""
    box = page.locator(selector).first.bounding_box()
    view = page.viewport_size
    assert box is not None and view is not None, selector
    inside = box["x"] >= 0 and box["x"] + box["width"] <= view["width"]
    return inside and box["y"] + box["height"] <= view["height"]


def no_sideways_scroll(page: Page) -> bool:
    """Tell whether the page is no wider than the screen."""
    width = page.evaluate("document.documentElement.scrollWidth")
    view = page.viewport_size
    assert view is not None
    return int(width) <= view["width"]
