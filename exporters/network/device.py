"""Read what a CI needs from one SNMP agent: identity (SNMPv2-MIB), hardware (ENTITY-MIB), interface count
and neighbours (LLDP-MIB, CISCO-CDP-MIB), in a few GETs and one interleaved walk under one deadline."""

from __future__ import annotations

from exporters.core.probe import Deadline, ProbeFailed
from exporters.network.ber import END_OF_MIB_VIEW, EXCEPTIONS, Oid, Value, VarBind, format_oid, parse_oid
from exporters.network.identify import Vendors
from exporters.network.neighbours import cdp_neighbours, chassis_text, lldp_neighbours
from exporters.network.render import display_string
from exporters.network.session import Session, get, walk_many
from hospmon.inventory.observed import ObservedDevice

SYSTEM = "1.3.6.1.2.1.1"
IF_NUMBER = "1.3.6.1.2.1.2.1.0"
LLDP_LOCAL = "1.0.8802.1.1.2.1.3"
CDP_GLOBAL_RUN = "1.3.6.1.4.1.9.9.23.1.3.1.0"
ENTITY = "1.3.6.1.2.1.47.1.1.1.1"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
CHASSIS, STACK = 3, 11  # entPhysicalClass
# entPhysicalEntry columns: descr, class, name, hardware, firmware, software revisions, serial, maker, model
ENTITY_COLUMNS = {2: "descr", 5: "class", 7: "name", 8: "hardware", 9: "firmware", 10: "software"}
ENTITY_COLUMNS |= {11: "serial", 12: "maker", 13: "model"}
LLDP_WALK = [f"1.0.8802.1.1.2.1.4.1.1.{c}" for c in (4, 5, 6, 7, 8, 9)]  # lldpRemTable
LLDP_WALK += ["1.0.8802.1.1.2.1.3.7.1.3", "1.0.8802.1.1.2.1.3.7.1.4"]  # lldpLocPortId, lldpLocPortDesc
LLDP_WALK += ["1.0.8802.1.1.2.1.4.2.1.3"]  # lldpRemManAddrIfSubtype: its index holds the address
CDP_WALK = [f"1.3.6.1.4.1.9.9.23.1.2.1.1.{c}" for c in (4, 6, 7, 8)]  # cdpCacheTable
REPETITIONS = 10


Device = ObservedDevice


def text(value: Value) -> str:
    """Render an OCTET STRING or OID cell as text."""
    if isinstance(value, bytes):
        return display_string(value).strip()
    if isinstance(value, tuple):
        return format_oid(value)
    return "" if value is None else str(value)


def read_device(session: Session, address: str, deadline: Deadline, vendors: Vendors) -> Device:
    """Read one agent; raise `ProbeFailed` when it does not answer within the deadline."""
    scalars = [f"{SYSTEM}.{n}.0" for n in (1, 2, 5, 6)]
    scalars += [IF_NUMBER, f"{LLDP_LOCAL}.1.0", f"{LLDP_LOCAL}.2.0", CDP_GLOBAL_RUN]
    answer = {
        format_oid(oid): (tag, value)
        for oid, tag, value in get(session, [parse_oid(s) for s in scalars], deadline)
    }
    if not answer:
        raise ProbeFailed("bad_response", "the agent answered none of the system group")
    device = Device(address=address)
    device.sys_descr = text(answer.get(f"{SYSTEM}.1.0", (0, None))[1])
    device.sys_object_id = text(answer.get(f"{SYSTEM}.2.0", (0, None))[1])
    device.sys_name = text(answer.get(f"{SYSTEM}.5.0", (0, None))[1])
    device.location = text(answer.get(f"{SYSTEM}.6.0", (0, None))[1])
    count = answer.get(IF_NUMBER, (0, None))[1]
    device.interfaces = count if isinstance(count, int) else None
    chassis = answer.get(f"{LLDP_LOCAL}.2.0")
    if chassis is not None:
        subtype = answer.get(f"{LLDP_LOCAL}.1.0", (0, None))[1]
        device.chassis_id = chassis_text(subtype if isinstance(subtype, int) else 0, chassis[1])
        device.lldp = True
    device.cdp = answer.get(CDP_GLOBAL_RUN, (0, None))[1] == 1

    roots = [f"{ENTITY}.{c}" for c in ENTITY_COLUMNS] + LLDP_WALK + CDP_WALK
    columns = dict(
        zip(roots, walk_many(session, [parse_oid(r) for r in roots], REPETITIONS, deadline), strict=True)
    )
    _entity(device, {ENTITY_COLUMNS[int(r.rsplit(".", 1)[1])]: _rows(r, columns[r]) for r in roots[:9]})
    identity = vendors.identify(device.sys_object_id)
    device.vendor = device.vendor or identity.vendor  # the maker ENTITY-MIB names, else the enterprise
    device.model = device.model or identity.model
    device.kind = identity.kind
    lldp = {r: _rows(r, columns[r]) for r in LLDP_WALK}
    device.neighbours = lldp_neighbours(lldp)
    device.lldp = device.lldp or bool(device.neighbours)
    cdp = {r: _rows(r, columns[r]) for r in CDP_WALK}
    if any(cdp.values()):
        device.cdp = True
        ports = {idx[0] for idx in cdp[CDP_WALK[1]]}
        names = get(session, [(*parse_oid(IF_NAME), p) for p in sorted(ports)], deadline) if ports else []
        device.neighbours += cdp_neighbours(cdp, {oid[-1]: text(v) for oid, _, v in names})
    return device


def _rows(root: str, bindings: list[VarBind]) -> dict[Oid, Value]:
    """Index a walked column by row index, leaving out exceptions."""
    n = len(parse_oid(root))
    return {
        oid[n:]: value for oid, tag, value in bindings if tag not in EXCEPTIONS and tag != END_OF_MIB_VIEW
    }


def _entity(device: Device, table: dict[str, dict[Oid, Value]]) -> None:
    """Take serial, model and revisions from the chassis row (the stack, else any row with a serial)."""
    classes = table["class"]

    def rank(index: Oid) -> tuple[int, Oid]:
        kind = classes.get(index)
        has_serial = bool(text(table["serial"].get(index)))
        order = 0 if kind == CHASSIS and has_serial else 1 if has_serial and kind == STACK else 2
        return (order if has_serial else 3, index)

    rows = sorted(set().union(*(col.keys() for col in table.values())), key=rank)
    if not rows:
        return
    best = rows[0]
    device.serial = text(table["serial"].get(best))
    device.model = text(table["model"].get(best))
    device.hardware = text(table["hardware"].get(best))
    device.firmware = text(table["firmware"].get(best))
    device.software = text(table["software"].get(best))
    device.vendor = text(table["maker"].get(best))
