"""Debian's Tomcat 10 on loopback, on a free port, in its own CATALINA_BASE: the web applications given and
the manager webapp with a ``manager-jmx`` account (its password in a file), as the middleware exporter reads
a hospital's HIS application server.

Used by the middleware exporter's tests (tests/middleware/), which run a HIS application with JDBC pools.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from demo.servers.process import MissingProgram, free_port, http_get, http_ready, require, running

CATALINA_HOME = Path("/usr/share/tomcat10")
MANAGER = Path("/usr/share/tomcat10-admin/manager")
# A JDBC driver for applications whose pools use PostgreSQL (`libs`).
POSTGRES_JDBC = Path("/usr/share/java/postgresql.jar")
JMX_USER = "hospmon-jmx"
PACKAGES = {CATALINA_HOME: "tomcat10", MANAGER: "tomcat10-admin", POSTGRES_JDBC: "libpostgresql-jdbc-java"}


def installed(path: Path) -> Path:
    """Return `path`, or raise `MissingProgram` naming the Debian package that installs it."""
    if not path.exists():
        package = PACKAGES.get(path, "tomcat10")
        raise MissingProgram(f"{path} is missing: apt-get install {package} (make deps installs it)")
    return path


@dataclass(frozen=True)
class Tomcat:
    """A running Tomcat: its base URL and the manager-jmx account (password in a file)."""

    url: str
    user: str
    password_file: Path
    base: Path

    def get(self, path: str) -> str:
        """GET a page (``/app/page``) and return its text; raise unless it answers 200."""
        status, body = http_get(f"{self.url}{path}", timeout=30)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
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


def _deploy(app: Path, target: Path, values: Mapping[str, str]) -> None:
    """Copy a web application, filling ``@KEY@`` in its META-INF/context.xml from `values`."""
    shutil.copytree(app, target)
    context = target / "META-INF" / "context.xml"
    if context.exists():
        text = context.read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace(f"@{key}@", value)
        context.write_text(text, encoding="utf-8")


def catalina_base(
    base: Path, port: int, apps: Mapping[str, Path], values: Mapping[str, str], libs: list[Path], threads: int
) -> Path:
    """Write a CATALINA_BASE with the manager and `apps` (context path: folder); return the password file."""
    for sub in ("conf/Catalina/localhost", "logs", "temp", "work", "lib", "webapps"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    for name in ("web.xml", "logging.properties", "catalina.properties"):
        shutil.copy(CATALINA_HOME / "etc" / name, base / "conf" / name)
    for lib in libs:
        (base / "lib" / lib.name).symlink_to(installed(lib))
    password = secrets.token_urlsafe(18)
    password_file = base / "jmx-password"
    password_file.write_text(password + "\n", encoding="utf-8")
    password_file.chmod(0o600)
    (base / "conf" / "server.xml").write_text(_SERVER_XML.format(port=port, max_threads=threads))
    (base / "conf" / "tomcat-users.xml").write_text(_USERS_XML.format(user=JMX_USER, password=password))
    (base / "conf" / "Catalina" / "localhost" / "manager.xml").write_text(
        _MANAGER_XML.format(docbase=installed(MANAGER))
    )
    for name, app in apps.items():
        _deploy(app, base / "webapps" / name, values)
    return password_file


@contextmanager
def tomcat(
    workdir: Path,
    apps: Mapping[str, Path],
    ready_path: str,
    *,
    values: Mapping[str, str] | None = None,
    libs: list[Path] | None = None,
    max_threads: int = 12,
) -> Iterator[Tomcat]:
    """Run Tomcat 10 with `apps` until the block ends, once `ready_path` (``/app/page``) answers 200.

    `values` fill the ``@KEY@`` placeholders of each application's META-INF/context.xml (its JDBC URL and
    account); `libs` (jars, such as `POSTGRES_JDBC`) go into the server's lib/.
    """
    installed(CATALINA_HOME / "bin" / "bootstrap.jar")
    java = require("java")
    port = free_port()
    password_file = catalina_base(workdir, port, apps, values or {}, libs or [], max_threads)
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
    with running(argv, http_ready(f"{url}{ready_path}"), workdir / "tomcat.log", workdir, timeout=90):
        yield Tomcat(url, JMX_USER, password_file, workdir)
