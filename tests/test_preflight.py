"""Preflight: classification and advice with plain data, and probes over loopback only."""

import errno
import socket

import pytest

from labsock import TCPServer, UDPServer
from labsock.logic.address_labels import Interface, label_all
from labsock.logic.errors import (
    BLOCKED,
    FAILED,
    FAILURES,
    OK,
    REFUSED,
    TIMEOUT,
    UNREACHABLE,
    LabsockError,
    outcome_of,
    what_error_means,
)
from labsock.logic.lan_advice import (
    LINUX,
    MACOS,
    WINDOWS,
    firewall_program,
    firewall_steps,
    this_system,
)
from labsock.logic.reachability import Preflight, Probe, advice, network_note
from labsock.net.preflight import preflight, probe_tcp, probe_udp


def windows_error(number):
    """An OSError as Python raises it on Windows (winerror set, errno a POSIX guess)."""
    exc = OSError(errno.EINVAL, f"[WinError {number}] something")
    exc.winerror = number
    return exc


# -- classification ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc, outcome",
    [
        (None, OK),
        (TimeoutError("timed out"), TIMEOUT),
        (ConnectionRefusedError(111, "Connection refused"), REFUSED),  # Linux
        (ConnectionRefusedError(61, "Connection refused"), REFUSED),  # macOS
        (windows_error(10061), REFUSED),
        (windows_error(10054), REFUSED),  # Windows UDP: 'port unreachable' comes as a reset
        (windows_error(10060), TIMEOUT),
        (OSError(113, "No route to host"), UNREACHABLE),
        (OSError(101, "Network is unreachable"), UNREACHABLE),
        (windows_error(10065), UNREACHABLE),
        (windows_error(10051), UNREACHABLE),
        (PermissionError(1, "Operation not permitted"), BLOCKED),  # an nftables output drop
        (windows_error(10013), BLOCKED),
        (OSError(errno.EINVAL, "Invalid argument"), FAILED),
    ],
)
@pytest.mark.fast
def test_outcome_of(exc, outcome):
    assert outcome_of(exc) == outcome


# -- advice ------------------------------------------------------------------------------------

PROGRAM = r"C:\Users\ana\lab\.venv\Scripts\python.exe"


@pytest.mark.fast
def test_refused_points_at_the_server_not_the_network():
    text = advice(REFUSED, "udp", "10.0.0.5", 12000, system=WINDOWS, program=PROGRAM)
    assert "nothing listens on port 12000 (UDP)" in text
    assert "no firewall is in the way" in text
    assert "0.0.0.0" in text  # the 127.0.0.1-only server is the classic cause


@pytest.mark.fast
def test_timeout_names_firewall_address_and_isolation():
    text = advice(TIMEOUT, "tcp", "10.0.0.5", 12000, system=LINUX, program="/usr/bin/python3")
    assert "firewall" in text and "address is wrong" in text and "client isolation" in text
    assert "sudo ufw allow 12000/tcp" in text  # the one-liner for a Linux server laptop
    assert "hotspot" in text


@pytest.mark.fast
def test_blocked_advice_differs_per_system():
    win = advice(BLOCKED, "udp", "10.0.0.5", 12000, system=WINDOWS, program=PROGRAM)
    lin = advice(BLOCKED, "udp", "10.0.0.5", 12000, system=LINUX, program="/usr/bin/python3")
    assert PROGRAM in win
    assert "nft list ruleset" in lin and PROGRAM not in lin


@pytest.mark.fast
def test_unreachable_advice_asks_about_the_wifi():
    text = advice(UNREACHABLE, "udp", "10.9.9.9", 12000, system=MACOS, program="/x/python3")
    assert "no network leading to 10.9.9.9" in text and "Wi-Fi" in text


@pytest.mark.fast
def test_windows_firewall_steps_give_settings_path_and_command_with_the_program():
    text = firewall_steps(WINDOWS, "udp", 12000, PROGRAM)
    assert "Allow an app through Windows Firewall" in text
    assert f'-Program "{PROGRAM}" -Protocol UDP -LocalPort 12000' in text
    assert "Private" in text and "Cancel" in text


@pytest.mark.fast
def test_macos_firewall_steps_name_the_dialog_and_socketfilterfw():
    text = firewall_steps(MACOS, "tcp", 12000, "/opt/homebrew/bin/python3.12")
    assert "accept incoming network connections" in text
    assert 'socketfilterfw --add "/opt/homebrew/bin/python3.12"' in text


@pytest.mark.fast
def test_linux_firewall_steps_are_per_port():
    text = firewall_steps(LINUX, "udp", 12001, "/usr/bin/python3")
    assert "sudo ufw allow 12001/udp" in text
    assert "firewall-cmd --add-port=12001/udp" in text


@pytest.mark.fast
def test_this_system_from_platform_names():
    assert this_system("win32") == WINDOWS
    assert this_system("darwin") == MACOS
    assert this_system("linux") == LINUX


@pytest.mark.fast
def test_firewall_program_follows_a_venv_link(tmp_path):
    real = tmp_path / "python3.11"
    real.write_text("")
    link = tmp_path / "venv-python"
    link.symlink_to(real)
    assert firewall_program(str(link), system=LINUX) == str(real)
    assert firewall_program(str(link), system=MACOS) == str(real)


@pytest.mark.fast
def test_firewall_program_on_windows_is_the_base_python_the_venv_launcher_starts():
    venv = r"C:\Users\ana\lab\.venv\Scripts\python.exe"
    base = r"C:\Users\ana\AppData\Local\Programs\Python\Python312\python.exe"
    assert firewall_program(venv, system=WINDOWS, base=base) == base
    assert firewall_program(venv, system=WINDOWS, base="") == venv


@pytest.mark.fast
def test_loopback_advice_says_run_the_server_not_check_the_firewall():
    refused = advice(REFUSED, "udp", "127.0.0.1", 12000, system=WINDOWS, program=PROGRAM)
    assert "run the server's cell" in refused and "firewall" not in refused
    silent = advice(TIMEOUT, "tcp", "127.0.0.1", 12000, system=WINDOWS, program=PROGRAM)
    assert "reply='none'" in silent and "client isolation" not in silent


@pytest.mark.fast
def test_both_protocols_with_one_outcome_get_one_paragraph_naming_both():
    r = report(Probe("udp", "10.0.0.5", 12000, TIMEOUT), Probe("tcp", "10.0.0.5", 12000, TIMEOUT))
    (first, *_rest) = r.paragraphs()
    assert "port 12000 (UDP and TCP)" in first
    assert "sudo ufw allow 12000`" in first  # both protocols: no /udp


# -- error numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number, words",
    [
        (10048, "already in use"),
        (10054, "port unreachable"),
        (10061, "nothing listens"),
        (10013, "netsh interface ipv4 show excludedportrange protocol=tcp"),
        (10049, "0.0.0.0"),
        (10060, "client isolation"),
        (10051, "network unreachable"),
        (10065, "host unreachable"),
    ],
)
@pytest.mark.fast
def test_windows_error_numbers_in_words(number, words):
    text = what_error_means(number, WINDOWS)
    assert text.startswith(f"Error {number}: WSAE")
    assert words in text


@pytest.mark.parametrize(
    "number, system, words",
    [
        (98, LINUX, "EADDRINUSE"),
        (48, MACOS, "EADDRINUSE"),
        (111, LINUX, "ECONNREFUSED"),
        (61, MACOS, "ECONNREFUSED"),
        (104, LINUX, "ECONNRESET"),
        (13, LINUX, "below 1024"),
        (1, LINUX, "firewall rule"),
        (113, LINUX, "EHOSTUNREACH"),
    ],
)
@pytest.mark.fast
def test_posix_error_numbers_in_words(number, system, words):
    assert words in what_error_means(number, system)


@pytest.mark.fast
def test_the_same_number_means_different_things_per_system():
    # 48 is 'address in use' on macOS, but not on Linux (where that is 98).
    assert "EADDRINUSE" in what_error_means(48, MACOS)
    assert "EADDRINUSE" not in what_error_means(48, LINUX)
    assert "not one labsock knows" in what_error_means(48, LINUX)


@pytest.mark.fast
def test_every_failure_has_its_name_and_meaning_on_every_system():
    windows = {f.windows for f in FAILURES}
    assert windows >= {10048, 10054, 10061, 10013}
    for failure in FAILURES:
        for system in (LINUX, MACOS, WINDOWS):
            number = getattr(failure, system)
            if number is None:
                continue
            prefix = "WSA" if system == WINDOWS else ""
            text = what_error_means(number, system)
            assert text.startswith(f"Error {number}: {prefix}{failure.name}, {failure.meaning}: ")


@pytest.mark.fast
def test_every_failure_has_a_preflight_outcome():
    assert {f.outcome for f in FAILURES} <= {REFUSED, TIMEOUT, UNREACHABLE, BLOCKED, FAILED}


def test_a_number_means_one_failure_whichever_system_gave_it():
    # explain() reads an exception's number without asking which system raised it.
    seen = {}
    for failure in FAILURES:
        for number in (failure.linux, failure.macos, failure.windows):
            assert seen.setdefault(number, failure.name) == failure.name, number


# -- the report --------------------------------------------------------------------------------


def report(*probes, note=None):
    return Preflight("10.0.0.5", 12000, list(probes), LINUX, "/usr/bin/python3", note)


@pytest.mark.fast
def test_report_with_one_protocol_ok_explains_the_other():
    text = str(
        report(Probe("udp", "10.0.0.5", 12000, OK, 3.2), Probe("tcp", "10.0.0.5", 12000, REFUSED))
    )
    assert "UDP  ok        reply in 3.2 ms" in text
    assert "TCP  refused" in text
    assert "expected if the server only speaks UDP" in text
    assert "/usr/bin/python3" in text  # sys.executable, what a firewall must allow


@pytest.mark.fast
def test_report_with_nothing_ok_gives_each_outcomes_advice_once():
    r = report(Probe("udp", "10.0.0.5", 12000, TIMEOUT), Probe("tcp", "10.0.0.5", 12000, TIMEOUT),
               note="10.0.0.5 is on none of this laptop's networks")  # fmt: skip
    assert not r.ok
    text = str(r)
    assert text.count("not even a refusal") == 1
    assert "none of this laptop's networks" in text
    assert "<b>timeout</b>" in r._repr_html_()


@pytest.mark.fast
def test_network_note_only_for_a_foreign_network():
    mine = label_all([Interface("lo", "127.0.0.1", 8), Interface("wlan0", "192.168.1.34", 24)])
    assert network_note("192.168.1.77", mine) is None
    note = network_note("172.28.160.1", mine)
    assert "172.28.160.1 is on none of this laptop's networks" in note
    assert "192.168.1.34/24 (wlan0)" in note


# -- probes over loopback ----------------------------------------------------------------------


def closed_port(kind):
    """A port with nothing on it: bound once to get a free number, then released."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_udp_probe_gets_a_reply_and_the_server_logs_it():
    with UDPServer(port=0) as server:
        probe = probe_udp("127.0.0.1", server.port, timeout=1.0)
        assert probe.outcome == OK and probe.rtt_ms < 1000
        assert server.log.wait_for(1, timeout=2)
        assert server.log.texts()[0] == "labsock preflight"


def test_udp_probe_to_a_closed_port_is_refused_not_a_timeout():
    probe = probe_udp("127.0.0.1", closed_port(socket.SOCK_DGRAM), timeout=2.0)
    assert probe.outcome == REFUSED


def test_udp_probe_to_a_silent_server_times_out_after_three_tries():
    with UDPServer(port=0, reply="none") as server:
        probe = probe_udp("127.0.0.1", server.port, timeout=0.3)
        assert probe.outcome == TIMEOUT
        assert server.log.wait_for(3, timeout=2)  # three datagrams, not one


def test_tcp_probe_connects_and_refuses():
    with TCPServer(port=0) as server:
        assert probe_tcp("127.0.0.1", server.port).outcome == OK
    assert probe_tcp("127.0.0.1", closed_port(socket.SOCK_STREAM)).outcome == REFUSED


def test_preflight_both_protocols_against_a_udp_server():
    with UDPServer(port=0) as server:
        result = preflight("127.0.0.1", server.port)
    assert result.outcomes["udp"] == OK
    # Another program may hold the same number for TCP; usually nothing does.
    assert result.outcomes["tcp"] in (REFUSED, OK)
    assert result.ok


@pytest.mark.fast
def test_preflight_rejects_malformed_input_with_the_core_messages():
    with pytest.raises(LabsockError, match="0.0.0.0 is what a server listens on"):
        preflight("0.0.0.0", 12000)
    with pytest.raises(LabsockError, match="not a valid port"):
        preflight("127.0.0.1", 70000)
    with pytest.raises(LabsockError, match="choose 'udp', 'tcp' or 'both'"):
        preflight("127.0.0.1", 12000, proto="icmp")
