"""The command line, run as a student would: separate processes, talking over loopback."""

import json
import shutil
import socket
import subprocess
import sys
import textwrap

import pytest

PY = [sys.executable, "-m", "labsock"]


def start_serve(*args):
    proc = subprocess.Popen(
        [*PY, "serve", *args, "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = json.loads(proc.stdout.readline())
    assert first["event"] == "listening"
    return proc, first["port"]


def finish(proc):
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    return [json.loads(line) for line in out.splitlines()]


def labsock_run(*args, timeout=20):
    return subprocess.run([*PY, *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_serve_and_send(proto):
    proc, port = start_serve(proto, "--count", "2")
    for text in ("hello", "héllo wörld"):
        sent = labsock_run("send", proto, text, "--port", str(port))
        assert sent.returncode == 0 and sent.stdout == text.upper() + "\n"
    events = finish(proc)
    assert [e["text"] for e in events] == ["hello", "héllo wörld"]
    assert events[1]["bytes"] == len("héllo wörld".encode())
    assert all(e["event"] == "message" and e["client"].startswith("127.0.0.1:") for e in events)


def test_listening_line_plain_and_quiet():
    proc = subprocess.Popen(
        [*PY, "serve", "udp", "--port", "0", "--quiet", "--count", "1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    assert line.startswith("UDP server listening on 127.0.0.1:")
    port = int(line.split(":")[1].split()[0])
    assert labsock_run("send", "udp", "x", "--port", str(port)).stdout == "X\n"
    out, _ = proc.communicate(timeout=20)
    assert out == "" and proc.returncode == 0


def test_seconds_limit_exits_cleanly():
    done = labsock_run("serve", "tcp", "--port", "0", "--seconds", "0.3")
    assert done.returncode == 0 and "listening" in done.stdout


def test_sigterm_closes_cleanly():
    proc, _port = start_serve("udp")
    proc.terminate()
    assert proc.wait(timeout=10) == 0


def test_reply_none_and_no_reply_client():
    proc, port = start_serve("udp", "--reply", "none", "--count", "1")
    sent = labsock_run("send", "udp", "only shown", "--port", str(port), "--no-reply")
    assert sent.returncode == 0 and sent.stdout == ""
    (event,) = finish(proc)
    assert event["text"] == "only shown" and "reply" not in event


def test_send_failure_is_one_paragraph_on_stderr():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:
        quiet.bind(("127.0.0.1", 0))
        done = labsock_run(
            "send", "udp", "x", "--port", str(quiet.getsockname()[1]), "--timeout", "0.2"
        )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("labsock: No reply from 127.0.0.1:")
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "args",
    [
        ["serve", "udp", "--port", "99999"],
        ["serve", "udp", "--port", "twelve"],
        ["serve", "sctp"],
        ["serve", "udp", "--reply", "shout"],
        ["serve", "udp", "--count", "0"],
        ["send", "udp"],
        ["send", "udp", "x", "--timeout", "-1"],
        ["frobnicate"],
        [],
    ],
)
def test_bad_arguments_give_usage_and_status_2(args):
    done = labsock_run(*args)
    assert done.returncode == 2
    assert "usage:" in done.stderr and "Traceback" not in done.stderr


def test_bad_host_is_explained_not_a_traceback():
    done = labsock_run("send", "tcp", "hi", "--host", "300.1.1.1")
    assert done.returncode == 1 and "four numbers from 0 to 255" in done.stderr
    assert "Traceback" not in done.stderr


def test_port_in_use_is_explained():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind(("127.0.0.1", 0))
        done = labsock_run("serve", "udp", "--port", str(other.getsockname()[1]))
    assert done.returncode == 1 and "already in use by another program" in done.stderr


STUDENT_UDP = textwrap.dedent(
    """
    from socket import *
    import sys
    serverName = '127.0.0.1'
    serverPort = int(sys.argv[1])
    clientSocket = socket(AF_INET, SOCK_DGRAM)
    clientSocket.settimeout(5)
    message = 'input lowercase sentence'
    clientSocket.sendto(message.encode(), (serverName, serverPort))
    modifiedMessage, serverAddress = clientSocket.recvfrom(2048)
    print(modifiedMessage.decode())
    clientSocket.close()
    """
)

STUDENT_TCP = textwrap.dedent(
    """
    from socket import *
    import sys
    clientSocket = socket(AF_INET, SOCK_STREAM)
    clientSocket.settimeout(5)
    clientSocket.connect(('127.0.0.1', int(sys.argv[1])))
    clientSocket.send('input lowercase sentence\\n'.encode())
    print(clientSocket.recv(1024).decode().strip())
    clientSocket.close()
    """
)


@pytest.mark.parametrize(("proto", "script"), [("udp", STUDENT_UDP), ("tcp", STUDENT_TCP)])
def test_a_students_plain_socket_script(proto, script):
    proc, port = start_serve(proto, "--count", "1")
    done = subprocess.run(
        [sys.executable, "-c", script, str(port)], capture_output=True, text=True, timeout=20
    )
    assert done.stdout == "INPUT LOWERCASE SENTENCE\n", done.stderr
    assert finish(proc)[0]["text"] == "input lowercase sentence"


def test_labsock_client_against_a_students_plain_server():
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    port = server.getsockname()[1]
    proc = subprocess.Popen(
        [*PY, "send", "udp", "ping me", "--port", str(port)], stdout=subprocess.PIPE, text=True
    )
    server.settimeout(10)
    message, client = server.recvfrom(2048)
    server.sendto(message.decode().upper().encode(), client)
    assert proc.communicate(timeout=10)[0] == "PING ME\n"
    server.close()


@pytest.mark.skipif(shutil.which("nc") is None, reason="netcat (nc) is not installed")
def test_netcat_udp_and_tcp():
    proc, port = start_serve("udp", "--count", "1")
    nc = subprocess.run(
        ["nc", "-u", "-w", "1", "127.0.0.1", str(port)],
        input="from netcat\n",
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert nc.stdout == "FROM NETCAT\n"
    assert finish(proc)[0]["text"] == "from netcat\n"  # UDP keeps the newline nc sent
    proc, port = start_serve("tcp", "--count", "2")
    nc = subprocess.run(
        ["nc", "-N", "127.0.0.1", str(port)],
        input="one\ntwo\n",
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert nc.stdout == "ONE\nTWO\n"
    assert [e["text"] for e in finish(proc)] == ["one", "two"]


@pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")
def test_socat_udp_and_tcp():
    for proto in ("udp", "tcp"):
        proc, port = start_serve(proto, "--count", "1")
        address = f"{proto.upper()}:127.0.0.1:{port}"
        out = subprocess.run(
            ["socat", "-t", "1", "-", address],
            input="via socat\n",
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert out.stdout == "VIA SOCAT\n"
        finish(proc)


def test_serve_quiet_never_wakes_per_message(monkeypatch):
    """serve --quiet ran at 0.29x a raw loop: its main thread woke for every message, to print
    nothing, and took the interpreter from the server each time. Now it wakes only at the end."""
    import argparse
    import threading

    import labsock
    from labsock.cli.serve import _serve
    from labsock.net.log import MessageLog

    wakes = []
    original = MessageLog.wake
    monkeypatch.setattr(MessageLog, "wake", lambda log: (wakes.append(1), original(log)))
    with labsock.UDPServer(port=0) as server:
        args = argparse.Namespace(
            proto="udp", reply="upper", json=False, quiet=True, count=300, seconds=60
        )
        main = threading.Thread(target=_serve, args=(args, server))
        main.start()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(5)
            for i in range(300):
                client.sendto(b"%d" % i, ("127.0.0.1", server.port))
                client.recv(100)
        main.join(30)
        assert not main.is_alive()  # it ended at the 300th message
    assert len(wakes) <= 2  # the 300th message, and the stop: not one per message


def test_a_line_shows_while_the_server_waits_for_the_next_message():
    """serve prints in batches (one write, one wake-up, per burst): a batch must still go out
    while nothing more arrives, or a student sees nothing until the next message."""
    import select

    proc = subprocess.Popen([*PY, "serve", "udp", "--port", "0"], stdout=subprocess.PIPE, bufsize=0)
    try:
        seen = b""

        def read_until(count: int) -> None:
            nonlocal seen
            while seen.count(b"\n") < count:
                ready, _, _ = select.select([proc.stdout], [], [], 10)
                assert ready, f"no line within 10 s; so far {seen!r}"
                seen += proc.stdout.read(4096)

        read_until(1)
        port = int(seen.split(b"127.0.0.1:")[1].split()[0].rstrip(b"."))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.sendto(b"just one \x1b[31m", ("127.0.0.1", port))
            client.settimeout(10)
            client.recv(100)
            read_until(2)  # and nothing else is sent
        assert seen.splitlines()[1].endswith(b": just one \\x1b[31m")
    finally:
        proc.terminate()
        proc.wait(10)
