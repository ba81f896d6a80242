"""What discovery saw on the wire: the file ``hospmon discover`` writes and ``hospmon inventory topology``
and the inventory exporter read. Shared here so the model, the exporters and the CLI agree on its shape.

    observed_at: "2026-03-02T01:30:00Z"
    scanned: [10.1.0.0/24]          # every address here was asked; a CI inside that did not answer is silent
    auth: core_v3
    devices:
      - address: 10.1.0.1
        sys_name: core-sw-1
        vendor: Huawei
        ...
        neighbours:
          - {protocol: lldp, local_port: GE1/0/1, sys_name: agg-sw-1, chassis_id: "00:e0:fc:00:00:02"}
    silent: {10.1.0.6: timeout}
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import ConfigDict, Field

from hospmon.config import StrictModel, load


class ObservedNeighbour(StrictModel):
    """A device one agent sees on one of its ports."""

    protocol: str
    local_port: str = ""
    sys_name: str = ""
    chassis_id: str = ""
    port: str = ""
    address: str = ""
    platform: str = ""


class ObservedDevice(StrictModel):
    """One agent that answered, with what it told about itself and its neighbours (built as it answers)."""

    model_config = ConfigDict(extra="forbid", frozen=False, str_strip_whitespace=True)

    address: str
    sys_name: str = ""
    sys_descr: str = ""
    sys_object_id: str = ""
    location: str = ""
    vendor: str = ""
    model: str = ""
    kind: str = ""
    serial: str = ""
    hardware: str = ""
    firmware: str = ""
    software: str = ""
    interfaces: int | None = None
    chassis_id: str = ""
    lldp: bool = False
    cdp: bool = False
    neighbours: list[ObservedNeighbour] = Field(default_factory=list)


class Observation(StrictModel):
    """One discovery run."""

    observed_at: str = ""
    scanned: list[str] = Field(default_factory=list)
    """Networks (CIDR) and single addresses that were asked."""
    auth: str = ""
    devices: list[ObservedDevice] = Field(default_factory=list)
    silent: dict[str, str] = Field(default_factory=dict)
    """Addresses asked that gave no usable answer, with the reason."""

    def was_scanned(self, address: str) -> bool:
        """Tell whether `address` lies inside what this run asked."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(net, strict=False) for net in self.scanned)


def load_observation(path: str | Path) -> Observation:
    """Read and check an observation file, raising `hospmon.config.ConfigError` with every fault."""
    return load(Observation, path, id_field="address")
