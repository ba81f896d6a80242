"""The topology picture: the inventory's CIs in layers along ``depends_on``, the links discovery saw on the
wire, and each CI's live state from Prometheus, drawn on the server as SVG.

Prometheus is asked four things (each by ``ci``, the label every scrape carries from the inventory):

- ``up`` and ``hospmon_probe_success``: a CI is down when any of its scrapes or probes fails, up when they
  all succeed, unknown without either;
- ``hospmon_topology_link_seen`` and ``hospmon_topology_link_drift`` (the inventory exporter's, from
  discovery): a declared link seen on the wire, declared and absent, or seen and undeclared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from markupsafe import Markup, escape

from alertrouter.httpauth import Credentials, requests_auth
from alertrouter.settings import PrometheusConfig
from hospmon.inventory import Inventory

QUERIES = {
    "up": "min by (ci) (up)",
    "probe": "min by (ci) (hospmon_probe_success)",
    "seen": "max by (ci, peer) (hospmon_topology_link_seen)",
    "drift": "max by (ci, peer, drift) (hospmon_topology_link_drift)",
}
FILL = {"up": "#3c9a5f", "down": "#b33f40", "unknown": "#8c8c8c"}
# Link kinds: colour and dash pattern (presentation attributes: the console's CSP allows no inline style).
STROKE = {
    "seen": ("#333333", ""),
    "declared": ("#9a9a9a", ""),
    "absent": ("#b33f40", "6 4"),
    "undeclared": ("#d9822b", "2 3"),
}
BOX_W, BOX_H, GAP_X, GAP_Y, PAD, LABEL = 150, 36, 18, 64, 12, 19


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


@dataclass
class Live:
    """What Prometheus said: each CI's state and the links on the wire; `error` when it could not say."""

    configured: bool = False
    error: str = ""
    state: dict[str, str] = field(default_factory=dict)
    seen: set[tuple[str, str]] = field(default_factory=set)
    drift: dict[tuple[str, str], str] = field(default_factory=dict)

    def of(self, ci: str) -> str:
        """Return up, down or unknown for a CI."""
        return self.state.get(ci, "unknown")


def _query(cfg: PrometheusConfig, expr: str, credentials: Credentials | None) -> list[dict[str, object]]:
    assert cfg.url is not None
    resp = requests.get(
        f"{cfg.url.rstrip('/')}/api/v1/query",
        params={"query": expr},
        timeout=cfg.timeout_seconds,
        auth=requests_auth(credentials),
    )
    resp.raise_for_status()
    body = resp.json()
    if body.get("status") != "success":
        raise ValueError(str(body.get("error", "query failed")))
    result: list[dict[str, object]] = body["data"]["result"]
    return result


def read_live(cfg: PrometheusConfig, credentials: Credentials | None = None) -> Live:
    """Ask Prometheus for every CI's state and the links on the wire; never raise."""
    live = Live(configured=cfg.url is not None)
    if cfg.url is None:
        return live
    try:
        answers = {key: _query(cfg, expr, credentials) for key, expr in QUERIES.items()}
    except (requests.RequestException, ValueError, KeyError) as exc:
        live.error = type(exc).__name__ if isinstance(exc, requests.RequestException) else str(exc)[:200]
        return live
    for key in ("up", "probe"):
        for row in answers[key]:
            ci, value = row["metric"].get("ci"), float(row["value"][1])  # type: ignore[attr-defined,index]
            if ci:
                ok = value >= 1 and live.state.get(ci) != "down"
                live.state[ci] = "up" if ok else "down"
    for row in answers["seen"]:
        labels = row["metric"]
        live.seen.add(_pair(labels.get("ci", ""), labels.get("peer", "")))  # type: ignore[attr-defined]
    for row in answers["drift"]:
        labels = row["metric"]
        pair = _pair(labels.get("ci", ""), labels.get("peer", ""))  # type: ignore[attr-defined]
        live.drift[pair] = labels.get("drift", "")  # type: ignore[attr-defined]
    return live


def cis_of(inventory: Inventory, service: str | None) -> list[str]:
    """Return the CIs to draw: all, or a service's and everything they stand on."""
    if not service:
        return sorted(inventory.cis)
    own = [c for c in sorted(inventory.cis) if inventory.cis[c].service == service]
    upstream = {u for c in own for u in inventory.depends_on_transitively(c)}
    return sorted({*own, *upstream})


def layers(inventory: Inventory, cis: list[str]) -> list[list[str]]:
    """Put each CI one layer below the deepest CI it depends on, ordered to keep links short."""
    drawn = set(cis)
    depth: dict[str, int] = {}

    def level(ci: str) -> int:
        if ci not in depth:
            depth[ci] = 0  # the inventory refuses cycles; this only guards the recursion
            deps = [d for d in inventory.cis[ci].depends_on if d in drawn]
            depth[ci] = 1 + max((level(d) for d in deps), default=-1)
        return depth[ci]

    rows: dict[int, list[str]] = defaultdict(list)
    for ci in cis:
        rows[level(ci)].append(ci)
    ordered = [sorted(rows[i], key=lambda c: (inventory.cis[c].service, c)) for i in range(len(rows))]
    for row_index in range(1, len(ordered)):  # each CI under the middle of what it depends on
        place = {c: i for i, c in enumerate(ordered[row_index - 1])}

        def centre(ci: str, place: dict[str, int] = place) -> float:
            ups = [place[d] for d in inventory.cis[ci].depends_on if d in place]
            return sum(ups) / len(ups) if ups else float(len(place))

        ordered[row_index].sort(key=centre)
    return ordered


def link_kinds(inventory: Inventory, cis: list[str], live: Live) -> dict[tuple[str, str], str]:
    """Return each link to draw between drawn CIs and its kind (seen, declared, absent, undeclared)."""
    drawn = set(cis)
    kinds: dict[tuple[str, str], str] = {}
    for ci in cis:
        for dep in inventory.cis[ci].depends_on:
            if dep in drawn:
                pair = _pair(ci, dep)
                kinds[pair] = "absent" if live.drift.get(pair) == "absent" else (
                    "seen" if pair in live.seen else "declared")  # fmt: skip
    for pair in live.seen:
        if pair not in kinds and set(pair) <= drawn:
            kinds[pair] = "undeclared"
    return kinds


def draw(inventory: Inventory, cis: list[str], live: Live, name: Callable[[str], str], title: str) -> Markup:
    """Draw the picture; every text is escaped, the CI's id and state are in its tooltip."""
    rows = layers(inventory, cis)
    widest = max((len(r) for r in rows), default=1)
    width = PAD * 2 + widest * (BOX_W + GAP_X) - GAP_X
    height = PAD * 2 + len(rows) * (BOX_H + GAP_Y) - GAP_Y
    where: dict[str, tuple[float, float]] = {}
    for r, row in enumerate(rows):
        offset = (width - (len(row) * (BOX_W + GAP_X) - GAP_X)) / 2
        for i, ci in enumerate(row):
            where[ci] = (offset + i * (BOX_W + GAP_X), PAD + r * (BOX_H + GAP_Y))
    parts = [
        f'<svg class="topology" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height}" '
        f'viewBox="0 0 {width:.0f} {height}" role="img" aria-label="{escape(title)}">'
    ]
    for (a, b), kind in sorted(link_kinds(inventory, cis, live).items()):
        (ax, ay), (bx, by) = where[a], where[b]
        if ay > by:
            (ax, ay), (bx, by) = (bx, by), (ax, ay)
        colour, dash = STROKE[kind]
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        y1, y2 = (ay + BOX_H, by) if ay != by else (ay + BOX_H / 2, by + BOX_H / 2)
        parts.append(
            f'<line class="link {kind}" data-link="{escape(a)} {escape(b)}" x1="{ax + BOX_W / 2:.0f}" '
            f'y1="{y1:.0f}" x2="{bx + BOX_W / 2:.0f}" y2="{y2:.0f}" stroke="{colour}" '
            f'stroke-width="2"{dashes}/>'
        )
    for ci, (x, y) in where.items():
        state = live.of(ci)
        label = name(ci)
        short = label if len(label) <= LABEL else label[: LABEL - 1] + "…"
        parts.append(
            f'<g class="ci {state}" data-ci="{escape(ci)}">'
            f"<title>{escape(label)} ({escape(ci)}): {state}</title>"
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="5" fill="{FILL[state]}"/>'
            f'<text x="{x + BOX_W / 2:.0f}" y="{y + BOX_H / 2 + 5:.0f}" text-anchor="middle" font-size="13" '
            f'fill="#ffffff">{escape(short)}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text is escaped above
