"""Prometheus and Alertmanager (Debian's packages) on loopback, each in its own folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from demo.servers.process import free_port, http_get, http_ready, require, running


def prometheus_argv(config: Path, storage: Path, port: int) -> list[str]:
    """Return the command running Prometheus (lifecycle API on) on 127.0.0.1:`port`."""
    return [
        require("prometheus"),
        f"--config.file={config}",
        f"--storage.tsdb.path={storage}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--web.enable-lifecycle",
    ]


def alertmanager_argv(config: Path, storage: Path, port: int) -> list[str]:
    """Return the command running one Alertmanager (no cluster) on 127.0.0.1:`port`."""
    return [
        require("prometheus-alertmanager"),
        f"--config.file={config}",
        f"--storage.path={storage}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]


def _guarded(argv: list[str], url: str, workdir: Path, web_config: str | None) -> Callable[[], bool]:
    """Add an exporter-toolkit web config (``basic_auth_users``: bcrypt hashes) to `argv` when one is given;
    return the readiness check."""
    if web_config is None:
        return http_ready(f"{url}/-/ready")
    (workdir / "web.yml").write_text(web_config, encoding="utf-8")
    argv.append(f"--web.config.file={workdir / 'web.yml'}")
    # The server listens only once its config is loaded; a 401 from /-/ready means it is serving.
    return lambda: http_get(f"{url}/-/ready", timeout=1)[0] == 401


@contextmanager
def prometheus(
    config: str,
    workdir: Path,
    *,
    extra_files: dict[str, str] | None = None,
    port: int | None = None,
    web_config: str | None = None,
) -> Iterator[str]:
    """Run Prometheus with a config text in `workdir` (relative paths resolve there); yield its base URL.

    `web_config` guards every path with the exporter-toolkit web config it holds.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "prometheus.yml").write_text(config, encoding="utf-8")
    for name, text in (extra_files or {}).items():
        (workdir / name).write_text(text, encoding="utf-8")
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    argv = prometheus_argv(workdir / "prometheus.yml", workdir / "data", port)
    ready = _guarded(argv, url, workdir, web_config)
    with running(argv, ready, workdir / "prometheus.log", workdir):
        yield url


@contextmanager
def alertmanager(
    config: str, workdir: Path, *, port: int | None = None, web_config: str | None = None
) -> Iterator[str]:
    """Run Alertmanager (no clustering) with a config text in `workdir`; yield its base URL.

    `web_config` guards every path with the exporter-toolkit web config it holds.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "alertmanager.yml").write_text(config, encoding="utf-8")
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    argv = alertmanager_argv(workdir / "alertmanager.yml", workdir / "data", port)
    ready = _guarded(argv, url, workdir, web_config)
    with running(argv, ready, workdir / "alertmanager.log", workdir):
        yield url
