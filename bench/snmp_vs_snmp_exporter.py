"""Scrape Debian's prometheus-snmp-exporter and hospmon-network-exporter against the same snmpd.

snmpd runs in a network namespace holding many veth interfaces (needs root, as in CI). Both exporters fetch
ifTable and ifXTable with GETBULK (max-repetitions 25); ours renders the shipped ``if_mib`` module, theirs the
reference ``snmp_exporter_if_mib.yml`` (its v0.21 generated module). For each exporter the bench prints the
median wall time of a scrape (HTTP round trip) and the exporter process' CPU time per scrape (median from
/proc/PID/stat, which counts in 10 ms ticks, and the mean over all scrapes), their ratios, and whether both
report the same counter values; once over SNMP v2c and once over SNMPv3 authPriv (SHA, AES-128).

    sudo .venv/bin/python bench/snmp_vs_snmp_exporter.py [--pairs 120] [--scrapes 25] [--versions v2c,v3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from demo.servers.process import free_port  # noqa: E402
from demo.servers.snmpd import V3_USERS, Agent, netns_with_interfaces, snmpd  # noqa: E402

V3_USER = "hm_sha_aes"

SNMP_EXPORTER = "prometheus-snmp-exporter"
TICK = os.sysconf("SC_CLK_TCK")
# snmp_exporter metric -> ours, for the counters compared between the two
COUNTERS = {
    "ifHCInOctets": "hospmon_snmp_if_in_bytes",
    "ifHCOutOctets": "hospmon_snmp_if_out_bytes",
    "ifHCInUcastPkts": "hospmon_snmp_if_in_unicast_packets",
    "ifHCOutUcastPkts": "hospmon_snmp_if_out_unicast_packets",
    "ifHCInMulticastPkts": "hospmon_snmp_if_in_multicast_packets",
    "ifHCInBroadcastPkts": "hospmon_snmp_if_in_broadcast_packets",
    "ifInErrors": "hospmon_snmp_if_in_errors",
    "ifOutErrors": "hospmon_snmp_if_out_errors",
    "ifInDiscards": "hospmon_snmp_if_in_discards",
    "ifOutDiscards": "hospmon_snmp_if_out_discards",
}


def cpu_seconds(pid: int) -> float:
    """Return user + system CPU time of a process, including its finished threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def fetch(url: str) -> bytes:
    """GET a URL with the scrape-timeout header Prometheus sends."""
    request = urllib.request.Request(url, headers={"X-Prometheus-Scrape-Timeout-Seconds": "10"})
    with urllib.request.urlopen(request, timeout=30) as resp:
        body: bytes = resp.read()
        return body


@contextmanager
def server(argv: list[str], ready: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run an exporter until the block ends, once `ready` answers."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        until = time.monotonic() + 30
        while True:
            try:
                fetch(ready)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > until:
                    raise RuntimeError(f"{argv[0]} did not start") from None
                time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


def measure(pid: int, url: str, scrapes: int) -> tuple[list[float], list[float], bytes]:
    """Scrape `scrapes` times after two warm-ups; return wall and CPU seconds per scrape and the last body."""
    body = fetch(url) + fetch(url)
    walls, cpus = [], []
    for _ in range(scrapes):
        cpu0, wall0 = cpu_seconds(pid), time.perf_counter()
        body = fetch(url)
        walls.append(time.perf_counter() - wall0)
        cpus.append(cpu_seconds(pid) - cpu0)
    return walls, cpus, body


def counters(body: bytes, names: dict[str, str], skip: set[str]) -> dict[tuple[str, str], float]:
    """Return {(counter, ifIndex): value} for the named counters, leaving out the interfaces in `skip`."""
    out: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(body.decode()):
        key = names.get(family.name)
        if key is None:
            continue
        for sample in family.samples:
            if sample.name.endswith("_created") or sample.labels.get("ifName") in skip:
                continue
            out[(key, sample.labels["ifIndex"])] = sample.value
    return out


def compare(
    agent: Agent, label: str, theirs_config: Path, ours_config: Path, auth: str, scrapes: int
) -> bool:
    """Scrape both exporters against `agent`, print the figures and tell whether the counters agree."""
    theirs_port, ours_port = free_port(), free_port()
    theirs_cmd = [
        SNMP_EXPORTER,
        f"--config.file={theirs_config}",
        f"--web.listen-address=127.0.0.1:{theirs_port}",
        "--log.level=error",
    ]
    ours_cmd = [
        sys.executable,
        "-m",
        "exporters.network.main",
        f"--web.listen-address=127.0.0.1:{ours_port}",
        f"--config.file={ours_config}",
        "--log.level=error",
    ]
    target = agent.target
    theirs_url = f"http://127.0.0.1:{theirs_port}/snmp?target={target}&module=if_mib"
    ours_url = f"http://127.0.0.1:{ours_port}/probe?target={target}&module=if_mib&auth={auth}"
    with (
        server(theirs_cmd, f"http://127.0.0.1:{theirs_port}/") as theirs_proc,
        server(ours_cmd, f"http://127.0.0.1:{ours_port}/-/healthy") as ours_proc,
    ):
        t_wall, t_cpu, t_body = measure(theirs_proc.pid, theirs_url, scrapes)
        o_wall, o_cpu, o_body = measure(ours_proc.pid, ours_url, scrapes)
        # compare counters from two back-to-back scrapes; the uplink carries the SNMP traffic itself
        theirs_now = counters(fetch(theirs_url), {k: k for k in COUNTERS}, {"uplink0"})
        ours_now = counters(fetch(ours_url), {v: k for k, v in COUNTERS.items()}, {"uplink0"})
    interfaces = sum(
        1 for line in o_body.decode().splitlines() if line.startswith("hospmon_snmp_if_in_bytes_total")
    )
    series = [
        sum(1 for line in b.decode().splitlines() if line and not line.startswith("#"))
        for b in (t_body, o_body)
    ]
    same = theirs_now == ours_now and len(ours_now) > 0
    tw, tc, ow, oc = (statistics.median(x) for x in (t_wall, t_cpu, o_wall, o_cpu))
    tcm, ocm = statistics.fmean(t_cpu), statistics.fmean(o_cpu)
    print(
        f"{label}: snmpd with {interfaces} interfaces; {scrapes} scrapes each; "
        f"series: snmp_exporter {series[0]}, hospmon {series[1]}"
    )
    print(f"{'':24}{'wall median':>14}{'CPU median':>14}{'CPU mean':>14}")
    print(f"{'snmp_exporter 0.21':24}{tw * 1000:>11.1f} ms{tc * 1000:>11.1f} ms{tcm * 1000:>11.1f} ms")
    print(f"{'hospmon-network':24}{ow * 1000:>11.1f} ms{oc * 1000:>11.1f} ms{ocm * 1000:>11.1f} ms")
    print(
        f"ratio hospmon / snmp_exporter: wall {ow / tw:.2f} (goal <= 1.0), CPU median "
        f"{oc / tc if tc else float('inf'):.2f}, CPU mean {ocm / tcm:.2f} (goal <= 1.5)"
    )
    print(
        f"same counter values: {'yes' if same else 'NO'} ({len(ours_now)} values compared, "
        f"{len(set(theirs_now.items()) ^ set(ours_now.items()))} differing)\n"
    )
    return same


def main() -> int:
    """Run the comparison over SNMP v2c and v3 authPriv and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=120, help="veth pairs (interfaces = 2 x pairs + 2)")
    parser.add_argument("--scrapes", type=int, default=25)
    parser.add_argument("--versions", default="v2c,v3", help="which comparisons to run: v2c, v3 or both")
    args = parser.parse_args()
    if shutil.which(SNMP_EXPORTER) is None:
        print(f"{SNMP_EXPORTER} is not installed: apt-get install prometheus-snmp-exporter", file=sys.stderr)
        return 1
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = f"{REPO}:{env_path}" if env_path else str(REPO)
    reference = REPO / "bench" / "snmp_exporter_if_mib.yml"
    _, auth_proto, auth_pass, priv_proto, priv_pass = V3_USERS[V3_USER]
    os.environ["HM_BENCH_AUTH"], os.environ["HM_BENCH_PRIV"] = str(auth_pass), str(priv_pass)
    ok = True
    with (
        tempfile.TemporaryDirectory() as tmp,
        netns_with_interfaces(args.pairs) as (ns, address),
        snmpd(address, netns=ns) as agent,
    ):
        # the same module over SNMPv3 authPriv (SHA, AES): snmp_exporter 0.21 keeps auth in the module
        theirs_v3 = Path(tmp) / "snmp_v3.yml"
        modules = yaml.safe_load(reference.read_text())
        modules["if_mib"] |= {
            "version": 3,
            "auth": {"username": V3_USER, "security_level": "authPriv", "password": auth_pass,
                     "auth_protocol": auth_proto, "priv_protocol": priv_proto, "priv_password": priv_pass},
        }  # fmt: skip
        theirs_v3.write_text(yaml.safe_dump(modules))
        ours = Path(tmp) / "network.yml"
        ours.write_text(yaml.safe_dump({"auths": {
            "public_v2": {"version": 2, "community": "public"},
            "bench_v3": {"version": 3, "username": V3_USER, "security_level": "authPriv",
                         "auth_protocol": auth_proto, "password_env": "HM_BENCH_AUTH",
                         "priv_protocol": priv_proto, "priv_password_env": "HM_BENCH_PRIV"},
        }}))  # fmt: skip
        if "v2c" in args.versions:
            ok &= compare(agent, "SNMP v2c", reference, ours, "public_v2", args.scrapes)
        if "v3" in args.versions:
            ok &= compare(agent, "SNMPv3 authPriv (SHA, AES-128)", theirs_v3, ours, "bench_v3", args.scrapes)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
