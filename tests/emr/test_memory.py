"""An EMR portal check with a certificate that verifies keeps the `cryptography` package out of the exporter.

The ssl module already decodes a verified certificate's notAfter; the package (about 9 MiB with its own
OpenSSL) is needed only for certificates the probe did not verify, so a hospital whose portals present
valid certificates never pays for it, and still sees the expiry to the second.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cryptography import x509
from prometheus_client.parser import text_string_to_metric_families

from tests.emr.fakeemr import FakeEmr
from tests.servers import free_port, http_get, mapped, process

CRYPTOGRAPHY = ("cryptography/hazmat/bindings",)


def test_verified_portal_shows_its_expiry_without_the_cryptography_package(
    tls_cert: tuple[Path, Path], tmp_path: Path
) -> None:
    path = tmp_path / "emr.yml"
    path.write_text(
        "allow_adhoc_targets: true\nadhoc_cidrs: [127.0.0.0/8]\n"
        f"modules:\n  portal: {{kind: http, http: {{path: health, tls: {{ca_file: '{tls_cert[0]}'}}}}}}\n"
    )
    not_after = x509.load_pem_x509_certificate(tls_cert[0].read_bytes()).not_valid_after_utc.timestamp()
    base = f"http://127.0.0.1:{free_port()}"
    argv = [sys.executable, "-m", "exporters.emr.main", f"--config.file={path}",
            f"--web.listen-address={base.removeprefix('http://')}"]  # fmt: skip
    with FakeEmr(tls_cert) as emr, process(argv, f"{base}/-/healthy", tmp_path / "exporter.log") as proc:
        status, body = http_get(f"{base}/probe?target={emr.url('ok')}&module=portal", timeout=30)
        assert status == 200 and b'hospmon_probe_success{module="portal"} 1.0' in body
        expiry = [
            s.value
            for family in text_string_to_metric_families(body.decode())
            for s in family.samples
            if s.name == "hospmon_http_tls_cert_expiry_timestamp_seconds"
        ]
        assert expiry == [not_after]
        assert mapped(proc.pid, CRYPTOGRAPHY) == set()
