"""The network exporter as systemd runs it keeps no validation library and no second OpenSSL in memory.

A hospital's exporter scrapes v2c access switches and SHA/AES core switches all day; its config is checked
at start-up and at every reload. The checking (pydantic) runs in a short-lived child process and the v3
privacy runs on the interpreter's own libcrypto, so neither pydantic's native library nor the
`cryptography` package's bundled OpenSSL is ever mapped into the serving process, before or after a
reload, while a bad edit is still refused with every fault named.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from demo.servers.snmpd import Agent
from tests.network.conftest import write_config
from tests.servers import free_port, http_get, mapped, process

HEAVY = ("_pydantic_core", "cryptography/hazmat/bindings")


def reload(base: str) -> tuple[int, str]:
    """POST /-/reload; return the status and the answer."""
    request = urllib.request.Request(f"{base}/-/reload", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_served_exporter_maps_neither_pydantic_nor_a_second_openssl(tmp_path: Path, agent: Agent) -> None:
    full = yaml.safe_load(write_config(tmp_path).read_text())
    config = {**full, "auths": {name: full["auths"][name] for name in ("public_v2", "hm_sha_aes")}}
    path = tmp_path / "network.yml"
    path.write_text(yaml.safe_dump(config))
    base = f"http://127.0.0.1:{free_port()}"
    argv = [sys.executable, "-m", "exporters.network.main", f"--config.file={path}",
            f"--web.listen-address={base.removeprefix('http://')}"]  # fmt: skip
    with process(argv, f"{base}/-/healthy", tmp_path / "exporter.log") as proc:
        for auth in ("public_v2", "hm_sha_aes"):
            status, body = http_get(f"{base}/probe?target={agent.target}&module=system&auth={auth}")
            assert status == 200 and b'hospmon_probe_success{module="system"} 1.0' in body, auth
        assert mapped(proc.pid, HEAVY) == set()
        # A night-shift edit with two mistakes: both are named, the running config stays.
        bad = {**config, "defaults": {"timeout": 0}, "auths": {**config["auths"], "x": {"version": 5}}}
        path.write_text(yaml.safe_dump(bad))
        status, answer = reload(base)
        assert status == 409
        assert "defaults: timeout" in answer and "auths.x: version" in answer
        assert http_get(f"{base}/probe?target={agent.target}&module=system&auth=hm_sha_aes")[0] == 200
        path.write_text(yaml.safe_dump(config))
        assert reload(base)[0] == 200
        assert mapped(proc.pid, HEAVY) == set()


@pytest.mark.parametrize("what", ["a missing secret file", "an unknown key"])
def test_a_bad_config_stops_the_start_with_the_fault(tmp_path: Path, what: str) -> None:
    auth = {"version": 2, "community_file": str(tmp_path / "absent")}
    if what == "an unknown key":
        auth = {"version": 2, "community_env": "HOME", "communtiy": "public"}
    path = tmp_path / "network.yml"
    path.write_text(yaml.safe_dump({"auths": {"lab": auth}}))
    done = subprocess.run(
        [sys.executable, "-m", "exporters.network.main", f"--config.file={path}", "--web.listen-address=:0"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "configuration error" in done.stderr and "Traceback" not in done.stderr
    assert ("cannot read secret file" if what == "a missing secret file" else "communtiy") in done.stderr
