"""The router's start-up configuration: where the inventory, policy and store are, and how to notify."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from sqlalchemy.engine import make_url

from alertrouter.httpauth import Credentials
from alertrouter.notify.templates import check_template
from alertrouter.secrets_check import inline_secrets
from hospmon import paths
from hospmon.config import ConfigError, StrictModel, load, read_secret
from hospmon.phi import PhiSettings

Priority = Literal["P1", "P2", "P3", "P4"]
PRIORITIES: tuple[Priority, ...] = ("P1", "P2", "P3", "P4")


class DatabaseConfig(StrictModel):
    """The store: a SQLAlchemy URL; the password comes from a file or the environment."""

    url: str = "sqlite:///run/router.db"
    password_file: str | None = None
    password_env: str | None = None
    busy_timeout_ms: int = Field(default=5000, ge=0)
    pool_size: int = Field(default=5, ge=1)


class BasicAuthConfig(StrictModel):
    """Basic auth as Alertmanager's ``http_config.basic_auth`` sends it."""

    username: str
    password_file: str


class WebhookAuthConfig(StrictModel):
    """How Alertmanager proves itself: a bearer token or basic auth, both read from files."""

    bearer_token_file: str | None = None
    basic_auth: BasicAuthConfig | None = None

    @model_validator(mode="after")
    def _one(self) -> WebhookAuthConfig:
        if (self.bearer_token_file is None) == (self.basic_auth is None):
            raise ValueError("give exactly one of bearer_token_file and basic_auth")
        return self


class HttpAuthConfig(StrictModel):
    """Credentials for a peer the router calls, both read from files: basic auth or a bearer token."""

    basic_auth: BasicAuthConfig | None = None
    """For a peer with its own ``--web.config.file`` basic auth, or behind a proxy asking for it."""
    bearer_token_file: str | None = None
    """For a peer behind a proxy asking for a bearer token."""

    @model_validator(mode="after")
    def _at_most_one(self) -> HttpAuthConfig:
        if self.basic_auth is not None and self.bearer_token_file is not None:
            raise ValueError("give at most one of bearer_token_file and basic_auth")
        return self


class AlertmanagerConfig(HttpAuthConfig):
    """Where to fetch alerts a webhook left out (``truncatedAlerts``) and set change silences."""

    url: str | None = None
    """Alertmanager's address only, e.g. http://127.0.0.1:9093; credentials go in basic_auth or
    bearer_token_file."""
    timeout_seconds: float = Field(default=5.0, gt=0)


class PrometheusConfig(HttpAuthConfig):
    """Where the console reads live state (the topology page's up/down colours); optional."""

    url: str | None = None
    """Prometheus' base URL, e.g. http://127.0.0.1:9090; credentials go in basic_auth or bearer_token_file."""
    timeout_seconds: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _plain_url(self) -> PrometheusConfig:
        if self.url is not None:
            parts = urlsplit(self.url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("url must be an http:// or https:// URL, e.g. http://127.0.0.1:9090")
            if parts.username or parts.password:
                raise ValueError(
                    "no credentials in the URL; give Prometheus' address only, and its credentials in "
                    "prometheus.basic_auth (username, password_file) or prometheus.bearer_token_file"
                )
        return self


class SmtpConfig(StrictModel):
    """An SMTP relay for email notifications."""

    host: str
    port: int = Field(default=25, ge=1, le=65535)
    sender: str
    security: Literal["none", "starttls", "tls"] = "starttls"
    username: str | None = None
    password_file: str | None = None


class ChannelConfig(StrictModel):
    """One notification channel and the priorities it carries."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    kind: Literal["email", "wecom", "dingtalk", "webhook", "sms"]
    priorities: list[Priority] = Field(default_factory=lambda: list(PRIORITIES), min_length=1)
    smtp: SmtpConfig | None = None
    """email: the relay; each person's address comes from the inventory."""
    key_file: str | None = None
    """wecom: the bot key; dingtalk: the access token."""
    secret_file: str | None = None
    """dingtalk: the signing secret, if the bot uses one."""
    api_url: str | None = None
    """wecom, dingtalk: the bot API, or a relay on the hospital network that forwards to it (the default is
    the vendor's public API)."""
    url: str | None = None
    """webhook: where to POST JSON; sms: the HTTP gateway, which gets ``to`` and ``message``."""
    url_file: str | None = None
    """A file holding `url`, for a URL that carries a token (``?key=...``), which never sits in the config."""
    subject: str | None = None
    """Template for the subject; fields as in `alertrouter.notify.templates.FIELDS`."""
    body: str | None = None
    """Template for the body."""

    @model_validator(mode="after")
    def _needs(self) -> ChannelConfig:
        need = {"email": "smtp", "wecom": "key_file", "dingtalk": "key_file", "webhook": "url", "sms": "url"}
        key = need[self.kind]
        if key == "url":
            if (self.url is None) == (self.url_file is None):
                raise ValueError(f"a {self.kind} channel needs url or url_file (one of them)")
        elif getattr(self, key) is None:
            raise ValueError(f"a {self.kind} channel needs {key}")
        for name in ("subject", "body"):
            template = getattr(self, name)
            if template is not None:
                check_template(template, name)
        return self


class WorkerConfig(StrictModel):
    """The background worker: escalations, notification retries, truncated-alert fetches, on-call checks."""

    enabled: bool = True
    interval_seconds: float = Field(default=2.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    retry_seconds: float = Field(default=30.0, gt=0)
    oncall_horizon_days: int = Field(default=7, ge=1, le=60)


SIX_MONTHS_DAYS = 183


class RetentionConfig(StrictModel):
    """How long the store keeps each kind of row; the worker removes older ones in small batches.

    Incidents (closed or resolved, with their timeline, pages, departments and alerts), the timeline and the
    audit log are network and operations logs: China's Cybersecurity Law (art. 21) asks at least six months.
    """

    incidents_days: int = 400
    timeline_days: int = 400
    audit_days: int = 400
    alerts_days: int = Field(default=30, ge=1)
    """Raw alert rows (and webhook deliveries), once their incident is resolved or closed."""
    batch_size: int = Field(default=500, ge=1, le=10_000)
    """Rows per transaction: each batch is short, so intake never waits long behind it."""
    max_batches: int = Field(default=20, ge=1)
    """Batches per table per worker pass; a backlog carries over to the next pass."""
    interval_seconds: float = Field(default=3600.0, gt=0)
    """Time between runs once nothing is left to remove."""
    enabled: bool = True

    @model_validator(mode="after")
    def _six_months(self) -> RetentionConfig:
        short = [
            f"{key} {getattr(self, key)}"
            for key in ("incidents_days", "timeline_days", "audit_days")
            if getattr(self, key) < SIX_MONTHS_DAYS
        ]
        if short:
            raise ValueError(
                f"{', '.join(short)}: keep at least {SIX_MONTHS_DAYS} days; China's Cybersecurity Law "
                "(art. 21) asks network logs be kept six months or more (400 is the default)"
            )
        return self


class WardsConfig(StrictModel):
    """The ward status page and the downtime playbooks."""

    playbooks: str | None = None
    """A folder of YAML playbooks, one per service, and ``names.yml`` naming the workflows in zh and en."""
    status_networks: list[str] = ["127.0.0.0/8", "::1/128"]
    """Addresses that read the status page without a token: the hospital's clinical networks."""
    status_token_file: str | None = None
    """A shared read token for clinical staff outside those networks: typed into the page's sign-in form, or
    sent by a ward display as ``Authorization: Bearer``; never accepted in a link (``?token=``)."""
    status_sign_in_hours: float = Field(default=12.0, gt=0, le=168)
    """How long a sign-in to the status page lasts (one shift): then the browser asks for the token again."""
    prometheus_url: str | None = None
    """Where to read the live registration rate for the patient-facing blast radius (the address only)."""
    prometheus_auth: HttpAuthConfig = HttpAuthConfig()
    """Credentials for that Prometheus: ``basic_auth`` or ``bearer_token_file``."""
    registrations_per_hour: str = (
        'sum(max_over_time(hospmon_his_outpatient_registrations{clinic_type!="emergency"}[1h])) * 6'
    )
    """PromQL for outpatient registrations per hour (the HIS exporter counts the last 10 minutes)."""
    registrations_service: str = "his"
    """The service without which outpatients cannot register: its outages count the registrations lost."""
    recovered_hours: float = Field(default=24.0, gt=0)
    """How long the status page keeps a returned service's back-entry steps."""


class RouterFile(StrictModel):
    """The router config file as written."""

    inventory: str
    policy: str | None = None
    """The routing policy; None: the one installed with hospmon (`hospmon paths routing-policy`)."""
    database: DatabaseConfig = DatabaseConfig()
    webhook_auth: WebhookAuthConfig
    alertmanager: AlertmanagerConfig = AlertmanagerConfig()
    prometheus: PrometheusConfig = PrometheusConfig()
    channels: list[ChannelConfig] = []
    worker: WorkerConfig = WorkerConfig()
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    api_tokens_file: str | None = None
    """Lines of ``ACTOR TOKEN`` for the JSON API; the actor is written on the timeline. None: API closed."""
    console_url: str = ""
    """Link put into notifications, e.g. https://router.hospital.example"""
    action_link_minutes: int = Field(default=720, ge=5, le=7 * 24 * 60)
    """How long the acknowledge, resolve and open links in a page work (at most; used once, and never after
    the incident ends)."""
    language: Literal["zh", "en"] = "en"
    """The language of pages (e-mail, chat, SMS) and of the ward status page's notices."""
    secret_key_file: str | None = None
    """The key signing console cookies and the action links in pages; unset, the router makes one and keeps
    it in the store, shared by its replicas."""
    retention: RetentionConfig = RetentionConfig()
    wards: WardsConfig = WardsConfig()
    phi: PhiSettings = PhiSettings()
    """The PHI guard every alert label and annotation passes before it is stored, shown or sent."""


@dataclass(frozen=True)
class Settings:
    """The config with relative paths resolved and secrets read."""

    file: RouterFile
    path: Path
    # Secrets stay out of repr(): a settings object in a traceback or a debug log shows none of them.
    database_url: str = field(repr=False)
    bearer_token: str | None = field(repr=False)
    basic_auth: tuple[str, str] | None = field(repr=False)
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    """Channel secrets by ``<channel>.<key>``."""
    api_tokens: dict[str, str] = field(default_factory=dict, repr=False)
    """Actor by API token."""
    secret_key: str | None = field(default=None, repr=False)
    """From ``secret_key_file``; None: the store's."""
    status_token: str | None = field(default=None, repr=False)
    """From ``wards.status_token_file``."""
    alertmanager_auth: Credentials | None = field(default=None, repr=False)
    """What the router sends Alertmanager: from ``alertmanager.basic_auth`` or ``bearer_token_file``."""
    prometheus_auth: Credentials | None = field(default=None, repr=False)
    """What the topology page sends Prometheus: from ``prometheus.basic_auth`` or ``bearer_token_file``."""
    wards_prometheus_auth: Credentials | None = field(default=None, repr=False)
    """What the ward figures send ``wards.prometheus_url``: from ``wards.prometheus_auth``."""

    def resolve(self, value: str) -> Path:
        """Return a path from the config, relative to the config file's folder."""
        return (self.path.parent / value).resolve()

    def policy_path(self) -> Path:
        """Return the configured routing policy, or the one installed with hospmon."""
        return self.resolve(self.file.policy) if self.file.policy else paths.policy_file()


def _database_url(db: DatabaseConfig, path: Path) -> str:
    url = db.url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        rel = url.removeprefix("sqlite:///")
        if rel and rel != ":memory:":
            url = "sqlite:///" + str((path.parent / rel).resolve())
    if db.password_file or db.password_env:
        password = read_secret(
            db.password_file, db.password_env, what="database.password_file", config_file=path
        )
        url = make_url(url).set(password=password).render_as_string(hide_password=False)
    return url


def load_settings(path: str | Path) -> Settings:
    """Read and check the router config, raising `ConfigError` naming file and key."""
    path = Path(path)
    raw = load(RouterFile, path, id_field="name")
    inline = inline_secrets(raw, path)
    if inline:
        raise ConfigError(inline)

    def secret(file: str, what: str) -> str:
        return read_secret(str((path.parent / file).resolve()), None, what=what, config_file=path)

    def credentials(auth: WebhookAuthConfig | HttpAuthConfig, key: str) -> Credentials | None:
        if auth.bearer_token_file:
            return Credentials(bearer=secret(auth.bearer_token_file, f"{key}.bearer_token_file"))
        if auth.basic_auth:
            password = secret(auth.basic_auth.password_file, f"{key}.basic_auth.password_file")
            return Credentials(basic=(auth.basic_auth.username, password))
        return None

    webhook = credentials(raw.webhook_auth, "webhook_auth") or Credentials()
    secrets: dict[str, str] = {}
    for ch in raw.channels:
        for key in ("key_file", "secret_file", "url_file"):
            value = getattr(ch, key)
            if value:
                secrets[f"{ch.name}.{key}"] = secret(value, f"channels[{ch.name}].{key}")
        if ch.smtp and ch.smtp.password_file:
            secrets[f"{ch.name}.smtp"] = secret(
                ch.smtp.password_file, f"channels[{ch.name}].smtp.password_file"
            )
    names = [c.name for c in raw.channels]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError.single(path, f"duplicate channel names: {', '.join(dupes)}", key="channels")
    tokens: dict[str, str] = {}
    if raw.api_tokens_file:
        for n, line in enumerate(secret(raw.api_tokens_file, "api_tokens_file").splitlines(), 1):
            actor, _, token = line.strip().partition(" ")
            if line.strip() and not line.startswith("#"):
                if not token.strip() or len(token.strip()) < 16:
                    raise ConfigError.single(
                        path, f"line {n}: write ACTOR TOKEN, token of 16+ characters", key="api_tokens_file"
                    )
                tokens[token.strip()] = actor
    signing = secret(raw.secret_key_file, "secret_key_file") if raw.secret_key_file else None
    if signing is not None and len(signing) < 32:
        raise ConfigError.single(path, "write a key of 32+ random characters", key="secret_key_file")
    status = raw.wards.status_token_file
    status_token = secret(status, "wards.status_token_file") if status else None
    if status_token is not None and len(status_token) < 16:
        raise ConfigError.single(
            path, "write a token of 16+ random characters", key="wards.status_token_file"
        )
    return Settings(
        raw,
        path,
        _database_url(raw.database, path),
        webhook.bearer,
        webhook.basic,
        secrets,
        tokens,
        signing,
        status_token,
        credentials(raw.alertmanager, "alertmanager"),
        credentials(raw.prometheus, "prometheus"),
        credentials(raw.wards.prometheus_auth, "wards.prometheus_auth"),
    )
