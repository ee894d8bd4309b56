"""Address labelling with adapter lists as Windows, macOS and Linux name them (no network)."""

import sys

import pytest

from labsock.logic.address_labels import (
    ETHERNET,
    LAN,
    LINK_LOCAL,
    LOOPBACK,
    OTHER,
    VIRTUAL,
    WIFI,
    AddressList,
    Interface,
    label,
    label_all,
)
from labsock.net.addresses import find_my_ipv4, read_interfaces, running_in_wsl

# A student's Windows laptop with WSL, Hyper-V, VirtualBox, VMware, Bluetooth and two VPNs.
# (name = what `ipconfig` shows, description = the device, as GetAdaptersAddresses reports them)
WINDOWS = [
    Interface("Ethernet", "169.254.83.107", 16, "Realtek PCIe GbE Family Controller"),
    Interface("vEthernet (WSL)", "172.28.160.1", 20, "Hyper-V Virtual Ethernet Adapter"),
    Interface(
        "vEthernet (Default Switch)", "172.17.96.1", 20, "Hyper-V Virtual Ethernet Adapter #2"
    ),
    Interface(
        "VirtualBox Host-Only Network", "192.168.56.1", 24, "VirtualBox Host-Only Ethernet Adapter"
    ),
    Interface(
        "VMware Network Adapter VMnet8",
        "192.168.127.1",
        24,
        "VMware Virtual Ethernet Adapter for VMnet8",
    ),
    Interface(
        "Bluetooth Network Connection",
        "169.254.12.9",
        16,
        "Bluetooth Device (Personal Area Network)",
    ),
    Interface("OpenVPN TAP-Windows6", "10.8.0.6", 24, "TAP-Windows Adapter V9"),
    Interface("Tailscale", "100.101.102.103", 32, "Tailscale Tunnel"),
    Interface("ZeroTier One [8056c2e21c000001]", "10.147.17.5", 24, "ZeroTier Virtual Port"),
    Interface(
        "Local Area Connection* 10",
        "192.168.137.1",
        24,
        "Microsoft Wi-Fi Direct Virtual Adapter #2",
    ),
    Interface("Wi-Fi", "10.20.31.77", 22, "Intel(R) Wi-Fi 6 AX201 160MHz"),
    Interface("Loopback Pseudo-Interface 1", "127.0.0.1", 8, "Software Loopback Interface 1"),
]

MACOS = [
    Interface("lo0", "127.0.0.1", 8),
    Interface("en0", "192.168.1.34", 24),
    Interface("bridge100", "192.168.64.1", 24),
    Interface("utun3", "100.64.0.7", 32),
    Interface("awdl0", "169.254.201.4", 16),
    Interface("vboxnet0", "192.168.56.1", 24),
]

LINUX = [
    Interface("lo", "127.0.0.1", 8),
    Interface("docker0", "172.17.0.1", 16),
    Interface("br-1a2b3c4d5e6f", "172.18.0.1", 16),
    Interface("virbr0", "192.168.122.1", 24),
    Interface("vboxnet0", "192.168.56.1", 24),
    Interface("tun0", "10.8.0.2", 24),
    Interface("wg0", "10.66.66.2", 24),
    Interface("tailscale0", "100.88.1.2", 32),
    Interface("enp3s0", "192.168.0.12", 24),
    Interface("wlp2s0", "192.168.0.57", 24),
]


def kinds(interfaces):
    return {a.name: a.kind for a in label_all(interfaces)}


@pytest.mark.fast
def test_windows_adapters_are_labelled_by_name_and_device():
    assert kinds(WINDOWS) == {
        "Ethernet": LINK_LOCAL,  # cable unplugged: Windows makes up a 169.254 address
        "vEthernet (WSL)": VIRTUAL,
        "vEthernet (Default Switch)": VIRTUAL,
        "VirtualBox Host-Only Network": VIRTUAL,
        "VMware Network Adapter VMnet8": VIRTUAL,
        "Bluetooth Network Connection": LINK_LOCAL,
        "OpenVPN TAP-Windows6": VIRTUAL,
        "Tailscale": VIRTUAL,
        "ZeroTier One [8056c2e21c000001]": VIRTUAL,
        "Local Area Connection* 10": VIRTUAL,
        "Wi-Fi": WIFI,
        "Loopback Pseudo-Interface 1": LOOPBACK,
    }


@pytest.mark.fast
def test_windows_suggests_the_wifi_not_a_virtual_adapter():
    addresses = label_all(WINDOWS)
    assert addresses.suggested.ip == "10.20.31.77"
    assert [a.name for a in addresses if a.suggested] == ["Wi-Fi"]
    assert "Give your partner 10.20.31.77 (the Wi-Fi address)." in addresses.advice()


@pytest.mark.parametrize(
    "name, description, words",
    [
        ("vEthernet (WSL)", "Hyper-V Virtual Ethernet Adapter", "WSL / Hyper-V"),
        ("VirtualBox Host-Only Network", "", "VirtualBox"),
        ("VMware Network Adapter VMnet1", "", "VMware"),
        ("OpenVPN TAP-Windows6", "TAP-Windows Adapter V9", "VPN"),
        ("Tailscale", "Tailscale Tunnel", "Tailscale"),
        ("ZeroTier One [abc]", "ZeroTier Virtual Port", "ZeroTier"),
        ("Local Area Connection* 2", "Microsoft Wi-Fi Direct Virtual Adapter", "Wi-Fi Direct"),
        # A renamed adapter is still recognised by its device description.
        ("My network", "Hyper-V Virtual Ethernet Adapter", "Hyper-V"),
        ("Uni VPN", "Cisco AnyConnect Secure Mobility Client Virtual Miniport Adapter", "VPN"),
        ("Bluetooth Network Connection", "Bluetooth Device (PAN)", "Bluetooth"),
    ],
)
@pytest.mark.fast
def test_virtual_adapters_say_what_they_are(name, description, words):
    address = label(Interface(name, "10.1.2.3", 24, description))
    assert address.kind == VIRTUAL
    assert words in address.what
    assert "cannot reach" in address.what
    assert not address.partner_can_use


@pytest.mark.fast
def test_macos_en0_is_suggested_and_called_wifi_or_ethernet():
    addresses = label_all(MACOS)
    assert kinds(MACOS) == {
        "lo0": LOOPBACK,
        "en0": LAN,
        "bridge100": VIRTUAL,
        "utun3": VIRTUAL,
        "awdl0": LINK_LOCAL,
        "vboxnet0": VIRTUAL,
    }
    assert addresses.suggested.name == "en0"
    assert "Wi-Fi or Ethernet" in addresses.suggested.what


@pytest.mark.fast
def test_macos_awdl_with_a_routable_address_is_still_airdrop():
    assert label(Interface("awdl0", "10.0.0.9", 24)).kind == VIRTUAL


@pytest.mark.fast
def test_linux_prefers_wifi_over_cable_and_names_the_other():
    addresses = label_all(LINUX)
    assert kinds(LINUX) == {
        "lo": LOOPBACK,
        "docker0": VIRTUAL,
        "br-1a2b3c4d5e6f": VIRTUAL,
        "virbr0": VIRTUAL,
        "vboxnet0": VIRTUAL,
        "tun0": VIRTUAL,
        "wg0": VIRTUAL,
        "tailscale0": VIRTUAL,
        "enp3s0": ETHERNET,
        "wlp2s0": WIFI,
    }
    assert addresses.suggested.name == "wlp2s0"
    assert "If that one fails, try 192.168.0.12 (enp3s0)" in addresses.advice()


@pytest.mark.parametrize(
    "name, kind",
    [("wlan0", WIFI), ("wlo1", WIFI), ("eth0", ETHERNET), ("eno1", ETHERNET), ("ens33", ETHERNET),
     ("enx00e04c680001", ETHERNET), ("docker0", VIRTUAL), ("veth1a2b3c", VIRTUAL),
     ("zt5u4y2abc", VIRTUAL), ("ppp0", VIRTUAL), ("mystery7", OTHER)],
)  # fmt: skip
@pytest.mark.fast
def test_linux_names(name, kind):
    assert label(Interface(name, "192.168.5.5", 24)).kind == kind


@pytest.mark.fast
def test_only_a_cable_is_suggested_when_there_is_no_wifi():
    addresses = label_all([Interface("lo", "127.0.0.1", 8), Interface("eth0", "10.0.0.5", 8)])
    assert addresses.suggested.name == "eth0"


@pytest.mark.fast
def test_no_suggestion_without_a_network_says_to_connect():
    addresses = label_all(
        [
            Interface("lo", "127.0.0.1", 8),
            Interface("docker0", "172.17.0.1", 16),
            Interface("Wi-Fi", "169.254.3.3", 16),  # Wi-Fi that got no address
        ]
    )
    assert addresses.suggested is None
    assert "connect this laptop to the same Wi-Fi" in addresses.advice()


@pytest.mark.fast
def test_private_address_preferred_over_public_on_two_wifis():
    addresses = label_all(
        [Interface("wlan0", "145.97.3.7", 24), Interface("wlan1", "192.168.8.20", 24)]
    )
    assert addresses.suggested.name == "wlan1"


@pytest.mark.fast
def test_network_of_finds_the_adapter_on_the_same_subnet():
    addresses = label_all(WINDOWS)
    assert addresses.network_of("10.20.30.1").name == "Wi-Fi"  # 10.20.28.0/22
    assert addresses.network_of("127.0.0.1").kind == LOOPBACK
    assert addresses.network_of("192.168.1.50") is None
    assert addresses.network_of("not an address") is None


@pytest.mark.fast
def test_table_marks_the_suggestion_and_lists_every_address():
    text = str(label_all(LINUX))
    lines = text.splitlines()
    assert lines[0].split() == ["Interface", "IPv4", "address", "What", "it", "is"]
    (marked,) = [line for line in lines if "give this one to your partner" in line]
    assert marked.startswith("wlp2s0") and "192.168.0.57/24" in marked
    assert all(iface.ip in text for iface in LINUX)


@pytest.mark.fast
def test_html_table_escapes_and_bolds_the_suggestion():
    html = label_all([Interface("<b>", "127.0.0.1", 8), Interface("en0", "10.0.0.2", 24)])
    page = html._repr_html_()
    assert "&lt;b&gt;" in page and "<b>" not in page
    assert '<tr style="font-weight:bold"><td>en0</td>' in page


@pytest.mark.fast
def test_wsl_is_recognised_from_the_kernel_release():
    assert running_in_wsl("5.15.153.1-microsoft-standard-WSL2")
    assert not running_in_wsl("6.1.0-18-amd64")


def test_wsl_addresses_say_a_partner_cannot_reach_them():
    inside = label_all([Interface("eth0", "172.28.1.5", 20)], in_wsl=True)
    assert "runs inside WSL" in str(inside) and "runs inside WSL" in inside._repr_html_()
    assert "WSL" not in str(label_all([Interface("eth0", "172.28.1.5", 20)]))
    assert find_my_ipv4().in_wsl == running_in_wsl()


def test_this_machine_lists_its_loopback_without_sending():
    found = read_interfaces()
    assert any(i.ip == "127.0.0.1" for i in found)
    assert all(i.ip.count(".") == 3 for i in found)  # IPv4 only
    assert isinstance(label_all(found), AddressList)


@pytest.mark.fast
def test_without_ifaddr_the_student_is_told_what_to_install(monkeypatch):
    from labsock.logic.errors import LabsockError

    monkeypatch.setitem(sys.modules, "ifaddr", None)  # makes `import ifaddr` fail
    with pytest.raises(LabsockError, match="pip install -r requirements.txt"):
        read_interfaces()
