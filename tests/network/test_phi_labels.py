"""The machine room's mailbox in every switch's sysContact: the PHI guard lets the site's own mailboxes by
when told them, refuses any other address, counts each refusal and logs it once, not at every scrape."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from demo.servers.snmpd import Agent
from exporters.network.exporter import NetworkExporter
from tests.network.conftest import write_config
from tests.network.helpers import probe

INFO = "hospmon_snmp_system_info"


def _contact(families: list) -> str:  # type: ignore[type-arg]
    return next(s.labels["sysContact"] for f in families for s in f.samples if s.name == INFO)


def test_the_sites_own_mailbox_is_exported_when_allowed(
    exporter: NetworkExporter, agent: Agent, tmp_path: Path
) -> None:
    # The test agent's sysContact is noc@hospital.example, as the hospital's switches are configured.
    runtime = exporter.load_config(write_config(tmp_path, phi={"allow_email_domains": ["hospital.example"]}))
    before = runtime.access.guard.tally.get("email")  # the exporter's tally: other tests' refusals are in it
    assert _contact(probe(exporter, runtime, agent.target, "system")) == "noc@hospital.example"
    assert runtime.access.guard.tally.get("email") == before


def test_an_address_not_allowed_is_redacted_counted_every_scrape_and_logged_once(
    exporter: NetworkExporter, agent: Agent, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = exporter.load_config(write_config(tmp_path, phi={"allow_email_domains": ["other.example"]}))
    before = runtime.access.guard.tally.get("email")
    with caplog.at_level(logging.DEBUG, logger="hospmon.phi"):
        contacts = [_contact(probe(exporter, runtime, agent.target, "system")) for _ in range(3)]
    assert contacts == ["[redacted]"] * 3
    assert runtime.access.guard.tally.get("email") == before + 3
    refusals = [r.getMessage() for r in caplog.records]
    assert refusals == [
        "value refused: label=sysContact rule=email (the site's own mailboxes: phi.allow_email_domains)"
    ]
