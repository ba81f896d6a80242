"""Session fixtures for the scenarios: the shared chain and a migrated store to copy per scenario."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from alertrouter.migrate import upgrade
from tests.scenarios.chain import Chain


@pytest.fixture(scope="session")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    """Start the SMTP and SMS sinks and the front door; Alertmanagers start when first asked for."""
    shared = Chain(tmp_path_factory.mktemp("scenario-chain"), "scenario-webhook-token-0123456789")
    yield shared
    shared.close()


@pytest.fixture(scope="session")
def router_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a SQLite store at the newest schema; each scenario copies it instead of migrating."""
    path = tmp_path_factory.mktemp("scenario-store") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path
