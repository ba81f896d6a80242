"""Config validation, the label guard and target resolution: no server needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporters.core.probe import BadRequest, ProbeRequest
from exporters.database import engine as engine_module
from exporters.database.config import LabelRule, QuerySpec
from exporters.database.drivers import Result, Target
from exporters.database.exporter import load_database_config
from exporters.database.guard import GuardError, LabelGuard
from exporters.database.queries import RowsError, build_metrics
from hospmon.config import ConfigError, validate
from tests.database.conftest import samples

BASE = """
auths:
  monitor: {user: hospmon, password_env: HOSPMON_UNIT_PW}
connections:
  his-db: {engine: mysql, host: 10.0.0.5, auth: monitor}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "db.yml"
    path.write_text(text)
    return path


def test_label_without_rule_is_refused_at_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSPMON_UNIT_PW", "x")
    path = write(
        tmp_path,
        BASE
        + """
modules:
  his:
    queries:
      - name: by_patient
        sql: SELECT name, COUNT(*) AS n FROM visits GROUP BY name
        metrics: [{name: hospmon_his_visits, help: Visits., labels: [name], values: [n]}]
""",
    )
    with pytest.raises(ConfigError) as err:
        load_database_config(path)
    text = str(err.value)
    assert "db.yml" in text and "label_rules" in text and "patient identifier" in text


def test_password_in_config_and_unknown_auth_are_faults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
auths:
  monitor: {user: hospmon, password: secret}
connections:
  his-db: {engine: mysql, host: 10.0.0.5, auth: nobody}
""",
    )
    with pytest.raises(ConfigError) as err:
        load_database_config(path)
    assert "password" in str(err.value)
    path = write(
        tmp_path,
        "auths:\n  monitor: {user: hospmon, password_env: HOSPMON_UNIT_PW}\n"
        "connections:\n  his-db: {engine: mysql, host: 10.0.0.5, auth: nobody}\n",
    )
    with pytest.raises(ConfigError) as err:
        load_database_config(path)
    assert "connections.his-db: auth: no auth named 'nobody'" in str(err.value)


def test_secrets_from_env_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOSPMON_UNIT_PW", raising=False)
    with pytest.raises(ConfigError, match="HOSPMON_UNIT_PW is not set"):
        load_database_config(write(tmp_path, BASE))
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    loaded = load_database_config(
        write(tmp_path, BASE.replace("password_env: HOSPMON_UNIT_PW", f"password_file: {secret}"))
    )
    target = loaded.targets["his-db"]
    assert target.password == "from-file" and target.port == 3306 and target.pool_size == 2
    assert "from-file" not in repr(target)


def test_target_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSPMON_UNIT_PW", "x")
    listed = "targets:\n  - {target: '[::1]:5433', auth: monitor}\n"
    listed += "  - {target: '10.0.0.9:3306', auth: monitor}\n"
    loaded = load_database_config(write(tmp_path, BASE + listed))
    assert loaded.target(ProbeRequest("his-db", ("health",))).host == "10.0.0.5"
    adhoc = loaded.target(ProbeRequest("[::1]:5433", ("health",), {"auth": "monitor", "engine": "postgres"}))
    assert (adhoc.host, adhoc.port, adhoc.engine, adhoc.user) == ("::1", 5433, "postgres", "hospmon")
    with pytest.raises(BadRequest, match="needs an auth"):
        loaded.target(ProbeRequest("10.0.0.9:3306", ("health",)))
    with pytest.raises(BadRequest, match="engine"):
        loaded.target(ProbeRequest("10.0.0.9:3306", ("health",), {"auth": "monitor"}))
    with pytest.raises(BadRequest, match="neither a connection name"):
        loaded.target(ProbeRequest("his-dbx", ("health",)))


def test_the_monitoring_password_goes_only_where_it_was_configured_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's attack: ``/probe?target=ATTACKER:5432&auth=monitor`` must not reach the attacker."""
    monkeypatch.setenv("HOSPMON_UNIT_PW", "x")
    two_auths = BASE.replace(
        "connections:",
        "  other: {user: other, password_env: HOSPMON_UNIT_PW}\n"
        "targets: [{target: '10.0.0.9:5432', auth: monitor}]\nconnections:",
    )
    loaded = load_database_config(write(tmp_path, two_auths))
    params = {"auth": "monitor", "engine": "postgres"}
    with pytest.raises(BadRequest, match="not in this exporter's targets or inventory"):
        loaded.target(ProbeRequest("203.0.113.66:5432", ("health",), params))
    with pytest.raises(BadRequest, match="not configured for module health with auth other"):
        loaded.target(ProbeRequest("10.0.0.9:5432", ("health",), {**params, "auth": "other"}))
    adhoc = BASE + "allow_adhoc_targets: true\nadhoc_cidrs: [10.0.0.0/24]\n"
    loaded = load_database_config(write(tmp_path, adhoc))
    assert loaded.target(ProbeRequest("10.0.0.77:5432", ("health",), params)).host == "10.0.0.77"
    with pytest.raises(BadRequest, match="outside adhoc_cidrs"):
        loaded.target(ProbeRequest("10.0.1.77:5432", ("health",), params))
    with pytest.raises(BadRequest, match="must be an IP address"):
        loaded.target(ProbeRequest("db.attacker.example:5432", ("health",), params))
    with pytest.raises(ConfigError, match="allow_adhoc_targets needs adhoc_cidrs"):
        load_database_config(write(tmp_path, BASE + "allow_adhoc_targets: true\n"))


def query(**kw: object) -> QuerySpec:
    base: dict[str, object] = {
        "name": "q",
        "sql": "SELECT 1",
        "label_rules": {
            "clinic": {"allow": ["general", "specialist"]},
            "code": {"pattern": "[A-Z]{2}\\d{2}"},
        },
        "metrics": [
            {"name": "hospmon_test_waiting", "help": "Waiting.", "labels": ["clinic"], "values": ["n"]}
        ],
    }
    base.update(kw)
    return validate(QuerySpec, base, "database.yml")


def test_guard_refuses_identifier_shapes_whatever_the_pattern() -> None:
    guard = LabelGuard("q", {"x": LabelRule(pattern="[0-9a-zX.@]{1,40}")}, 10)
    guard.check("x", "general")
    for planted in ("110101199003074514", "11010119700101003X", "13800138000", "a.patient@example.com"):
        with pytest.raises(GuardError) as err:
            guard.check("x", planted)
        assert planted not in str(err.value) and "label column x" in str(err.value)


def test_guard_allow_list_pattern_and_cap() -> None:
    rows = [("general", "AB12", 3), ("specialist", "CD34", 4)]
    metrics = build_metrics(query(), Result(("CLINIC", "CODE", "N"), rows))
    assert samples(metrics)[("hospmon_test_waiting", (("clinic", "general"),))] == 3
    with pytest.raises(GuardError, match="outside its allow-list"):
        build_metrics(query(), Result(("clinic", "code", "n"), [("dentistry", "AB12", 1)]))
    with pytest.raises(GuardError, match=r"PHI guard refuses \(rule latin_name\)") as err:
        build_metrics(query(), Result(("clinic", "code", "n"), [("Zhang San", "AB12", 1)]))
    assert "Zhang" not in str(err.value)
    by_code = query(
        metrics=[{"name": "hospmon_test_by_code", "help": "h", "labels": ["code"], "values": ["n"]}]
    )
    with pytest.raises(GuardError, match="not matching its pattern"):
        build_metrics(by_code, Result(("clinic", "code", "n"), [("general", "MR2023001", 1)]))
    capped = query(max_series=1)
    with pytest.raises(GuardError, match="more than max_series 1"):
        build_metrics(capped, Result(("clinic", "code", "n"), rows))


def test_build_metrics_counter_multi_value_nulls_and_errors() -> None:
    spec = query(
        metrics=[
            {"name": "hospmon_test_events_total", "type": "counter", "help": "h", "labels": ["clinic"],
             "values": ["ok", "failed"], "value_label": "result"},
        ]
    )  # fmt: skip
    metrics = build_metrics(spec, Result(("clinic", "ok", "failed"), [("general", 5, None)]))
    flat = samples(metrics)
    assert flat[("hospmon_test_events_total", (("clinic", "general"), ("result", "ok")))] == 5
    assert len(flat) == 1  # NULL gives no sample
    with pytest.raises(RowsError, match="column\\(s\\) n not in the result"):
        build_metrics(query(), Result(("clinic",), [("general",)]))
    with pytest.raises(RowsError, match="not numeric"):
        build_metrics(query(), Result(("clinic", "n"), [("general", "many")]))
    with pytest.raises(RowsError, match="same labels"):
        build_metrics(query(), Result(("clinic", "n"), [("general", 1), ("general", 2)]))
    with pytest.raises(ConfigError, match="counter's name ends in _total"):
        query(metrics=[{"name": "hospmon_x", "type": "counter", "help": "h", "values": ["n"]}])


def test_engine_forgets_idle_pools_beyond_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "MAX_POOLS", 3)
    sql = engine_module.SqlEngine()
    pools = [
        sql.pool(Target(f"10.0.0.{i}:3306", "mysql", f"10.0.0.{i}", 3306, None, "u", "p")) for i in range(5)
    ]
    assert len(sql.pools()) <= 3
    assert pools[-1] in sql.pools()
    sql.close()


def test_passwords_never_in_reprs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSPMON_UNIT_PW", "s3cret-value")
    loaded = load_database_config(write(tmp_path, BASE))
    assert "s3cret-value" not in repr(loaded)
    assert "s3cret-value" not in repr(loaded.targets)


def test_the_documented_config_is_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "database.md").read_text()
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    monkeypatch.setenv("HOSPMON_DB_PASSWORD", "x")
    loaded = load_database_config(write(tmp_path, example))
    assert loaded.targets["his-db"].tls == "preferred"
    assert loaded.config.modules["his_business"].queries[0].label_rules


def test_check_config_refuses_a_free_text_label_pattern(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's finding 1: ``pattern: ".*"`` passed ``--check-config``; now it names file, key and fix."""
    from exporters.core.cli import serve
    from exporters.database.exporter import DatabaseExporter

    monkeypatch.setenv("HOSPMON_UNIT_PW", "x")
    path = write(
        tmp_path,
        BASE
        + """
modules:
  his:
    queries:
      - name: by_clinic
        sql: SELECT clinic, COUNT(*) AS n FROM visits GROUP BY clinic
        label_rules: {clinic: {pattern: ".*"}}
        metrics: [{name: hospmon_his_visits, help: Visits., labels: [clinic], values: [n]}]
""",
    )
    assert serve(DatabaseExporter(), [f"--config.file={path}", "--check-config"]) == 1
    err = capsys.readouterr().err
    assert f"{path}: modules.his.queries[0].label_rules: clinic" in err
    assert "pattern '.*' admits values longer than 64 characters" in err and "allow-list" in err
