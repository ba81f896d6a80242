"""The topology page: the inventory's dependency picture with live state from Prometheus."""

from __future__ import annotations

from collections import Counter

from flask import Response, render_template, request

from alertrouter.console import topology
from alertrouter.console.web import _, bp, error_page, name_of
from alertrouter.state import current_state


@bp.get("/topology")
def topology_page() -> str | Response:
    """Draw the CIs (all, or one service's and what it stands on), their links and their live state."""
    router = current_state().router
    inventory = router.inventory
    service = request.args.get("service") or None
    if service is not None and service not in inventory.services:
        return error_page(400, f"{_('Service')}: {service}")
    cis = topology.cis_of(inventory, service)
    live = topology.read_live(router.settings.file.prometheus, router.settings.prometheus_auth)

    def label(ci: str) -> str:
        return name_of(inventory.cis[ci].name, ci)

    picture = topology.draw(inventory, cis, live, label, _("Topology"))
    kinds = Counter(topology.link_kinds(inventory, cis, live).values())
    return render_template(
        "console/topology.html",
        picture=picture,
        live=live,
        service=service,
        services=sorted(inventory.services.values(), key=lambda s: s.id),
        down=[c for c in cis if live.of(c) == "down"],
        counts=Counter(live.of(c) for c in cis),
        kinds=kinds,
        label=label,
        total=len(cis),
    )
