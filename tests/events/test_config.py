"""The receiver refuses a bad config or rule at start-up with every fault, naming file, rule and key, and a
reload with a fault keeps the running config."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import yaml

from exporters.core.server import ExporterApp
from exporters.events.main import EventReceiver
from tests.events.conftest import REPO, receiver_config

BAD_RULES = """\
rules:
  - name: port_down
    syslog: 'Interface (?P<port>\\S+ down'
    alert: PortDown
    severity: critical
    summary: "{port} of {ci}"
    expire_seconds: 60
  - name: fan
    trap: 1.3.6.1.4.1.2011.5.25.219.2.6.3
    alert: Fan-Failed
    severity: loud
    summary: "fan {name} of {ci}"
    labels: {ci: "{ci}"}
  - name: nfs_down
    syslog: 'nfs: server \\S+ not responding'
    alert: NFSDown
    severity: critical
    key: [server]
    summary: "NFS of {ci}"
    resolve: {syslog: 'nfs: server \\S+ OK'}
"""


def _write(tmp_path: Path, rules: str, **overrides: object) -> Path:
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "rules" / "site.yml").write_text(rules)
    config = receiver_config(tmp_path, 9, rules=[str(tmp_path / "rules")], **overrides)
    path = tmp_path / "events.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def _check(path: Path) -> subprocess.CompletedProcess[str]:
    code = "import sys; from exporters.events.main import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, f"--config.file={path}", "--check-config"],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip


def test_every_rule_fault_is_reported_at_once_with_file_rule_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path, BAD_RULES, sources=[{"address": "10.9.0.0/24", "ci": "no-such-switch"}])
    result = _check(path)
    assert result.returncode == 1
    site = str(tmp_path / "rules" / "site.yml")
    expected = [
        f"{site}: rules[port_down]: syslog: Value error, not a regular expression",
        f"{site}: rules[fan]: severity: Input should be 'critical', 'warning' or 'info'",
        f"{site}: rules[nfs_down]: key[0]: unknown field 'server'",
        f"{site}: rules[nfs_down]: resolve.syslog: the pattern must capture the key field (?P<server>...)",
        f"{path}: sources[0]: ci: no CI 'no-such-switch' in the inventory",
    ]
    for line in expected:
        assert line in result.stderr, result.stderr


def test_rule_checks_beyond_the_schema(tmp_path: Path) -> None:
    rules = BAD_RULES.replace("severity: loud", "severity: warning").replace(
        "(?P<port>\\S+ down", "(?P<port>\\S+) down"
    )
    result = _check(_write(tmp_path, rules))
    site = str(tmp_path / "rules" / "site.yml")
    assert f"{site}: rules[fan]: alert: 'Fan-Failed' is not a valid alert name" in result.stderr
    assert f"{site}: rules[fan]: labels.ci: set by the receiver" in result.stderr
    assert f"{site}: rules[fan]: summary: unknown field {{name}}" in result.stderr
    assert f"{site}: rules[fan]: resolve: give resolve or expire_seconds" in result.stderr
    assert "rules[port_down]" not in result.stderr


def test_shipped_rules_and_a_good_config_pass_the_check(tmp_path: Path) -> None:
    path = tmp_path / "events.yml"
    path.write_text(yaml.safe_dump(receiver_config(tmp_path, 9)))
    result = _check(path)
    assert result.returncode == 0 and "configuration is valid" in result.stdout, result.stderr


def test_a_missing_secret_names_its_key_and_a_url_may_not_carry_credentials(tmp_path: Path) -> None:
    config = receiver_config(tmp_path, 9)
    config["snmp"]["users"][0]["priv_password_file"] = str(tmp_path / "absent")
    config["alertmanager"]["urls"] = ["http://admin:hunter2@127.0.0.1:9093"]
    path = tmp_path / "events.yml"
    path.write_text(yaml.safe_dump(config))
    result = _check(path)
    assert "hunter2" not in result.stderr
    assert "alertmanager: urls: Value error, [0]: credentials go in basic_auth" in result.stderr
    config["alertmanager"]["urls"] = ["http://127.0.0.1:9093"]
    path.write_text(yaml.safe_dump(config))
    result = _check(path)
    assert f"{path}: snmp.users[0].priv_password_file: cannot read secret file" in result.stderr


def test_reload_with_a_broken_rule_keeps_the_running_rules(tmp_path: Path) -> None:
    good = (REPO / "rules" / "events" / "snmp-standard.yml").read_text()
    path = _write(tmp_path, good)
    app = ExporterApp(EventReceiver(), path)
    running = app.config
    (tmp_path / "rules" / "site.yml").write_text(good.replace("severity: critical", "severity: urgent", 1))
    error = app.reload()
    assert error is not None and "rules[if_link_down]: severity" in error
    assert app.config is running
    (tmp_path / "rules" / "site.yml").write_text(good.replace("NetworkLinkDown", "LinkDown"))
    assert app.reload() is None
    assert app.config.rules.rules[0].alert == "LinkDown"


def test_a_syslog_port_in_use_stops_the_start_with_the_reason_and_frees_the_trap_port(tmp_path: Path) -> None:
    config = receiver_config(tmp_path, 9)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config["syslog"]["tcp"] = f"127.0.0.1:{taken.getsockname()[1]}"
        path = tmp_path / "events.yml"
        path.write_text(yaml.safe_dump(config))
        code = "import sys; from exporters.events.main import main; sys.exit(main(sys.argv[1:]))"
        result = subprocess.run(
            [sys.executable, "-c", code, f"--config.file={path}", "--web.listen-address=127.0.0.1:0"],
            capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60,
        )  # fmt: skip
    assert result.returncode == 1
    assert "cannot start: [Errno 98] Address already in use" in result.stderr
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as trap_port:
        trap_port.bind(("127.0.0.1", int(config["snmp"]["listen"].rsplit(":", 1)[1])))


def test_a_relay_must_be_an_address_or_network_and_not_every_sender(tmp_path: Path) -> None:
    config = receiver_config(tmp_path, 9)
    config["syslog"]["relays"] = ["10.20.0.5", "rsyslog-1.hospital.local", "0.0.0.0/0"]
    config["snmp"]["relays"] = ["10.20.0.6", "::/0", "snmptrapd-1"]
    path = tmp_path / "events.yml"
    path.write_text(yaml.safe_dump(config))
    result = _check(path)
    assert result.returncode == 1
    assert (
        f"{path}: syslog: relays[1]: Value error, 'rsyslog-1.hospital.local' is not an IP address or "
        "network, e.g. 10.20.0.5 or 10.20.0.0/29"
    ) in result.stderr, result.stderr
    everyone = "would trust every sender's word for its CI: list only the relays' addresses"
    assert f"{path}: syslog: relays[2]: Value error, '0.0.0.0/0' {everyone}" in result.stderr
    # Trap forwarders: the same check, under their own key.
    assert f"{path}: snmp: relays[1]: Value error, '::/0' {everyone}" in result.stderr
    assert f"{path}: snmp: relays[2]: Value error, 'snmptrapd-1' is not an IP address" in result.stderr
    assert "relays[0]" not in result.stderr
