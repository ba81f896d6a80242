"""Serve an exporter over HTTP(S): /probe, /metrics, /, /-/healthy and /-/reload.

Each request runs in its own thread, so probes of different targets never wait for each other. TLS
handshakes also run in the request's thread, so a client that never completes one cannot block others.
"""

from __future__ import annotations

import html
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from prometheus_client.exposition import choose_encoder, generate_latest
from prometheus_client.metrics import Counter, Gauge, Info
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from exporters.core import exposition
from exporters.core.isolate import read_in_child
from exporters.core.probe import BadRequest, Deadline, Exporter, ProbeRequest, deadline_seconds
from exporters.core.probing import probe_registry, run_probe
from exporters.core.webconfig import BasicAuth, WebConfig, ssl_context
from hospmon import __version__
from hospmon.config import ConfigError

log = logging.getLogger("hospmon.exporter")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]

MAX_TARGET_LENGTH = 1024


class _ExtraCollector(Collector):
    """Expose the exporter's target-independent metrics on /metrics."""

    def __init__(self, app: ExporterApp) -> None:
        self._app = app

    def collect(self) -> Iterable[Metric]:
        yield self._app.exporter.refusals.family(
            "hospmon_exporter_phi_refused", "Label values the PHI guard refused, by rule (never the value)."
        )
        yield from self._app.exporter.collect(self._app.config)


class ExporterApp:
    """The WSGI application of one exporter, holding its current config."""

    def __init__(
        self,
        exporter: Exporter[Any],
        config_path: Path | None,
        web: WebConfig | None = None,
        *,
        isolate: bool = False,
    ) -> None:
        self.exporter = exporter
        self.config_path = config_path
        # isolate: validate in a child process at start-up and on reload, so pydantic never loads here
        self._isolate = isolate and exporter.splits_config()
        self.config = self._load()
        self.web = web or WebConfig()
        self.auth = BasicAuth(self.web.basic_auth_users)
        self._reload_lock = threading.Lock()
        prefix = "hospmon_exporter"
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        Info(f"{prefix}_build", "hospmon exporter build.", registry=self.registry).info(
            {"exporter": exporter.name, "version": __version__}
        )
        self.reload_ok = Gauge(
            f"{prefix}_config_last_reload_successful",
            "Whether the last config load succeeded.",
            registry=self.registry,
        )
        self.reload_time = Gauge(
            f"{prefix}_config_last_reload_success_timestamp_seconds",
            "When the config was last loaded successfully.",
            registry=self.registry,
        )
        self.probes = Counter(
            f"{prefix}_probes",
            "Probes answered, by module and result.",
            ["module", "result"],
            registry=self.registry,
        )
        self.bad_requests = Counter(
            f"{prefix}_bad_requests", "Requests refused with 4xx.", registry=self.registry
        )
        for module in exporter.module_names(self.config):
            for result in ("success", "failure"):
                self.probes.labels(module, result)
        self.reload_ok.set(1)
        self.reload_time.set_to_current_time()
        self.registry.register(_ExtraCollector(self))

    def _load(self) -> Any:
        if not self._isolate:
            return self.exporter.load_config(self.config_path)
        return self.exporter.build(read_in_child(self.exporter, self.config_path), self.config_path)

    def reload(self) -> str | None:
        """Load the config again; keep the old one and return the error when the new one is invalid."""
        with self._reload_lock:
            try:
                config = self._load()
            except ConfigError as exc:
                self.reload_ok.set(0)
                log.error("reload failed, keeping the running config:\n%s", exc)
                return str(exc)
            except Exception as exc:
                # A reload (SIGHUP runs it in the main thread) must never end the process.
                self.reload_ok.set(0)
                log.exception("reload failed, keeping the running config")
                return f"unexpected {type(exc).__name__}; the exporter log has the detail"
            old, self.config = self.config, config
            self.reload_ok.set(1)
            self.reload_time.set_to_current_time()
            self.exporter.close(old)
            log.info("config reloaded")
            return None

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if not self.auth.check(environ.get("HTTP_AUTHORIZATION")):
            return _reply(
                start_response,
                HTTPStatus.UNAUTHORIZED,
                "Unauthorized\n",
                [("WWW-Authenticate", 'Basic realm="hospmon"')],
            )
        path = environ.get("PATH_INFO", "/")
        method = environ.get("REQUEST_METHOD", "GET")
        routes: dict[str, Callable[[Environ, StartResponse], Iterable[bytes]]] = {
            "/probe": self._probe,
            "/metrics": self._metrics,
            "/": self._landing,
            "/-/healthy": lambda e, s: _reply(s, HTTPStatus.OK, "Healthy\n"),
            "/-/reload": self._reload,
        }
        handler = routes.get(path)
        if handler is None:
            return _reply(start_response, HTTPStatus.NOT_FOUND, "Not found\n")
        if path == "/-/reload":
            if method not in ("POST", "PUT"):
                return _reply(
                    start_response,
                    HTTPStatus.METHOD_NOT_ALLOWED,
                    "Use POST or PUT\n",
                    [("Allow", "POST, PUT")],
                )
        elif method not in ("GET", "HEAD"):
            return _reply(
                start_response, HTTPStatus.METHOD_NOT_ALLOWED, "Use GET\n", [("Allow", "GET, HEAD")]
            )
        headers = list(self.web.http_server_config.headers.items())
        return handler(environ, lambda status, hdrs, *a: start_response(status, [*hdrs, *headers], *a))

    def _reload(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        error = self.reload()
        if error is not None:
            # 409: the request is fine, the file it asks to load is not; the running config stays.
            return _reply(
                start_response,
                HTTPStatus.CONFLICT,
                f"failed to reload config, keeping the running one:\n{error}\n",
            )
        return _reply(start_response, HTTPStatus.OK, "Reloaded\n")

    def _metrics(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        encoder, content_type = choose_encoder(environ.get("HTTP_ACCEPT", ""))
        body = encoder(self.registry)
        start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    def _probe(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        config = self.config
        try:
            request = self.parse_probe(environ.get("QUERY_STRING", ""), config)
        except BadRequest as exc:
            self.bad_requests.inc()
            return _reply(start_response, HTTPStatus.BAD_REQUEST, f"{exc}\n")
        deadline = Deadline.after(deadline_seconds(environ.get("HTTP_X_PROMETHEUS_SCRAPE_TIMEOUT_SECONDS")))
        results = run_probe(self.exporter, config, request, deadline)
        for result in results:
            self.probes.labels(result.module, "failure" if result.failure else "success").inc()
            if result.failure is not None:
                log.info(
                    "probe failed target=%s module=%s reason=%s detail=%s",
                    request.target,
                    result.module,
                    result.failure.reason,
                    result.failure.detail,
                )
        # The text format whatever the Accept header, as snmp_exporter and blackbox_exporter answer (a probe
        # has no exemplars or created timestamps for OpenMetrics to carry); written by our fast encoder.
        registry = probe_registry(results)
        body = exposition.render(registry.collect()) or generate_latest(registry)
        headers = [("Content-Type", exposition.CONTENT_TYPE), ("Content-Length", str(len(body)))]
        start_response("200 OK", headers)
        return [body]

    def parse_probe(self, query: str, config: Any) -> ProbeRequest:
        """Read target, modules and other parameters from a query string, refusing what cannot be served."""
        try:
            raw = parse_qs(query, keep_blank_values=True, strict_parsing=False, max_num_fields=64)
        except ValueError as exc:
            raise BadRequest(f"bad query string: {exc}") from exc
        targets = raw.pop("target", [])
        if len(targets) != 1 or not targets[0].strip():
            raise BadRequest("give exactly one non-empty target parameter")
        target = targets[0].strip()
        if len(target) > MAX_TARGET_LENGTH or any(ord(c) < 32 for c in target):
            raise BadRequest("target parameter is too long or holds control characters")
        modules = tuple(m.strip() for value in raw.pop("module", []) for m in value.split(",") if m.strip())
        if not modules:
            if self.exporter.default_module is None:
                raise BadRequest(
                    "give a module parameter, e.g. module="
                    + ",".join(sorted(self.exporter.module_names(config))[:2])
                )
            modules = (self.exporter.default_module,)
        if len(set(modules)) != len(modules):
            raise BadRequest("a module is named twice")
        params = {}
        for key, values in raw.items():
            if len(values) != 1:
                raise BadRequest(f"parameter {key} is given {len(values)} times")
            params[key] = values[0]
        request = ProbeRequest(target=target, modules=modules, params=params)
        self.exporter.check_request(config, request)
        return request

    def _landing(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        name = html.escape(f"hospmon {self.exporter.name} exporter")
        modules = "".join(
            f"<li><code>{html.escape(m)}</code></li>" for m in sorted(self.exporter.module_names(self.config))
        )
        body = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{name}</title></head><body>"
            f"<h1>{name}</h1><p>{html.escape(self.exporter.description)}</p>"
            "<ul><li><a href='metrics'>/metrics</a>: the exporter's own metrics</li>"
            "<li><code>/probe?target=&lt;target&gt;&amp;module=&lt;module&gt;</code>: probe one target</li>"
            "<li><a href='-/healthy'>/-/healthy</a></li><li><code>POST /-/reload</code></li></ul>"
            f"<h2>Modules</h2><ul>{modules}</ul></body></html>"
        )
        return _reply(start_response, HTTPStatus.OK, body, content_type="text/html; charset=utf-8")


def _reply(
    start_response: StartResponse,
    status: HTTPStatus,
    text: str,
    headers: list[tuple[str, str]] | None = None,
    content_type: str = "text/plain; charset=utf-8",
) -> list[bytes]:
    body = text.encode()
    start_response(
        f"{status.value} {status.phrase}",
        [("Content-Type", content_type), ("Content-Length", str(len(body))), *(headers or [])],
    )
    return [body]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    tls: ssl.SSLContext | None = None
    handshake_timeout = 10.0

    def server_bind(self) -> None:
        if ":" in self.server_address[0]:
            self.address_family = socket.AF_INET6
            self.socket = socket.socket(self.address_family, self.socket_type)
        super().server_bind()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        if self.tls is not None:
            try:
                request.settimeout(self.handshake_timeout)
                request = self.tls.wrap_socket(request, server_side=True)
                request.settimeout(None)
            except (OSError, ssl.SSLError) as exc:
                log.debug("TLS handshake with %s failed: %s", client_address, exc)
                self.shutdown_request(request)
                return
        super().process_request_thread(request, client_address)


class RunningServer:
    """An exporter served in a background thread; `url` is where to reach it."""

    def __init__(self, app: ExporterApp, host: str, port: int) -> None:
        self.app = app
        self.server = _Server((host, port), _QuietHandler)
        self.server.set_app(app)
        self.server.tls = ssl_context(app.web)
        bound_host, bound_port = (str(part) for part in self.server.server_address[:2])
        scheme = "https" if self.server.tls else "http"
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        self.url = f"{scheme}://{shown}:{bound_port}"
        self.port = int(bound_port)
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, name="exporter-http", daemon=True
        )

    def start(self) -> RunningServer:
        """Start serving in the background."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port and the exporter's resources."""
        self.app.exporter.stop()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)
        self.app.exporter.close(self.app.config)

    def __enter__(self) -> RunningServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def parse_listen_address(value: str) -> tuple[str, int]:
    """Split ``host:port`` (``:9116`` means every interface, ``[::1]:9116`` IPv6) into its parts."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{value!r} is not host:port")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


def wait_forever(server: RunningServer, on_hup: Callable[[], object]) -> None:
    """Serve until SIGINT or SIGTERM; reload on SIGHUP."""
    import select
    import signal
    import socket

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, lambda *_: on_hup())
    # The kernel may hand a signal to any of the server's threads; Python then runs the handler only when
    # the main thread next runs bytecode. Blocked in a lock's wait, that could be an hour later, so the main
    # thread sleeps on the wakeup fd instead, which every signal writes to whichever thread receives it.
    wake_r, wake_w = socket.socketpair()
    wake_w.setblocking(False)
    previous = signal.set_wakeup_fd(wake_w.fileno(), warn_on_full_buffer=False)
    try:
        while not stop.is_set():
            select.select([wake_r], [], [])
            wake_r.recv(4096)
    finally:
        signal.set_wakeup_fd(previous)
        wake_r.close()
        wake_w.close()
    started = time.monotonic()
    server.stop()
    log.info("stopped in %.1f s", time.monotonic() - started)
