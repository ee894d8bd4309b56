"""Widgets that tell the truth (issue 12): a stopped server says so and starts again, a failed
server cell stops the cells that need it, Interrupt ends a wait in one line, the box and its
function twin agree. The browser side of the same is tests/test_browser_ux.py."""

from __future__ import annotations

import signal
import socket
import sys
import threading
import time

import pytest

import labsock
from labsock.logic.errors import Interrupted, LabsockError
from labsock.logic.sentences import sentence_html
from labsock.net.interrupts import interruptible

widgets = pytest.importorskip("ipywidgets")

from labsock.lessons.lan_widgets import ClientPanel, ServerPanel  # noqa: E402
from labsock.show.counting_view import ClientControls, CountingView  # noqa: E402
from labsock.show.status_line import QUIET_AFTER  # noqa: E402

QUIET = "no news from the kernel"


def held_udp_port():
    """A UDP socket holding a free port, as another notebook's kernel would."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    holder.bind(("127.0.0.1", 0))
    return holder, holder.getsockname()[1]


# -- stopped servers --------------------------------------------------------------------------


def test_a_watched_server_that_stops_says_so_and_starts_again():
    server = labsock.serve_udp(port=0, reply="none")
    view = labsock.watch(server)
    assert "running: UDP server" in view.status.html.value
    assert QUIET in view.status.html.value, "the page's own warning, hidden while redrawn"
    labsock.stop_all()
    assert view.wait(5)
    assert "stopped" in view.status.html.value and QUIET not in view.status.html.value
    assert view.status.button.layout.display is None  # Start again shows

    view.status.start_again()
    try:
        assert server.running and view.following
        labsock.send_udp("after the restart", port=server.port, expect_reply=False)
        assert server.log.wait_for(1)
        view.stop()  # its last picture is drawn before it stops following
        assert "after the restart" in view.picture.value
    finally:
        server.stop()


def test_a_watched_web_server_says_what_it_serves_and_when_it_stopped(tmp_path):
    """The status line tells kinds apart by their kind: a web server has no reply function."""
    server = labsock.serve_web(tmp_path, port=0)
    view = labsock.watch(server)
    try:
        assert f"running: TCP server on 127.0.0.1:{server.port}, serving the files of" in (
            view.status.html.value
        )
    finally:
        labsock.stop_all()
    assert view.wait(5)
    assert "stopped: this TCP server" in view.status.html.value


def test_the_message_box_of_a_stopped_server_does_not_send_and_starts_it_again():
    server = labsock.serve_udp(port=0, reply="none")
    view = labsock.watch(server)
    box = labsock.message_box("udp", port=server.port, expect_reply=False)
    server.stop()
    outcome = box.send("into the void")
    assert outcome.startswith("not sent: the UDP server on 127.0.0.1:")
    assert "has stopped" in box.status.value and box.start_button.layout.display is None

    box.start_server_again()
    try:
        assert server.running and view.following, "every view of it follows it again"
        assert box.send("heard").startswith("sent 'heard'")
        assert server.log.wait_for(1) and server.log.texts() == ["heard"]
        assert box.start_button.layout.display == "none"
    finally:
        server.stop()


def test_the_message_box_follows_a_newer_server_from_a_rerun_cell():
    first = labsock.serve_udp(port=0)
    box = labsock.message_box("udp", port=first.port)
    newer = labsock.serve_udp(port=first.port)  # the cell run again: the first one stops
    try:
        assert box.send("hi").startswith("sent 'hi', reply 'HI'")
    finally:
        newer.stop()


def test_an_empty_message_is_not_sent():
    with labsock.serve_udp(port=0, reply="none") as server:
        box = labsock.message_box(server, expect_reply=False)
        assert box.send("  ") == "not sent: the message is empty. Type a message first."
        panel = ClientPanel(port=server.port, message="", addresses=labsock.find_my_ipv4())
        assert panel.send("").startswith("not sent: the message is empty")
    assert server.log.texts() == []


# -- a failed server cell -------------------------------------------------------------------


def test_a_port_in_use_names_the_running_panel_and_offers_to_run_the_cell_again():
    holder, port = held_udp_port()
    with holder, pytest.raises(LabsockError) as failed:
        labsock.serve_udp(port=port)
    text = str(failed.value)
    assert "Running panel (the square-in-a-circle icon in the left bar)" in text
    assert "Shut Down the other notebook's kernel" in text
    assert failed.value.way_out == (("Run this cell again", None),)


def test_cells_that_need_a_failed_server_say_so_instead_of_going_on():
    holder, port = held_udp_port()
    with holder:
        with pytest.raises(LabsockError):
            labsock.serve_udp(port=port, reply="none")
        with pytest.raises(LabsockError, match="The server cell above failed") as refused:
            labsock.start_counting(bind_port=0, port=port)
        assert "already in use" in str(refused.value)  # and why it failed
        assert labsock.running_counters() == []
        box = labsock.message_box("udp", port=port, expect_reply=False)
        assert "will not send yet" in box.status.value
        assert box.send("lost").startswith("not sent. The server cell above failed")
        holder.settimeout(0.2)
        with pytest.raises(TimeoutError):
            holder.recvfrom(100)  # nothing reached whatever holds the port
    # The cell run again, now that the port is free: the cells below work again.
    with labsock.serve_udp(port=port, reply="none") as server:
        client = labsock.start_counting(bind_port=0, port=port, count=3, delay=0)
        assert client.wait(5) and server.log.wait_for(3)


def test_a_view_of_a_program_that_is_not_running_says_so(tmp_path):
    program = labsock.background("print('done')", name="ended_program", folder=tmp_path)
    assert program.wait(10)
    view = CountingView(program, widget=False)
    assert view.text().startswith("ended_program: exited with code 0: ended_program is not")
    live = labsock.counting_view(program)
    assert live.wait(5)
    assert "is not running" in live.live.status.html.value


# -- Interrupt during a wait ----------------------------------------------------------------


def interrupt_when_waiting(inside: str, blocked_in=("wait", "_wait_for_tstate_lock")):
    """Interrupt the main thread once it blocks (its innermost frame is one of blocked_in)
    within the labsock function `inside` ("module.py:function"), as the notebook's Interrupt
    button would."""
    main = threading.main_thread().ident
    module, _, function = inside.partition(":")

    def within(frame) -> bool:
        code = frame.f_code
        return code.co_name == function and code.co_filename.endswith(f"labsock/net/{module}")

    def watch():
        while True:
            frame = sys._current_frames().get(main)
            if frame is not None and frame.f_code.co_name in blocked_in:
                outer = frame
                while outer is not None and not within(outer):
                    outer = outer.f_back
                if outer is not None:
                    # A real SIGINT to the main thread, as Interrupt sends: it wakes a blocked
                    # wait (_thread.interrupt_main only raises once the wait is over).
                    signal.pthread_kill(main, signal.SIGINT)
                    return
            time.sleep(0.005)  # no event says "the main thread now blocks": look again

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_interrupting_a_wait_says_in_one_line_what_still_runs():
    server = labsock.serve_udp(port=0, reply="none")
    client = labsock.start_counting(bind_port=0, port=server.port, delay=0.5, count=100, name="c1")
    try:
        waits = {
            "counting.py:wait": lambda: client.wait(60),
            "log.py:_wait_for": lambda: server.log.wait_for(10**6, timeout=60),
        }
        for inside, wait in waits.items():
            interrupt_when_waiting(inside)
            with pytest.raises(Interrupted) as interrupted:
                wait()
            [line] = interrupted.value._render_traceback_()
            assert "Stopped waiting for " in line and "\n" not in line
            assert f"counting client c1 from port {client.bind_port}" in line
            assert f"UDP server on port {server.port}" in line
            assert "labsock.stop_all() stops them all" in line
            assert client.running and server.running  # an interrupt ends only the wait
    finally:
        labsock.stop_all()


def test_interrupting_a_relay_wait_and_a_wait_with_nothing_running():
    relay = labsock.relay_udp(0, to="127.0.0.1:9")
    try:
        interrupt_when_waiting("relay.py:wait_idle")
        with pytest.raises(Interrupted, match="the relay to pass on what it holds"):
            relay.wait_idle(60, received=1)
    finally:
        relay.stop()
    with pytest.raises(Interrupted, match="Nothing of labsock's runs in the background"):
        with interruptible("nothing"):
            raise KeyboardInterrupt


# -- buttons that show state, box and twin that agree ------------------------------------------


def test_start_and_stop_buttons_show_the_clients_state():
    with labsock.serve_udp(port=0, reply="none") as server:
        client = labsock.start_counting(bind_port=0, port=server.port, delay=0.2, name="c1")
        controls = ClientControls(client)
        assert controls.start_button.disabled and not controls.stop_button.disabled
        assert QUIET in controls.status.value
        controls.stop()
        assert not controls.start_button.disabled and controls.stop_button.disabled
        assert QUIET not in controls.status.value
        controls.start()
        assert controls.start_button.disabled and not controls.stop_button.disabled
        client.stop()


def test_the_function_twin_leaves_the_students_tick_alone():
    """Binds 0.0.0.0 when ticked: run through /work/tools/ptest (a private network namespace)."""
    panel = ServerPanel(port=0, addresses=labsock.find_my_ipv4())
    try:
        panel.switch.value = True  # the student ticks the box
        assert panel.server.host == "0.0.0.0"
        panel.let_others_connect(False)  # the cell below, unchanged since the panel started
        assert panel.switch.value and panel.server.host == "0.0.0.0"
        assert "left the box as you set it" in panel.note.value
        assert "<code>panel.let_others_connect(False)</code>" in panel.note.value
        panel.let_others_connect(True)  # asked for something new: done, and the box agrees
        panel.let_others_connect(False)
        assert not panel.switch.value and panel.server.host == "127.0.0.1"
        assert panel.note.value == ""
    finally:
        panel.stop()


def test_a_changed_address_clears_the_old_reply_and_the_port_hint_fits_the_widget():
    with labsock.serve_udp(port=0) as server:
        panel = ClientPanel(port=server.port, addresses=labsock.find_my_ipv4())
        assert panel.send("hi").startswith("sent 'hi', reply 'HI'")
        panel.host_box.value = "127.0.0.1:12000"
        assert panel.result.value == "", "no old reply under the new red verdict"
        assert "the port goes in its own box" in panel.verdict.value
    function = labsock.assess_destination("192.168.1.34:12000", 12000).text
    assert "box" not in function and "give the port on its own, as port=12000" in function


def test_backticks_become_code_in_widget_text_and_stay_in_plain_text():
    assert sentence_html("run `ipconfig` <now>") == "run <code>ipconfig</code> &lt;now&gt;"
    panel = ClientPanel(host="10.1.2.300", addresses=labsock.find_my_ipv4())
    assert "<code>ipconfig</code>" in panel.verdict.value and "`" not in panel.verdict.value
    assert "`ipconfig`" in labsock.assess_destination("10.1.2.300", 12000).text


def test_the_page_says_the_kernel_may_be_gone_after_a_few_quiet_seconds():
    # The hidden warning becomes visible through a CSS animation delay; each redraw restarts it.
    server = labsock.serve_udp(port=0)
    try:
        view = labsock.watch(server)
        first = view.status.html.value
        assert f"animation: labsock-quiet 0s {QUIET_AFTER}s forwards" in first
        view.status.show()
        assert view.status.html.value != first, "every redraw is new HTML"
    finally:
        server.stop()
