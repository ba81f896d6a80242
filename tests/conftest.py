"""Shared fixtures: the repository root, a generated test certificate."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# The longest files, which `make test`'s workers should start first, so that none runs alone at the end.
LONGEST_FIRST = ("tests/test_demo.py", "tests/test_release_chain.py", "tests/test_install.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move the longest files to the front, keeping every other test in its order."""
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.partition("::")[0], len(rank)))


@pytest.fixture(scope="session")
def repo() -> Path:
    """Return the repository root."""
    return REPO


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Return a self-signed certificate and key for 127.0.0.1, made with openssl."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "server.crt", folder / "server.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


# Exporter config keys letting tests probe their private servers on loopback ad hoc (targets are allow-listed
# by default; tests of the allow-list itself leave these out).
LOOPBACK_ADHOC: dict[str, object] = {"allow_adhoc_targets": True, "adhoc_cidrs": ["127.0.0.0/8", "::1/128"]}
LOOPBACK_ADHOC_YAML = "allow_adhoc_targets: true\nadhoc_cidrs: [127.0.0.0/8, '::1/128']\n"
