"""An HTTP(S) probe for web and API checks (HIS, EMR, PACS): status, phases, content, TLS expiry, auth.

Requests go through `http.client` on a socket this module opens itself, so each phase is timed where it
really happens rather than guessed from one total: ``resolve`` (getaddrinfo), ``connect`` (TCP),
``tls`` (handshake), ``processing`` (request sent until the status line and headers are in) and
``transfer`` (body). Redirects are followed by hand and their phases summed, as the blackbox exporter does.
Every socket wait is capped by the probe's `Deadline`; name resolution cannot be, but the core's worker
answers ``timeout`` at the deadline whatever a module is still doing.

Sample of `http_metrics`::

    hospmon_http_status_code{module="web"} 200.0
    hospmon_http_phase_duration_seconds{module="web",phase="connect"} 0.0004
    hospmon_http_redirects{module="web"} 1.0
    hospmon_http_content_length_bytes{module="web"} 5120.0
    hospmon_http_tls_cert_expiry_timestamp_seconds{module="web"} 1.7995e+09
    hospmon_http_oauth2_token_duration_seconds{module="web"} 0.012

Response bodies are read to run checks and then dropped: they are never logged, put in a failure detail or
in a label, because on hospital systems they may hold patient data.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from exporters.core.httpchecks import run_checks
from exporters.core.httpconfig import AuthSpec, HttpSpec, TlsSpec
from exporters.core.probe import Deadline, ProbeFailed
from hospmon.config import ConfigError, read_secret

PHASES = ("resolve", "connect", "tls", "processing", "transfer")
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
X509_V_ERR_CERT_HAS_EXPIRED = 10  # OpenSSL's verify code
USER_AGENT = "hospmon-http-probe"


@dataclass
class HttpResult:
    """What one probe learnt: the final response and the timings of every hop."""

    status: int = 0
    body: bytes = b""
    phases: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    redirects: int = 0
    cert_not_after: float | None = None
    tls_version: str | None = None
    oauth2_seconds: float | None = None

    def json(self) -> Any:
        """Return the body parsed as JSON, failing the probe with bad_response when it is not."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ProbeFailed("bad_response", "body is not JSON") from exc

    @property
    def total(self) -> float:
        """Return the sum of every phase of every hop."""
        return sum(self.phases.values())


def _budget(deadline: Deadline, limit: float) -> float:
    """Return a socket timeout, failing with timeout once nothing is left (0 would mean non-blocking)."""
    seconds = deadline.cap(limit)
    if seconds <= 0:
        raise ProbeFailed("timeout", "deadline reached")
    return seconds


def _context(tls: TlsSpec) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
    if tls.insecure_skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def certificate_expiry(sock: ssl.SSLSocket) -> float | None:
    """Return the peer certificate's notAfter as a Unix time, or None when there is none to read."""
    decoded = sock.getpeercert()
    if decoded and "notAfter" in decoded:
        return float(ssl.cert_time_to_seconds(str(decoded["notAfter"])))
    der = sock.getpeercert(binary_form=True)
    if not der:
        return None
    # The ssl module decodes only a verified certificate. An unverified one (insecure_skip_verify, or the
    # second handshake after a refusal) needs the cryptography package, imported here: about 9 MiB that an
    # exporter whose certificates verify never holds.
    from cryptography import x509

    try:
        return x509.load_der_x509_certificate(der).not_valid_after_utc.timestamp()
    except ValueError:
        return None


def unverified_expiry(
    peer: tuple[int, int, int, Any], server_name: str, timeout: float, deadline: Deadline
) -> float | None:
    """Shake hands again without verifying, only to read the certificate's notAfter; None if that fails."""
    family, kind, proto, address = peer
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    seconds = deadline.cap(timeout)
    if seconds <= 0:
        return None
    try:
        with socket.socket(family, kind, proto) as raw:
            raw.settimeout(seconds)
            raw.connect(address)
            with context.wrap_socket(raw, server_hostname=server_name) as tls:
                return certificate_expiry(tls)
    except OSError:
        return None


def _open(
    url: str, tls: TlsSpec, timeout: float, deadline: Deadline, result: HttpResult
) -> tuple[http.client.HTTPConnection, str]:
    """Resolve, connect and (for https) shake hands, timing each; return the connection and request path."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ProbeFailed("config", "target is not an http(s) URL")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    start = time.perf_counter()
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ProbeFailed("unreachable", "name does not resolve") from exc
    result.phases["resolve"] += time.perf_counter() - start
    sock: socket.socket | None = None
    last: OSError | None = None
    start = time.perf_counter()
    for family, kind, proto, _, address in infos:
        budget = _budget(deadline, timeout)
        candidate = socket.socket(family, kind, proto)
        try:
            candidate.settimeout(budget)
            candidate.connect(address)
        except OSError as exc:
            candidate.close()
            last = exc
            continue
        sock, peer = candidate, (family, kind, proto, address)
        break
    if sock is None:
        if isinstance(last, TimeoutError):
            raise ProbeFailed("timeout", "connect timed out") from last
        raise ProbeFailed("unreachable", "connection failed") from last
    result.phases["connect"] += time.perf_counter() - start
    if parts.scheme == "https":
        start = time.perf_counter()
        server_name = tls.server_name or host
        try:
            sock.settimeout(_budget(deadline, timeout))
            sock = _context(tls).wrap_socket(sock, server_hostname=server_name)
        except ProbeFailed:
            sock.close()
            raise
        except ssl.SSLCertVerificationError as exc:
            sock.close()
            # Read the refused certificate's notAfter anyway: an expired one must show its expiry.
            result.cert_not_after = unverified_expiry(peer, server_name, timeout, deadline)
            expired = exc.verify_code == X509_V_ERR_CERT_HAS_EXPIRED
            raise ProbeFailed(
                "auth", "TLS certificate expired" if expired else "TLS certificate not trusted"
            ) from exc
        except TimeoutError as exc:
            sock.close()
            raise ProbeFailed("timeout", "TLS handshake timed out") from exc
        except OSError as exc:
            sock.close()
            raise ProbeFailed("bad_response", "TLS handshake failed") from exc
        result.phases["tls"] += time.perf_counter() - start
        assert isinstance(sock, ssl.SSLSocket)
        result.tls_version = sock.version()
        result.cert_not_after = certificate_expiry(sock)
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    connection.sock = sock
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return connection, path


def _exchange(
    url: str,
    spec: HttpSpec,
    headers: Mapping[str, str],
    deadline: Deadline,
    result: HttpResult,
    method: str,
    body: bytes | None,
) -> tuple[http.client.HTTPResponse, socket.socket]:
    """Send one request and read the status line and headers; the caller reads the body from the socket."""
    connection, path = _open(url, spec.tls, spec.timeout_seconds, deadline, result)
    sock: socket.socket = connection.sock
    start = time.perf_counter()
    try:
        sock.settimeout(_budget(deadline, spec.timeout_seconds))
        connection.request(method, path, body=body, headers={"User-Agent": USER_AGENT, **headers})
        response = connection.getresponse()
    except ProbeFailed:
        connection.close()
        raise
    except TimeoutError as exc:
        connection.close()
        raise ProbeFailed("timeout", "no response") from exc
    except (http.client.HTTPException, OSError) as exc:
        connection.close()
        raise ProbeFailed("bad_response", type(exc).__name__) from exc
    result.phases["processing"] += time.perf_counter() - start
    return response, sock


def _read_body(
    exchanged: tuple[http.client.HTTPResponse, socket.socket],
    spec: HttpSpec,
    deadline: Deadline,
    result: HttpResult,
) -> bytes:
    """Read the body in chunks, each wait capped by the deadline, up to the module's size limit."""
    response, sock = exchanged
    start = time.perf_counter()
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            sock.settimeout(_budget(deadline, spec.timeout_seconds))
            chunk = response.read1(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > spec.max_body_bytes:
                raise ProbeFailed("bad_response", f"body larger than {spec.max_body_bytes} bytes")
            chunks.append(chunk)
    except TimeoutError as exc:
        raise ProbeFailed("timeout", "body not received in time") from exc
    except (http.client.HTTPException, OSError) as exc:
        raise ProbeFailed("bad_response", type(exc).__name__) from exc
    finally:
        # Close our socket too: with a keep-alive server the response alone leaves it open.
        response.close()
        sock.close()
    result.phases["transfer"] += time.perf_counter() - start
    return b"".join(chunks)


def _secret(auth_name: str, file: Path | None, env: str | None, what: str, config_file: Path | str) -> str:
    try:
        return read_secret(file, env, what=f"auths.{auth_name}.{what}", config_file=config_file)
    except ConfigError as exc:
        raise ProbeFailed("config", f"secret {what} of auth {auth_name} cannot be read") from exc


def _status_failure(status: int, what: str) -> ProbeFailed:
    if status in {401, 403}:
        return ProbeFailed("auth", f"{what} answered {status}")
    if status >= 500:
        return ProbeFailed("rejected", f"{what} answered {status}")
    return ProbeFailed("check_failed", f"{what} answered unexpected status {status}")


def _oauth2_token(
    name: str, auth: AuthSpec, spec: HttpSpec, config_file: Path | str, deadline: Deadline, result: HttpResult
) -> str:
    """Get a client-credentials token, timing the whole token request."""
    oauth = auth.oauth2
    assert oauth is not None
    secret = _secret(name, oauth.client_secret_file, oauth.client_secret_env, "client_secret", config_file)
    form: dict[str, str] = {"grant_type": "client_credentials"}
    if oauth.scopes:
        form["scope"] = " ".join(oauth.scopes)
    basic = base64.b64encode(f"{oauth.client_id}:{secret}".encode()).decode()
    headers = {
        "Authorization": f"Basic {basic}",
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
    }
    start = time.perf_counter()
    scratch = HttpResult()
    exchanged = _exchange(oauth.token_url, spec, headers, deadline, scratch, "POST", urlencode(form).encode())
    body = _read_body(exchanged, spec, deadline, scratch)
    result.oauth2_seconds = time.perf_counter() - start
    status = exchanged[0].status
    if status == 400:  # RFC 6749 5.2: invalid_client and invalid_grant come as 400 as often as 401
        raise ProbeFailed("auth", "token endpoint answered 400")
    if status != 200:
        raise _status_failure(status, "token endpoint")
    try:
        token = json.loads(body)["access_token"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ProbeFailed("bad_response", "token endpoint sent no access_token") from exc
    if not isinstance(token, str):
        raise ProbeFailed("bad_response", "token endpoint sent no access_token")
    return token


def auth_headers(
    spec: HttpSpec,
    auths: Mapping[str, AuthSpec],
    config_file: Path | str,
    deadline: Deadline,
    result: HttpResult,
) -> dict[str, str]:
    """Return the Authorization header for the module's named auth, fetching an OAuth2 token if needed."""
    if spec.auth is None:
        return {}
    auth = auths[spec.auth]
    if auth.basic is not None:
        password = _secret(
            spec.auth, auth.basic.password_file, auth.basic.password_env, "password", config_file
        )
        basic = base64.b64encode(f"{auth.basic.username}:{password}".encode()).decode()
        return {"Authorization": f"Basic {basic}"}
    if auth.bearer is not None:
        token = _secret(spec.auth, auth.bearer.token_file, auth.bearer.token_env, "token", config_file)
        return {"Authorization": f"Bearer {token}"}
    return {"Authorization": f"Bearer {_oauth2_token(spec.auth, auth, spec, config_file, deadline, result)}"}


def fetch(
    url: str,
    spec: HttpSpec,
    deadline: Deadline,
    *,
    headers: Mapping[str, str] | None = None,
    auth: Mapping[str, str] | None = None,
    result: HttpResult | None = None,
    module: str | None = None,
) -> HttpResult:
    """Request `url` as `spec` says, following redirects, and return status, body and timings.

    Fails with auth (401/403, or a certificate not trusted), rejected (5xx) or check_failed (another
    unexpected status). With `module`, a failure carries what the TLS session showed: an expired
    certificate's expiry above all.
    """
    result = result or HttpResult()
    try:
        return _fetch(url, spec, deadline, headers, auth, result)
    except ProbeFailed as exc:
        if module is not None:
            exc.metrics.extend(session_metrics(module, result))
        raise


def _fetch(
    url: str,
    spec: HttpSpec,
    deadline: Deadline,
    headers: Mapping[str, str] | None,
    auth: Mapping[str, str] | None,
    result: HttpResult,
) -> HttpResult:
    sent = {**spec.headers, **(headers or {}), **(auth or {})}
    body = spec.body.encode() if spec.body is not None else None
    method = spec.method
    while True:
        exchanged = _exchange(url, spec, sent, deadline, result, method, body)
        response = exchanged[0]
        location = response.getheader("Location")
        if spec.follow_redirects and response.status in REDIRECT_CODES and location:
            _read_body(exchanged, spec, deadline, result)
            if result.redirects >= spec.max_redirects:
                raise ProbeFailed("check_failed", f"more than {spec.max_redirects} redirects")
            result.redirects += 1
            target = urljoin(url, location)
            if urlsplit(target).netloc != urlsplit(url).netloc:
                sent = {k: v for k, v in sent.items() if k.lower() != "authorization"}
            url = target
            if response.status == 303 or (response.status in {301, 302} and method == "POST"):
                method, body = "GET", None
            continue
        result.status = response.status
        result.body = _read_body(exchanged, spec, deadline, result)
        break
    expected = spec.valid_status_codes or range(200, 300)
    if result.status not in expected:
        raise _status_failure(result.status, "target")
    return result


def http_probe(
    url: str,
    spec: HttpSpec,
    auths: Mapping[str, AuthSpec],
    config_file: Path | str,
    deadline: Deadline,
    *,
    headers: Mapping[str, str] | None = None,
    module: str | None = None,
) -> HttpResult:
    """Authenticate, fetch `url`, and run the module's checks (`module` labels a failure's TLS series)."""
    result = HttpResult()
    sent_auth = auth_headers(spec, auths, config_file, deadline, result)
    fetch(url, spec, deadline, headers=headers, auth=sent_auth, result=result, module=module)
    run_checks(spec, result.body)
    return result


def http_metrics(module: str, result: HttpResult) -> list[Metric]:
    """Return the families describing one probe's final response, all labelled with the module."""
    status = GaugeMetricFamily(
        "hospmon_http_status_code", "Status code of the final response.", labels=["module"]
    )
    status.add_metric([module], result.status)
    phases = GaugeMetricFamily(
        "hospmon_http_phase_duration_seconds",
        "Time spent in each phase of the request, summed over redirects.",
        labels=["module", "phase"],
    )
    for phase in PHASES:
        phases.add_metric([module, phase], result.phases[phase])
    redirects = GaugeMetricFamily(
        "hospmon_http_redirects", "Number of redirects followed.", labels=["module"]
    )
    redirects.add_metric([module], result.redirects)
    length = GaugeMetricFamily(
        "hospmon_http_content_length_bytes", "Size of the final response body.", labels=["module"]
    )
    length.add_metric([module], len(result.body))
    return [status, phases, redirects, length, *session_metrics(module, result)]


def session_metrics(module: str, result: HttpResult) -> list[Metric]:
    """Return the certificate expiry (also of a certificate refused or not verified), the TLS version and
    the OAuth2 token latency."""
    families: list[Metric] = []
    if result.oauth2_seconds is not None:
        oauth = GaugeMetricFamily(
            "hospmon_http_oauth2_token_duration_seconds",
            "How long the OAuth2 client-credentials token request took.",
            labels=["module"],
        )
        oauth.add_metric([module], result.oauth2_seconds)
        families.append(oauth)
    return families + tls_metrics("hospmon_http", module, result.cert_not_after, result.tls_version)


def tls_metrics(prefix: str, module: str, not_after: float | None, version: str | None) -> list[Metric]:
    """Return ``<prefix>_tls_cert_expiry_timestamp_seconds`` and ``<prefix>_tls_version_info`` where known."""
    families: list[Metric] = []
    if not_after is not None:
        expiry = GaugeMetricFamily(
            f"{prefix}_tls_cert_expiry_timestamp_seconds",
            "When the peer's certificate expires (notAfter).",
            labels=["module"],
        )
        expiry.add_metric([module], not_after)
        families.append(expiry)
    if version is not None:
        info = GaugeMetricFamily(
            f"{prefix}_tls_version_info", "TLS version negotiated.", labels=["module", "version"]
        )
        info.add_metric([module, version], 1.0)
        families.append(info)
    return families
