"""A config saved in the wrong encoding (a GBK comment) never stops a running exporter, nor crashes a new one.

The night-shift engineer edits an exporter's config on a Windows laptop whose editor saves GBK, copies it
back and runs ``systemctl reload``: the exporter keeps serving with the config it had and says why; a
restart with that file stops with a message naming the file and the byte, not a traceback that systemd
would crash-loop.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from hospmon.config import ConfigError, load_yaml
from tests.servers import free_port, http_get, process, wait_for

CONFIG = """# database exporter for the ward's HIS
auths:
  monitor: {user: hospmon, password_env: HOSPMON_TEST_ENC_PASSWORD}
connections:
  his-db: {engine: mysql, host: 127.0.0.1, port: 1, auth: monitor, connect_timeout: 0.5}
"""
# The same file with a second connection and a comment typed in Chinese, saved as GBK.
GBK_CONFIG = CONFIG.replace("# database", "# 病区 HIS 数据库监控: database") + (
    "  lis-db: {engine: mysql, host: 127.0.0.1, port: 2, auth: monitor}\n"
)


def test_a_gbk_file_is_a_startup_error_naming_file_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "database.yml"
    path.write_bytes(GBK_CONFIG.encode("gbk"))
    with pytest.raises(ConfigError) as err:
        load_yaml(path)
    offset = GBK_CONFIG.encode("gbk").index("病".encode("gbk"))
    assert str(err.value).startswith(f"{path}: not UTF-8: byte offset {offset} (line 1)")
    result = subprocess.run(
        [sys.executable, "-m", "exporters.database.main", f"--config.file={path}", "--check-config"],
        capture_output=True,
        text=True,
        env={**os.environ, "HOSPMON_TEST_ENC_PASSWORD": "x"},
        check=False,
    )
    assert result.returncode == 1
    assert f"byte offset {offset}" in result.stderr and "Traceback" not in result.stderr


def _metric(base: str, name: str) -> float | None:
    _status, body = http_get(f"{base}/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def test_sighup_and_reload_with_a_gbk_file_keep_the_running_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOSPMON_TEST_ENC_PASSWORD", "x")
    path = tmp_path / "database.yml"
    path.write_text(CONFIG, encoding="utf-8")
    base = f"http://127.0.0.1:{free_port()}"
    argv = [
        sys.executable,
        "-m",
        "exporters.database.main",
        f"--config.file={path}",
        f"--web.listen-address={base.removeprefix('http://')}",
    ]
    with process(argv, f"{base}/-/healthy", tmp_path / "exporter.log") as proc:
        path.write_bytes(GBK_CONFIG.encode("gbk"))
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: _metric(base, "hospmon_exporter_config_last_reload_successful") == 0, 30, "reload")
        assert proc.poll() is None
        assert http_get(f"{base}/-/healthy")[0] == 200
        # Still the old config: his-db is probed (and fails: nothing listens), lis-db is unknown.
        assert http_get(f"{base}/probe?target=his-db")[0] == 200
        assert http_get(f"{base}/probe?target=lis-db")[0] == 400
        request = urllib.request.Request(f"{base}/-/reload", method="POST")
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(request, timeout=5)
        assert answer.value.code == 409
        assert "not UTF-8: byte offset" in answer.value.read().decode()
        assert proc.poll() is None
        # Saved again as UTF-8, the next SIGHUP takes it.
        path.write_text(GBK_CONFIG, encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: _metric(base, "hospmon_exporter_config_last_reload_successful") == 1, 30, "reload")
        assert http_get(f"{base}/probe?target=lis-db")[0] == 200
    log = (tmp_path / "exporter.log").read_text(encoding="utf-8")
    assert "reload failed, keeping the running config" in log and "not UTF-8" in log
