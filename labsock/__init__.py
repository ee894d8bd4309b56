"""labsock: socket programming labs in Jupyter.

    import labsock
    server = labsock.serve_udp(port=12000, reply="upper")
    labsock.send_udp("hello", port=12000)      # -> 'HELLO'
    server.stop()

Only the standard library is imported here; widgets and plots load when first used.
"""

from .clients import Reply, send, send_tcp, send_udp
from .errors import LabsockError
from .log import Message, MessageLog
from .replies import alnum, echo, upper
from .servers import TCPServer, UDPServer, running_servers, serve_tcp, serve_udp, stop_all


def message_box(proto="udp", host="127.0.0.1", port=12000, **options):
    """A Text box and a Send button that send to a server (widget twin of send_udp/send_tcp)."""
    from .views import message_box as make

    return make(proto, host, port, **options)


__all__ = [
    "LabsockError",
    "Message",
    "MessageLog",
    "Reply",
    "TCPServer",
    "UDPServer",
    "alnum",
    "echo",
    "message_box",
    "running_servers",
    "send",
    "send_tcp",
    "send_udp",
    "serve_tcp",
    "serve_udp",
    "stop_all",
    "upper",
]
