import pytest

from labsock.logic.errors import LabsockError
from labsock.logic.validation import validate_host, validate_port

pytestmark = pytest.mark.fast  # no sockets, threads or processes: pytest -m fast


@pytest.mark.parametrize("port", [0, 1, 12000, "12000", " 80 ", 65535])
def test_ports_a_server_accepts(port):
    assert validate_port(port, allow_zero=True) == int(str(port).strip())


@pytest.mark.parametrize(
    "port", [-1, 65536, 99999, "abc", "12 000", 12.5, None, True, "", [1], "²", "١٢"]
)
def test_bad_ports_name_the_fix(port):
    with pytest.raises(LabsockError, match="whole number from 0 to 65535"):
        validate_port(port, allow_zero=True)


def test_destination_port_cannot_be_zero():
    with pytest.raises(LabsockError, match="from 1 to 65535"):
        validate_port(0)


@pytest.mark.parametrize("host", ["127.0.0.1", " 10.0.0.7 ", "localhost", "my-laptop.local"])
def test_hosts_accepted(host):
    assert validate_host(host) == host.strip()


@pytest.mark.parametrize(
    ("host", "advice"),
    [
        ("256.1.1.1", "four numbers from 0 to 255"),
        ("192.168.1", "four numbers from 0 to 255"),
        ("1.2.3.4.5", "four numbers from 0 to 255"),
        ("127.0.0.1:12000", "without :12000; give the port on its own, as port=12000"),
        ("http://127.0.0.1", "without http://"),
        ("::1", "IPv4"),
        ("my laptop", "no spaces"),
        ("", "not an address"),
        (None, "not an address"),
        (12000, "not an address"),
    ],
)
def test_bad_hosts_name_the_fix(host, advice):
    with pytest.raises(LabsockError, match=advice):
        validate_host(host)


def test_any_address_is_for_servers_only():
    assert validate_host("0.0.0.0", purpose="server") == "0.0.0.0"
    with pytest.raises(LabsockError, match="cannot send to it"):
        validate_host("0.0.0.0", purpose="destination")
