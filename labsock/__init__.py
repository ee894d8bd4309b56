"""labsock: socket programming labs in Jupyter.

    import labsock
    server = labsock.serve_udp(port=12000, reply="upper")
    labsock.send_udp("hello", port=12000)      # -> 'HELLO'
    server.stop()

Only the standard library is imported here; widgets and plots load when first used.
"""

import sys

from labsock.lessons.exercises import your_code_here  # what an exercise's stub calls
from labsock.logic.errors import LabsockError
from labsock.logic.replies import alnum, echo, upper
from labsock.net.clients import Reply, send, send_tcp, send_udp
from labsock.net.log import Message, MessageLog
from labsock.net.servers import TCPServer, UDPServer, running_servers, serve_tcp, serve_udp

# Task 3's counting client loads on first use: most cells never need it, and every module
# imported here adds to the time `import labsock` takes.
_LATER = {"CountingClient", "start_counting", "stop_counting"}
# Students' own programs, each run as its own process (labsock/net/programs).
_PROGRAMS = {"background", "run_client", "job", "jobs", "stop_jobs", "Job"}
# Self-checks of students' running programs (labsock/lessons/self_check.py).
_CHECKS = {
    "check_server",
    "check_udp_server",
    "check_tcp_server",
    "check_printing_server",
    "check_counting_clients",
    "check_counting_server",
    "check_pinger",
}


def __getattr__(name):
    if name in _LATER:
        from labsock.net import counting

        return getattr(counting, name)
    if name in _PROGRAMS:
        from labsock.net.programs import job

        return getattr(job, name)
    if name in _CHECKS:
        from labsock.lessons import self_check

        return getattr(self_check, name)
    if name == "check_reverse_words":
        from labsock.lessons import exercises

        return exercises.check_reverse_words
    raise AttributeError(f"module 'labsock' has no attribute {name!r}")


def stop_all() -> None:
    """Stop every server and every program of yours that this notebook started."""
    from labsock.net import servers

    servers.stop_all()
    if "labsock.net.programs.job" in sys.modules:
        sys.modules["labsock.net.programs.job"].stop_jobs()


def load_ipython_extension(ipython) -> None:
    """`%load_ext labsock`: the cell magics %%background and %%client."""

    def background(line, cell):
        from labsock.show import magics

        return magics.background(line, cell)

    def client(line, cell):
        from labsock.show import magics

        return magics.client(line, cell)

    background.__doc__ = "%%background NAME: run this cell as its own program, in the background."
    client.__doc__ = "%%client NAME [--type LINE]: run this cell as its own program, to its end."
    ipython.register_magic_function(background, "cell", "background")
    ipython.register_magic_function(client, "cell", "client")


def _register_in_ipython() -> None:
    # Only where IPython is already loaded: importing it here would slow every `import labsock`.
    if "IPython" in sys.modules:
        shell = sys.modules["IPython"].get_ipython()
        if shell is not None:
            load_ipython_extension(shell)


_register_in_ipython()


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
    "background",
    "run_client",
    "job",
    "jobs",
    "stop_counting",
    "upper",
    "your_code_here",
]
