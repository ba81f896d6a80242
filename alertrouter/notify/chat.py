"""WeCom and DingTalk group bots with markdown cards.

Posted with requests rather than apprise: apprise's WeCom bot sends plain text only, and neither plugin can
reach the bot API through a relay, which is how a hospital intranet without internet access reaches it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote

import requests

from alertrouter.settings import ChannelConfig, Settings

WECOM_API = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
DINGTALK_API = "https://oapi.dingtalk.com/robot/send"
TIMEOUT_SECONDS = 10


class ChatError(Exception):
    """The bot API refused the message or could not be reached."""


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """Return DingTalk's signature: base64 HMAC-SHA256 of "timestamp\\nsecret", URL-quoted."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote(base64.b64encode(digest).decode(), safe="")


def send_markdown(channel: ChannelConfig, settings: Settings, title: str, markdown: str) -> None:
    """Post one markdown card to the channel's group bot; raise `ChatError` with the API's reason."""
    token = settings.secrets.get(f"{channel.name}.key_file") or ""
    if channel.kind == "wecom":
        url = f"{channel.api_url or WECOM_API}?key={quote(token, safe='')}"
        payload: dict[str, object] = {"msgtype": "markdown", "markdown": {"content": markdown}}
    else:
        url = f"{channel.api_url or DINGTALK_API}?access_token={quote(token, safe='')}"
        secret = settings.secrets.get(f"{channel.name}.secret_file")
        if secret:
            now = int(time.time() * 1000)
            url += f"&timestamp={now}&sign={dingtalk_sign(secret, now)}"
        payload = {"msgtype": "markdown", "markdown": {"title": title, "text": markdown}}
    try:
        resp = requests.post(url, json=payload, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise ChatError(f"channel {channel.name}: {type(exc).__name__}") from None
    answer = resp.json() if resp.headers.get("Content-Type", "").startswith("application/json") else {}
    if resp.status_code != 200 or answer.get("errcode", 0) != 0:
        raise ChatError(f"channel {channel.name}: HTTP {resp.status_code} {answer.get('errmsg', '')}".strip())
