import socket
import threading

import pytest

import labsock
from labsock import LabsockError, UDPServer, send_udp
from labsock.net.sockets import UDP_MAX_PAYLOAD


def raw_exchange(port, payload, timeout=5):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(payload, ("127.0.0.1", port))
        return s.recvfrom(70000)[0]


def test_upper_reply_and_log():
    with UDPServer(port=0, reply="upper") as server:
        reply = send_udp("hello world", port=server.port)
        assert reply == "HELLO WORLD"
        assert reply.server == f"127.0.0.1:{server.port}" and reply.rtt_ms > 0
        (message,) = server.log.messages()
        assert message.text == "hello world" and message.reply == "HELLO WORLD"
        assert message.ip == "127.0.0.1" and message.port > 0


def test_port_zero_reports_the_real_port():
    with UDPServer(port=0) as server:
        assert server.port > 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            with pytest.raises(OSError):
                probe.bind(("127.0.0.1", server.port))


@pytest.mark.fast
def test_default_host_is_loopback():
    assert UDPServer(port=0).host == "127.0.0.1"


def test_rerun_on_the_same_port_stops_the_old_server():
    first = UDPServer(port=0).start()
    second = UDPServer(port=first.port, reply="echo").start()
    assert not first.running and second.running
    assert send_udp("Same Port", port=second.port) == "Same Port"
    assert second.replaced and first.log.message_count == 0
    second.stop()


def test_wildcard_server_replaces_loopback_server_on_the_same_port():
    first = UDPServer(port=0).start()
    second = UDPServer(host="0.0.0.0", port=first.port).start()
    assert not first.running and second.running
    assert send_udp("x", port=second.port) == "X"
    second.stop()


def test_port_taken_by_another_program_is_explained():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind(("127.0.0.1", 0))
        port = other.getsockname()[1]
        with pytest.raises(LabsockError, match=f"Port {port} .UDP. on 127.0.0.1 is already in use"):
            UDPServer(port=port).start()


def test_stop_returns_with_thread_ended_and_port_free(labsock_threads):
    server = UDPServer(port=0).start()
    port = server.port
    server.stop()
    assert not server.running and labsock_threads() == []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
        again.bind(("127.0.0.1", port))  # raises if the port were still held


def test_stop_and_restart_same_object():
    server = UDPServer(port=0).start()
    server.stop()
    server.start()
    assert send_udp("again", port=server.port) == "AGAIN"
    server.stop()


def test_non_utf8_bytes_are_logged_raw_and_shown_readably():
    with UDPServer(port=0, reply="upper") as server:
        assert raw_exchange(server.port, b"caf\xe9") == b"CAF\\XE9"
        (message,) = server.log.messages()
        assert message.data == b"caf\xe9" and message.text == "caf\\xe9"
        assert not message.is_utf8


def test_echo_sends_back_the_very_bytes_even_when_not_utf8():
    with UDPServer(port=0, reply="echo") as server:
        assert raw_exchange(server.port, b"caf\xe9 \xff\x00") == b"caf\xe9 \xff\x00"
        assert server.log.messages()[0].reply == "caf\\xe9 \\xff\x00"


def test_empty_datagram_is_a_message():
    with UDPServer(port=0, reply="echo") as server:
        assert raw_exchange(server.port, b"") == b""
        assert server.log.texts() == [""]


def test_largest_datagram_round_trips():
    with UDPServer(port=0, reply="echo") as server:
        big = b"x" * UDP_MAX_PAYLOAD
        assert raw_exchange(server.port, big) == big
        assert len(server.log.messages()[0].data) == UDP_MAX_PAYLOAD


@pytest.mark.fast
def test_client_refuses_a_message_bigger_than_udp_allows():
    with pytest.raises(LabsockError, match="more than the 65,507"):
        send_udp("x" * (UDP_MAX_PAYLOAD + 1), port=9)


def test_reply_function_that_raises_does_not_kill_the_server():
    def fragile(text):
        return str(1 / int(text))

    with UDPServer(port=0, reply=fragile) as server:
        assert send_udp("4", port=server.port) == "0.25"
        failed = send_udp("0", port=server.port)
        assert "ZeroDivisionError" in failed and "fragile" in failed
        assert send_udp("2", port=server.port) == "0.5"
        assert server.running
        errors = server.log.errors()
        assert len(errors) == 1 and "division by zero" in errors[0]


def test_student_function_returning_none_sends_nothing():
    with UDPServer(port=0, reply=lambda text: None) as server:
        with pytest.raises(LabsockError, match="No reply"):
            send_udp("quiet", port=server.port, timeout=0.2)
        assert server.log.texts() == ["quiet"]


def test_no_reply_server_shows_messages():
    with UDPServer(port=0, reply="none") as server:
        assert send_udp("just look", port=server.port, expect_reply=False) is None
        assert server.log.wait_for(1)
        assert server.log.texts() == ["just look"]
        assert server.log.messages()[0].reply is None


def test_two_clients_told_apart_by_source_port():
    with UDPServer(port=0, names={}) as server:
        send_udp("from a", port=server.port)
        send_udp("from b", port=server.port)
        ports = {m.port for m in server.log.messages()}
        assert len(ports) == 2


def test_bind_port_is_the_source_port_the_server_sees():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as finder:
        finder.bind(("127.0.0.1", 0))
        free = finder.getsockname()[1]
    with UDPServer(port=0, names={free: "c1"}) as server:
        send_udp("1", port=server.port, bind_port=free)
        (message,) = server.log.messages()
        assert message.port == free and message.sender == f"c1 (127.0.0.1:{free})"


def test_concurrent_clients_all_logged_and_answered():
    with UDPServer(port=0) as server:
        replies = []

        def client(i):
            replies.append(send_udp(f"m{i}", port=server.port, timeout=5))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(replies) == sorted(f"M{i}" for i in range(20))
        assert server.log.message_count == 20


def test_serve_udp_shortcut_and_registry():
    server = labsock.serve_udp(port=0, reply="alnum")
    assert server in labsock.running_servers()
    assert send_udp("a-b c!", port=server.port) == "3 alphanumeric: abc"
    labsock.stop_all()
    assert labsock.running_servers() == []


def test_a_server_whose_loop_ends_by_itself_is_no_longer_listed_as_running():
    """The list of what runs follows the loop thread: a loop that ended (here a bug in it) takes
    the server off running_servers(), as its `running` says, instead of leaving it listed (and
    stopped again by stop_all) while nothing serves the port."""
    from labsock.net.servers import running_servers

    class Broken(UDPServer):
        def _serve(self):
            raise RuntimeError("a bug in the loop")

    server = Broken(port=0).start()
    loop = server._thread
    loop.join(30)
    assert not loop.is_alive()
    assert not server.running
    assert server not in running_servers()
    assert "server stopped: RuntimeError('a bug in the loop')" in str(server.log)
    server.stop()  # harmless once ended
