"""Fixtures: real net-snmp agents (loopback with simulated UPS/sensor/vendor rows, and a namespace with
over 200 veth interfaces) and an exporter config naming v2c and v3 auths whose secrets are in files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from demo.servers.snmpd import V3_USERS, Agent, netns_with_interfaces, snmpd
from exporters.network.exporter import NetworkExporter, Runtime
from tests.network.devices import BUILT
from tests.network.lab import Closet, closet, neighbour_lines
from tests.network.recorded import snmpsimd
from tests.network.simulated import override_lines

# net-snmp's AES-256 localises its key as draft-blumenthal-aes-usm-04 does (pysnmp: the "Blumenthal" one).
PRIV_NAMES = {"AES-256": "AES256C"}
VETH_PAIRS = 110  # 220 veth interfaces, plus lo and the uplink


@pytest.fixture(scope="session")
def agent() -> Iterator[Agent]:
    """Run snmpd on loopback with v2c, v3 users and the simulated devices."""
    with snmpd(extra=override_lines() + neighbour_lines()) as running:
        yield running


@pytest.fixture(scope="session")
def switch_agent() -> Iterator[Agent]:
    """Run snmpd inside a fresh network namespace holding many veth interfaces."""
    with netns_with_interfaces(VETH_PAIRS) as (ns, address), snmpd(address, netns=ns) as running:
        yield running


def write_config(folder: Path, **overrides: object) -> Path:
    """Write an exporter config with one auth per lab credential; secrets go to files beside it."""
    auths: dict[str, dict[str, object]] = {
        "public_v2": {"version": 2, "community_file": str(_secret(folder, "community", "public"))},
        "public_v1": {"version": 1, "community_file": str(_secret(folder, "community", "public"))},
        "public_v2_pysnmp": {
            "version": 2,
            "community_file": str(_secret(folder, "community", "public")),
            "backend": "pysnmp",
        },
        "wrong_community": {"version": 2, "community_file": str(_secret(folder, "wrong", "not-public"))},
        # snmpsimd serves each recording under its name as community
        "cisco_16_switch": {"version": 2, "community_file": str(_secret(folder, "cisco", "cisco_16_switch"))},
        "cisco_16_switch_pysnmp": {
            "version": 2,
            "community_file": str(_secret(folder, "cisco", "cisco_16_switch")),
            "backend": "pysnmp",
        },
        "linux_recording": {"version": 2, "community_file": str(_secret(folder, "linux", "linux-full-walk"))},
        "winxp_recording": {"version": 2, "community_file": str(_secret(folder, "winxp", "winxp-full-walk"))},
        **{name: {"version": 2, "community_file": str(_secret(folder, name, name))} for name in BUILT},
        **{
            f"{name}_pysnmp": {
                "version": 2,
                "community_file": str(_secret(folder, name, name)),
                "backend": "pysnmp",
            }
            for name in BUILT
        },
    }
    protocols = {"SHA": "SHA", "SHA-256": "SHA256"}
    levels = {"priv": "authPriv", "auth": "authNoPriv", "noauth": "noAuthNoPriv"}
    for user, (level, auth, apass, priv, ppass) in V3_USERS.items():
        entry: dict[str, object] = {"version": 3, "username": user, "security_level": levels[level]}
        if auth:
            entry |= {
                "auth_protocol": protocols[auth],
                "password_file": str(_secret(folder, user, str(apass))),
            }
        if priv:
            entry |= {
                "priv_protocol": PRIV_NAMES.get(priv, priv),
                "priv_password_file": str(_secret(folder, user + "_priv", str(ppass))),
            }
        auths[user] = entry
    for user in ("hm_sha_aes", "hm_sha256_aes", "hm_auth", "hm_noauth"):
        auths[f"{user}_pysnmp"] = dict(auths[user], backend="pysnmp")
    auths["v3_wrong_password"] = dict(
        auths["hm_sha_aes"], password_file=str(_secret(folder, "bad", "wrong-pass"))
    )
    auths["v3_wrong_priv_password"] = dict(
        auths["hm_sha_aes"], priv_password_file=str(_secret(folder, "badpriv", "wrong-priv"))
    )
    auths["v3_wrong_password_pysnmp"] = dict(auths["v3_wrong_password"], backend="pysnmp")
    auths["v3_unknown_user"] = dict(auths["hm_sha_aes"], username="nobody_here")
    data: dict[str, object] = {
        "auths": auths,
        "defaults": {"timeout": 0.5, "retries": 1},
        # The agents are on loopback and in the test's own namespace (10.200-249.x.x); probing them ad hoc
        # with every lab auth is the point of these tests.
        "allow_adhoc_targets": True,
        "adhoc_cidrs": ["127.0.0.0/8", "::1/128", "10.192.0.0/10"],
    } | overrides
    path = folder / "network.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _secret(folder: Path, name: str, value: str) -> Path:
    path = folder / f"{name}.secret"
    path.write_text(value + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def exporter() -> NetworkExporter:
    """Return the exporter under test."""
    return NetworkExporter()


@pytest.fixture(scope="session")
def runtime(exporter: NetworkExporter, tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    """Load the test config with every lab auth."""
    return exporter.load_config(write_config(tmp_path_factory.mktemp("network-config")))


@pytest.fixture(scope="session")
def recorded() -> Iterator[str]:
    """Serve recordings of real devices with snmpsimd; yield its ``host:port``."""
    with snmpsimd() as target:
        yield target


@pytest.fixture(scope="session")
def closet_lab() -> Iterator[Closet]:
    """Run five agents with ENTITY-MIB and LLDP-MIB rows in a namespace of their own (`tests.network.lab`)."""
    with closet() as running:
        yield running


@pytest.fixture(scope="session")
def lab_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return an exporter config naming the lab's v2c and v3 auths, secrets in files."""
    cidrs = ["127.0.0.0/8", "10.77.0.0/29"]  # loopback and the closet's namespace
    return write_config(tmp_path_factory.mktemp("lab-config"), allow_adhoc_targets=True, adhoc_cidrs=cidrs)
