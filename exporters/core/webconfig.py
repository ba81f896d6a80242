"""The exporter-toolkit web config: TLS and bcrypt basic auth, in the file format Prometheus users know.

tls_server_config:
  cert_file: server.crt
  key_file: server.key
  min_version: TLS12          # TLS10 and TLS11 are refused: hospital networks get TLS 1.2 or newer
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
basic_auth_users:
  prometheus: $2y$10$...      # bcrypt hash, e.g. from `htpasswd -nBC 10 "" | tr -d ':\\n'`
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import ssl
import threading
from base64 import b64decode
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from hospmon.config import Check, ConfigError, Strict, load

_TLS_VERSIONS = {"TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}
_CLIENT_AUTH = {
    "NoClientCert": ssl.CERT_NONE,
    "RequestClientCert": ssl.CERT_OPTIONAL,
    "RequireAnyClientCert": ssl.CERT_REQUIRED,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}


@dataclass(frozen=True, kw_only=True)
class TLSServerConfig(Strict):
    """The ``tls_server_config`` block."""

    cert_file: str
    key_file: str
    client_auth_type: Literal[
        "NoClientCert",
        "RequestClientCert",
        "RequireAnyClientCert",
        "VerifyClientCertIfGiven",
        "RequireAndVerifyClientCert",
    ] = "NoClientCert"
    client_ca_file: str | None = None
    min_version: Literal["TLS12", "TLS13"] = "TLS12"
    max_version: Literal["TLS12", "TLS13"] = "TLS13"
    cipher_suites: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class HTTPServerConfig(Strict):
    """The ``http_server_config`` block: extra response headers."""

    headers: dict[str, str] = field(default_factory=dict)
    http2: bool = True


def _bcrypt_only(users: dict[str, str]) -> dict[str, str]:
    for user, hashed in users.items():
        if not hashed.startswith(("$2a$", "$2b$", "$2y$")):
            raise ValueError(f"password of {user!r} is not a bcrypt hash; store only bcrypt hashes")
    return users


@dataclass(frozen=True, kw_only=True)
class WebConfig(Strict):
    """A whole ``--web.config.file``."""

    tls_server_config: TLSServerConfig | None = None
    basic_auth_users: Annotated[dict[str, str], Check(_bcrypt_only)] = field(default_factory=dict)
    http_server_config: HTTPServerConfig = field(default_factory=HTTPServerConfig)


def load_web_config(path: str | Path) -> WebConfig:
    """Read a web config file; relative TLS file names are taken from the config file's folder."""
    path = Path(path)
    config = load(WebConfig, path)
    tls = config.tls_server_config
    if tls is not None:
        base = path.parent

        def resolve(name: str | None) -> str | None:
            return None if name is None else str(base / name)

        tls = dataclasses.replace(
            tls,
            cert_file=str(base / tls.cert_file),
            key_file=str(base / tls.key_file),
            client_ca_file=resolve(tls.client_ca_file),
        )
        config = dataclasses.replace(config, tls_server_config=tls)
        ssl_context(config, path)  # load the files now, so a bad certificate stops start-up
    return config


def ssl_context(config: WebConfig, source: str | Path = "web config") -> ssl.SSLContext | None:
    """Build the server's TLS context, or None for plain HTTP."""
    tls = config.tls_server_config
    if tls is None:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = _TLS_VERSIONS[tls.min_version]
    ctx.maximum_version = _TLS_VERSIONS[tls.max_version]
    try:
        ctx.load_cert_chain(tls.cert_file, tls.key_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError.single(
            source, f"cannot load certificate or key: {exc}", key="tls_server_config"
        ) from exc
    if tls.cipher_suites:
        try:
            ctx.set_ciphers(":".join(tls.cipher_suites))
        except ssl.SSLError as exc:
            raise ConfigError.single(
                source, f"no usable cipher: {exc}", key="tls_server_config.cipher_suites"
            ) from exc
    ctx.verify_mode = _CLIENT_AUTH[tls.client_auth_type]
    if tls.client_ca_file:
        try:
            ctx.load_verify_locations(tls.client_ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError.single(
                source, f"cannot load client CA: {exc}", key="tls_server_config.client_ca_file"
            ) from exc
    elif tls.client_auth_type == "RequireAndVerifyClientCert":
        raise ConfigError.single(
            source, "RequireAndVerifyClientCert needs client_ca_file", key="tls_server_config"
        )
    return ctx


class BasicAuth:
    """Check ``Authorization: Basic`` headers against bcrypt hashes, caching successes.

    bcrypt is slow on purpose (tens of milliseconds); Prometheus sends the same header every scrape, so a
    successful check is cached under a keyed hash of the header, as the exporter-toolkit does.
    """

    def __init__(self, users: dict[str, str]) -> None:
        self._users = {u: h.encode() for u, h in users.items()}
        self._key = secrets.token_bytes(32)
        self._ok: set[bytes] = set()
        self._lock = threading.Lock()
        self._decoy = b""
        if self._users:  # bcrypt is loaded only where basic auth is configured
            import bcrypt

            # Spend bcrypt time on unknown users too, so the answer's timing does not reveal who exists.
            self._decoy = bcrypt.hashpw(b"decoy", bcrypt.gensalt(rounds=10))

    @property
    def enabled(self) -> bool:
        """Tell whether any user is configured."""
        return bool(self._users)

    def check(self, header: str | None) -> bool:
        """Return True when the header carries a configured user's right password."""
        if not self._users:
            return True
        if not header or not header.startswith("Basic "):
            return False
        digest = hmac.new(self._key, header.encode(), hashlib.sha256).digest()
        with self._lock:
            if digest in self._ok:
                return True
        try:
            user, _, password = b64decode(header[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        import bcrypt

        hashed = self._users.get(user)
        ok = bcrypt.checkpw(password.encode(), hashed if hashed is not None else self._decoy)
        if ok and hashed is not None:
            with self._lock:
                if len(self._ok) > 1024:
                    self._ok.clear()
                self._ok.add(digest)
            return True
        return False
