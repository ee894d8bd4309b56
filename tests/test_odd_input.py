"""Odd but legal input: the right behaviour, or one clear paragraph, never a raw exception or a
misleading message (issue 11.6)."""

import socket
import subprocess
import sys
import threading

import pytest

import labsock
from labsock import LabsockError, TCPServer, UDPServer, send_tcp, send_udp
from labsock.net.clients import MAX_REPLY


def clear(exc_info, *words):
    text = str(exc_info.value)
    assert isinstance(exc_info.value, LabsockError) and "\n" not in text and len(text) > 30
    for word in words:
        assert word in text, text


def test_a_tcp_reply_over_64_kib_arrives_whole():
    with TCPServer(port=0, reply=lambda text: "x" * 100_000) as server:
        assert send_tcp("long please", port=server.port, timeout=5) == "x" * 100_000


def test_a_tcp_reply_without_end_past_the_limit_is_explained():
    listener = socket.create_server(("127.0.0.1", 0))

    def endless():
        conn, _ = listener.accept()
        with conn:
            conn.recv(100)
            try:
                conn.sendall(b"y" * (MAX_REPLY + 10))  # no newline, no close
            except OSError:
                pass  # the client gave up, as it should

    thread = threading.Thread(target=endless)
    thread.start()
    with pytest.raises(LabsockError) as caught:
        send_tcp("hi", port=listener.getsockname()[1], timeout=5, framing="line")
    thread.join(10)
    listener.close()
    clear(caught, "longer than 1,048,576 bytes")


def test_a_udp_reply_too_long_for_a_datagram_is_said_not_silenced():
    with UDPServer(port=0, reply=lambda text: "z" * 70_000) as server:
        reply = send_udp("big please", port=server.port)
        assert reply.startswith("[server error: the reply is 70,000 bytes, more than one UDP")
        assert server.running and "more than one UDP datagram" in server.log.errors()[0]


def test_tcp_echo_is_byte_transparent():
    with (
        TCPServer(port=0, reply="echo", framing="line") as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock,
    ):
        sock.sendall(b"caf\xe9 \xff\xfe\n")
        assert sock.recv(100) == b"caf\xe9 \xff\xfe\n"


def test_a_ping_reply_with_a_superscript_digit_is_a_stray_not_a_crash():
    from labsock.net.ping import ping

    with UDPServer(port=0, reply=lambda text: "Ping ² 0") as server:
        result = ping(port=server.port, count=2, timeout=0.5, interval=0)
    assert [e["event"] for e in result.events] == ["stray", "timeout", "stray", "timeout"]
    assert result.stats.received == 0


def test_a_dollar_in_a_relayed_message_does_not_break_the_flow_plot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from labsock.net.relay import UDPRelay

    with (
        UDPServer(port=0, reply="none") as server,
        UDPRelay(0, ("127.0.0.1", server.port)) as relay,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
    ):
        sock.bind(("127.0.0.1", 0))
        sock.sendto(b"$\\frac{$", ("127.0.0.1", relay.port))
        assert relay.wait_idle(5, received=1) and server.log.wait_for(1)
        ax = labsock.relay_flow(relay, sock.getsockname()[1], server).plot()
        ax.figure.canvas.draw()  # mathtext is parsed here
        plt.close(ax.figure)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["ping", "--interval", "inf"], "'inf' is not a number of seconds"),
        (["ping", "--interval", "abc"], "'abc' is not a number of seconds"),
        (["preflight", "127.0.0.1", "--timeout", "inf"], "'inf' is not a positive number"),
    ],
)
def test_infinite_waits_on_the_command_line_are_usage_errors(args, words):
    done = subprocess.run(
        [sys.executable, "-m", "labsock", *args], capture_output=True, text=True, timeout=20
    )
    assert done.returncode == 2 and words in done.stderr
    assert "Traceback" not in done.stderr


def test_counting_client_without_a_bind_port_takes_a_free_one():
    with UDPServer(port=0, reply="none") as server:
        client = labsock.CountingClient(bind_port=None, port=server.port, delay=0, count=3)
        with client:
            assert client.wait(5) and client.bind_port > 0
        assert server.log.wait_for(3) and {m.port for m in server.log.messages()} == {
            client.bind_port
        }


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: _relay(to=None), "to=None"),
        (lambda: _relay(to=("127.0.0.1", 12000), max_clients=0), "max_clients=0"),
        (lambda: _box_error(labsock.message_box(proto=5)), "5 is not a protocol"),
        (lambda: _ping(interval="abc"), "interval='abc'"),
        (lambda: _ping(interval=float("inf")), "interval=inf"),
        (lambda: UDPServer(port=0, log_size=-1), "log_size=-1"),
    ],
)
def test_odd_arguments_get_one_clear_paragraph(make, words):
    with pytest.raises(LabsockError) as caught:
        make()
    clear(caught, words)


def _box_error(box):
    """What the message box shows on Send, raised, so the test reads like the others."""
    outcome = box.send("hello")
    assert outcome.startswith("error: ") and "color:#b00" in box.status.value
    raise LabsockError(outcome.removeprefix("error: "))


def _relay(**options):
    from labsock.net.relay import relay_udp

    return relay_udp(0, **options)


def _ping(**options):
    from labsock.net.ping import ping

    return ping(port=9, count=1, **options)
