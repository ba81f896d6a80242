"""Charts drawn on the server as SVG, so the pages need no script and print as they look."""

from __future__ import annotations

from markupsafe import Markup, escape

PALETTE = ("#2f6fb3", "#d9822b", "#3c9a5f", "#b33f40", "#7a5cb3", "#8c8c8c")


def bars(items: list[tuple[str, float]], *, unit: str = "", width: int = 520, title: str = "") -> Markup:
    """Draw a horizontal bar chart of labelled values."""
    row, label_w, pad = 22, 170, 6
    height = max(1, len(items)) * row + pad * 2
    top = max((v for _, v in items), default=0) or 1
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
    ]
    for n, (label, value) in enumerate(items):
        y = pad + n * row
        w = (width - label_w - 70) * value / top
        color = PALETTE[n % len(PALETTE)]
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" fill="{color}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 15}" font-size="12">{value:g}{escape(unit)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label is escaped above
