"""Peers for the reach probes, all on loopback: a line server that answers late or wrongly, dnsmasq, a DNS
server that answers late, and a network namespace whose echo replies a user-space responder controls."""

from __future__ import annotations

import contextlib
import ctypes
import os
import socket
import socketserver
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import dns.message
import dns.rrset

from tests.servers import require, wait_for

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
HIS_NAME = "his.hospital.internal"
HIS_ADDRESSES = ("127.0.0.21", "127.0.0.22")
# A chosen port can still be taken before dnsmasq binds it (a client connection picks it as its own).
BIND_ATTEMPTS = 3


class _Printer(socketserver.StreamRequestHandler):
    """A ward printer's raw port: PJL INFO STATUS gets a status block, after the server's delay."""

    def handle(self) -> None:
        data = b""
        while b"INFO STATUS" not in data:
            chunk = self.request.recv(1024)
            if not chunk:
                return
            data += chunk
        time.sleep(self.server.delay)  # type: ignore[attr-defined]
        code = self.server.code  # type: ignore[attr-defined]
        self.wfile.write(
            f'@PJL INFO STATUS\r\nCODE={code}\r\nDISPLAY="READY"\r\nONLINE=TRUE\r\n\x0c'.encode()
        )


@contextmanager
def printer(delay: float = 0.0, code: int = 10001) -> Iterator[int]:
    """Run a JetDirect-like PJL responder on loopback; yield its port (10001 = ready, 40021 = door open)."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Printer)
    server.daemon_threads = True
    server.delay, server.code = delay, code  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def dnsmasq() -> Iterator[int]:
    """Run Debian's dnsmasq on 127.0.0.1 with the HIS name and no upstream; yield its port."""
    program = require("dnsmasq")
    with tempfile.TemporaryDirectory(prefix="hm-dnsmasq-") as work:
        hosts = Path(work) / "hosts"
        hosts.write_text("".join(f"{a} {HIS_NAME}\n" for a in HIS_ADDRESSES))
        for _ in range(BIND_ATTEMPTS):
            port = _free_tcp_and_udp_port()
            argv = [program, "--keep-in-foreground", "--no-daemon", "--conf-file=/dev/null", "--no-resolv",
                    "--no-hosts", f"--addn-hosts={hosts}", "--listen-address=127.0.0.1", "--bind-interfaces",
                    f"--port={port}", "--user=root", f"--pid-file={work}/pid", "--log-facility=-",
                    "--local=/internal/"]  # fmt: skip
            log = Path(work) / "dnsmasq.log"
            proc = _start_dns(argv, port, log)
            if proc.returncode is None:
                try:
                    yield port
                finally:
                    proc.terminate()
                    proc.wait(10)
                return
            # Exit 2 is dnsmasq's "network problem": only a port taken since we chose it earns another go.
            if proc.returncode != 2 or "Address already in use" not in log.read_text():
                break
        raise RuntimeError(f"dnsmasq exited with {proc.returncode}: {log.read_text()[-500:]}")


def _start_dns(argv: list[str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """Start a DNS server and wait until it answers on `port` or exits; return its process."""
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=out)
    try:
        wait_for(lambda: _answers(port) or proc.poll() is not None, 10, "dnsmasq")
    except BaseException:
        proc.terminate()
        proc.wait(10)
        raise
    return proc


def _free_tcp_and_udp_port() -> int:
    """Return a loopback port free for both TCP and UDP now.

    dnsmasq listens on both; a port merely free for UDP may be the local port of one of the run's many TCP
    connections, and dnsmasq then exits with 2 ("Address already in use").
    """
    while True:
        with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def _answers(port: int) -> bool:
    query = dns.message.make_query(HIS_NAME, "A").to_wire()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        try:
            sock.sendto(query, ("127.0.0.1", port))
            return bool(sock.recv(512))
        except OSError:
            return False


@contextmanager
def slow_dns(delay: float) -> Iterator[int]:
    """Answer every A query for the HIS name after `delay` seconds, on a loopback UDP port; yield it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(512)
            except TimeoutError:
                continue
            except OSError:
                return
            query = dns.message.from_wire(data)
            answer = dns.message.make_response(query)
            answer.answer.append(dns.rrset.from_text(HIS_NAME + ".", 60, "IN", "A", HIS_ADDRESSES[0]))
            time.sleep(delay)
            with contextlib.suppress(OSError):
                sock.sendto(answer.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(sock.getsockname()[1])
    finally:
        stop.set()
        thread.join(5)
        sock.close()


def in_netns(name: str, work: Callable[[], T]) -> T:
    """Run `work` in a thread that has entered network namespace `name`; return its result."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns failed")
        finally:
            os.close(fd)
        try:
            outcome.append(work())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(30)
    if failure:
        raise failure[0]
    return outcome[0]


SILENT, SLOW, REFUSING = "127.0.0.1", "127.0.0.2", "127.0.0.3"


@contextmanager
def icmp_lab(slow_seconds: float) -> Iterator[str]:
    """Yield a fresh network namespace (loopback only) where the kernel answers no echo request and a
    user-space responder answers: `SLOW` after `slow_seconds`, `REFUSING` with host-unreachable, `SILENT`
    never. Datagram ICMP sockets are allowed there for root (ping_group_range 0 0)."""
    name = f"hmicmp{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    stop = threading.Event()
    try:
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=1"],
                    ["sysctl", "-qw", "net.ipv4.ping_group_range=0 0"]):  # fmt: skip
            subprocess.run(["ip", "netns", "exec", name, *cmd], check=True, capture_output=True)
        ready = threading.Event()
        threading.Thread(
            target=in_netns, args=(name, lambda: _respond(slow_seconds, stop, ready)), daemon=True
        ).start()
        ready.wait(10)
        yield name
    finally:
        stop.set()
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


def _checksum(data: bytes) -> int:
    total = sum(struct.unpack(f"!{len(data) // 2}H", data + b"\0" * (len(data) % 2)))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF


def _icmp(kind: int, code: int, rest: bytes) -> bytes:
    return struct.pack("!BBH", kind, code, _checksum(struct.pack("!BBH", kind, code, 0) + rest)) + rest


def _respond(slow_seconds: float, stop: threading.Event, ready: threading.Event) -> None:
    """Answer echo requests by hand (the kernel's answers are off in the lab namespace)."""
    listen = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    senders = {}
    for address in (SLOW, REFUSING):
        senders[address] = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        senders[address].bind((address, 0))
    listen.settimeout(0.1)
    ready.set()
    try:
        while not stop.is_set():
            try:
                packet, _ = listen.recvfrom(65535)
            except TimeoutError:
                continue
            header = (packet[0] & 0x0F) * 4
            source, target = socket.inet_ntoa(packet[12:16]), socket.inet_ntoa(packet[16:20])
            icmp = packet[header:]
            if icmp[0] != 8 or target not in senders:
                continue
            if target == SLOW:
                time.sleep(slow_seconds)
                senders[SLOW].sendto(_icmp(0, 0, icmp[4:]), (source, 0))
            else:  # host unreachable, quoting the request's IP header and first 8 bytes
                senders[REFUSING].sendto(_icmp(3, 1, b"\0\0\0\0" + packet[: header + 8]), (source, 0))
    finally:
        listen.close()
        for sock in senders.values():
            sock.close()
