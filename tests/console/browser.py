"""Helpers for page tests in headless Chromium (Debian's, through Playwright): screenshots, phone fit."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Chromium still resolves update.googleapis.com and accounts.google.com with the flags above; tests send
    # nothing off loopback, so no name resolves (the console is reached by its 127.0.0.1 address).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
PHONE = {"width": 390, "height": 844}


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
