"""E-mail with a text part and an HTML part, both with the page's line breaks and its action links.

Sent with the standard library's smtplib rather than apprise: apprise derives the text part from the HTML and
drops the links' targets, and a page's acknowledge link is the one thing the reader needs.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from html import escape

from alertrouter.settings import ChannelConfig, Settings

URL = re.compile(r"https?://[^\s<>\"']+")
BUTTON = re.compile(r"^(?P<label>[^:\uff1a]{1,30})[:\uff1a]\s*(?P<url>https?://\S+/a/\S+)$")
TIMEOUT_SECONDS = 20
BUTTON_STYLE = (
    "display:inline-block;padding:10px 18px;margin:4px 8px 4px 0;background:#1f3b57;color:#fff;"
    "text-decoration:none;border-radius:4px;font-size:16px"
)


def html_of(text: str) -> str:
    """Render a page's text as HTML: its lines kept, links clickable, the action links as buttons."""
    out = []
    buttons = []
    for line in text.splitlines():
        found = BUTTON.match(line.strip())
        if found:
            buttons.append(
                f'<a href="{escape(found["url"])}" style="{BUTTON_STYLE}">{escape(found["label"])}</a>'
            )
            continue
        if buttons:
            out.append("<p>" + "".join(buttons) + "</p>")
            buttons = []
        safe = URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escape(line, quote=False))
        out.append(f"{safe}<br>" if safe else "<br>")
    if buttons:
        out.append("<p>" + "".join(buttons) + "</p>")
    first, _, rest = "\n".join(out).partition("<br>")
    return (
        '<!doctype html><html><body style="font-family:sans-serif;font-size:15px;line-height:1.5">'
        f'<h2 style="font-size:18px;margin:0 0 8px">{first}</h2>{rest}</body></html>'
    )


def send_email(
    channel: ChannelConfig, settings: Settings, recipient: str, subject: str, body: str, key: str = ""
) -> None:
    """Send one page as text and HTML through the channel's SMTP relay; raise smtplib's errors.

    `key` (the outbox's idempotency key) goes in ``X-Hospmon-Notification``: e-mail cannot drop a repeat,
    but a mail filter or the reader can see two copies are one page.
    """
    smtp = channel.smtp
    assert smtp is not None
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = smtp.sender, recipient, subject
    msg["Date"], msg["Message-ID"] = formatdate(localtime=False), make_msgid(domain="hospmon")
    if key:
        msg["X-Hospmon-Notification"] = key
    msg.set_content(body)
    msg.add_alternative(html_of(body), subtype="html")
    context = ssl.create_default_context()
    if smtp.security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            smtp.host, smtp.port, timeout=TIMEOUT_SECONDS, context=context
        )
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT_SECONDS)
    with client:
        if smtp.security == "starttls":
            client.starttls(context=context)
        if smtp.username:
            client.login(smtp.username, settings.secrets.get(f"{channel.name}.smtp") or "")
        client.send_message(msg)
