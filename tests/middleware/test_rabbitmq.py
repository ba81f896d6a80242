"""The integration platform's broker: Debian's RabbitMQ and its Prometheus plugin, scraped as a native CI.

A weekday morning: the LIS result interface that consumes `lis.results` has died, results from the
analyzers pile up in the queue and never reach the wards. The HIS order queue next to it is consumed and
empty, and must stay quiet.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pika
import pytest
from prometheus_client.parser import text_string_to_metric_families

from demo.servers.rabbitmq import RabbitMQ
from tests.middleware.conftest import scrape_labels, write_inventory
from tests.promtool import captured_series, expected_alert, run_rule_test
from tests.servers import http_get, wait_for

BACKLOG = 150
SERIES = ["rabbitmq_queue_messages_ready", "rabbitmq_queue_consumers"]


def _connect(broker: RabbitMQ) -> pika.BlockingConnection:
    password = broker.password_file.read_text(encoding="utf-8").strip()
    params = pika.ConnectionParameters(
        "127.0.0.1", broker.amqp_port, credentials=pika.PlainCredentials(broker.user, password), heartbeat=0
    )
    return pika.BlockingConnection(params)


def _queues(broker: RabbitMQ) -> dict[tuple[str, str], float]:
    status, body = http_get(broker.metrics_url)
    assert status == 200
    return {
        (s.name, s.labels.get("queue", "")): s.value
        for f in text_string_to_metric_families(body.decode())
        for s in f.samples
        if s.name in SERIES
    }


@pytest.fixture(scope="module")
def morning(rabbitmq: RabbitMQ) -> Iterator[str]:
    """Results wait in lis.results with nobody consuming; his.orders has its consumer; yield /metrics."""
    publisher = _connect(rabbitmq)
    channel = publisher.channel()
    for n in range(BACKLOG):
        channel.basic_publish(
            "", "lis.results", f"result {n}".encode(), pika.BasicProperties(delivery_mode=2)
        )
    consumer = _connect(rabbitmq)
    consumer.channel().basic_consume("his.orders", lambda *_: None)
    try:
        wait_for(
            lambda: (
                _queues(rabbitmq).get(("rabbitmq_queue_messages_ready", "lis.results")) == BACKLOG
                and _queues(rabbitmq).get(("rabbitmq_queue_consumers", "his.orders")) == 1
            ),
            what="the broker's metrics to show the backlog and the consumer",
        )
        yield http_get(rabbitmq.metrics_url)[1].decode()
    finally:
        consumer.close()
        channel.queue_purge("lis.results")
        publisher.close()


def test_broker_serves_queue_depth_and_consumers(morning: str) -> None:
    found = [s for f in text_string_to_metric_families(morning) for s in f.samples]
    (build,) = [s.labels for s in found if s.name == "rabbitmq_build_info"]
    assert build["rabbitmq_version"].startswith("3.")  # the version the release records watch
    ready = {s.labels["queue"]: s.value for s in found if s.name == "rabbitmq_queue_messages_ready"}
    assert ready == {"lis.results": BACKLOG, "his.orders": 0}
    # The series rules/middleware.yml reads for resource alarms, at 0 on a healthy broker.
    alarms = {s.name: s.value for s in found if s.name.startswith("rabbitmq_alarms_")}
    assert alarms["rabbitmq_alarms_memory_used_watermark"] == 0
    assert alarms["rabbitmq_alarms_free_disk_space_watermark"] == 0


def test_backlog_without_consumer_fires_for_that_queue_only(
    morning: str, rabbitmq: RabbitMQ, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    inventory = write_inventory(tmp_path_factory.mktemp("inventory"), rabbitmq=rabbitmq.address)
    scrape = {**scrape_labels(inventory, "esb-mq-1"), "job": "native", "instance": rabbitmq.address}
    assert scrape["service"] == "integration"
    series = captured_series(morning, SERIES, scrape, "{v}x20")
    queue = {**scrape, "vhost": "/", "queue": "lis.results"}
    run_rule_test(tmp_path, "middleware.yml", series, [
        {"eval_time": "4m", "alertname": "RabbitMQQueueWithoutConsumer", "exp_alerts": []},
        {"eval_time": "6m", "alertname": "RabbitMQQueueWithoutConsumer",
         "exp_alerts": [expected_alert("middleware.yml", "RabbitMQQueueWithoutConsumer", queue)]},
        {"eval_time": "11m", "alertname": "RabbitMQQueueBacklog",
         "exp_alerts": [expected_alert("middleware.yml", "RabbitMQQueueBacklog", queue)]},
    ])  # fmt: skip
