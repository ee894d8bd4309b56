"""Two laptops on one network, for real: two network namespaces joined by a veth pair.

Each namespace has its own interfaces, addresses and firewall, like a second laptop. The
addresses (10.99.0.1 "server", 10.99.0.2 "client") exist only inside the namespaces this module
makes, and the namespaces are removed afterwards. No traffic leaves them: neither has a route to
anywhere else.

Needs root, `ip netns` and (for the firewall test) `nft`. Without them the tests skip and say
why; under CI=true a missing tool is a failure, so CI cannot pass by skipping.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

pytestmark = pytest.mark.netns

SERVER_IP = "10.99.0.1"
CLIENT_IP = "10.99.0.2"
PORT = 12000
IN_CI = os.environ.get("CI") == "true"


def unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"CI=true, but {reason}", pytrace=False)
    pytest.skip(reason)


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=check, timeout=20)


class TwoLaptops:
    """Two namespaces with one 'eth0' each, on 10.99.0.0/24, and helpers to run labsock in them."""

    def __init__(self):
        tag = f"{os.getpid()}"
        self.server = f"t2-srv-{tag}"
        self.client = f"t2-cli-{tag}"
        self._processes: list[subprocess.Popen] = []

    def build(self) -> None:
        sh("ip", "netns", "add", self.server)
        sh("ip", "netns", "add", self.client)
        # Unique names in the host namespace; renamed to eth0 inside, as on a real laptop (the
        # address table then labels it Ethernet and suggests it).
        a, b = f"t2s{os.getpid()}", f"t2c{os.getpid()}"
        sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        for ns, end, ip in ((self.server, a, SERVER_IP), (self.client, b, CLIENT_IP)):
            sh("ip", "link", "set", end, "netns", ns)
            sh("ip", "-n", ns, "link", "set", end, "name", "eth0")
            sh("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")

    def remove(self) -> None:
        for proc in self._processes:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
            for stream in (proc.stdout, proc.stderr):
                if stream:
                    stream.close()
        for ns in (self.server, self.client):
            sh("ip", "netns", "del", ns, check=False)  # takes its end of the veth pair along

    def labsock(self, ns: str, *args: str, timeout: float = 20) -> subprocess.CompletedProcess:
        """Run `python -m labsock ARGS` inside namespace ns and wait for it."""
        command = ["ip", "netns", "exec", ns, sys.executable, "-m", "labsock", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout)

    def serve(self, ns: str, *args: str) -> Server:
        return self.start(ns, "-m", "labsock", "serve", *args)

    def start(self, ns: str, *args: str, ready: str = "listening on") -> Server:
        """Start `python ARGS` in namespace ns; returns once it printed the ready words."""
        command = ["ip", "netns", "exec", ns, sys.executable, *args]
        proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._processes.append(proc)
        return Server(proc, ready)

    def python(self, ns: str, code: str) -> subprocess.CompletedProcess:
        command = ["ip", "netns", "exec", ns, sys.executable, "-c", code]
        return subprocess.run(command, capture_output=True, text=True, timeout=20)

    def nft(self, ns: str, *args: str) -> None:
        sh("ip", "netns", "exec", ns, "nft", *args)


class Server:
    """A `python -m labsock serve` process: waits for its listening line, stops on SIGTERM."""

    def __init__(self, proc: subprocess.Popen, ready: str = "listening on"):
        self.proc = proc
        self.lines: list[str] = []
        # A reader thread, because a selector on a buffered pipe misses lines already read ahead.
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait_for(ready)

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, words: str, timeout: float = 10.0) -> str:
        """Read output lines until one contains words; fail with everything seen if none does."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break  # the process ended
            self.lines.append(line)
            if words in line:
                return line
        err = self.proc.stderr.read() if self.proc.poll() is not None else ""
        pytest.fail(f"server never printed {words!r}; output: {self.lines}; stderr: {err}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.stdin.close()
        assert self.proc.wait(10) == 0
        self._reader.join(5)


@pytest.fixture(scope="module")
def laptops():
    if not sys.platform.startswith("linux"):
        unavailable("network namespaces exist only on Linux")
    if os.geteuid() != 0:
        unavailable("making network namespaces needs root (CI runs as root)")
    if shutil.which("ip") is None:
        unavailable("the `ip` command is missing (apt-get install iproute2)")
    pair = TwoLaptops()
    try:
        pair.build()
    except subprocess.CalledProcessError as exc:
        pair.remove()
        unavailable(f"`{' '.join(exc.cmd)}` failed: {exc.stderr.strip()}")
    yield pair
    pair.remove()
    # The namespaces are gone, so nothing this module made is left behind.
    assert pair.server not in sh("ip", "netns", "list").stdout


@pytest.fixture
def drop_rule(laptops):
    """A firewall on the server laptop that silently drops port 12000 (UDP and TCP)."""
    if shutil.which("nft") is None:
        unavailable("the `nft` command is missing (apt-get install nftables)")
    table = "t2_firewall"
    laptops.nft(
        laptops.server,
        f"add table inet {table}; "
        f"add chain inet {table} input {{ type filter hook input priority 0 ; }}; "
        f"add rule inet {table} input udp dport {PORT} drop; "
        f"add rule inet {table} input tcp dport {PORT} drop",
    )
    yield
    laptops.nft(laptops.server, "delete", "table", "inet", table)


# -- the address table sees the namespace's own interfaces -------------------------------------


def test_addresses_command_suggests_the_namespace_address(laptops):
    result = laptops.labsock(laptops.server, "addresses")
    assert result.returncode == 0, result.stderr
    (line,) = [x for x in result.stdout.splitlines() if "give this one to your partner" in x]
    assert line.startswith("eth0") and f"{SERVER_IP}/24" in line
    assert "127.0.0.1/8" in result.stdout
    assert "sudo ufw allow 12000/udp" in result.stdout  # Linux firewall steps


# -- a server on 0.0.0.0 is reached by address from the other laptop --------------------------


@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_server_on_all_interfaces_is_reached_from_the_other_laptop(laptops, proto):
    server = laptops.serve(laptops.server, proto, "--host", "0.0.0.0", "--port", str(PORT))
    try:
        server.wait_for(f"Your partner types: {SERVER_IP}, port {PORT}, {proto.upper()}.")
        sent = laptops.labsock(
            laptops.client, "send", proto, f"hello over {proto}", "--host", SERVER_IP
        )
        assert sent.returncode == 0, sent.stderr
        assert sent.stdout.strip() == f"HELLO OVER {proto.upper()}"
        # The server saw the client's own address: the message crossed the veth pair.
        seen = server.wait_for(f"hello over {proto}")
        assert seen.startswith(f"{CLIENT_IP}:")
    finally:
        server.stop()


# -- the default server (127.0.0.1) is for its own laptop only ---------------------------------


def test_default_udp_server_is_not_reachable_from_the_other_laptop(laptops):
    server = laptops.serve(laptops.server, "udp", "--port", str(PORT))
    try:
        assert "listening on 127.0.0.1:12000" in server.lines[0]
        missed = laptops.labsock(
            laptops.client, "send", "udp", "anyone?", "--host", SERVER_IP, "--timeout", "1"
        )
        assert missed.returncode == 1
        assert "Traceback" not in missed.stderr
        # Nothing listens on 10.99.0.1:12000 (only on 127.0.0.1:12000), so the server laptop's
        # kernel answers 'port unreachable' (a Windows laptop's firewall would stay silent).
        assert "Nothing is listening on 10.99.0.1:12000 (UDP)" in missed.stderr
        # The same server answers on its own laptop, so it was running all along.
        local = laptops.labsock(laptops.server, "send", "udp", "me", "--host", "127.0.0.1")
        assert local.stdout.strip() == "ME"
        server.wait_for("me")
        assert not any("anyone?" in line for line in server.lines)
    finally:
        server.stop()


def test_default_tcp_server_refuses_the_other_laptop(laptops):
    server = laptops.serve(laptops.server, "tcp", "--port", str(PORT))
    try:
        missed = laptops.labsock(laptops.client, "send", "tcp", "anyone?", "--host", SERVER_IP)
        assert missed.returncode == 1
        assert "Nothing is listening on 10.99.0.1:12000 (TCP)" in missed.stderr
        assert "Traceback" not in missed.stderr
    finally:
        server.stop()


# -- preflight: ok, refused, timeout (firewall), unreachable -----------------------------------


def preflight(laptops, host=SERVER_IP, *args):
    return laptops.labsock(laptops.client, "preflight", host, "--port", str(PORT), *args)


def test_preflight_ok_when_the_server_listens_on_the_network(laptops):
    server = laptops.serve(laptops.server, "udp", "--host", "0.0.0.0", "--port", str(PORT))
    try:
        result = preflight(laptops)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "UDP  ok        reply in" in result.stdout
        assert "TCP  refused" in result.stdout  # a UDP server: expected, and said so
        assert "expected if the server only speaks UDP" in result.stdout
        server.wait_for("labsock preflight")  # the partner sees the probe in the log
    finally:
        server.stop()


def test_preflight_refused_when_no_server_runs(laptops):
    result = preflight(laptops)
    assert result.returncode == 1
    assert "UDP  refused" in result.stdout and "TCP  refused" in result.stdout
    assert "nothing listens on port 12000 (UDP and TCP)" in result.stdout


def test_preflight_refused_when_the_server_listens_on_127_only(laptops):
    server = laptops.serve(laptops.server, "tcp", "--port", str(PORT))
    try:
        result = preflight(laptops, SERVER_IP, "--proto", "tcp")
        assert result.returncode == 1
        assert "TCP  refused" in result.stdout
        assert "host 0.0.0.0" in result.stdout
    finally:
        server.stop()


def test_preflight_timeout_when_a_firewall_drops(laptops, drop_rule):
    server = laptops.serve(laptops.server, "udp", "--host", "0.0.0.0", "--port", str(PORT))
    try:
        start = time.monotonic()
        result = preflight(laptops, SERVER_IP, "--timeout", "0.5")
        took = time.monotonic() - start
        assert result.returncode == 1
        assert "UDP  timeout" in result.stdout and "TCP  timeout" in result.stdout
        assert "not even a refusal" in result.stdout and "client isolation" in result.stdout
        assert took < 10  # both probes gave up after their short timeouts
        assert not any("labsock preflight" in line for line in server.lines)
    finally:
        server.stop()


def test_preflight_unreachable_off_the_network(laptops):
    # 10.98.0.1 is on no network of the client namespace, which has no other route: nothing
    # is sent; the kernel answers at once.
    result = preflight(laptops, "10.98.0.1")
    assert result.returncode == 1
    assert "UDP  unreachable" in result.stdout
    assert "10.98.0.1 is on none of this laptop's networks" in result.stdout
    assert f"{CLIENT_IP}/24 (eth0)" in result.stdout


# -- the notebook's switch and send function, across the veth --------------------------------

SERVER_PANEL = """
import sys
from labsock.lessons.lan_widgets import ServerPanel
panel = ServerPanel(port=12000)
print("before:", panel.server.host, flush=True)
panel.let_others_connect(True)
print("after:", panel.server.host, panel.switch.value, flush=True)
print("info:", "Your partner types: 10.99.0.1, port 12000, UDP." in panel.info.value, flush=True)
print("switched on", flush=True)
print("received:", panel.server.log.wait_for(1, timeout=10), panel.server.log.texts(), flush=True)
panel.switch.value = False  # as a click on the switch does
print("back on loopback:", panel.server.host, flush=True)
sys.stdin.read()  # keep serving until the test is done
panel.stop()
"""

SEND = """
from labsock.lessons.partner import send_to_partner
from labsock.logic.errors import LabsockError
try:
    print(send_to_partner("via the switch", "10.99.0.1", 12000, timeout=1))
except LabsockError as exc:
    print("error:", exc)
"""


def test_server_panel_switch_opens_and_closes_the_server_to_the_other_laptop(laptops):
    panel = laptops.start(laptops.server, "-c", SERVER_PANEL, ready="switched on")
    try:
        assert panel.lines[:3] == ["before: 127.0.0.1", "after: 0.0.0.0 True", "info: True"]
        sent = laptops.python(laptops.client, SEND)
        assert sent.stdout.strip() == "VIA THE SWITCH", sent.stderr
        panel.wait_for("received: True ['via the switch']")
        panel.wait_for("back on loopback: 127.0.0.1")
        again = laptops.python(laptops.client, SEND)
        assert again.stdout.startswith("error: Nothing is listening on 10.99.0.1:12000 (UDP)")
        assert "run preflight('10.99.0.1', 12000)" in again.stdout
        panel.proc.stdin.close()  # the script stops its panel and ends
        assert panel.proc.wait(10) == 0
    finally:
        panel.stop()
