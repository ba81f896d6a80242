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
if len(sys.argv) > 2:  # what a first authPriv AES scrape runs
    from exporters.network.aes import encrypt_cfb
    encrypt_cfb(bytes(16), bytes(16), b"scoped PDU")
print(" ".join(sorted({m.split(".")[0] for m in sys.modules} & {"pysnmp", "cryptography"})))
"""


def loaded_after_config(tmp_path: Path, config: str, *, encrypt: bool = False) -> str:
    """Load `config` in a fresh interpreter; return which of pysnmp and cryptography it imported."""
    path = tmp_path / "network.yml"
    path.write_text(config)
    argv = [sys.executable, "-c", CHECK, str(path), *(["encrypt"] if encrypt else [])]
    done = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60)
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


def test_an_aes_user_encrypts_without_the_cryptography_package(tmp_path: Path) -> None:
    """The production default, SHA with AES-128 privacy: its cipher comes from the interpreter's libcrypto."""
    config = (
        "auths:\n  core: {version: 3, username: u, security_level: authPriv, auth_protocol: SHA,"
        " password_env: HOME, priv_protocol: AES, priv_password_env: HOME}\n"
    )
    assert loaded_after_config(tmp_path, config, encrypt=True) == ""
