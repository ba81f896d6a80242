"""`hospmon demo`: run the whole suite on this machine against the simulated hospital.

The launcher writes configs into a run folder, starts every part on 127.0.0.1, waits until each is ready,
prints where to look and stops everything on Ctrl-C. Prometheus and Alertmanager read the same files under
`deploy/` that docker-compose.yml mounts (installed with hospmon: `hospmon paths`), with the demo's ports
moved by the port offset (demo.ports).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import os
import pkgutil
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from demo import check, ports, story
from demo.check import WARRANTY_DEMO_CI, WARRANTY_DEMO_DAYS
from demo.servers.process import http_ready, terminate, wait_until
from demo.servers.prometheus import alertmanager_argv, prometheus_argv
from hospmon import paths
from hospmon.inventory import load_inventory
from hospmon.inventory.targets import write_targets

DEMO_INVENTORY = Path(__file__).resolve().parent / "inventory"


@dataclass
class Part:
    """One process of the demo stack."""

    name: str
    argv: list[str]
    ready_url: str
    shown_url: str
    cwd: Path | None = None
    env: dict[str, str] | None = None
    """Extra environment variables for the process."""
    ready: Callable[[], bool] | None = None
    """A readiness check for processes without an HTTP endpoint; `ready_url` is used when None."""
    cleanup: Callable[[], None] | None = None
    """Run after the process has stopped, e.g. to remove a temporary data folder."""
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    log: Path | None = None
    stopped: bool = False
    """Stopped on purpose (by the scripted morning), so its exit does not end the demo."""


def console_script(name: str) -> str:
    """Return the path of a console script installed beside this interpreter, or the name on PATH."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else name


def exporter_config(name: str, folder: Path) -> Path:
    """Copy the shipped ``deploy/exporters/NAME.yml`` into a part's folder with the demo's ports moved."""
    return ports.copy_config(paths.deploy_dir() / "exporters" / f"{name}.yml", folder / f"{name}.yml")


def exporter_part(name: str, demo_port: int, config: Path, cwd: Path | None = None) -> Part:
    """Return the part running the NAME exporter with `config` on its demo port."""
    # The module's main() rather than the console script: it also runs before `pip install -e` adds a new
    # script, and needs no `if __name__ == "__main__"` in the exporter.
    run_main = f"import sys; from exporters.{name}.main import main; sys.exit(main(sys.argv[1:]))"
    argv = [sys.executable, "-c", run_main, f"--config.file={config}",
            f"--web.listen-address={ports.addr(demo_port)}"]  # fmt: skip
    return Part(f"{name}-exporter", argv, ports.url(demo_port, "/-/healthy"), ports.url(demo_port), cwd=cwd)


def prepare(run: Path, opening: dt.datetime | None = None) -> list[Part]:
    """Write the run folder's configs and return the parts to start, in start order.

    With `opening`, the inventory's clinics open then (the scripted morning, demo.story).
    """
    run = run.resolve()
    for sub in ("prometheus", "alertmanager/secrets", "logs"):
        (run / sub).mkdir(parents=True, exist_ok=True)
    inventory = ports.copy_config(DEMO_INVENTORY, run / "inventory")
    _move_warranty(inventory, WARRANTY_DEMO_CI, dt.date.today() + dt.timedelta(days=WARRANTY_DEMO_DAYS))
    if opening is not None:
        story.open_clinics_now(inventory, opening)
    write_targets(load_inventory(inventory), run / "prometheus" / "targets")

    deploy = paths.deploy_dir()
    ports.copy_config(deploy / "prometheus" / "prometheus.yml", run / "prometheus" / "prometheus.yml")
    rules = run / "prometheus" / "rules"
    if rules.is_symlink() or rules.exists():
        rules.unlink()
    rules.symlink_to(paths.rules_dir(), target_is_directory=True)
    ports.copy_config(deploy / "alertmanager" / "alertmanager.yml", run / "alertmanager" / "alertmanager.yml")
    token = run / "alertmanager" / "secrets" / "router-webhook-token"
    if not token.exists():
        token.write_text(secrets.token_urlsafe(32) + "\n", encoding="utf-8")
        token.chmod(0o600)

    am, prom = run / "alertmanager", run / "prometheus"
    inventory_exporter = [
        console_script("hospmon-inventory-exporter"),
        f"--config.file={inventory}",
        f"--web.listen-address={ports.addr(ports.INVENTORY_EXPORTER)}",
    ]
    am_argv = alertmanager_argv(am / "alertmanager.yml", am / "data", ports.port(ports.ALERTMANAGER))
    am_url = ports.url(ports.ALERTMANAGER)
    first = [
        Part("alertmanager", am_argv, f"{am_url}/-/ready", am_url, cwd=am),
        Part("inventory-exporter", inventory_exporter, ports.url(ports.INVENTORY_EXPORTER, "/-/healthy"),
             ports.url(ports.INVENTORY_EXPORTER)),
    ]  # fmt: skip
    last = Part(
        "prometheus",
        prometheus_argv(prom / "prometheus.yml", prom / "data", ports.port(ports.PROMETHEUS)),
        ports.url(ports.PROMETHEUS, "/-/ready"),
        ports.url(ports.PROMETHEUS),
        cwd=prom,
    )
    # Simulated systems and their exporters start before Prometheus, so its first scrape finds them up.
    areas = [part for factory in part_factories() for part in factory(run, inventory)]
    return [*first, *areas, last]


PartFactory = Callable[[Path, Path], list[Part]]


def part_factories() -> list[PartFactory]:
    """Return the ``parts(run, inventory)`` function of every module in `demo.parts`, by name.

    Each area (network, databases, HIS, EMR, LIS, PACS, router) adds one module there: it writes what its
    simulated systems and its exporter need into the run folder and returns the processes to start.
    """
    from demo import parts as demoparts

    names = sorted(m.name for m in pkgutil.iter_modules(demoparts.__path__) if not m.name.startswith("_"))
    return [importlib.import_module(f"demo.parts.{name}").parts for name in names]


def _move_warranty(folder: Path, ci_id: str, day: dt.date) -> None:
    for path in sorted(folder.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for ci in data.get("cis", []):
            if ci.get("id") == ci_id:
                ci["warranty_end"] = day
                header = f"# Written by hospmon demo: warranty_end of {ci_id} moved to {day}.\n"
                path.write_text(
                    header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
                )
                return
    raise LookupError(f"{ci_id} is not in the demo inventory")


def _started_or_exited(proc: subprocess.Popen[bytes], check: Callable[[], bool]) -> Callable[[], bool]:
    return lambda: proc.poll() is not None or check()


def start(parts: list[Part], run: Path) -> None:
    """Start each part and wait until it answers ready, failing with its log when it does not."""
    for part in parts:
        part.log = run / "logs" / f"{part.name}.log"
        check = part.ready or http_ready(part.ready_url)
        if check():
            raise RuntimeError(f"{part.name}: {part.shown_url} already answers: is another demo running?")
        env = {**os.environ, **part.env} if part.env else None
        with part.log.open("ab") as log:
            part.process = subprocess.Popen(
                part.argv,
                cwd=part.cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        proc = part.process
        with contextlib.suppress(TimeoutError):
            wait_until(_started_or_exited(proc, check), part.name, 60, interval=0.5)
        if proc.poll() is not None or not check():
            tail = part.log.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeError(f"{part.name} did not become ready; its log ({part.log}) ends:\n{tail}")
        print(f"  {part.name:<22} ready  {part.shown_url}", flush=True)


def stop(parts: list[Part]) -> None:
    """Stop the parts we started, newest first."""
    for part in reversed(parts):
        if part.process is not None:
            terminate(part.process)
        if part.cleanup is not None:
            part.cleanup()


def _stopper(parts: list[Part]) -> Callable[[str], None]:
    def stop_part(name: str) -> None:
        part = next(p for p in parts if p.name == name)
        part.stopped = True
        if part.process is not None:
            terminate(part.process)

    return stop_part


def _watch(parts: list[Part], morning: story.Story | None) -> int:
    """Play the morning and watch the parts until one exits unexpectedly (then return 1)."""
    while True:
        if morning is not None:
            morning.tick(dt.datetime.now(dt.UTC))
        for part in parts:
            if not part.stopped and part.process is not None and part.process.poll() is not None:
                print(f"{part.name} exited with {part.process.returncode}; see {part.log}", file=sys.stderr)
                return 1
        time.sleep(1)


def run_demo(run: Path, hold: bool = True) -> int:
    """Run the demo until Ctrl-C (hold) or until the stack is checked (not hold); return the exit status."""
    print(f"hospmon demo: writing configs into {run.resolve()}", flush=True)
    opening = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=story.OPENING_LEAD * story.pace())
    parts = prepare(run, opening if hold else None)
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        start(parts, run.resolve())
        print(check.where_to_look(run.resolve()), flush=True)
        if not hold:
            problems = check.check_stack()
            for problem in problems:
                print(f"  FAILED: {problem}", file=sys.stderr)
            return 1 if problems else 0
        local = opening.astimezone(story.ZONE).strftime("%H:%M:%S")
        print(f"The scripted morning: the clinics open at {local} (Asia/Shanghai); each event below becomes "
              "one incident in the console.\nPress Ctrl-C to stop.", flush=True)  # fmt: skip
        return _watch(parts, story.Story(opening, story.Stage(_stopper(parts))))
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
        return 0
    except RuntimeError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        stop(parts)
