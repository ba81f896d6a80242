"""The demo's interface engine: a simulated Mirth Connect on 18090 (demo/integration/engine.py) with the
hospital's interfaces, and hospmon-middleware-exporter on 19109 reading it with an API password kept in
run/integration/secrets/.

Stop a channel, or take the system behind it down, to watch the integration alerts::

    curl -X POST http://127.0.0.1:18090/-/demo/channels/lis-results-to-his/block    # .../unblock
"""

from __future__ import annotations

import secrets
import shutil
import sys
from pathlib import Path

from hospmon.demo import REPO, Part

ENGINE = "http://127.0.0.1:18090"
EXPORTER = "http://127.0.0.1:19109"


def parts(run: Path, inventory: Path) -> list[Part]:
    """Write run/integration/ and return the simulated engine, then its exporter."""
    folder = run.resolve() / "integration"
    (folder / "secrets").mkdir(parents=True, exist_ok=True)
    password = folder / "secrets" / "engine-password"
    if not password.exists():
        password.write_text(secrets.token_urlsafe(24) + "\n", encoding="utf-8")
        password.chmod(0o600)
    shutil.copy(REPO / "deploy" / "exporters" / "middleware.yml", folder / "middleware.yml")
    engine = [sys.executable, str(REPO / "demo" / "integration" / "engine.py"), "--listen", "127.0.0.1:18090",
              "--password-file", str(password)]  # fmt: skip
    exporter = [sys.executable, "-m", "exporters.middleware.main", "--config.file=middleware.yml",
                "--web.listen-address=127.0.0.1:19109"]  # fmt: skip
    return [
        Part("integration-engine", engine, f"{ENGINE}/-/ready", f"{ENGINE}/-/ready"),
        Part("middleware-exporter", exporter, f"{EXPORTER}/-/healthy", EXPORTER, cwd=folder),
    ]
