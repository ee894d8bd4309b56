import pytest

from labsock.logic.errors import LabsockError
from labsock.logic.replies import alnum, as_reply_bytes, reply_function, upper

pytestmark = pytest.mark.fast  # no sockets, threads or processes: pytest -m fast


def test_upper_and_alnum():
    assert upper("Hello, world") == "HELLO, WORLD"
    assert alnum("Hello, World 42!") == "12 alphanumeric: HelloWorld42"
    assert alnum("¡Olé! ж 7") == "5 alphanumeric: Oléж7"
    assert alnum("!!!") == "0 alphanumeric: "


def test_reply_by_name_and_by_function():
    assert reply_function("upper") is upper
    assert reply_function(" ALNUM ") is alnum

    def shout(text):
        return text + "!"

    assert reply_function(shout) is shout
    assert reply_function("none")("x") is None


@pytest.mark.parametrize("bad", ["uppercase", 42, ["upper"]])
def test_unknown_reply_names_the_choices(bad):
    with pytest.raises(LabsockError, match="upper"):
        reply_function(bad)


def test_reply_values_become_bytes():
    assert as_reply_bytes("é") == "é".encode()
    assert as_reply_bytes(b"\xff") == b"\xff"
    assert as_reply_bytes(37) == b"37"
    assert as_reply_bytes(None) is None
