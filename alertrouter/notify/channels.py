"""Send one message through one channel with apprise: email, WeCom bot, DingTalk bot, webhook, SMS gateway."""

from __future__ import annotations

import logging
import smtplib
from urllib.parse import parse_qsl, quote, urlsplit

import apprise

from alertrouter.notify.chat import ChatError, send_markdown
from alertrouter.notify.mail import send_email
from alertrouter.settings import ChannelConfig, Settings


class DeliveryError(Exception):
    """The channel refused or could not take the message."""


def person_address(channel: ChannelConfig, contacts: dict[str, str | None]) -> str | None:
    """Return where a person gets this channel's messages; '' for group channels, None when unreachable."""
    if channel.kind == "email":
        return contacts.get("email")
    if channel.kind == "sms":
        return contacts.get("phone")
    return ""


def apprise_url(channel: ChannelConfig, settings: Settings, recipient: str, key: str = "") -> str:
    """Build the apprise URL for a channel and recipient; secrets come from the settings.

    `key` is the message's idempotency key, the same on every attempt: an ``Idempotency-Key`` header for
    webhooks and SMS gateways, which may drop a repeat; an ``X-Hospmon-Notification`` header on email,
    which has no such thing but lets a mail filter or a person see two copies are one page. WeCom and
    DingTalk bots take no key.
    """
    secret = settings.secrets.get
    if channel.kind == "email":
        assert channel.smtp is not None
        smtp = channel.smtp
        mode = {"none": "insecure", "starttls": "starttls", "tls": "ssl"}[smtp.security]
        login = ""
        if smtp.username:
            login = (
                quote(smtp.username, safe="")
                + ":"
                + quote(secret(f"{channel.name}.smtp") or "", safe="")
                + "@"
            )
        return (
            f"mailto://{login}{smtp.host}:{smtp.port}?mode={mode}&from={quote(smtp.sender)}"
            f"&to={quote(recipient)}" + (f"&+X-Hospmon-Notification={quote(key)}" if key else "")
        )
    if channel.kind == "wecom":
        return f"wecombot://{quote(secret(f'{channel.name}.key_file') or '', safe='')}"
    if channel.kind == "dingtalk":
        token = quote(secret(f"{channel.name}.key_file") or "", safe="")
        sign = secret(f"{channel.name}.secret_file")
        return f"dingtalk://{quote(sign, safe='') + '@' if sign else ''}{token}/"
    url = secret(f"{channel.name}.url_file") or channel.url
    assert url is not None
    parts = urlsplit(url)
    scheme = "jsons" if parts.scheme == "https" else "json"
    target = f"{scheme}://{parts.netloc}{parts.path}"
    # Apprise reads its own options from the query; the gateway's parameters pass through with a "-" prefix.
    query = "&".join(
        f"-{quote(k, safe='')}={quote(v, safe='')}" for k, v in parse_qsl(parts.query, keep_blank_values=True)
    )
    if channel.kind == "sms":
        query = "&".join(q for q in (query, f":to={quote(recipient)}") if q)
    if key:
        query = "&".join(q for q in (query, f"+Idempotency-Key={quote(key)}") if q)
    return f"{target}?{query}" if query else target


def send(
    channel: ChannelConfig, settings: Settings, recipient: str, subject: str, body: str, key: str = ""
) -> None:
    """Deliver one message, with its idempotency key where the channel has one; else `DeliveryError`.

    E-mail goes as text and HTML, WeCom and DingTalk as markdown cards; webhooks and SMS through apprise.
    """
    try:
        if channel.kind == "email":
            return send_email(channel, settings, recipient, subject, body, key)
        if channel.kind in ("wecom", "dingtalk"):
            return send_markdown(channel, settings, subject, body)
    except (OSError, smtplib.SMTPException, ChatError) as exc:
        raise DeliveryError(f"channel {channel.name}: {type(exc).__name__}: {exc}"[:500]) from None
    sender = apprise.Apprise()
    if not sender.add(apprise_url(channel, settings, recipient, key)):
        raise DeliveryError(f"channel {channel.name}: apprise does not accept the URL")
    with apprise.LogCapture(level=logging.WARNING) as log:  # type: ignore[no-untyped-call]
        ok = sender.notify(title=subject, body=body)
        if not ok:
            text = log.getvalue().strip().splitlines()
            raise DeliveryError(text[-1] if text else f"channel {channel.name}: delivery failed")
