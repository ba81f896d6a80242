"""The exporter core served over real sockets: endpoints, deadline, concurrency, reload, TLS, auth."""

from __future__ import annotations

import base64
import socket
import socketserver
import ssl
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest

from exporters.core.server import ExporterApp, RunningServer
from exporters.core.webconfig import load_web_config
from hospmon.config import ConfigError
from tests.core.lineexporter import LineExporter

CONFIG = "modules:\n  ping: {send: PING, expect: PONG}\n  hello: {send: HELLO, expect: HI}\n"


class _LineHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline().strip()
        delay = getattr(self.server, "delay", 0.0)
        if delay < 0:  # never answer, hold the connection open
            self.server.stopped.wait(30)  # type: ignore[attr-defined]
            return
        time.sleep(delay)
        self.wfile.write(b"PONG\n" if line == b"PING" else b"HI\n")


class LineServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, delay: float) -> None:
        super().__init__(("127.0.0.1", 0), _LineHandler)
        self.delay = delay
        self.stopped = threading.Event()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


def _serve(delay: float) -> Iterator[LineServer]:
    server = LineServer(delay)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.stopped.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def line_server() -> Iterator[LineServer]:
    yield from _serve(delay=0.0)


@pytest.fixture
def silent_server() -> Iterator[LineServer]:
    yield from _serve(delay=-1)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "line.yml"
    path.write_text(CONFIG)
    return path


@pytest.fixture
def exporter(config_file: Path) -> Iterator[RunningServer]:
    with RunningServer(ExporterApp(LineExporter(), config_file), "127.0.0.1", 0) as server:
        yield server


def get(
    url: str,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    context: ssl.SSLContext | None = None,
) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_probe_success_and_own_series(exporter: RunningServer, line_server: LineServer) -> None:
    status, body = get(f"{exporter.url}/probe?target={line_server.target}&module=ping,hello")
    assert status == 200
    assert 'hospmon_probe_success{module="ping"} 1.0' in body
    assert 'hospmon_probe_success{module="hello"} 1.0' in body
    # Both modules answer the same family; the exposition holds it once, with both samples.
    assert body.count("# TYPE hospmon_line_answer_length_bytes gauge") == 1
    assert 'hospmon_line_answer_length_bytes{command="PING"} 4.0' in body
    assert 'hospmon_line_answer_length_bytes{command="HELLO"} 2.0' in body
    assert 'hospmon_probe_duration_seconds{module="ping"}' in body


def test_unreachable_target_fails_with_reason(exporter: RunningServer) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    status, body = get(f"{exporter.url}/probe?target=127.0.0.1:{port}&module=ping")
    assert status == 200
    assert 'hospmon_probe_success{module="ping"} 0.0' in body
    assert 'hospmon_probe_failure{module="ping",reason="unreachable"} 1.0' in body


def test_silent_target_returns_by_the_deadline(exporter: RunningServer, silent_server: LineServer) -> None:
    start = time.monotonic()
    status, body = get(
        f"{exporter.url}/probe?target={silent_server.target}&module=ping",
        headers={"X-Prometheus-Scrape-Timeout-Seconds": "1.5"},
    )
    elapsed = time.monotonic() - start
    assert status == 200
    assert 'hospmon_probe_success{module="ping"} 0.0' in body
    assert 'reason="timeout"' in body
    assert 0.9 <= elapsed < 1.5, f"answered after {elapsed:.2f} s, deadline was 1.0 s"


def test_short_scrape_timeout_is_answered_within_it(
    exporter: RunningServer, silent_server: LineServer
) -> None:
    # 0.4 s is less than the 0.5 s offset: the answer must still arrive before Prometheus gives up.
    start = time.monotonic()
    status, body = get(
        f"{exporter.url}/probe?target={silent_server.target}&module=ping",
        headers={"X-Prometheus-Scrape-Timeout-Seconds": "0.4"},
    )
    elapsed = time.monotonic() - start
    assert status == 200 and 'reason="timeout"' in body
    assert elapsed < 0.4, f"answered after {elapsed:.3f} s, Prometheus waits 0.4 s"


def test_slow_target_does_not_delay_another(
    exporter: RunningServer, silent_server: LineServer, line_server: LineServer
) -> None:
    results: dict[str, float] = {}

    def slow() -> None:
        get(
            f"{exporter.url}/probe?target={silent_server.target}&module=ping",
            headers={"X-Prometheus-Scrape-Timeout-Seconds": "3.5"},
        )
        results["slow"] = time.monotonic()

    start = time.monotonic()
    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.2)
    status, body = get(f"{exporter.url}/probe?target={line_server.target}&module=ping")
    fast_done = time.monotonic() - start
    thread.join()
    assert status == 200 and 'hospmon_probe_success{module="ping"} 1.0' in body
    assert fast_done < 1.5, f"the fast probe waited {fast_done:.2f} s behind the slow one"
    assert results["slow"] - start >= 2.9


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("module=ping", "target"),
        ("target=&module=ping", "target"),
        ("target=127.0.0.1:1", "module parameter"),
        ("target=127.0.0.1:1&module=nope", "unknown module nope"),
        ("target=127.0.0.1:1&module=ping,ping", "named twice"),
        ("target=a&target=b&module=ping", "exactly one"),
    ],
)
def test_bad_probe_request_gets_400(exporter: RunningServer, query: str, reason: str) -> None:
    status, body = get(f"{exporter.url}/probe?{query}")
    assert status == 400
    assert reason in body


def test_landing_health_metrics_and_404(exporter: RunningServer) -> None:
    status, body = get(f"{exporter.url}/")
    assert status == 200 and "hospmon line exporter" in body and "<code>ping</code>" in body
    assert get(f"{exporter.url}/-/healthy") == (200, "Healthy\n")
    status, body = get(f"{exporter.url}/metrics")
    assert status == 200
    # Self-metric series exist at zero before the first probe.
    assert 'hospmon_exporter_probes_total{module="ping",result="failure"} 0.0' in body
    assert "hospmon_exporter_config_last_reload_successful 1.0" in body
    assert get(f"{exporter.url}/nowhere")[0] == 404
    assert get(f"{exporter.url}/probe?target=x&module=ping", method="POST")[0] == 405


def test_reload_keeps_the_old_config_when_the_new_one_is_invalid(
    exporter: RunningServer, config_file: Path, line_server: LineServer
) -> None:
    assert get(f"{exporter.url}/-/reload")[0] == 405
    config_file.write_text("modules:\n  ping: {send: PING, expect: PONG, colour: blue}\n")
    status, body = get(f"{exporter.url}/-/reload", method="POST")
    assert status == 409  # the request is fine, the file is not: never a 5xx
    assert f"{config_file}: modules.ping: colour: unknown key" in body
    assert "hospmon_exporter_config_last_reload_successful 0.0" in get(f"{exporter.url}/metrics")[1]
    # The old config, with both modules, still serves.
    assert (
        'hospmon_probe_success{module="hello"} 1.0'
        in get(f"{exporter.url}/probe?target={line_server.target}&module=hello")[1]
    )
    config_file.write_text("modules:\n  only: {send: PING, expect: PONG}\n")
    assert get(f"{exporter.url}/-/reload", method="POST")[0] == 200
    assert get(f"{exporter.url}/probe?target={line_server.target}&module=hello")[0] == 400


def test_config_errors_are_reported_at_start_up(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("modules:\n  ping: {send: 3, expect: [1]}\n  x: {sned: PING}\nextra: 1\n")
    with pytest.raises(ConfigError) as caught:
        ExporterApp(LineExporter(), bad)
    text = str(caught.value)
    assert f"{bad}: modules.ping: send: Input should be a valid string" in text
    assert f"{bad}: modules.ping: expect: Input should be a valid string" in text
    assert f"{bad}: modules.x: sned: unknown key" in text
    assert f"{bad}: extra: unknown key" in text
    (tmp_path / "syntax.yml").write_text("modules: {ping: [\n")
    with pytest.raises(ConfigError, match=r"syntax.yml: line 2, column 1: invalid YAML"):
        ExporterApp(LineExporter(), tmp_path / "syntax.yml")


def _web_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "web.yml"
    path.write_text(body)
    return path


def test_basic_auth(tmp_path: Path, config_file: Path, line_server: LineServer) -> None:
    hashed = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2y$", 1)
    web = load_web_config(_web_config(tmp_path, f"basic_auth_users:\n  prometheus: '{hashed}'\n"))
    with RunningServer(ExporterApp(LineExporter(), config_file, web), "127.0.0.1", 0) as server:

        def auth(user: str, password: str) -> dict[str, str]:
            return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

        url = f"{server.url}/probe?target={line_server.target}&module=ping"
        assert get(url)[0] == 401
        assert get(url, auth("prometheus", "wrong"))[0] == 401
        assert get(url, auth("nobody", "s3cret"))[0] == 401
        assert get(f"{server.url}/metrics", {"Authorization": "Basic !!!"})[0] == 401
        status, body = get(url, auth("prometheus", "s3cret"))
        assert status == 200 and 'hospmon_probe_success{module="ping"} 1.0' in body
        assert get(url, auth("prometheus", "s3cret"))[0] == 200  # the cached path


def test_plain_passwords_are_refused(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match="basic_auth_users: Value error, password of 'prometheus' is not a bcrypt"
    ):
        load_web_config(_web_config(tmp_path, "basic_auth_users:\n  prometheus: s3cret\n"))


def test_tls_refuses_tls_1_1_and_serves_tls_1_2(
    tmp_path: Path, config_file: Path, tls_cert: tuple[Path, Path]
) -> None:
    cert, key = tls_cert
    web = load_web_config(
        _web_config(
            tmp_path, f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n  min_version: TLS12\n"
        )
    )
    with RunningServer(ExporterApp(LineExporter(), config_file, web), "127.0.0.1", 0) as server:
        assert server.url.startswith("https://")
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.check_hostname = False
        old.verify_mode = ssl.CERT_NONE
        old.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():  # TLS 1.1 is deprecated, which is the point of this client
            warnings.simplefilter("ignore", DeprecationWarning)
            old.minimum_version = ssl.TLSVersion.TLSv1_1
            old.maximum_version = ssl.TLSVersion.TLSv1_1
        with (
            pytest.raises((ssl.SSLError, ConnectionResetError)),
            socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw,
            old.wrap_socket(raw),
        ):
            pass
        good = ssl.create_default_context(cafile=str(cert))
        good.minimum_version = ssl.TLSVersion.TLSv1_2
        good.maximum_version = ssl.TLSVersion.TLSv1_2
        assert get(f"{server.url}/-/healthy", context=good) == (200, "Healthy\n")
        # A client that connects and never handshakes does not block the others.
        with socket.create_connection(("127.0.0.1", server.port), timeout=5):
            assert (
                get(f"{server.url}/-/healthy", context=ssl.create_default_context(cafile=str(cert)))[0] == 200
            )


def test_tls_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="min_version"):
        load_web_config(
            _web_config(tmp_path, "tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS11\n")
        )
    with pytest.raises(ConfigError, match="cannot load certificate or key"):
        load_web_config(_web_config(tmp_path, "tls_server_config:\n  cert_file: a\n  key_file: b\n"))
