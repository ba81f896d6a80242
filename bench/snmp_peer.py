"""Both SNMP exporters configured for the same work: Debian's snmp_exporter 0.21 and hospmon-network-exporter.

snmp_exporter's module is generated from our shipped ``if_mib`` module, metric for metric: the same walks, the
same index and lookup labels, gauges, counters, enums as state sets and the info metric as ``EnumAsInfo``,
so both emit the same series per interface. Both exporters get a v2c and an SNMPv3 authPriv (SHA, AES-128)
way in to the same agent.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from bench.servers import free_port, http_ok, process
from bench.snmp_agent import V3_AUTH, V3_PRIV, V3_USER

REPO = Path(__file__).resolve().parent.parent
SNMP_EXPORTER = "prometheus-snmp-exporter"
OUR_MODULE = REPO / "exporters" / "network" / "modules" / "if_mib.yml"
TYPES = {"gauge": "gauge", "counter": "counter", "enum": "EnumAsStateSet", "info": "EnumAsInfo"}
LOOKUP_TYPES = {"PhysAddress": "PhysAddress48", None: "DisplayString"}


def peer_module(ours: dict[str, Any]) -> dict[str, Any]:
    """Translate one of our module definitions into an snmp_exporter 0.21 module."""
    metrics = []
    for m in ours["metrics"]:
        index = [i["label"] for i in m.get("indexes", [])]
        out: dict[str, Any] = {
            "name": m["name"],
            "oid": m["oid"],
            "type": TYPES[m["type"]],
            "help": m["help"],
        }
        if index:
            out["indexes"] = [{"labelname": label, "type": "gauge"} for label in index]
            out["lookups"] = [
                {
                    "labels": index,
                    "labelname": lk["label"],
                    "oid": lk["oid"],
                    "type": LOOKUP_TYPES[lk.get("type")],
                }
                for lk in m.get("lookups", [])
            ]
        if "enum_values" in m:
            out["enum_values"] = m["enum_values"]
        metrics.append(out)
    return {"walk": ours["walk"], "metrics": metrics, "max_repetitions": 25, "retries": 3, "timeout": "5s"}


def write_configs(folder: Path, targets: list[str], v3_auth: bool) -> tuple[Path, Path]:
    """Write snmp_exporter's snmp.yml (if_mib, if_mib_v3) and our network.yml; return both paths."""
    module = peer_module(yaml.safe_load(OUR_MODULE.read_text()))
    v3 = {"username": V3_USER, "security_level": "authPriv", "password": V3_AUTH, "auth_protocol": "SHA",
          "priv_protocol": "AES", "priv_password": V3_PRIV}  # fmt: skip
    theirs = folder / "snmp.yml"
    theirs.write_text(yaml.safe_dump({"if_mib": module, "if_mib_v3": {**module, "version": 3, "auth": v3}}))
    (folder / "v3-auth").write_text(V3_AUTH)
    (folder / "v3-priv").write_text(V3_PRIV)
    (folder / "community").write_text("public")
    ours = folder / "network.yml"
    auths = {
        "public_v2": {"version": 2, "community_file": str(folder / "community")},
        "bench_v3": {"version": 3, "username": V3_USER, "security_level": "authPriv",
                     "auth_protocol": "SHA", "password_file": str(folder / "v3-auth"),
                     "priv_protocol": "AES", "priv_password_file": str(folder / "v3-priv")},
    }  # fmt: skip
    if not v3_auth:  # as a v2c-only site configures it: no v3 user, so no v3 code loaded
        del auths["bench_v3"]
    defaults = {"timeout": 5, "retries": 3, "max_repetitions": 25}
    # every device listed with its module and auth, as a site's config (or inventory) lists them
    allowed = [{"target": t, "modules": ["if_mib"], "auth": a} for t in targets for a in auths]
    ours.write_text(yaml.safe_dump({"auths": auths, "defaults": defaults, "targets": allowed}))
    return theirs, ours


def urls(port: int, peer: bool, target: str, v3: bool) -> str:
    """Return the scrape URL of one exporter for one target."""
    if peer:
        return f"http://127.0.0.1:{port}/snmp?target={target}&module=if_mib{'_v3' if v3 else ''}"
    auth = "bench_v3" if v3 else "public_v2"
    return f"http://127.0.0.1:{port}/probe?target={target}&module=if_mib&auth={auth}"


@contextlib.contextmanager
def exporters(folder: Path, targets: list[str], v3_auth: bool = True) -> Iterator[dict[str, tuple[int, int]]]:
    """Run both exporters; yield {"snmp_exporter": (pid, port), "hospmon": (pid, port)}."""
    if shutil.which(SNMP_EXPORTER) is None:
        raise SystemExit(f"{SNMP_EXPORTER} is not installed: apt-get install prometheus-snmp-exporter")
    theirs_cfg, ours_cfg = write_configs(folder, targets, v3_auth)
    tp, op = free_port(), free_port()
    theirs = [SNMP_EXPORTER, f"--config.file={theirs_cfg}", f"--web.listen-address=127.0.0.1:{tp}",
              "--log.level=error"]  # fmt: skip
    ours = [sys.executable, "-m", "exporters.network.main", f"--web.listen-address=127.0.0.1:{op}",
            f"--config.file={ours_cfg}", "--log.level=error"]  # fmt: skip
    env = {"PYTHONPATH": str(REPO)}
    with (
        process(theirs, lambda: http_ok(f"http://127.0.0.1:{tp}/"), folder / "snmp_exporter.log") as tproc,
        process(
            ours, lambda: http_ok(f"http://127.0.0.1:{op}/-/healthy"), folder / "ours.log", env=env
        ) as oproc,
    ):
        yield {"snmp_exporter": (tproc.pid, tp), "hospmon": (oproc.pid, op)}


def device_series(body: bytes, peer: bool) -> list[str]:
    """Return the series lines about the device (not the exporters' own scrape metrics)."""
    lines = [ln for ln in body.decode().splitlines() if ln and not ln.startswith("#")]
    if peer:
        return [ln for ln in lines if not ln.startswith("snmp_scrape_")]
    return [ln for ln in lines if ln.startswith("hospmon_snmp_")]


COUNTERS = ("if_in_bytes", "if_out_bytes", "if_in_unicast_packets", "if_out_unicast_packets", "if_in_errors",
            "if_out_errors", "if_in_discards", "if_out_discards", "if_in_broadcast_packets")  # fmt: skip


def counters(body: bytes, peer: bool) -> dict[tuple[str, str], float]:
    """Return {(counter, ifIndex): value} of the compared counters, less the uplink that carries SNMP."""
    out = {}
    for line in device_series(body, peer):
        name, _, rest = line.partition("{")
        name = name.removeprefix("hospmon_snmp_").removesuffix("_total")
        if name not in COUNTERS or 'ifName="uplink0"' in rest:
            continue
        labels, _, value = rest.rpartition("} ")
        index = labels.split('ifIndex="', 1)[1].split('"', 1)[0]
        out[(name, index)] = float(value)
    return out


def snmpwalk_ok() -> None:
    """Fail early when the net-snmp tools are missing."""
    if shutil.which("snmpget") is None or not Path("/usr/sbin/snmpd").exists():
        raise SystemExit("net-snmp is missing: apt-get install snmpd snmp")
    subprocess.run(["ip", "-V"], check=True, capture_output=True)
