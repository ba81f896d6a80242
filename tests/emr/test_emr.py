"""The EMR exporter and the core HTTP probe against a real fake EMR over HTTP and TLS."""

from __future__ import annotations

import logging
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from exporters.core.server import ExporterApp, RunningServer
from exporters.emr.main import EmrExporter
from hospmon.config import ConfigError
from tests.emr import fakeemr
from tests.emr.fakeemr import FakeEmr

CONFIG = """
allow_adhoc_targets: true
adhoc_cidrs: [127.0.0.0/8, '::1/128']
auths:
  static:
    bearer: {{token_file: {secrets}/token}}
  basic:
    basic: {{username: monitor, password_file: {secrets}/password}}
  sso:
    oauth2:
      token_url: "{token_url}"
      client_id: hospmon
      client_secret_file: {secrets}/client_secret
      scopes: [system/*.read]
  wrong-sso:
    oauth2: {{token_url: "{token_url}", client_id: hospmon, client_secret_file: {secrets}/token}}
modules:
  meta: {{kind: fhir_metadata, http: {{tls: {{ca_file: "{ca}"}}}}}}
  search:
    kind: fhir_search
    resource_types: [Patient, Encounter]
    http: {{tls: {{ca_file: "{ca}"}}}}
  read: {{kind: fhir_read, resource: Patient/hospmon-synthetic-1, http: {{tls: {{ca_file: "{ca}"}}}}}}
  read_bearer: {{kind: fhir_read, resource: Patient/hospmon-synthetic-1, http: {{auth: static}}}}
  meta_basic: {{kind: fhir_metadata, http: {{auth: basic}}}}
  meta_oauth: {{kind: fhir_metadata, http: {{auth: sso}}}}
  meta_bad_oauth: {{kind: fhir_metadata, http: {{auth: wrong-sso}}}}
  document: {{kind: fhir_document, resource: DocumentReference/hospmon-synthetic-doc-1}}
  foreign_document: {{kind: fhir_document, resource: DocumentReference/hospmon-foreign-doc}}
  portal:
    kind: http
    http: {{path: old-portal, body_regex: ["Sign in"], body_not_regex: ["Maintenance"]}}
  portal_guard:
    kind: http
    http: {{path: portal, body_not_regex: ["Last patient"]}}
  portal_no_follow:
    kind: http
    http: {{path: old-portal, follow_redirects: false, valid_status_codes: [302]}}
  health:
    kind: http
    http:
      path: health
      json_checks:
        - {{name: up, path: status, op: eq, value: UP}}
        - {{name: pool, path: db.connections, op: ge, value: 1}}
"""


@pytest.fixture(scope="module")
def emr() -> Iterator[FakeEmr]:
    with FakeEmr() as server:
        yield server


@pytest.fixture(scope="module")
def emr_tls(tls_cert: tuple[Path, Path]) -> Iterator[FakeEmr]:
    with FakeEmr(tls_cert) as server:
        yield server


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory, emr: FakeEmr, tls_cert: tuple[Path, Path]) -> Path:
    folder = tmp_path_factory.mktemp("emr")
    (folder / "token").write_text(fakeemr.BEARER + "\n")
    (folder / "password").write_text(fakeemr.PASSWORD)
    (folder / "client_secret").write_text(fakeemr.CLIENT_SECRET)
    path = folder / "emr.yml"
    path.write_text(CONFIG.format(secrets=folder, token_url=emr.url() + "/token", ca=tls_cert[0]))
    return path


@pytest.fixture(scope="module")
def exporter(config_file: Path) -> Iterator[RunningServer]:
    with RunningServer(ExporterApp(EmrExporter(), config_file), "127.0.0.1", 0) as server:
        yield server


OUTPUTS: list[str] = []


def probe(exporter: RunningServer, target: str, module: str, timeout: str | None = None) -> str:
    query = urllib.parse.urlencode({"target": target, "module": module})
    headers = {"X-Prometheus-Scrape-Timeout-Seconds": timeout} if timeout else {}
    request = urllib.request.Request(f"{exporter.url}/probe?{query}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            body: str = resp.read().decode()
    except urllib.error.HTTPError as exc:
        body = exc.read().decode()
    OUTPUTS.append(body)
    return body


def value(body: str, series: str) -> float:
    for line in body.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{series} not in\n{body}")


def test_fhir_over_tls(exporter: RunningServer, emr_tls: FakeEmr, tls_cert: tuple[Path, Path]) -> None:
    body = probe(exporter, emr_tls.url(), "meta,search,read")
    for module in ("meta", "search", "read"):
        assert f'hospmon_probe_success{{module="{module}"}} 1.0' in body, body
    assert (
        'hospmon_fhir_info{fhir_version="4.0.1",module="meta",software_name="FakeEMR FHIR",'
        'software_version="3.2.1"} 1.0'
    ) in body
    assert value(body, 'hospmon_fhir_resources{module="search",resource_type="Patient"}') == 1342
    assert value(body, 'hospmon_fhir_resources{module="search",resource_type="Encounter"}') == 56789
    assert value(body, 'hospmon_fhir_search_duration_seconds{module="search",resource_type="Patient"}') > 0
    assert value(body, 'hospmon_fhir_read_duration_seconds{module="read",resource_type="Patient"}') > 0
    assert value(body, 'hospmon_http_phase_duration_seconds{module="meta",phase="tls"}') > 0
    assert value(body, 'hospmon_http_phase_duration_seconds{module="meta",phase="connect"}') > 0
    assert 'hospmon_http_tls_version_info{module="meta",version="TLSv1.3"} 1.0' in body
    # The expiry is the certificate's own notAfter, as openssl reads it.
    end = (
        subprocess.run(
            ["openssl", "x509", "-noout", "-enddate", "-in", str(tls_cert[0])],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .removeprefix("notAfter=")
    )
    for module in ("meta", "search", "read"):
        expiry = value(body, f'hospmon_http_tls_cert_expiry_timestamp_seconds{{module="{module}"}}')
        assert expiry == ssl.cert_time_to_seconds(end)
    assert 0 < expiry - time.time() <= 2 * 86400


def test_untrusted_certificate_fails_with_auth(exporter: RunningServer, emr_tls: FakeEmr) -> None:
    body = probe(exporter, emr_tls.url(), "meta_basic")  # no ca_file: the self-signed cert is not trusted
    assert 'hospmon_probe_failure{module="meta_basic",reason="auth"} 1.0' in body


def test_auths(exporter: RunningServer, emr: FakeEmr) -> None:
    body = probe(exporter, emr.url("locked"), "read_bearer,meta_basic,meta_oauth,meta_bad_oauth,meta")
    for module in ("read_bearer", "meta_basic", "meta_oauth"):
        assert f'hospmon_probe_success{{module="{module}"}} 1.0' in body, body
    assert value(body, 'hospmon_http_oauth2_token_duration_seconds{module="meta_oauth"}') > 0
    assert 'hospmon_probe_failure{module="meta_bad_oauth",reason="auth"} 1.0' in body
    assert 'hospmon_probe_failure{module="meta",reason="auth"} 1.0' in body


def test_server_error_is_rejected(exporter: RunningServer, emr: FakeEmr) -> None:
    body = probe(exporter, emr.url("broken"), "meta,search,read,portal")
    for module in ("meta", "search", "read", "portal"):
        assert f'hospmon_probe_failure{{module="{module}",reason="rejected"}} 1.0' in body


def test_web_modules_and_redirects(exporter: RunningServer, emr: FakeEmr) -> None:
    body = probe(exporter, emr.url(), "portal,portal_no_follow,health")
    for module in ("portal", "portal_no_follow", "health"):
        assert f'hospmon_probe_success{{module="{module}"}} 1.0' in body, body
    assert value(body, 'hospmon_http_redirects{module="portal"}') == 1
    assert value(body, 'hospmon_http_status_code{module="portal"}') == 200
    assert value(body, 'hospmon_http_redirects{module="portal_no_follow"}') == 0
    assert value(body, 'hospmon_http_status_code{module="portal_no_follow"}') == 302
    assert value(body, 'hospmon_http_phase_duration_seconds{module="portal",phase="tls"}') == 0
    assert "hospmon_http_tls_cert_expiry_timestamp_seconds" not in body
    guarded = probe(exporter, emr.url(), "portal_guard")
    assert 'hospmon_probe_failure{module="portal_guard",reason="check_failed"} 1.0' in guarded


def test_wrong_content_fails_checks(exporter: RunningServer, emr: FakeEmr) -> None:
    body = probe(exporter, emr.url("wrong"), "portal,health,read,meta")
    for module in ("portal", "health", "read"):
        assert f'hospmon_probe_failure{{module="{module}",reason="check_failed"}} 1.0' in body, body
    assert 'hospmon_probe_failure{module="meta",reason="bad_response"} 1.0' in body


def test_document_retrieval(exporter: RunningServer, emr: FakeEmr) -> None:
    body = probe(exporter, emr.url(), "document")
    assert 'hospmon_probe_success{module="document"} 1.0' in body
    assert value(body, 'hospmon_fhir_document_size_bytes{module="document"}') == len(fakeemr.DOCUMENT_TEXT)
    for step in ("reference", "content"):
        assert (
            value(
                body, f'hospmon_fhir_document_retrieval_duration_seconds{{module="document",step="{step}"}}'
            )
            > 0
        )
    assert "/fhir/Binary/hospmon-synthetic-doc-1" in emr.requests


def test_document_on_another_server_is_not_fetched(exporter: RunningServer, emr: FakeEmr) -> None:
    body = probe(exporter, emr.url(), "foreign_document")
    assert 'hospmon_probe_failure{module="foreign_document",reason="check_failed"} 1.0' in body


def test_unreachable(exporter: RunningServer) -> None:
    body = probe(exporter, "http://127.0.0.1:1/fhir", "meta")
    assert 'hospmon_probe_failure{module="meta",reason="unreachable"} 1.0' in body


def test_silent_server_times_out_by_the_deadline(exporter: RunningServer, emr: FakeEmr) -> None:
    start = time.monotonic()
    body = probe(exporter, emr.url("hang"), "meta,portal", timeout="1.5")
    elapsed = time.monotonic() - start
    assert 'hospmon_probe_failure{module="meta",reason="timeout"} 1.0' in body
    assert 'hospmon_probe_failure{module="portal",reason="timeout"} 1.0' in body
    assert 0.9 <= elapsed < 1.5, f"answered after {elapsed:.2f} s, deadline was 1.0 s"


def test_bad_targets_get_400(exporter: RunningServer) -> None:
    assert "http:// or https://" in probe(exporter, "emr.example:443", "meta")
    assert "credentials" in probe(exporter, "https://u:p@emr.example/fhir", "meta")


def test_config_faults_are_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "emr.yml"
    path.write_text(
        "auths:\n  a: {bearer: {token_file: /nonexistent/token}}\n"
        "modules:\n"
        "  s: {kind: fhir_search}\n"
        "  r: {kind: fhir_read, resource: patient}\n"
        "  h: {kind: http, http: {auth: nobody, headers: {Authorization: x}}}\n"
    )
    with pytest.raises(ConfigError) as caught:
        EmrExporter().load_config(path)
    text = str(caught.value)
    assert "fhir_search needs resource_types" in text
    assert "fhir_read needs resource" in text
    assert "credentials in auths" in text
    path.write_text(
        "auths:\n  a: {bearer: {token_file: /nonexistent/token}}\n"
        "modules:\n  h: {kind: http, http: {auth: nobody}}\n"
    )
    with pytest.raises(ConfigError) as caught:
        EmrExporter().load_config(path)
    text = str(caught.value)
    assert "unknown auth nobody" in text
    assert "cannot read secret file /nonexistent/token" in text


def test_no_patient_data_in_any_output(
    exporter: RunningServer, emr: FakeEmr, emr_tls: FakeEmr, caplog: pytest.LogCaptureFixture
) -> None:
    """Canary: patient-like values the EMR sends never reach metrics, failure details or logs."""
    caplog.set_level(logging.DEBUG)
    modules = "meta,search,read,read_bearer,meta_basic,meta_oauth,portal,portal_guard,health"
    for mode in ("fhir", "broken", "locked", "wrong"):
        probe(exporter, emr.url(mode), modules)
    probe(exporter, emr_tls.url(), "meta,search,read")
    with urllib.request.urlopen(f"{exporter.url}/metrics", timeout=30) as resp:
        OUTPUTS.append(resp.read().decode())
    assert any("Patient/hospmon-synthetic-1" in path for path in emr.requests)  # the canary was served
    everything = "\n".join([*OUTPUTS, caplog.text])
    assert "probe failed" in caplog.text  # failures were logged, with their details
    for canary in fakeemr.CANARIES:
        assert canary not in everything


def test_example_config_checks(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from exporters.emr.main import main

    example = repo / "exporters" / "emr" / "emr.example.yml"
    monkeypatch.delenv("HOSPMON_EMR_CLIENT_SECRET", raising=False)
    assert main(["--config.file", str(example), "--check-config"]) == 1
    assert "HOSPMON_EMR_CLIENT_SECRET is not set" in capsys.readouterr().err
    monkeypatch.setenv("HOSPMON_EMR_CLIENT_SECRET", "s")
    assert main(["--config.file", str(example), "--check-config"]) == 0
    assert EmrExporter.default_port == 9106
