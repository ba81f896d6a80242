"""The HIS, LIS and PACS exporters in turns with blackbox_exporter doing the nearest check: RSS and CPU.

Each of these exporters probes what no Go exporter in Debian speaks whole, so the peer is the check a
hospital would otherwise run with blackbox_exporter 0.23 on the same target:

- HIS ``web`` module and blackbox ``http``: the same HTTPS login page as bench/http_probe.py (new connection,
  TLS verified against the same CA, status 200, body matching ``Sign in``): the same work.
- LIS ``mllp`` module and blackbox ``tcp`` with query_response: both send an HL7 v2 ADT^A01 in MLLP framing
  to the same listener and require ``MSA|AA`` in its acknowledgement: the same work (our message carries a
  fresh timestamp and control id, blackbox's is fixed).
- PACS ``echo`` module and blackbox ``tcp`` connect, against dcmtk's storescp: ours associates, sends a
  C-ECHO and releases; blackbox only opens and closes the connection (it speaks no DICOM). Not the same
  work: the figure shows what a hospital pays for a real DICOM check over a port check.

A turn is `--probes` probes one after the other; turns alternate blackbox, hospmon for `--rounds` rounds, per
exporter. RSS is read after each turn; blackbox is one process serving all three checks.

    .venv/bin/python bench/exporter_memory.py [--rounds 5] [--probes 20]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.harness import Report, alternate, contains, rss_mib, scrape_turn  # noqa: E402
from bench.http_probe import BLACKBOX, PAGE, SERVER, certificate  # noqa: E402
from bench.servers import fetch, free_port, http_ok, process, tcp_ok  # noqa: E402

CALLED_AE = "BENCH_SCP"
HL7 = (
    "\x0bMSH|^~\\&|HOSPMON|MONITORING|LIS|LAB|20260101000000||ADT^A01|BLACKBOX1|T|2.5\r"
    "EVN|A01|20260101000000\rPID|1||HOSPMON-PROBE||PROBE^HOSPMON\r\x1c\r"
)
MLLP_SERVER = r"""
import socket, socketserver, sys
class H(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        data = b""
        while b"\x1c\r" not in data:
            chunk = self.request.recv(65536)
            if not chunk:
                return
            data += chunk
        control = data.split(b"\r", 1)[0].split(b"|")[9].decode()
        ack = (f"MSH|^~\\&|LIS|LAB|HOSPMON|MONITORING|20260101120000||ACK^A01|ACK{control}|T|2.5\r"
               f"MSA|AA|{control}\r")
        self.request.sendall(b"\x0b" + ack.encode() + b"\x1c\r")
class S(socketserver.ThreadingTCPServer):
    daemon_threads = allow_reuse_address = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def blackbox_config(folder: Path) -> Path:
    """Write blackbox_exporter's modules for the three checks."""
    path = folder / "blackbox.yml"
    path.write_text(yaml.safe_dump({"modules": {
        "his_web": {"prober": "http", "timeout": "10s", "http": {
            "method": "GET", "valid_status_codes": [200], "fail_if_body_not_matches_regexp": ["Sign in"],
            "preferred_ip_protocol": "ip4", "tls_config": {"ca_file": str(folder / "cert.pem")}}},
        "lis_mllp": {"prober": "tcp", "timeout": "10s", "tcp": {"preferred_ip_protocol": "ip4",
            "query_response": [{"send": HL7}, {"expect": "MSA\\|AA"}]}},
        "pacs_port": {"prober": "tcp", "timeout": "10s", "tcp": {"preferred_ip_protocol": "ip4"}},
    }}))  # fmt: skip
    return path


def our_configs(folder: Path, site: str, mllp: str, dicom: str) -> dict[str, Path]:
    """Write the HIS, LIS and PACS exporters' configs for the same targets; return them by exporter."""
    configs = {
        "his": {"modules": {"web": {"kind": "http", "http": {
            "path": "/emr/login", "valid_status_codes": [200], "body_regex": ["Sign in"],
            "tls": {"ca_file": str(folder / "cert.pem")}}}},
            "targets": [{"target": site, "modules": ["web"]}]},
        "lis": {"modules": {"mllp": {"message_type": "ADT^A01"}}, "targets": [{"target": mllp}]},
        "pacs": {"modules": {"echo": {"calling_ae": "HOSPMON", "called_ae": CALLED_AE}},
                 "targets": [{"target": dicom}]},
    }  # fmt: skip
    paths = {}
    for name, config in configs.items():
        paths[name] = folder / f"{name}.yml"
        paths[name].write_text(yaml.safe_dump(config))
    return paths


def main() -> int:
    """Start the targets, blackbox and our three exporters; run the turns and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--probes", type=int, default=20, help="probes per turn")
    args = parser.parse_args()
    storescp = shutil.which("storescp")
    if shutil.which(BLACKBOX) is None or storescp is None:
        raise SystemExit(f"needs {BLACKBOX} and dcmtk: apt-get install {BLACKBOX} dcmtk")
    report = Report("HIS, LIS and PACS exporters beside blackbox_exporter", "blackbox_exporter")
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = Path(tmp)
        pem = certificate(folder)
        sp, mp, dp, bp = free_port(), free_port(), free_port(), free_port()
        site, mllp, dicom = f"https://127.0.0.1:{sp}", f"127.0.0.1:{mp}", f"127.0.0.1:{dp}"
        stack.enter_context(process([sys.executable, "-c", SERVER, str(sp), str(pem), PAGE],
                                    lambda: tcp_ok(sp), folder / "site.log"))  # fmt: skip
        stack.enter_context(process([sys.executable, "-c", MLLP_SERVER, str(mp)], lambda: tcp_ok(mp),
                                    folder / "mllp.log"))  # fmt: skip
        stack.enter_context(process([storescp, "-aet", CALLED_AE, "-od", tmp, str(dp)], lambda: tcp_ok(dp),
                                    folder / "storescp.log", env={"TCP_NODELAY": "1"}))  # fmt: skip
        blackbox = stack.enter_context(process(
            [BLACKBOX, f"--config.file={blackbox_config(folder)}", f"--web.listen-address=127.0.0.1:{bp}"],
            lambda: http_ok(f"http://127.0.0.1:{bp}/"), folder / "blackbox.log"))  # fmt: skip
        ours = {}
        for name, config in our_configs(folder, site, mllp, dicom).items():
            port = free_port()
            proc = stack.enter_context(process(
                [sys.executable, "-m", f"exporters.{name}.main", f"--config.file={config}",
                 f"--web.listen-address=127.0.0.1:{port}", "--log.level=error"],
                lambda p=port: http_ok(f"http://127.0.0.1:{p}/-/healthy"), folder / f"{name}.log",
                env={"PYTHONPATH": str(REPO)}))  # fmt: skip
            ours[name] = (proc.pid, port)
        checks = {
            "his": ("his_web", site + "/emr/login", site, "web"),
            "lis": ("lis_mllp", mllp, mllp, "mllp"),
            "pacs": ("pacs_port", dicom, dicom, "echo"),
        }
        report.header(
            targets=f"HTTPS login page {site}, MLLP listener {mllp}, dcmtk storescp {dicom}",
            work=f"{args.probes} probes per turn after 3 warm-ups each; blackbox serves all three",
        )
        for name, (module, peer_target, our_target, our_module) in checks.items():
            pid, port = ours[name]
            peer_url = f"http://127.0.0.1:{bp}/probe?target={peer_target}&module={module}"
            our_url = f"http://127.0.0.1:{port}/probe?target={our_target}&module={our_module}"
            peer_ok = contains("probe_success 1")
            our_ok = contains(f'hospmon_probe_success{{module="{our_module}"}} 1.0')
            for url, ok in ((peer_url, peer_ok), (our_url, our_ok)):
                for _ in range(3):
                    why = ok(fetch(url))
                    if why:
                        report.fail(f"warm-up {url}: {why}")
            results = alternate(
                [("blackbox", scrape_turn(blackbox.pid, peer_url, args.probes, peer_ok, report)),
                 ("hospmon", scrape_turn(pid, our_url, args.probes, our_ok, report))],
                args.rounds,
            )  # fmt: skip
            peer, mine = results["blackbox"], results["hospmon"]
            report.figure(f"{name} ({our_module} / {module}): CPU per probe, ms", peer["cpu_ms"],
                          mine["cpu_ms"], digits=2)  # fmt: skip
            report.figure(f"{name}: RSS after the turn, MiB", peer["rss"], mine["rss"])
        done = 3 + args.rounds * args.probes
        report.note(f"each of our exporters ran {done} probes; blackbox {3 * done} (all three checks)")
        report.note(
            "RSS at the end: blackbox "
            f"{rss_mib(blackbox.pid):.1f} MiB; "
            + ", ".join(f"{name} {rss_mib(pid):.1f} MiB" for name, (pid, _) in ours.items())
        )
    return report.done()


if __name__ == "__main__":
    raise SystemExit(main())
