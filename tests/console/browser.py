"""Helpers for page tests in headless Chromium (Debian's, through Playwright): screenshots, phone fit."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

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


def in_first_screen(page: Page, selector: str) -> None:
    """Assert an element is wholly on the first screen, no scrolling sideways or down.

    Retried until the page settles: the board swaps its rows every few seconds, and a single measurement
    taken during a swap finds no element."""
    expect(page.locator(selector).first).to_be_in_viewport(ratio=1)


def no_sideways_scroll(page: Page) -> bool:
    """Tell whether the page is no wider than the screen."""
    width = page.evaluate("document.documentElement.scrollWidth")
    view = page.viewport_size
    assert view is not None
    return int(width) <= view["width"]
