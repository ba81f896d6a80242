"""Channels: apprise URLs for every kind, and real deliveries to an HTTP webhook and an SMS gateway."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from alertrouter.notify.channels import DeliveryError, apprise_url, send
from alertrouter.settings import Settings, load_settings
from tests.servers import JsonReceiver


@pytest.fixture
def receiver() -> Iterator[JsonReceiver]:
    r = JsonReceiver()
    yield r
    r.stop()


def _settings(tmp_path: Path, write_config: Callable[..., Path], port: int) -> Settings:
    (tmp_path / "wecom-key").write_text("0123-wecom-key\n")
    (tmp_path / "ding-token").write_text("dingtoken123\n")
    (tmp_path / "ding-secret").write_text("SECabc\n")
    (tmp_path / "smtp-password").write_text("p@ss word\n")
    channels = [
        {"name": "wecom", "kind": "wecom", "key_file": "wecom-key"},
        {"name": "dingtalk", "kind": "dingtalk", "key_file": "ding-token", "secret_file": "ding-secret"},
        {"name": "hook", "kind": "webhook", "url": f"http://127.0.0.1:{port}/hospmon?source=router"},
        {"name": "sms", "kind": "sms", "url": f"http://127.0.0.1:{port}/sms", "priorities": ["P1"]},
        {
            "name": "mail",
            "kind": "email",
            "smtp": {
                "host": "smtp.hospital.example",
                "port": 587,
                "sender": "router@hospital.example",
                "username": "router",
                "password_file": "smtp-password",
            },
        },
    ]
    return load_settings(write_config("sqlite:///x.db", channels=channels))


def test_apprise_urls(tmp_path: Path, write_config: Callable[..., Path]) -> None:
    settings = _settings(tmp_path, write_config, 8080)
    ch = {c.name: c for c in settings.file.channels}
    assert apprise_url(ch["wecom"], settings, "") == "wecombot://0123-wecom-key"
    assert apprise_url(ch["dingtalk"], settings, "") == "dingtalk://SECabc@dingtoken123/"
    # The gateway's own query parameters go through apprise with its "-" prefix (they were once dropped).
    assert apprise_url(ch["hook"], settings, "") == "json://127.0.0.1:8080/hospmon?-source=router"
    assert apprise_url(ch["sms"], settings, "+86-555-0101") == "json://127.0.0.1:8080/sms?:to=%2B86-555-0101"
    assert apprise_url(ch["mail"], settings, "li.qiang@hospital.example") == (
        "mailto://router:p%40ss%20word@smtp.hospital.example:587?mode=starttls&from=router%40hospital.example"
        "&to=li.qiang%40hospital.example"
    )


def test_webhook_and_sms_gateway_receive_messages(
    tmp_path: Path, write_config: Callable[..., Path], receiver: JsonReceiver
) -> None:
    settings = _settings(tmp_path, write_config, receiver.port)
    ch = {c.name: c for c in settings.file.channels}
    send(ch["hook"], settings, "network", "[P1] #1 SwitchDown on core-sw-1", "why: ...", "hospmon-7-1")
    send(ch["sms"], settings, "+86-555-0101", "[P1] #1", "core-sw-1 down", "hospmon-8-1")
    (hook_path, hook), (sms_path, sms) = receiver.posts
    assert hook_path == "/hospmon?source=router" and hook["title"] == "[P1] #1 SwitchDown on core-sw-1"
    assert sms_path.startswith("/sms") and sms["to"] == "+86-555-0101" and sms["message"] == "core-sw-1 down"
    # A gateway that keeps keys can drop the copy a crash between its answer and our record would send.
    assert receiver.keys == ["hospmon-7-1", "hospmon-8-1"]


def test_refused_delivery_raises_with_the_reason(tmp_path: Path, write_config: Callable[..., Path]) -> None:
    refusing = JsonReceiver(status=500)
    try:
        settings = _settings(tmp_path, write_config, refusing.port)
        hook = next(c for c in settings.file.channels if c.name == "hook")
        with pytest.raises(DeliveryError):
            send(hook, settings, "network", "s", "b")
    finally:
        refusing.stop()


def test_a_url_with_a_token_comes_from_url_file(
    tmp_path: Path, write_config: Callable[..., Path], receiver: JsonReceiver
) -> None:
    """The lab's alarm board takes a token in its URL: the URL lives in a file, never in the config."""
    (tmp_path / "lab-board-url").write_text(f"http://127.0.0.1:{receiver.port}/board?access_token=s3cr3t\n")
    path = write_config(
        "sqlite:///x.db", channels=[{"name": "lab", "kind": "webhook", "url_file": "lab-board-url"}]
    )
    settings = load_settings(path)
    assert "s3cr3t" not in path.read_text()
    send(settings.file.channels[0], settings, "lis", "[P2] #7 LIS interface backlog", "...")
    [(board_path, body)] = receiver.posts
    assert board_path == "/board?access_token=s3cr3t" and body["title"] == "[P2] #7 LIS interface backlog"
