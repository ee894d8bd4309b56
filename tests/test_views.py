import pytest

pytest.importorskip("ipywidgets")

from labsock import UDPServer, message_box, send_udp  # noqa: E402
from labsock.net.log import MessageLog  # noqa: E402
from labsock.show.views import LiveView, watch  # noqa: E402


def test_log_view_shows_messages_and_ends_with_the_server(labsock_threads):
    server = UDPServer(port=0).start()
    view = watch(server)
    send_udp("shown in the view", port=server.port)
    server.stop()  # the view draws a last picture when the log closes, then its thread ends
    assert view.wait(5)
    assert "shown in the view" in view.picture.value and "SHOWN IN THE VIEW" in view.picture.value
    assert labsock_threads() == []


def test_view_text_repeats_for_notebook_tests():
    server = UDPServer(port=0).start()
    bundle = watch(server)._repr_mimebundle_()
    server.stop()
    assert (
        bundle["text/plain"]
        == "<live view of the UDP log: run this cell in JupyterLab to see it live>"
    )
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_redraws_are_bounded_whatever_the_message_rate():
    log = MessageLog()
    renders = []

    def render():
        renders.append(log.total)
        return str(log.total)

    view = LiveView(log, render, max_rate=10)
    for i in range(5000):
        log.append(float(i), ("127.0.0.1", 1), b"x")
    log.close()
    assert view.wait(5)
    # 5000 messages in a burst: a view that redrew per message would render thousands of times
    assert view.redraws < 50
    assert view.picture.value == "5000"  # the last picture is complete


def test_message_box_sends_and_shows_the_reply():
    with UDPServer(port=0) as server:
        box = message_box("udp", port=server.port)
        outcome = box.send("from the box")
        assert "'FROM THE BOX'" in outcome and "FROM THE BOX" in box.status.value
        box.text.value = "clicked"
        box.button.click()
        assert server.log.texts() == ["from the box", "clicked"]
        assert len(box.history) == 2


def test_message_box_explains_failure_in_the_widget():
    box = message_box("tcp", port=9, timeout=0.5)
    outcome = box.send("nobody home")
    assert outcome.startswith("error: Nothing is listening")
    assert "color:#b00" in box.status.value


def test_message_box_without_reply():
    with UDPServer(port=0, reply="none") as server:
        box = message_box("udp", port=server.port, expect_reply=False)
        assert "no reply expected" in box.send("hello server")
        assert server.log.wait_for(1) and server.log.texts() == ["hello server"]


def test_watching_a_relay_shows_what_it_relays_its_counts_and_its_stop(labsock_threads):
    from labsock import relay_udp

    with UDPServer(port=0) as server:
        relay = relay_udp(0, to=("127.0.0.1", server.port), seed=1)
        view = watch(relay)
        status = view.status.html.value
        assert f"running: the UDP relay from 127.0.0.1:{relay.port} to 127.0.0.1:{server.port}" in (
            status
        )
        assert "forward:" in status and "backward:" in status
        send_udp("through the relay", port=relay.port)
        assert relay.wait_idle(5, received=1, replies=1)
        relay.stop()
        assert view.wait(5)
    assert "forward" in view.picture.value and "backward" in view.picture.value
    assert "127.0.0.1:" in view.picture.value, "a row for the client"
    stopped = view.status.html.value
    assert f"the UDP relay from 127.0.0.1:{relay.port} to 127.0.0.1:{server.port} was stopped" in (
        stopped
    )
    assert view.status.button.description == "Start again"
    assert labsock_threads() == []


def test_watching_the_tcp_slicer_says_how_it_cuts_the_bytes():
    from labsock.net.tcp_slicer import TCPSlicer

    slicer = TCPSlicer(0, to=("127.0.0.1", 9), seed=1).start()
    try:
        view = watch(slicer)
        assert "running: the TCP slicer from 127.0.0.1:" in view.status.html.value
        assert "pieces of 1..7 bytes" in view.status.html.value
        assert "bytes_in: 0" in view.picture.value
    finally:
        slicer.stop()
    assert view.wait(5)
