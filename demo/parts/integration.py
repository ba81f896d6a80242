"""The demo's interface engine: a simulated Mirth Connect on 18090 (demo/integration/engine.py) with the
hospital's interfaces, and hospmon-middleware-exporter on 19109 reading it with an API password kept in
run/integration/secrets/.

Stop a channel, or take the system behind it down, to watch the integration alerts::

    curl -X POST http://127.0.0.1:18090/-/demo/channels/lis-results-to-his/block    # .../unblock
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from demo import ports
from demo.launcher import Part, exporter_config, exporter_part

ENGINE_PORT, EXPORTER_PORT = 18090, 19109


def parts(run: Path, inventory: Path) -> list[Part]:
    """Write run/integration/ and return the simulated engine, then its exporter."""
    folder = run.resolve() / "integration"
    (folder / "secrets").mkdir(parents=True, exist_ok=True)
    password = folder / "secrets" / "engine-password"
    if not password.exists():
        password.write_text(secrets.token_urlsafe(24) + "\n", encoding="utf-8")
        password.chmod(0o600)
    engine = [sys.executable, "-m", "demo.integration.engine", "--listen", ports.addr(ENGINE_PORT),
              "--password-file", str(password)]  # fmt: skip
    ready = ports.url(ENGINE_PORT, "/-/ready")
    return [
        Part("integration-engine", engine, ready, ready),
        exporter_part("middleware", EXPORTER_PORT, exporter_config("middleware", folder), cwd=folder),
    ]
