"""The event receiver's configuration: listeners, SNMP credentials, Alertmanager, the queue and the rules.

    inventory: /etc/hospmon/inventory
    rules: [/etc/hospmon/rules/events]
    snmp:
      listen: 127.0.0.1:9162                  # 0.0.0.0:162 needs CAP_NET_BIND_SERVICE (docs/events.md)
      relays: [10.20.0.6]                     # trap forwarders: their traps map by the address they carry
      communities: [{name: site, community_file: secrets/trap-community}]
      users:                                  # SNMPv3; engine_ids: the senders' (traps), informs need none
        - {username: hospmon-trap, password_file: secrets/trap-auth, priv_password_file: secrets/trap-priv,
           engine_ids: ["0x80001f8880e9630000d61ff449"]}
    syslog: {udp: 127.0.0.1:9514, tcp: 127.0.0.1:9514, relays: [10.20.0.5]}  # relays: HOSTNAME names the CI
    alertmanager: {urls: [http://127.0.0.1:9093]}
    queue: {directory: /var/lib/hospmon-event-receiver}
    sources: [{address: 10.20.0.0/30, ci: core-sw-1}]
    dns: {servers: [10.20.0.53]}              # inventory names resolved here; default: the system's resolver

Secrets come from files or environment variables only, are read once at start-up and never shown.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, field_validator, model_validator

from exporters.events.resolve import DnsSettings, Unresolved, resolve_names
from exporters.events.ruleload import load_rules
from exporters.events.rules import RateLimit, RuleSet
from exporters.events.sources import SourceMap, name_of
from hospmon.config import ConfigError, ConfigFault, StrictModel, load_yaml, read_secret, validate
from hospmon.inventory import Inventory, load_inventory
from hospmon.phi import PhiGuard, PhiSettings, RefusalTally, inventory_words

AuthProtocol = Literal["MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"]
PrivProtocol = Literal["DES", "AES", "AES192", "AES256", "AES192C", "AES256C"]
_HEX = re.compile(r"^(0x)?([0-9a-fA-F]{10,64})$")


def _listen(value: str) -> str:
    from exporters.core.server import parse_listen_address

    if value:
        parse_listen_address(value)
    return value


def _network(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an IP address or network, e.g. 10.20.0.5 or 10.20.0.0/29"
        ) from None
    return value


def _relay(value: str) -> str:
    if ipaddress.ip_network(_network(value), strict=False).prefixlen == 0:
        raise ValueError(
            f"{value!r} would trust every sender's word for its CI: list only the relays' addresses"
        )
    return value


Relay = Annotated[str, AfterValidator(_relay)]
"""A trusted relay's address or network (syslog or trap): a name or every address is refused."""


class Community(StrictModel):
    """An SNMPv1/v2c community traps may carry; `name` appears in logs, the community never does."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    community_env: str | None = None
    community_file: str | None = None


class TrapUser(StrictModel):
    """An SNMPv3 user, with the keys named as in the network exporter's auths."""

    username: str
    security_level: Literal["noAuthNoPriv", "authNoPriv", "authPriv"] = "authPriv"
    auth_protocol: AuthProtocol = "SHA256"
    password_env: str | None = None
    password_file: str | None = None
    priv_protocol: PrivProtocol = "AES"
    priv_password_env: str | None = None
    priv_password_file: str | None = None
    engine_ids: list[str] = Field(default_factory=list)
    """The engine IDs of devices sending v3 traps as this user (hex); informs use the receiver's own."""

    @field_validator("engine_ids")
    @classmethod
    def _hex(cls, ids: list[str]) -> list[str]:
        for value in ids:
            if not _HEX.match(value) or len(value.removeprefix("0x")) % 2:
                raise ValueError(f"{value!r} is not an engine ID: 5 to 32 bytes in hex, e.g. 0x8000000001")
        return ids


class SnmpSettings(StrictModel):
    """The trap and inform listener."""

    listen: str = "127.0.0.1:9162"
    communities: list[Community] = Field(default_factory=list)
    users: list[TrapUser] = Field(default_factory=list)
    decoder: Literal["fast", "pysnmp"] = "fast"
    """fast: v2c traps through our BER codec (exporters/events/fastpath.py), the rest through pysnmp."""
    backlog: int = Field(default=100_000, ge=100, description="datagrams waiting to be decoded")
    receive_buffer_bytes: int = Field(default=4 << 20, ge=65536)
    relays: list[Relay] = Field(default_factory=list)
    """Trap forwarders (snmptrapd, an NMS, a proxy): their traps map by the v1 agent address or
    ``snmpTrapAddress.0`` they carry; anyone else's map by the UDP source address."""

    _check_listen = field_validator("listen")(_listen)


class SyslogSettings(StrictModel):
    """The syslog listeners: UDP and TCP (octet-counted or newline framing)."""

    udp: str = "127.0.0.1:9514"
    tcp: str = "127.0.0.1:9514"
    max_message_bytes: int = Field(default=8192, ge=480)
    max_connections: int = Field(default=512, ge=1)
    relays: list[Relay] = Field(default_factory=list)
    """Central syslog relays (rsyslog, syslog-ng): their messages are mapped by HOSTNAME, not by address."""

    _check_listen = field_validator("udp", "tcp")(_listen)


class BasicAuth(StrictModel):
    """Basic auth for an Alertmanager behind a proxy or the exporter-toolkit web config."""

    username: str
    password_file: str | None = None
    password_env: str | None = None


class AlertmanagerSettings(StrictModel):
    """Where alerts go: every Alertmanager of a cluster gets every alert (they do not share alerts)."""

    urls: list[str] = Field(min_length=1)
    timeout_seconds: float = Field(default=10.0, gt=0)
    resend_seconds: float = Field(default=60.0, gt=0)
    basic_auth: BasicAuth | None = None
    bearer_token_file: str | None = None
    ca_file: str | None = None

    @field_validator("urls")
    @classmethod
    def _urls(cls, urls: list[str]) -> list[str]:
        for i, url in enumerate(urls):
            parts = urlsplit(url)
            if parts.username or parts.password or parts.query:
                # Never echoed: the URL may hold the very password it should not.
                raise ValueError(f"[{i}]: credentials go in basic_auth or bearer_token_file, not the URL")
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"[{i}] {url!r} is not an http(s) URL")
        return [u.rstrip("/") for u in urls]


class QueueSettings(StrictModel):
    """Where undelivered alerts wait, and how much of them is kept."""

    directory: str
    max_bytes: int = Field(default=64 << 20, ge=1 << 16)


class Defaults(StrictModel):
    """Settings a rule does not set itself."""

    flap_hold_seconds: float = Field(default=30.0, ge=0)
    rate_limit: RateLimit = RateLimit(events=120, seconds=60)
    flush_seconds: float = Field(default=1.0, gt=0, le=60)
    unknown_sender_expire_seconds: float = Field(default=3600.0, gt=0)
    unknown_sender_limit: int = Field(default=1000, ge=1)


class Source(StrictModel):
    """An address or network a CI sends events from."""

    address: str
    ci: str

    _check_address = field_validator("address")(_network)


class EventsFile(StrictModel):
    """The whole config file."""

    inventory: str
    rules: list[str] = Field(min_length=1)
    snmp: SnmpSettings = SnmpSettings()
    syslog: SyslogSettings = SyslogSettings()
    alertmanager: AlertmanagerSettings
    queue: QueueSettings
    sources: list[Source] = Field(default_factory=list)
    dns: DnsSettings = DnsSettings()
    """How inventory addresses given as names are resolved (at start-up and each reload)."""
    defaults: Defaults = Defaults()
    phi: PhiSettings = Field(default_factory=PhiSettings)
    """The PHI guard's site settings: every label value and text an event fills in passes it."""

    @model_validator(mode="after")
    def _something_listens(self) -> EventsFile:
        if not (self.snmp.listen or self.syslog.udp or self.syslog.tcp):
            raise ValueError("every listener is disabled; give snmp.listen or a syslog address")
        return self


@dataclass(frozen=True)
class UserKeys:
    """An SNMPv3 user with its secrets read."""

    user: TrapUser
    auth_key: str | None
    priv_key: str | None


@dataclass
class EventsConfig:
    """The checked configuration in force: settings, rules, inventory and secrets."""

    path: Path
    settings: EventsFile
    rules: RuleSet
    inventory: Inventory
    sources: SourceMap
    guard: PhiGuard
    communities: dict[str, str] = field(default_factory=dict, repr=False)
    users: list[UserKeys] = field(default_factory=list, repr=False)
    alertmanager_secret: str | None = field(default=None, repr=False)


def _secrets(
    path: Path, conf: EventsFile, faults: list[ConfigFault]
) -> tuple[dict[str, str], list[UserKeys]]:
    def secret(file: str | None, env: str | None, what: str) -> str | None:
        return _read(path, file, env, what, faults)

    communities = {}
    for i, c in enumerate(conf.snmp.communities):
        value = secret(c.community_file, c.community_env, f"snmp.communities[{i}].community_file")
        if value is not None:
            communities[c.name] = value
    users = []
    for i, u in enumerate(conf.snmp.users):
        where = f"snmp.users[{i}]"
        auth = priv = None
        if u.security_level != "noAuthNoPriv":
            auth = secret(u.password_file, u.password_env, f"{where}.password_file")
        if u.security_level == "authPriv":
            priv = secret(u.priv_password_file, u.priv_password_env, f"{where}.priv_password_file")
        users.append(UserKeys(u, auth, priv))
    return communities, users


def load_config(path: Path | None, tally: RefusalTally | None = None) -> EventsConfig:
    """Read and check the config, its rules, the inventory and every secret; raise every fault at once.

    The PHI guard counts its refusals in `tally` (the exporter's, kept across reloads).
    """
    if path is None:
        raise ConfigError.single("--config.file", "give the event receiver's config file")
    conf = validate(EventsFile, load_yaml(path), path, id_field="name")
    faults: list[ConfigFault] = []
    rules = inventory = None
    try:
        rules = load_rules(conf.rules)
    except ConfigError as exc:
        faults.extend(exc.faults)
    try:
        inventory = load_inventory(conf.inventory)
    except ConfigError as exc:
        faults.extend(exc.faults)
    resolved: dict[str, list[str]] = {}
    if inventory is not None:
        for i, source in enumerate(conf.sources):
            if source.ci not in inventory.cis:
                faults.append(
                    ConfigFault(str(path), f"sources[{i}]", "ci", f"no CI {source.ci!r} in the inventory")
                )
        resolved = _resolve(conf, inventory, faults)
    communities, users = _secrets(path, conf, faults)
    am = conf.alertmanager
    am_secret = None
    if am.basic_auth is not None:
        am_secret = _read(
            path, am.basic_auth.password_file, am.basic_auth.password_env, "alertmanager.basic_auth", faults
        )
    elif am.bearer_token_file is not None:
        am_secret = _read(path, am.bearer_token_file, None, "alertmanager.bearer_token_file", faults)
    if faults:
        raise ConfigError(faults)
    assert rules is not None and inventory is not None
    relays = {"syslog": conf.syslog.relays, "trap": conf.snmp.relays}
    sources = SourceMap(inventory, [(s.address, s.ci) for s in conf.sources], relays, resolved)
    guard = PhiGuard(conf.phi, extra_words=inventory_words(inventory), tally=tally)
    return EventsConfig(path, conf, rules, inventory, sources, guard, communities, users, am_secret)


def _resolve(conf: EventsFile, inventory: Inventory, faults: list[ConfigFault]) -> dict[str, list[str]]:
    """Resolve the inventory's addresses given as names; a name that does not resolve is a fault."""
    named = {ci.id: name for ci in inventory.cis.values() if ci.address and (name := name_of(ci.address))}
    found = resolve_names(named.values(), conf.dns)
    for ci_id, name in sorted(named.items()):
        result = found[name]
        if isinstance(result, Unresolved):
            fix = "give its IP address, or fix the name in DNS" + (
                "" if conf.dns.servers else " (or set dns.servers)"
            )
            faults.append(
                ConfigFault(
                    conf.inventory, f"cis[{ci_id}]", "address", f"{name!r} does not resolve: {result}; {fix}"
                )
            )
    return {name: r for name, r in found.items() if not isinstance(r, Unresolved)}


def _read(path: Path, file: str | None, env: str | None, what: str, faults: list[ConfigFault]) -> str | None:
    try:
        return read_secret(file, env, what=what, config_file=path)
    except ConfigError as exc:
        faults.extend(exc.faults)
        return None
