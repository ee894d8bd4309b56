"""labsock: socket programming labs in Jupyter.

    import labsock
    server = labsock.serve_udp(port=12000, reply="upper")
    labsock.send_udp("hello", port=12000)      # -> 'HELLO'
    server.stop()

Only the standard library is imported here; widgets and plots load when first used.
"""

from labsock.logic.errors import LabsockError
from labsock.logic.replies import alnum, echo, upper
from labsock.net.clients import Reply, send, send_tcp, send_udp
from labsock.net.lifecycle import stop_all
from labsock.net.log import Message, MessageLog
from labsock.net.servers import UDPServer, running_servers, serve_udp

# Task 3's counting client and the TCP server load on first use: most cells never need them,
# and every module imported here adds to the time `import labsock` takes.
_LATER = {
    "CountingClient": "labsock.net.counting",
    "start_counting": "labsock.net.counting",
    "stop_counting": "labsock.net.counting",
    "TCPServer": "labsock.net.tcp_server",
    "serve_tcp": "labsock.net.tcp_server",
}


def __getattr__(name):
    if name in _LATER:
        import importlib

        return getattr(importlib.import_module(_LATER[name]), name)
    raise AttributeError(f"module 'labsock' has no attribute {name!r}")


def counting_view(server, names=None, *, clients=(), **options):
    """Task 3's live view of a server: latest messages by sender, and a per-client table."""
    from labsock.show.counting_view import counting_view as make

    return make(server, names, clients=clients, **options)


def counting_report(server, names=None):
    """What a server received from counting clients: table, picture (plot) and check."""
    from labsock.show.counting_view import counting_report as make

    return make(server, names)


def message_box(proto="udp", host="127.0.0.1", port=12000, **options):
    """A Text box and a Send button that send to a server (widget twin of send_udp/send_tcp)."""
    from labsock.show.views import message_box as make

    return make(proto, host, port, **options)


__all__ = [
    "CountingClient",
    "LabsockError",
    "Message",
    "MessageLog",
    "Reply",
    "TCPServer",
    "UDPServer",
    "alnum",
    "counting_report",
    "counting_view",
    "echo",
    "message_box",
    "running_servers",
    "send",
    "send_tcp",
    "send_udp",
    "serve_tcp",
    "serve_udp",
    "start_counting",
    "stop_all",
    "stop_counting",
    "upper",
]
