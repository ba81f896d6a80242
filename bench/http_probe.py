"""An HTTPS portal probe, in turns: blackbox_exporter and hospmon (the EMR exporter's ``http`` module).

The target is a small HTTPS server in its own process on loopback, with a certificate made for the bench
and trusted by both exporters through the same CA file; it answers with TCP_NODELAY, as nginx does (with
Nagle on, our probe waits ~40 ms for a delayed ACK that Go's client does not). Both probes do the same work:
a new TCP connection, a TLS handshake verified against the CA, ``GET /emr/login``, status 200 and the body
matching ``Sign in``; both report the certificate's expiry. A turn is `--scrapes` probes one after the
other; turns alternate blackbox_exporter, hospmon for `--rounds` rounds.

    .venv/bin/python bench/http_probe.py [--rounds 5] [--scrapes 30]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.harness import Report, alternate, contains, scrape_turn  # noqa: E402
from bench.servers import fetch, free_port, http_ok, process, tcp_ok  # noqa: E402

BLACKBOX = "prometheus-blackbox-exporter"
PAGE = "<html><body><form>Sign in to the EMR</form></body></html>"
SERVER = """
import http.server, socket, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def setup(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as nginx's tcp_nodelay on
        super().setup()
    def do_GET(self):
        body = sys.argv[3].encode()
        self.send_response(200 if self.path == "/emr/login" else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2])
srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
"""


def certificate(folder: Path) -> Path:
    """Make a self-signed certificate for 127.0.0.1 (its own CA); return the PEM with cert and key."""
    pem = folder / "server.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "30", "-subj", "/CN=emr.bench", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    pem.write_text((folder / "cert.pem").read_text() + (folder / "key.pem").read_text())
    return pem


def configs(folder: Path, site: str) -> tuple[Path, Path]:
    """Write blackbox_exporter's and the EMR exporter's configs for the same checks; return both."""
    ca = str(folder / "cert.pem")
    blackbox = folder / "blackbox.yml"
    blackbox.write_text(yaml.safe_dump({"modules": {"portal": {"prober": "http", "timeout": "10s", "http": {
        "method": "GET", "valid_status_codes": [200], "fail_if_body_not_matches_regexp": ["Sign in"],
        "preferred_ip_protocol": "ip4", "tls_config": {"ca_file": ca},
    }}}}))  # fmt: skip
    ours = folder / "emr.yml"
    ours.write_text(yaml.safe_dump({"modules": {"portal": {"kind": "http", "http": {
        "path": "/emr/login", "valid_status_codes": [200], "body_regex": ["Sign in"], "tls": {"ca_file": ca},
    }}}, "targets": [{"target": site, "modules": ["portal"]}]}))  # fmt: skip
    return blackbox, ours


def main() -> int:
    """Start the target and both exporters, run the turns and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scrapes", type=int, default=30, help="probes per turn")
    args = parser.parse_args()
    if shutil.which(BLACKBOX) is None:
        raise SystemExit(f"{BLACKBOX} is not installed: apt-get install {BLACKBOX}")
    report = Report("HTTPS portal probe", "blackbox_exporter")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pem = certificate(folder)
        sp, bp, op = free_port(), free_port(), free_port()
        site = f"https://127.0.0.1:{sp}"
        blackbox_cfg, ours_cfg = configs(folder, site)
        with (
            process([sys.executable, "-c", SERVER, str(sp), str(pem), PAGE], lambda: tcp_ok(sp),
                    folder / "site.log"),
            process([BLACKBOX, f"--config.file={blackbox_cfg}", f"--web.listen-address=127.0.0.1:{bp}"],
                    lambda: http_ok(f"http://127.0.0.1:{bp}/"), folder / "blackbox.log") as bb,
            process([sys.executable, "-m", "exporters.emr.main", f"--config.file={ours_cfg}",
                     f"--web.listen-address=127.0.0.1:{op}", "--log.level=error"],
                    lambda: http_ok(f"http://127.0.0.1:{op}/-/healthy"), folder / "ours.log",
                    env={"PYTHONPATH": str(REPO)}) as ours,
        ):  # fmt: skip
            peer_url = f"http://127.0.0.1:{bp}/probe?target={site}/emr/login&module=portal"
            our_url = f"http://127.0.0.1:{op}/probe?target={site}&module=portal"
            peer_ok, our_ok = (
                contains("probe_success 1"),
                contains('hospmon_probe_success{module="portal"} 1.0'),
            )
            for url, ok in ((peer_url, peer_ok), (our_url, our_ok)):
                for _ in range(3):
                    why = ok(fetch(url))
                    if why:
                        report.fail(f"warm-up {url}: {why}")
            report.header(
                target=f"{site}/emr/login, TLS 1.3 with a P-256 certificate checked against the same CA file",
                work=f"{args.scrapes} probes per turn, each a new connection and handshake; 3 warm-ups each",
            )
            results = alternate(
                [
                    ("blackbox", scrape_turn(bb.pid, peer_url, args.scrapes, peer_ok, report)),
                    ("hospmon", scrape_turn(ours.pid, our_url, args.scrapes, our_ok, report)),
                ],
                args.rounds,
            )
            peer, mine = results["blackbox"], results["hospmon"]
            report.figure("probe wall (HTTP round trip), ms", peer["wall_ms"], mine["wall_ms"], digits=2)
            report.figure("exporter CPU per probe, ms", peer["cpu_ms"], mine["cpu_ms"], digits=2)
            report.figure("RSS after the turn, MiB", peer["rss"], mine["rss"])
            report.note(f"CPU resolution per probe: {10 / args.scrapes:.2f} ms; "
                        f"{3 + args.rounds * args.scrapes} probes each")  # fmt: skip
    return report.done()


if __name__ == "__main__":
    raise SystemExit(main())
