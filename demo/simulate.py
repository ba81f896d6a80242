"""Run only the simulated hospital: the simulated systems `make demo` starts, without the monitoring.

docker-compose.yml runs this in its ``hospital`` service (profile ``demo``) beside the real Prometheus,
Alertmanager, exporters and router containers. The run folder is prepared exactly as `hospmon demo` prepares
it (the demo inventory, each area's configs); of its parts only the simulated systems start: no Prometheus,
Alertmanager, exporter, router or mail sink. Secrets the simulated systems create (the monitoring accounts'
passwords) are copied into ``--secrets-out``, where the exporters read them::

    python -m demo.simulate --run-dir /var/lib/hospmon/hospital --secrets-out /secrets
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import time
from pathlib import Path

from demo.launcher import Part, prepare, start, stop

# The demo's own monitoring parts; every other part is a simulated system.
MONITORING = frozenset({"alertmanager", "prometheus", "alert-router", "mail-sink", "event-receiver"})


def is_simulated(part: Part) -> bool:
    """Tell a simulated system from the demo's monitoring parts and exporters."""
    return part.name not in MONITORING and not part.name.endswith("-exporter")


# Secrets the monitoring side makes (docker-compose.yml's `init`) and read once at its start: the simulated
# devices take them from `out` instead of handing theirs over (the event receiver would refuse their traps).
MONITORING_SECRETS = frozenset({"trap-community"})


def copy_secrets(run: Path, out: Path) -> list[str]:
    """Copy each area's secrets (run/AREA/secrets/*, run/AREA/*-password) into `out`; return their names.

    A secret of `MONITORING_SECRETS` already in `out` goes the other way, into the run folder.
    """
    out.mkdir(parents=True, exist_ok=True)
    copied = []
    for secret in sorted([*run.glob("*/secrets/*"), *run.glob("*/*-password")]):
        if secret.name in MONITORING_SECRETS and (out / secret.name).is_file():
            shutil.copyfile(out / secret.name, secret)
            continue
        # A link shares another area's secret (the database exporter's link to the HIS password).
        if secret.is_file() and not secret.is_symlink():
            shutil.copy(secret, out / secret.name)
            (out / secret.name).chmod(0o640)
            copied.append(secret.name)
    return copied


def main(argv: list[str] | None = None) -> int:
    """Start the simulated systems, copy their secrets out, and run until SIGTERM or Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m demo.simulate", description=__doc__)
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--secrets-out", type=Path, default=None)
    args = parser.parse_args(argv)
    run = args.run_dir.resolve()
    parts = [part for part in prepare(run) if is_simulated(part)]

    def on_term(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        start(parts, run)
        if args.secrets_out is not None:
            print(f"secrets copied: {', '.join(copy_secrets(run, args.secrets_out)) or 'none'}", flush=True)
        print(f"the simulated hospital runs ({len(parts)} systems)", flush=True)
        while all(p.process is None or p.process.poll() is None for p in parts):
            time.sleep(1)
        print("a simulated system exited; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    except RuntimeError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        stop(parts)


if __name__ == "__main__":
    sys.exit(main())
