"""SNMPv3 privacy (AES-128-CFB), in turns: the `cryptography` package and ours (the interpreter's libcrypto).

A turn starts a fresh interpreter that loads `hashlib` (an SNMPv3 exporter has it for its MACs), then one
implementation, and decrypts `--messages` messages of 1,400 bytes (a GETBULK answer's size) with a new key
and IV each, as a walk does. It prints what the process holds afterwards (VmRSS less the RSS before the
cipher was loaded), the CPU of the work (getrusage in the child, microseconds) and a digest of every
plaintext. Turns alternate cryptography, ours, for `--rounds` rounds; both must give the same bytes.

    .venv/bin/python bench/aes_cfb.py [--rounds 5] [--messages 20000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.harness import Measure, Report, alternate  # noqa: E402

CHILD = """
import hashlib, json, sys, time
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
hashlib.sha1()
before = rss()
if sys.argv[1] == "ours":
    from exporters.network.aes import decrypt_cfb
else:
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
    def decrypt_cfb(key, iv, data):
        return Cipher(algorithms.AES(key), CFB(iv)).decryptor().update(data)
data = bytes(range(256)) * 6
digest = hashlib.sha256()
cpu = time.process_time()
for n in range(int(sys.argv[2])):
    key = hashlib.md5(n.to_bytes(4, "big")).digest()
    digest.update(decrypt_cfb(key, key[::-1], data[: 1400]))
cpu = time.process_time() - cpu
print(json.dumps({"rss": rss() - before, "cpu": cpu, "digest": digest.hexdigest()}))
"""


def turn(side: str, messages: int, digests: dict[str, str]) -> Callable[[], Measure]:
    """Return one turn: a fresh interpreter decrypting `messages` messages with one implementation."""

    def run() -> Measure:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, side, str(messages)],
            check=True, capture_output=True, text=True, env={"PYTHONPATH": str(REPO)},
        )  # fmt: skip
        out = json.loads(done.stdout)
        digests[side] = out["digest"]
        return {"rss": out["rss"], "cpu_us": out["cpu"] / messages * 1e6}

    return run


def main() -> int:
    """Run both implementations in turns and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()
    report = Report("SNMPv3 AES-128-CFB decryption", "cryptography")
    report.header(work=f"{args.messages} messages of 1400 bytes per turn, a fresh interpreter per turn")
    digests: dict[str, str] = {}
    results = alternate(
        [("cryptography", turn("cryptography", args.messages, digests)),
         ("ours", turn("ours", args.messages, digests))],
        args.rounds,
    )  # fmt: skip
    peer, ours = results["cryptography"], results["ours"]
    report.figure("RSS the cipher adds, MiB", peer["rss"], ours["rss"])
    report.figure("CPU per message, us", peer["cpu_us"], ours["cpu_us"])
    report.same("plaintext digest", digests["cryptography"], digests["ours"])
    return report.done()


if __name__ == "__main__":
    raise SystemExit(main())
