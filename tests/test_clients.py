import socket

import pytest

from labsock import LabsockError, TCPServer, UDPServer, send, send_tcp, send_udp
from tests.ports import free_port


def silent_udp_port():
    """A bound UDP socket that never answers: the client must time out, not hang."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def test_udp_timeout_says_what_to_check():
    with silent_udp_port() as quiet, pytest.raises(LabsockError) as caught:
        send_udp("anyone?", port=quiet.getsockname()[1], timeout=0.2)
    text = str(caught.value)
    assert "No reply from 127.0.0.1" in text and "server running" in text
    assert "firewall" in text and "\n" not in text


def test_udp_nothing_listening_is_refused_not_a_timeout():
    with pytest.raises(LabsockError, match="Nothing is listening on 127.0.0.1:.* .UDP."):
        send_udp("x", port=free_port(), timeout=2)


def test_tcp_refused():
    with pytest.raises(LabsockError, match="Nothing is listening .* .TCP."):
        send_tcp("x", port=free_port(socket.SOCK_STREAM))


def test_tcp_server_that_never_replies_times_out():
    with socket.socket() as mute:
        mute.bind(("127.0.0.1", 0))
        mute.listen()
        with pytest.raises(LabsockError, match="No reply from"):
            send_tcp("hello?", port=mute.getsockname()[1], timeout=0.2)


def test_tcp_server_that_hangs_up_without_reply():
    with TCPServer(port=0, reply="none") as server:
        # a reply='none' server never answers: the client times out with advice
        with pytest.raises(LabsockError, match="No reply"):
            send_tcp("x", port=server.port, timeout=0.2)


def test_unknown_host_name():
    with pytest.raises(
        LabsockError, match="Could not find a computer called 'no-such-host.invalid'"
    ):
        send_udp("x", host="no-such-host.invalid", port=12000)


@pytest.mark.fast
@pytest.mark.parametrize("timeout", [0, -1, "2", None])
def test_bad_timeout(timeout):
    with pytest.raises(LabsockError, match="positive number"):
        send_udp("x", port=12000, timeout=timeout)


@pytest.mark.fast
def test_message_must_be_text():
    with pytest.raises(LabsockError, match=r"str\(37\)"):
        send_udp(37, port=12000)


def test_bind_port_taken_is_explained():
    with silent_udp_port() as holder:
        taken = holder.getsockname()[1]
        with pytest.raises(LabsockError, match=f"Local port {taken} is already in use"):
            send_udp("x", port=12000, bind_port=taken)


def test_tcp_bind_port_can_be_reused_right_away():
    port = free_port(socket.SOCK_STREAM)
    with TCPServer(port=0) as server:
        assert send_tcp("a", port=server.port, bind_port=port) == "A"
        assert send_tcp("b", port=server.port, bind_port=port) == "B"
        assert {m.port for m in server.log.messages()} == {port}


def test_send_by_protocol_name():
    with UDPServer(port=0) as u, TCPServer(port=0) as t:
        assert send("udp", "x", port=u.port) == "X"
        assert send("TCP", "y", port=t.port) == "Y"
    with pytest.raises(LabsockError, match="'udp' or 'tcp'"):
        send("icmp", "x")


@pytest.mark.fast
def test_destination_checks_apply_to_clients():
    with pytest.raises(LabsockError, match="cannot send to it"):
        send_udp("x", host="0.0.0.0", port=12000)
    with pytest.raises(LabsockError, match="from 1 to 65535"):
        send_tcp("x", port=0)


def test_tcp_bind_port_in_a_loop_never_hits_time_wait():
    port = free_port(socket.SOCK_STREAM)
    with TCPServer(port=0, reply="echo") as server:
        for i in range(5):
            assert send_tcp(str(i), port=server.port, bind_port=port) == str(i)
