"""Debian's Tomcat 10 and RabbitMQ on loopback, on free ports, in private folders, for the middleware tests.

Tomcat runs a test HIS application with two JDBC pools on the test's PostgreSQL (Tomcat's default DBCP
pool and the Tomcat JDBC pool), and the manager webapp with a ``manager-jmx`` account whose password is in a
file. RabbitMQ runs with its Prometheus plugin (per-queue metrics on), its own epmd on a free port, and an
application account loaded from a definitions file. Both fail the test, never skip it, when not installed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import free_port, http_get, process, terminate

CATALINA_HOME = Path("/usr/share/tomcat10")
MANAGER = Path("/usr/share/tomcat10-admin/manager")
POSTGRES_JDBC = Path("/usr/share/java/postgresql.jar")
RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
APP = Path(__file__).parent / "tomcat_app"
JMX_USER = "hospmon-jmx"


def _need(path: Path, package: str) -> Path:
    if not path.exists():
        pytest.fail(f"{path} is missing: apt-get install {package} (make deps installs it)", pytrace=False)
    return path


@dataclass(frozen=True)
class Tomcat:
    """A running Tomcat: its base URL and the manager-jmx account (password in a file)."""

    url: str
    user: str
    password_file: Path
    base: Path

    def app(self, page: str) -> str:
        """GET a page of the test HIS application and return its text (status 200 required)."""
        status, body = http_get(f"{self.url}/his/{page}", timeout=30)
        assert status == 200, f"{page} answered {status}: {body[:300]!r}"
        return body.decode().strip()


_SERVER_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.mbeans.GlobalResourcesLifecycleListener"/>
  <GlobalNamingResources>
    <Resource name="UserDatabase" auth="Container" type="org.apache.catalina.UserDatabase" readonly="true"
              factory="org.apache.catalina.users.MemoryUserDatabaseFactory" pathname="conf/tomcat-users.xml"/>
  </GlobalNamingResources>
  <Service name="Catalina">
    <Connector address="127.0.0.1" port="{port}" protocol="HTTP/1.1" maxThreads="{max_threads}"
               connectionTimeout="20000"/>
    <Engine name="Catalina" defaultHost="localhost">
      <Realm className="org.apache.catalina.realm.UserDatabaseRealm" resourceName="UserDatabase"/>
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false"/>
    </Engine>
  </Service>
</Server>
"""
_USERS_XML = """<?xml version="1.0" encoding="UTF-8"?>
<tomcat-users xmlns="http://tomcat.apache.org/xml" version="1.0">
  <role rolename="manager-jmx"/>
  <user username="{user}" password="{password}" roles="manager-jmx"/>
</tomcat-users>
"""
_MANAGER_XML = """<Context docBase="{docbase}" privileged="true">
  <Valve className="org.apache.catalina.valves.RemoteCIDRValve" allow="127.0.0.0/8, ::1/128"/>
</Context>
"""


def _tomcat_base(base: Path, port: int, max_threads: int, jdbc: dict[str, str]) -> Path:
    """Write a CATALINA_BASE with the manager and the test HIS application; return the password file."""
    for sub in ("conf/Catalina/localhost", "logs", "temp", "work", "lib", "webapps"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    for name in ("web.xml", "logging.properties", "catalina.properties"):
        shutil.copy(CATALINA_HOME / "etc" / name, base / "conf" / name)
    (base / "lib" / "postgresql.jar").symlink_to(_need(POSTGRES_JDBC, "libpostgresql-jdbc-java"))
    password = secrets.token_urlsafe(18)
    password_file = base / "jmx-password"
    password_file.write_text(password + "\n", encoding="utf-8")
    password_file.chmod(0o600)
    (base / "conf" / "server.xml").write_text(_SERVER_XML.format(port=port, max_threads=max_threads))
    (base / "conf" / "tomcat-users.xml").write_text(_USERS_XML.format(user=JMX_USER, password=password))
    (base / "conf" / "Catalina" / "localhost" / "manager.xml").write_text(
        _MANAGER_XML.format(docbase=_need(MANAGER, "tomcat10-admin"))
    )
    app = base / "webapps" / "his"
    shutil.copytree(APP, app)
    context = app / "META-INF" / "context.xml"
    text = context.read_text(encoding="utf-8")
    for key, value in jdbc.items():
        text = text.replace(f"@{key}@", value)
    context.write_text(text, encoding="utf-8")
    return password_file


@contextmanager
def tomcat_server(workdir: Path, jdbc: dict[str, str], max_threads: int = 12) -> Iterator[Tomcat]:
    """Run Tomcat 10 with the test HIS application until the block ends.

    `jdbc` gives JDBC_URL, JDBC_USER and JDBC_PASSWORD for the application's pools.
    """
    _need(CATALINA_HOME / "bin" / "bootstrap.jar", "tomcat10")
    java = shutil.which("java") or pytest.fail("java is missing: apt-get install tomcat10", pytrace=False)
    port = free_port()
    password_file = _tomcat_base(workdir, port, max_threads, jdbc)
    bin_dir = CATALINA_HOME / "bin"
    argv = [
        java, "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        f"-Dcatalina.home={CATALINA_HOME}", f"-Dcatalina.base={workdir}",
        f"-Djava.io.tmpdir={workdir / 'temp'}",
        "-Djava.util.logging.manager=org.apache.juli.ClassLoaderLogManager",
        f"-Djava.util.logging.config.file={workdir / 'conf' / 'logging.properties'}",
        # No tag libraries in these applications: skipping the jar scan saves seconds at start-up.
        "-Dtomcat.util.scan.StandardJarScanFilter.jarsToSkip=*.jar",
        "-cp", f"{bin_dir / 'bootstrap.jar'}:{bin_dir / 'tomcat-juli.jar'}",
        "org.apache.catalina.startup.Bootstrap", "start",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with process(argv, f"{url}/his/ready.txt", workdir / "tomcat.log", cwd=workdir, timeout=90):
        yield Tomcat(url, JMX_USER, password_file, workdir)


@dataclass(frozen=True)
class RabbitMQ:
    """A running RabbitMQ: its AMQP port, its Prometheus endpoint and an application account."""

    amqp_port: int
    metrics_url: str
    user: str
    password_file: Path

    @property
    def address(self) -> str:
        """Return the Prometheus endpoint's host:port, as a native CI's address."""
        return self.metrics_url.removeprefix("http://").removesuffix("/metrics")


def _password_hash(password: str) -> str:
    """Hash a password the way RabbitMQ's definitions carry it (rabbit_password_hashing_sha256)."""
    salt = secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def _definitions(user: str, password: str, queues: list[str]) -> dict[str, object]:
    return {
        "users": [{"name": user, "password_hash": _password_hash(password), "tags": [],
                   "hashing_algorithm": "rabbit_password_hashing_sha256"}],
        "vhosts": [{"name": "/"}],
        "permissions": [{"user": user, "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}],
        "queues": [{"name": q, "vhost": "/", "durable": True, "auto_delete": False, "arguments": {}}
                   for q in queues],
    }  # fmt: skip


@contextmanager
def rabbitmq_server(workdir: Path, queues: list[str]) -> Iterator[RabbitMQ]:
    """Run RabbitMQ with the Prometheus plugin and durable `queues` until the block ends."""
    server = _need(RABBITMQ_SERVER, "rabbitmq-server")
    epmd = shutil.which("epmd") or pytest.fail("epmd is missing: apt-get install erlang-base", pytrace=False)
    for sub in ("home", "mnesia", "log"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    user, password = "his-app", secrets.token_urlsafe(18)
    password_file = workdir / "amqp-password"
    password_file.write_text(password + "\n", encoding="utf-8")
    password_file.chmod(0o600)
    definitions = workdir / "definitions.json"
    definitions.write_text(json.dumps(_definitions(user, password, queues)), encoding="utf-8")
    amqp, metrics, dist, epmd_port = free_port(), free_port(), free_port(), free_port()
    (workdir / "rabbitmq.conf").write_text(
        f"listeners.tcp.default = 127.0.0.1:{amqp}\n"
        f"prometheus.tcp.ip = 127.0.0.1\nprometheus.tcp.port = {metrics}\n"
        # Per-queue series on /metrics, so a native scrape sees each queue's depth and consumers.
        "prometheus.return_per_object_metrics = true\n"
        "collect_statistics_interval = 1000\n"
        f"load_definitions = {definitions}\n",
        encoding="utf-8",
    )
    (workdir / "enabled_plugins").write_text("[rabbitmq_prometheus].\n", encoding="utf-8")
    env = {
        **os.environ,
        "HOME": str(workdir / "home"),
        # Exec the VM in place of the start script, so the process we stop is the broker itself.
        "RUNNING_UNDER_SYSTEMD": "true",
        "RABBITMQ_NODENAME": f"hospmon-test-{os.getpid()}@localhost",
        "RABBITMQ_DIST_PORT": str(dist),
        "ERL_EPMD_PORT": str(epmd_port),
        "RABBITMQ_MNESIA_BASE": str(workdir / "mnesia"),
        "RABBITMQ_LOG_BASE": str(workdir / "log"),
        "RABBITMQ_LOGS": "-",
        "RABBITMQ_CONFIG_FILE": str(workdir / "rabbitmq.conf"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(workdir / "enabled_plugins"),
        "RABBITMQ_PLUGINS_EXPAND_DIR": str(workdir / "plugins-expand"),
    }
    with ExitStack() as stack:
        # Our own epmd, in the foreground, so it is ours to stop (the VM would start a lasting daemon).
        log = (workdir / "epmd.log").open("wb")
        stack.callback(log.close)
        name_server = subprocess.Popen(
            [epmd, "-port", str(epmd_port), "-address", "127.0.0.1"], stdout=log, stderr=subprocess.STDOUT
        )
        stack.callback(terminate, name_server)
        url = f"http://127.0.0.1:{metrics}/metrics"
        stack.enter_context(
            process([str(server)], url, workdir / "rabbitmq.log", cwd=workdir, timeout=120, env=env)
        )
        yield RabbitMQ(amqp, url, user, password_file)
