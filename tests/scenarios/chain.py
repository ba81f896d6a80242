"""The real chain the scenarios run through, shared by all of them: Alertmanager, SMTP and SMS sinks.

Alertmanager runs with the shipped `deploy/alertmanager/alertmanager.yml`, changed only where a test must:
its timings are compressed (a night runs in seconds), every ``group_by`` and inhibition ``equal`` also holds
the ``scenario`` label (so scenarios sharing one Alertmanager never share a group), and the webhook goes to
this process. The front door hands each delivery to the router app of the scenario its group belongs to and
answers deliveries of finished scenarios without passing them on.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import threading
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import requests
import yaml
from werkzeug.serving import make_server

from tests.router.smtp import SmtpServer
from tests.servers import JsonReceiver, alertmanager

REPO = Path(__file__).resolve().parents[2]
TIMINGS = {"group_wait": "100ms", "group_interval": "250ms", "repeat_interval": "1s"}
_FRACTION = re.compile(r"(\.\d{1,6})\d*")
WebApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def when(text: str) -> dt.datetime:
    """Read a time as Alertmanager writes it (its API to milliseconds, its webhook to nanoseconds)."""
    return dt.datetime.fromisoformat(_FRACTION.sub(r"\1", text.replace("Z", "+00:00"), count=1))


def _compress(route: dict[str, Any], *, top: bool = True) -> None:
    for key, value in TIMINGS.items():
        if top or key in route:
            route[key] = value
    if "group_by" in route:
        route["group_by"] = [*route["group_by"], "scenario"]
    for child in route.get("routes", []):
        _compress(child, top=False)


def alertmanager_config(webhook: str, token_file: Path, *, max_alerts: int) -> str:
    """Return the shipped Alertmanager config, sending to `webhook`, with a scenario's changes."""
    config: dict[str, Any] = yaml.safe_load(
        (REPO / "deploy" / "alertmanager" / "alertmanager.yml").read_text()
    )
    _compress(config["route"])
    for rule in config.get("inhibit_rules", []):
        rule["equal"] = [*rule.get("equal", []), "scenario"]
    for receiver in config["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = webhook
            hook["max_alerts"] = max_alerts
            hook["http_config"]["authorization"]["credentials_file"] = str(token_file)
    return yaml.safe_dump(config)


class FrontDoor:
    """A WSGI app on a free port: webhook deliveries go to the router app of their scenario."""

    def __init__(self) -> None:
        self.apps: dict[str, WebApp] = {}
        self.dropped = 0
        self._completed: dict[str, int] = {}
        self._passed: dict[str, set[tuple[str, str, dt.datetime]]] = {}
        self.lose: dict[str, int] = {}
        """Deliveries to answer 200 and drop, per scenario."""
        self._lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self, threaded=True)  # type: ignore[arg-type]
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Route one request by the ``scenario`` group label of its body."""
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        try:
            scenario = json.loads(body).get("groupLabels", {}).get("scenario", "")
        except (ValueError, AttributeError):
            scenario = ""
        app = self.apps.get(scenario)
        with self._lock:
            lost = self.lose.get(scenario, 0) > 0
            if lost:
                self.lose[scenario] -= 1
        if app is None or lost:  # a finished scenario's alerts resolving or repeating, or a lost delivery
            self.dropped += 1
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"status": "dropped"}']
        environ["wsgi.input"] = io.BytesIO(body)
        codes: list[str] = []

        def answered(status: str, *args: Any) -> Any:
            codes.append(status)
            return start_response(status, *args)

        answer = list(app(environ, answered))
        with self._lock:
            self._completed[scenario] = self._completed.get(scenario, 0) + 1
            if codes and codes[0].startswith("2"):
                alerts = json.loads(body).get("alerts", [])
                self._passed.setdefault(scenario, set()).update(
                    (a.get("fingerprint", ""), a.get("status", ""), when(a.get("startsAt", "")))
                    for a in alerts
                )
        return answer

    def completed(self, scenario: str) -> int:
        """Return how many deliveries of a scenario the router has answered."""
        with self._lock:
            return self._completed.get(scenario, 0)

    def passed(self, scenario: str) -> set[tuple[str, str, dt.datetime]]:
        """Return each (fingerprint, status, startsAt) the router took (2xx) in a scenario's deliveries."""
        with self._lock:
            return set(self._passed.get(scenario, set()))

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


class Chain:
    """The shared servers; Alertmanagers start on first use and live for the session."""

    def __init__(self, workdir: Path, token: str) -> None:
        self.workdir = workdir
        self.stack = ExitStack()
        self.token_file = workdir / "webhook-token"
        self.token_file.write_text(token + "\n")
        self.token = token
        self.smtp = SmtpServer().start()
        self.stack.callback(self.smtp.stop)
        self.sms = JsonReceiver()
        self.stack.callback(self.sms.stop)
        self.front = FrontDoor()
        self.stack.callback(self.front.stop)
        self._managers: dict[tuple[int, int], str] = {}

    def alertmanager(self, *, max_alerts: int = 0, peer: int = 0) -> str:
        """Return the URL of an Alertmanager with this webhook limit (peer 1: the second of a pair)."""
        key = (max_alerts, peer)
        if key not in self._managers:
            folder = self.workdir / f"alertmanager-{max_alerts}-{peer}"
            config = alertmanager_config(
                f"http://127.0.0.1:{self.front.port}/webhook/alertmanager",
                self.token_file,
                max_alerts=max_alerts,
            )
            self._managers[key] = self.stack.enter_context(alertmanager(config, folder))
        return self._managers[key]

    def close(self) -> None:
        """Stop everything this chain started."""
        self.stack.close()


def post_alerts(url: str, alerts: list[dict[str, Any]]) -> None:
    """Post alerts to Alertmanager's API v2, as Prometheus does."""
    requests.post(f"{url}/api/v2/alerts", json=alerts, timeout=10).raise_for_status()


def alert_states(url: str, scenario: str) -> list[dict[str, Any]]:
    """Return Alertmanager's view of a scenario's alerts (active, suppressed or unprocessed)."""
    resp = requests.get(f"{url}/api/v2/alerts", params={"filter": f'scenario="{scenario}"'}, timeout=10)
    resp.raise_for_status()
    found: list[dict[str, Any]] = resp.json()
    return found


def silence(url: str, matchers: dict[str, str], ends: str, comment: str, by: str) -> str:
    """Create a silence on label values (anchored regular expressions); return its id."""
    body = {
        "matchers": [{"name": k, "value": v, "isRegex": True, "isEqual": True} for k, v in matchers.items()],
        "startsAt": "",
        "endsAt": ends,
        "createdBy": by,
        "comment": comment,
    }
    resp = requests.post(f"{url}/api/v2/silences", json=body, timeout=10)
    resp.raise_for_status()
    return str(resp.json()["silenceID"])


def expire_silence(url: str, silence_id: str) -> None:
    """End a silence now."""
    requests.delete(f"{url}/api/v2/silence/{silence_id}", timeout=10)
