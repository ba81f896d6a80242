"""An expired certificate: the probe shows its expiry, verified or not, and TLSCertificateExpired fires in
promtool on the exporter's own output, captured here rather than typed by hand."""

from __future__ import annotations

import datetime as dt
import ipaddress
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from prometheus_client.parser import text_string_to_metric_families

from exporters.core.server import ExporterApp, RunningServer
from exporters.emr.main import EmrExporter
from tests.conftest import REPO
from tests.emr.fakeemr import FakeEmr
from tests.servers import require

EXPIRY = "hospmon_http_tls_cert_expiry_timestamp_seconds"


@pytest.fixture(scope="module")
def expired_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, float]:
    """Return a certificate for 127.0.0.1 that expired yesterday, its key, and its notAfter."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    not_after = now - dt.timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=366))
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("expired")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return folder / "cert.pem", folder / "key.pem", not_after.timestamp()


@pytest.fixture(scope="module")
def exporter(
    expired_cert: tuple[Path, Path, float], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    path = tmp_path_factory.mktemp("emr-expired") / "emr.yml"
    path.write_text(
        "allow_adhoc_targets: true\nadhoc_cidrs: [127.0.0.0/8]\n"  # the fake EMR's port is picked at random
        "modules:\n"
        f"  verified: {{kind: http, http: {{path: health, tls: {{ca_file: '{expired_cert[0]}'}}}}}}\n"
        "  unverified: {kind: http, http: {path: health, tls: {insecure_skip_verify: true}}}\n"
    )
    with RunningServer(ExporterApp(EmrExporter(), path), "127.0.0.1", 0) as server:
        yield server


def _probe(exporter: RunningServer, target: str, module: str) -> str:
    query = urllib.parse.urlencode({"target": target, "module": module})
    with urllib.request.urlopen(f"{exporter.url}/probe?{query}", timeout=30) as resp:
        return str(resp.read().decode())


def test_expired_certificate_shows_its_expiry_and_fires_the_alert(
    exporter: RunningServer, expired_cert: tuple[Path, Path, float], tmp_path: Path
) -> None:
    with FakeEmr(expired_cert[:2]) as emr:
        target = emr.url("ok")
        body = _probe(exporter, target, "verified,unverified")
    assert 'hospmon_probe_failure{module="verified",reason="auth"} 1.0' in body
    assert 'hospmon_probe_success{module="unverified"} 1.0' in body
    expiries = {
        s.labels["module"]: s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
        if s.name == EXPIRY
    }
    assert expiries == {"verified": expired_cert[2], "unverified": expired_cert[2]}

    # promtool's clock starts at 0: evaluate at the probe's wall-clock time, one step, on the captured series.
    now = int(time.time())
    target_labels = {"job": "emr", "instance": target, "ci": "emr-app-1", "service": "emr"}
    series = [
        {
            "series": EXPIRY
            + "{"
            + ",".join(f'{k}="{v}"' for k, v in {**target_labels, "module": m}.items())
            + "}",
            "values": f"{value!r} {value!r}",
        }
        for m, value in expiries.items()
    ]
    expected = {
        "exp_labels": {"severity": "critical", **target_labels},
        "exp_annotations": {
            "summary": "TLS certificate of emr-app-1 has expired",
            "summary_zh": "emr-app-1 的 TLS 证书已过期",
            "description": (
                f"The certificate served at {target} (CI emr-app-1, service emr) has expired: browsers and "
                "interfaces refuse the connection. Install a renewed certificate now."
            ),
        },
    }
    test_file = tmp_path / "expired_test.yml"
    test_file.write_text(
        yaml.safe_dump(
            {
                "rule_files": [str(REPO / "rules" / "emr.yml")],
                "evaluation_interval": f"{now}s",
                "tests": [
                    {
                        "interval": f"{now}s",
                        "input_series": series,
                        "alert_rule_test": [
                            {
                                "eval_time": f"{now}s",
                                "alertname": "TLSCertificateExpired",
                                "exp_alerts": [expected],
                            },
                            {
                                "eval_time": f"{now}s",
                                "alertname": "TLSCertificateExpiringSoon",
                                "exp_alerts": [],
                            },
                        ],
                    }
                ],
            }
        )
    )
    result = subprocess.run(
        [require("promtool"), "test", "rules", str(test_file)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
