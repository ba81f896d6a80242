"""A v1/v2c-only exporter keeps the SNMPv3 crypto and pysnmp out of its memory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHECK = """
import sys
from pathlib import Path
from exporters.network.exporter import NetworkExporter
NetworkExporter().load_config(Path(sys.argv[1]))
print(" ".join(sorted({m.split(".")[0] for m in sys.modules} & {"pysnmp", "cryptography"})))
"""


def loaded_after_config(tmp_path: Path, config: str) -> str:
    """Load `config` in a fresh interpreter; return which of pysnmp and cryptography it imported."""
    path = tmp_path / "network.yml"
    path.write_text(config)
    done = subprocess.run(
        [sys.executable, "-c", CHECK, str(path)], check=True, capture_output=True, text=True, timeout=60
    )
    return done.stdout.strip()


def test_a_v2c_config_imports_neither_pysnmp_nor_crypto(tmp_path: Path) -> None:
    """The switches of a hospital on v2c: the exporter loads no v3 crypto and no pysnmp."""
    assert loaded_after_config(tmp_path, "auths:\n  lab: {version: 2, community_env: HOME}\n") == ""


def test_a_des_user_brings_pysnmp_in(tmp_path: Path) -> None:
    """An old switch with a DES user needs pysnmp: configuring it loads pysnmp at start-up."""
    config = (
        "auths:\n  old: {version: 3, username: u, security_level: authPriv, auth_protocol: SHA,"
        " password_env: HOME, priv_protocol: DES, priv_password_env: HOME}\n"
    )
    assert "pysnmp" in loaded_after_config(tmp_path, config).split()
