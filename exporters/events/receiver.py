"""The pipeline: event -> CI -> rules -> open alerts -> disk queue -> Alertmanager.

Listener threads call `on_trap` and `on_syslog`; both find the sender's CI, match the rules and update the
`AlertBook` under one lock. The flusher thread wakes every `flush_seconds`, takes what Alertmanager must
hear from the book, appends it as one batch to each Alertmanager's disk queue and saves the open alerts;
one `Deliverer` thread per Alertmanager drains its queue in order. However many events arrive, Alertmanager
sees at most one update per alert per flush, plus one refresh per alert every `resend_seconds`.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import requests
from prometheus_client.metrics_core import Metric

from exporters.events.alerts import AlertBook, Bucket, Key, save_json
from exporters.events.config import EventsConfig
from exporters.events.deliver import Deliverer
from exporters.events.metrics import Counts, counter, gauge
from exporters.events.queue import DiskQueue
from exporters.events.rules import MAX_LABEL_CHARS, Hit, render
from exporters.events.snmp import SnmpListener
from exporters.events.sources import CACHE_LIMIT, Sender, same_host
from exporters.events.syslog import parse
from exporters.events.syslog_server import SyslogListener
from exporters.events.trap import Trap

log = logging.getLogger("hospmon.events")
UNKNOWN_SENDER = "EventFromUnknownSender"
BATCH_LIMIT = 500


def _slug(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


class Receiver:
    """Everything the event receiver runs; `current` returns the config in force (it follows reloads)."""

    def __init__(
        self, current: Callable[[], EventsConfig], *, clock: Callable[[], float] = time.time
    ) -> None:
        self.current = current
        self.clock = clock
        conf = current()
        settings = conf.settings
        self.lock = threading.Lock()
        self.counts = Counts(((r.kind, r.name) for r in conf.rules.rules), self.lock)
        self.book = AlertBook(settings.alertmanager.resend_seconds)
        self.ttl = 4 * settings.alertmanager.resend_seconds
        self.buckets: dict[tuple[str, str], Bucket] = {}
        self.claimants: set[str] = set()
        """Source addresses whose ignored address claim was logged (once each)."""
        self.directory = Path(settings.queue.directory)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.state_file = self.directory / "open-alerts.json"
        self._restore()
        session = requests.Session()
        if conf.alertmanager_secret is not None:
            am = settings.alertmanager
            if am.basic_auth is not None:
                session.auth = (am.basic_auth.username, conf.alertmanager_secret)
            else:
                session.headers["Authorization"] = f"Bearer {conf.alertmanager_secret}"
        if settings.alertmanager.ca_file:
            session.verify = settings.alertmanager.ca_file
        self.queues = {
            url: DiskQueue(self.directory / _slug(url), settings.queue.max_bytes)
            for url in settings.alertmanager.urls
        }
        self.deliverers = [
            Deliverer(
                url,
                q,
                timeout=settings.alertmanager.timeout_seconds,
                ttl=self.ttl,
                session=session,
                on_result=functools.partial(self._delivered, url),
            )
            for url, q in self.queues.items()
        ]
        self.snmp: SnmpListener | None = None
        self.syslog: SyslogListener | None = None
        self._stop = threading.Event()
        self._flusher = threading.Thread(target=self._flush_loop, name="flush", daemon=True)

    # --- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> None:
        """Bind the listeners (raising OSError when one cannot), then start every thread."""
        conf = self.current()
        settings = conf.settings
        try:
            if settings.snmp.listen:
                self.snmp = SnmpListener(
                    settings.snmp,
                    conf.communities,
                    conf.users,
                    self.on_trap,
                    lambda r: self._dropped("trap", r),
                )
            if settings.syslog.udp or settings.syslog.tcp:
                self.syslog = SyslogListener(
                    settings.syslog, self.on_syslog, lambda r: self._dropped("syslog", r)
                )
        except OSError:
            self.stop()
            raise
        for part in (self.snmp, self.syslog, *self.deliverers):
            if part is not None:
                part.start()
        self._flusher.start()

    def stop(self) -> None:
        """Stop listening, flush what the events changed, save the open alerts, stop delivering."""
        for part in (self.snmp, self.syslog):
            if part is not None:
                part.stop()
        self._stop.set()
        if self._flusher.is_alive():
            self._flusher.join(10)
        self.flush()
        for deliverer in self.deliverers:
            deliverer.stop()

    # --- events ----------------------------------------------------------------------------------------

    def on_trap(self, trap: Trap) -> None:
        """Handle one decoded notification; only a trusted trap relay's claimed address names the CI."""
        conf = self.current()
        hits = conf.rules.match_trap(trap.trap_oid, trap.varbinds)
        sources, claimed = conf.sources, trap.agent
        if claimed and sources.is_relay(trap.sender, "trap"):
            sender = Sender(claimed, sources.lookup(claimed), relay=trap.sender, source="trap")
        else:
            # A v1 agent-addr or snmpTrapAddress.0 is the sender's own word: anyone on the management
            # network could name the UPS. The source address decides, as in snmptrapd's traphandle.
            if claimed and not same_host(claimed, trap.sender):
                self._claim_ignored(trap.sender, claimed)
            sender = Sender(trap.sender, sources.lookup(trap.sender), source="trap")
        self._handle("trap", sender, hits, conf)

    def _claim_ignored(self, address: str, claimed: str) -> None:
        with self.lock:
            self.counts.claims_ignored["trap"] += 1
            if address in self.claimants:
                return
            if len(self.claimants) >= CACHE_LIMIT:
                self.claimants.clear()
            self.claimants.add(address)
        log.warning(
            "traps from %s claim agent address %s; mapped by %s, their source, which is not in snmp.relays "
            "(a device with several addresses: give this one to its CI in sources)",
            address,
            claimed,
            address,
        )

    def on_syslog(self, data: bytes, address: str) -> None:
        """Handle one syslog message; a trusted relay's is the CI's its HOSTNAME names."""
        conf = self.current()
        message = parse(data)
        hits = conf.rules.match_syslog(message.app, message.hostname, message.message)
        sources = conf.sources
        if not sources.is_relay(address, "syslog"):
            sender = Sender(address, sources.lookup(address))
        elif message.hostname:
            host = message.hostname[:MAX_LABEL_CHARS]
            sender = Sender(host, sources.by_hostname(message.hostname), relay=address)
        else:
            sender = Sender(address, None, relay=address)
        self._handle("syslog", sender, hits, conf)

    def _handle(self, source: str, sender: Sender, hits: list[Hit], conf: EventsConfig) -> None:
        now = self.clock()
        ci = sender.ci
        with self.lock:
            counts = self.counts
            counts.received[source] += 1
            if not hits:
                counts.unmatched[source] += 1
            for hit in hits:
                counts.matched[(source, hit.rule.name)] += 1
            if ci is None:
                counts.unknown[source] += 1
                self._unknown(source, sender, hits, now, conf)
                return
            counts.last_event[(ci, source)] = now
            for hit in hits:
                self._apply(source, sender, ci, hit, now, conf)

    def _apply(self, source: str, sender: Sender, ci: str, hit: Hit, now: float, conf: EventsConfig) -> None:
        rule = hit.rule
        key: Key = (rule.alert, ci, *(hit.fields.get(k, "") for k in rule.key))
        if hit.resolve:
            self.book.resolve(key, now)
            return
        defaults = conf.settings.defaults
        if key not in self.book.alerts:
            # Only new alerts spend the budget: a repeat of an open alert costs nothing downstream, and
            # dropping it could let a held resolve end an alert whose condition still holds.
            bucket = self.buckets.get((ci, rule.name))
            if bucket is None:
                bucket = self.buckets[(ci, rule.name)] = Bucket(rule.rate_limit or defaults.rate_limit, now)
            if not bucket.take(now):
                self.counts.limited[(source, rule.name)] += 1
                return
        fields = {**hit.fields, "ci": ci, "sender": sender.name}
        inv = conf.inventory
        item = inv.cis[ci]
        labels = {
            "alertname": rule.alert,
            "severity": rule.severity,
            "ci": ci,
            "service": item.service,
            "department": inv.department_of(ci),
            "tier": str(inv.services[item.service].tier),
            "source": source,
        }
        # What an event fills in may carry a patient's name (a syslog line does): it passes the PHI guard.
        guard = conf.guard
        for name, template in rule.labels.items():
            labels[name] = guard.redact(name, render(template, fields, MAX_LABEL_CHARS))
        notes = {"summary": guard.redact_text(render(rule.summary, fields), where="summary")[0]}
        if rule.summary_zh:
            notes["summary_zh"] = guard.redact_text(render(rule.summary_zh, fields), where="summary_zh")[0]
        if rule.description:
            notes["description"] = guard.redact_text(render(rule.description, fields), where="description")[0]
        notes.update(rule=rule.name, sender=sender.name)
        if sender.relay:
            notes["relay"] = sender.relay
        hold = defaults.flap_hold_seconds if rule.flap_hold_seconds is None else rule.flap_hold_seconds
        self.book.fire(key, labels, notes, now, expire_seconds=rule.expire_seconds, hold_seconds=hold)

    def _unknown(self, source: str, sender: Sender, hits: list[Hit], now: float, conf: EventsConfig) -> None:
        defaults = conf.settings.defaults
        key: Key = (UNKNOWN_SENDER, sender.name)
        if key not in self.book.alerts:
            open_unknown = sum(1 for k in self.book.alerts if k[0] == UNKNOWN_SENDER)
            if open_unknown >= defaults.unknown_sender_limit:
                self.counts.dropped[(source, "unknown_sender_limit")] += 1
                return
            log.warning("%s event from %s, which no CI owns: %s", source, sender.describe(), sender.fix)
        # A relayed HOSTNAME is the device's own text: it passes the PHI guard like any field.
        name = sender.name if sender.by_address else conf.guard.redact("sender", sender.name)
        labels = {"alertname": UNKNOWN_SENDER, "severity": "warning", "source": source, "sender": name}
        rules = ", ".join(sorted({h.rule.name for h in hits})) or "none"
        notes = {"summary": sender.summary(name), "description": f"{sender.why(name)} {sender.fix}."}
        notes["description"] += f" Rules its latest event matched: {rules}."
        if sender.relay:
            notes["relay"] = sender.relay
        self.book.fire(
            key, labels, notes, now, expire_seconds=defaults.unknown_sender_expire_seconds, hold_seconds=0
        )

    def _dropped(self, source: str, reason: str) -> None:
        self.counts.add(self.counts.dropped, (source, reason))

    def _delivered(self, url: str, result: str, alerts: int) -> None:
        self.counts.add(self.counts.posts, (url, result))
        if result == "accepted":
            self.counts.add(self.counts.delivered, url, alerts)

    # --- flushing --------------------------------------------------------------------------------------

    def _flush_loop(self) -> None:
        interval = self.current().settings.defaults.flush_seconds
        while not self._stop.wait(interval):
            try:
                self.flush()
            except OSError as exc:  # a full or read-only disk: keep the alerts in memory and retry
                log.error("cannot queue alerts: %s", exc)

    def flush(self) -> None:
        """Queue what Alertmanager must hear now (refreshes only when nothing older waits)."""
        idle = all(len(q) == 0 for q in self.queues.values())
        with self.lock:
            posts = self.book.due(self.clock(), refresh=idle)
            snapshot = self.book.snapshot() if (self.book.changed or posts) else None
            self.book.changed = False
        for start in range(0, len(posts), BATCH_LIMIT):
            for q in self.queues.values():
                q.put(posts[start : start + BATCH_LIMIT])
        if snapshot is not None:
            save_json(self.state_file, snapshot)

    def _restore(self) -> None:
        try:
            count = self.book.load(self.state_file)
        except (OSError, ValueError, KeyError, TypeError) as exc:  # unreadable or from another version
            log.error("cannot read %s, starting without open alerts: %s", self.state_file, exc)
            return
        if count:
            log.info("restored %d open alerts", count)

    # --- metrics ---------------------------------------------------------------------------------------

    def families(self) -> Iterable[Metric]:
        """Yield the receiver's metrics."""
        yield from self.counts.families()
        with self.lock:
            open_alerts = len(self.book.alerts)
        yield gauge("alerts_open", "Alerts the receiver holds open.", [], [([], open_alerts)])
        urls = list(self.queues)
        yield gauge(
            "queued_alerts",
            "Alerts waiting for Alertmanager.",
            ["alertmanager"],
            [([u], self.queues[u].alerts()) for u in urls],
        )
        yield gauge(
            "queue_bytes",
            "Size of the disk queue.",
            ["alertmanager"],
            [([u], self.queues[u].bytes) for u in urls],
        )
        yield counter(
            "queue_dropped_alerts",
            "Alerts dropped from a full queue (oldest first).",
            ["alertmanager"],
            [([u], self.queues[u].dropped_alerts) for u in urls],
        )
        yield gauge(
            "alertmanager_up",
            "Whether the last post to Alertmanager succeeded.",
            ["alertmanager"],
            [([d.url], float(d.up)) for d in self.deliverers],
        )
        if self.snmp is not None:
            yield gauge(
                "snmp_backlog", "SNMP datagrams waiting to be decoded.", [], [([], self.snmp.backlog.qsize())]
            )
            yield counter(
                "snmp_rejected",
                "SNMP messages pysnmp refused, by reason.",
                ["reason"],
                [([r], n) for r, n in self.snmp.rejected().items()],
            )
