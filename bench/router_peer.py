"""The router bench's servers: Alerta 9.1 (its own venv) and hospmon-router, under the same gunicorn settings.

Alerta comes from PyPI (``alerta-server``) into a venv inside the bench's temporary folder (or `--alerta-venv`
to reuse one), and stores in the same PostgreSQL as our router, in its own database. Both serve from 2
gunicorn gthread workers of 8 threads, the router's production default on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from bench.servers import free_port, http_ok, process

REPO = Path(__file__).resolve().parent.parent
ALERTA_VERSION = "9.1.0"
TOKEN = "bench-token-0123456789abcdef"
WORKERS, THREADS = 2, 8
# Alertmanager rules send severity="info"; Alerta's default alarm model answers 500 for it: map it.
ALERTA_CONF = """
DATABASE_URL = {url!r}
DATABASE_NAME = 'alerta'
AUTH_REQUIRED = False
PLUGINS = []
SECRET_KEY = 'bench-only-not-secret'
LOG_HANDLERS = ['console']
LOG_LEVEL = 'WARNING'
DEBUG = False
SEVERITY_MAP = {{'security': 0, 'critical': 1, 'major': 2, 'minor': 3, 'warning': 4, 'indeterminate': 5,
    'informational': 6, 'info': 6, 'normal': 7, 'ok': 7, 'cleared': 7, 'debug': 8, 'trace': 9, 'unknown': 10}}
"""


def alerta_venv(venv: Path) -> Path:
    """Install alerta-server, gunicorn and psycopg2 into `venv` unless there; return its gunicorn."""
    gunicorn = venv / "bin" / "gunicorn"
    if not gunicorn.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"alerta-server=={ALERTA_VERSION}",
                        "gunicorn", "psycopg2-binary"], check=True)  # fmt: skip
    return gunicorn


@contextlib.contextmanager
def alerta(venv: Path, db_url: str, folder: Path) -> Iterator[tuple[int, str]]:
    """Run Alerta; yield (gunicorn master PID, webhook URL)."""
    gunicorn = alerta_venv(venv)
    conf = folder / "alertad.conf"
    conf.write_text(ALERTA_CONF.format(url=db_url))
    port = free_port()
    argv = [str(gunicorn), "--bind", f"127.0.0.1:{port}", "--threads", str(THREADS), "--worker-class",
            "gthread", "--no-control-socket", "alerta.app:create_app()"]  # fmt: skip
    ready = f"http://127.0.0.1:{port}/management/healthcheck"
    env = {"ALERTA_SVR_CONF_FILE": str(conf)}
    # Alerta creates its schema as each worker boots; two workers on an empty database race and one dies:
    # create it with one worker first.
    with process([*argv, "--workers", "1"], lambda: http_ok(ready), folder / "alerta-init.log", env=env):
        pass
    argv += ["--workers", str(WORKERS)]
    with process(argv, lambda: http_ok(ready), folder / "alerta.log", env=env, cwd=folder) as proc:
        yield proc.pid, f"http://127.0.0.1:{port}/webhooks/prometheus"


@contextlib.contextmanager
def router(
    db_url: str, inventory: Path, folder: Path, workers: int | None, **extra: object
) -> Iterator[tuple[int, str]]:
    """Run hospmon-router as production does (gunicorn gthread, worker on); yield (PID, webhook URL).

    `extra` adds top-level config keys (channels, say).
    """
    (folder / "token").write_text(TOKEN)
    config = {
        "inventory": str(inventory),
        "policy": str(REPO / "rules" / "routing" / "policy.yml"),
        "database": {"url": db_url, "pool_size": THREADS + 2},
        "webhook_auth": {"bearer_token_file": str(folder / "token")},
        "max_body_bytes": 16 * 1024 * 1024,
        "worker": {"enabled": True, "interval_seconds": 2},
        **extra,
    }
    (folder / "router.yml").write_text(json.dumps(config))
    port = free_port()
    argv = [sys.executable, "-m", "alertrouter.main", "--config.file", str(folder / "router.yml"),
            "--db.upgrade", "--web.listen-address", f"127.0.0.1:{port}", "--threads", str(THREADS),
            *(["--workers", str(workers)] if workers else [])]  # fmt: skip
    ready, env = f"http://127.0.0.1:{port}/-/ready", {"PYTHONPATH": str(REPO)}
    with process(
        argv, lambda: http_ok(ready), folder / "router.log", env=env, cwd=folder, timeout=120
    ) as proc:
        yield proc.pid, f"http://127.0.0.1:{port}/webhook/alertmanager"
