"""The Task 2 plain functions and widgets, over loopback only (0.0.0.0 is tested in namespaces)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labsock
from labsock import UDPServer
from labsock.lessons.partner import (
    ERROR,
    OK,
    WARNING,
    Sharing,
    assess_destination,
    send_to_partner,
    serve_for_partner,
    sharing,
)
from labsock.logic.address_labels import Interface, label_all
from labsock.logic.errors import LabsockError
from labsock.logic.lan_advice import LINUX, WINDOWS

MINE = label_all(
    [
        Interface("Loopback Pseudo-Interface 1", "127.0.0.1", 8),
        Interface("Wi-Fi", "192.168.1.34", 24, "Intel(R) Wi-Fi 6 AX201"),
        Interface("vEthernet (WSL)", "172.28.160.1", 20, "Hyper-V Virtual Ethernet Adapter"),
    ]
)


@pytest.mark.parametrize(
    "host, port, level, words",
    [
        ("127.0.0.1", 12000, OK, "this laptop (loopback)"),
        ("localhost", "12000", OK, "this laptop"),
        ("192.168.1.77", 12000, OK, "on your Wi-Fi network (192.168.1.0/24)"),
        ("192.168.1.34", 12000, OK, "this laptop's own address"),
        ("10.5.5.5", 12000, WARNING, "none of this laptop's networks"),
        ("169.254.7.7", 12000, WARNING, "link-local"),
        ("partner-laptop", 12000, WARNING, "is a name"),
        ("0.0.0.0", 12000, ERROR, "client cannot send to it"),
        ("192.168.1.300", 12000, ERROR, "four numbers from 0 to 255"),
        ("192.168.1.77:12000", 12000, ERROR, "give the port on its own, as port=12000"),
        ("http://192.168.1.77", 12000, ERROR, "without http://"),
        ("", 12000, ERROR, "is not an address"),
        ("192.168.1.77", "12a", ERROR, "not a valid port"),
        ("192.168.1.77", 0, ERROR, "not a valid port"),
        ("192.168.1.255", 12000, ERROR, "broadcast address of your Wi-Fi network"),
        ("224.0.0.251", 12000, ERROR, "multicast"),
    ],
)
@pytest.mark.fast
def test_assess_destination_as_typed(host, port, level, words):
    verdict = assess_destination(host, port, MINE)
    assert verdict.level == level, verdict.text
    assert words in verdict.text
    assert verdict.ok == (level != ERROR)
    if verdict.ok:
        assert verdict.port == int(port)


@pytest.mark.fast
def test_a_wsl_address_typed_as_destination_is_warned_about():
    # The partner read out their WSL address; it is on no network this laptop shares.
    verdict = assess_destination("172.29.1.5", 12000, MINE)
    assert verdict.level == WARNING and "virtual adapter" in verdict.text


def test_send_to_partner_over_loopback_returns_the_reply():
    with UDPServer(port=0) as server:
        reply = send_to_partner("hello partner", "127.0.0.1", server.port)
    assert reply == "HELLO PARTNER" and reply.rtt_ms >= 0


def test_send_to_partner_refuses_before_sending_to_0_0_0_0():
    with UDPServer(port=0) as server:
        with pytest.raises(LabsockError, match="client cannot send to it"):
            send_to_partner("x", "0.0.0.0", server.port)
        assert server.log.total == 0


def test_serve_for_partner_listens_on_loopback_unless_asked():
    server = serve_for_partner("tcp", 0)
    try:
        assert (server.protocol, server.host) == ("tcp", "127.0.0.1")
    finally:
        server.stop()
    with pytest.raises(LabsockError, match="choose 'udp' or 'tcp'"):
        serve_for_partner("http", 0)


@pytest.mark.fast
def test_sharing_a_loopback_server_says_turn_the_switch_on():
    text = str(Sharing("udp", "127.0.0.1", 12000, MINE, WINDOWS, r"C:\Python312\python.exe"))
    assert "only this laptop can reach it" in text and "let other laptops connect" in text
    assert "Firewall" not in text


@pytest.mark.fast
def test_sharing_an_open_server_names_the_wifi_address_and_the_firewall_question():
    info = Sharing("udp", "0.0.0.0", 12000, MINE, WINDOWS, r"C:\Python312\python.exe")
    text = str(info)
    assert info.partner_types() == "192.168.1.34"
    assert "Your partner types: 192.168.1.34, port 12000, UDP." in text
    assert "tick 'Private networks' and click 'Allow access'" in text
    assert r'-Program "C:\Python312\python.exe"' in text
    assert "give this one to your partner" in text  # the address table follows


@pytest.mark.fast
def test_sharing_a_server_on_one_chosen_address():
    info = Sharing("tcp", "192.168.1.34", 12001, MINE, LINUX, "/usr/bin/python3")
    assert info.partner_types() == "192.168.1.34"
    assert "listens on 192.168.1.34 only, port 12001" in str(info)
    assert "sudo ufw allow 12001/tcp" in str(info)


def test_sharing_reads_a_running_server():
    with UDPServer(port=0) as server:
        info = sharing(server, addresses=MINE)
    assert (info.proto, info.host, info.port) == ("udp", "127.0.0.1", server.port)


# -- widgets -----------------------------------------------------------------------------------


def test_client_panel_checks_as_typed_and_disables_send():
    pytest.importorskip("ipywidgets")
    from labsock.lessons.lan_widgets import ClientPanel

    panel = ClientPanel(addresses=MINE)
    assert not panel.send_button.disabled and "loopback" in panel.verdict.value
    panel.host_box.value = "0.0.0.0"
    assert panel.send_button.disabled and "cannot send" in panel.verdict.value
    panel.host_box.value = "10.5.5.5"
    assert not panel.send_button.disabled and "#a60" in panel.verdict.value  # a warning
    panel.port_box.value = "12OOO"
    assert panel.send_button.disabled and "not a valid port" in panel.verdict.value
    assert panel.send("x").startswith("not sent:")


def test_client_panel_sends_and_checks_over_loopback():
    pytest.importorskip("ipywidgets")
    from labsock.lessons.lan_widgets import ClientPanel

    with UDPServer(port=0) as server:
        panel = ClientPanel(port=server.port, addresses=MINE)
        outcome = panel.send("hi")
        report = panel.preflight()
    assert outcome.startswith("sent 'hi', reply 'HI'")
    assert report.outcomes["udp"] == "ok" and "<b>ok</b>" in panel.result.value
    bundle = panel._repr_mimebundle_()
    assert bundle["text/plain"] == "<client panel: run this cell in JupyterLab to type and send>"


def test_server_panel_starts_on_loopback_and_shows_what_to_do(labsock_threads):
    pytest.importorskip("ipywidgets")
    from labsock.lessons.lan_widgets import ServerPanel

    panel = ServerPanel(port=0, addresses=MINE)
    try:
        assert panel.server.host == "127.0.0.1" and not panel.switch.value
        assert "only this laptop can reach it" in panel.info.value
        assert send_to_partner("ping", "127.0.0.1", panel.server.port) == "PING"
    finally:
        panel.stop()
    assert labsock_threads() == []  # the server and its live view are gone


def test_server_panel_switch_off_when_already_off_keeps_the_server_and_its_log():
    pytest.importorskip("ipywidgets")
    from labsock.lessons.lan_widgets import ServerPanel

    panel = ServerPanel(port=0, addresses=MINE)
    try:
        first = panel.server
        send_to_partner("kept", "127.0.0.1", first.port)
        assert panel.let_others_connect(False) is first and first.running
        assert first.log.texts() == ["kept"]
    finally:
        panel.stop()


@pytest.mark.fast
def test_sharing_without_a_lan_address_says_connect_once():
    only_loopback = label_all([Interface("lo", "127.0.0.1", 8)])
    text = str(Sharing("udp", "0.0.0.0", 12000, only_loopback, LINUX, "/usr/bin/python3"))
    assert "no Wi-Fi or Ethernet address yet" in text
    assert text.count("connect this laptop to the same Wi-Fi") == 1  # the table's advice only
    assert "Your partner types" not in text


@pytest.mark.fast
@settings(max_examples=300, deadline=None)
@given(host=st.text(max_size=40), port=st.one_of(st.text(max_size=8), st.integers()))
def test_whatever_is_typed_gets_a_verdict_not_an_exception(host, port):
    verdict = assess_destination(host, port, MINE)
    assert verdict.level in (OK, WARNING, ERROR) and verdict.text
    if verdict.ok:
        assert 1 <= verdict.port <= 65535
        assert verdict.host != "0.0.0.0"


def test_the_address_box_checks_what_is_typed():
    box = labsock.address_box("127.0.0.1")
    assert box.address == "127.0.0.1" and box.check().ok
    box.box.value = " 192.168.1.300 "
    assert box.address == "192.168.1.300"
    assert not box.check().ok
    assert "four numbers from 0 to 255" in box.verdict.value
    box.box.value = "0.0.0.0"
    assert "a client cannot send to it" in box.verdict.value
