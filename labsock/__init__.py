"""labsock: socket programming labs in Jupyter.

    import labsock
    server = labsock.serve_udp(port=12000, reply="upper")
    labsock.send_udp("hello", port=12000)      # -> 'HELLO'
    server.stop()

Every name a notebook or the README uses is here, as labsock.NAME. Each loads on first use (a
module __getattr__ reads the table below), so `import labsock` imports nothing but this file, and
a cell pays only for what it uses: widgets and plots load when first drawn.

The package's folders are its layers, each importing only from those below it:
cli -> lessons -> show -> net -> logic (this file sits above them all).
"""

import sys

# Public name -> the module that defines it, layer by layer.
_WHERE = {
    # logic: pure, no sockets
    "LabsockError": "labsock.logic.errors",
    "what_error_means": "labsock.logic.errors",
    "upper": "labsock.logic.replies",
    "alnum": "labsock.logic.replies",
    "echo": "labsock.logic.replies",
    "Impairment": "labsock.logic.impairment",
    "PRESETS": "labsock.logic.impairment",
    "SequenceTracker": "labsock.logic.sequence",
    "frame_line": "labsock.logic.framing",
    "frame_length_prefixed": "labsock.logic.framing",
    "LineSplitter": "labsock.logic.framing",
    "LengthSplitter": "labsock.logic.framing",
    "Interface": "labsock.logic.address_labels",
    "label_all": "labsock.logic.address_labels",
    # net: sockets, threads
    "running": "labsock.net.lifecycle",  # everything labsock runs, of every kind
    "stop_all": "labsock.net.lifecycle",
    "UDPServer": "labsock.net.servers",
    "TCPServer": "labsock.net.tcp_server",
    "serve_udp": "labsock.net.servers",
    "serve_tcp": "labsock.net.tcp_server",
    "running_servers": "labsock.net.servers",
    "Message": "labsock.net.log",
    "MessageLog": "labsock.net.log",
    "Reply": "labsock.net.clients",
    "send": "labsock.net.clients",
    "send_udp": "labsock.net.clients",
    "send_tcp": "labsock.net.clients",
    "CountingClient": "labsock.net.counting",
    "start_counting": "labsock.net.counting",
    "stop_counting": "labsock.net.counting",
    "running_counters": "labsock.net.counting",
    "UDPRelay": "labsock.net.relay",
    "relay_udp": "labsock.net.relay",
    "running_relays": "labsock.net.relay",
    "TCPSlicer": "labsock.net.tcp_slicer",
    "slice_tcp": "labsock.net.tcp_slicer",
    "ping": "labsock.net.ping",
    "preflight": "labsock.net.preflight",
    "find_my_ipv4": "labsock.net.addresses",
    "WebServer": "labsock.net.web_server",
    "serve_web": "labsock.net.web_server",
    "http_get": "labsock.net.web_client",
    "browse": "labsock.net.web_client",
    # net: students' own programs, each run as its own process and watched
    "Job": "labsock.net.programs.job",
    "background": "labsock.net.programs.run",
    "run_client": "labsock.net.programs.run",
    "job": "labsock.net.programs.job",
    "jobs": "labsock.net.programs.job",
    "running_jobs": "labsock.net.programs.job",
    "stop_jobs": "labsock.net.programs.job",
    # show: widgets, views, plots
    "watch": "labsock.show.views",
    "message_box": "labsock.show.views",
    "counting_view": "labsock.show.counting_view",
    "counting_report": "labsock.show.counting_view",
    "ClientControls": "labsock.show.counting_view",
    "plot_pings": "labsock.show.pings",
    "ping_flow": "labsock.show.flow",
    "relay_flow": "labsock.show.flow",
    "flow_from_logs": "labsock.show.flow",
    "web_exchanges": "labsock.show.web_view",
    "web_link": "labsock.show.web_view",
    # lessons: one task's helpers
    "try_reverse_words": "labsock.lessons.exercises",
    "your_code_here": "labsock.lessons.exercises",  # what an exercise's stub calls
    # lessons: self-checks of students' running programs, and their answer as data
    "Checklist": "labsock.lessons.checklist",
    "Point": "labsock.lessons.checklist",
    "ChecklistFailed": "labsock.lessons.checklist",
    "check_server": "labsock.lessons.self_check",
    "check_udp_server": "labsock.lessons.self_check",
    "check_tcp_server": "labsock.lessons.self_check",
    "check_printing_server": "labsock.lessons.self_check",
    "check_counting_clients": "labsock.lessons.self_check",
    "check_counting_server": "labsock.lessons.self_check",
    "check_pinger": "labsock.lessons.self_check",
    "check_framed_server": "labsock.lessons.self_check",
    "check_typing_client": "labsock.lessons.self_check",
    "check_web_server": "labsock.lessons.web_check",
    "check_two_at_once": "labsock.lessons.web_check",
    "address_box": "labsock.lessons.address_box",
    "server_panel": "labsock.lessons.lan_widgets",
    "client_panel": "labsock.lessons.lan_widgets",
    "serve_for_partner": "labsock.lessons.partner",
    "sharing": "labsock.lessons.partner",
    "assess_destination": "labsock.lessons.partner",
    "send_to_partner": "labsock.lessons.partner",
    "compare_with_relay": "labsock.lessons.ground_truth",
    "through_slicer": "labsock.lessons.tcp_lesson",
    "udp_vs_tcp": "labsock.lessons.tcp_lesson",
}

__all__ = sorted(_WHERE)


def __getattr__(name):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'labsock' has no attribute {name!r}")
    value = getattr(__import__(module, fromlist=[name]), name)
    globals()[name] = value  # from now on a plain attribute: no call, no look-up in the table
    return value


def __dir__():
    return sorted(set(globals()) | set(_WHERE))


def load_ipython_extension(ipython) -> None:
    """`%load_ext labsock` (and `import labsock` in IPython): %%background and %%client, and
    the buttons under an error that names a way out."""
    from labsock.show.error_buttons import register as show_ways_out
    from labsock.show.magics import register

    register(ipython)
    show_ways_out(ipython)
    from labsock.lessons.checklist import grade_cells

    grade_cells(ipython)  # only under nbgrader's autograde (LABSOCK_GRADE_CELLS)


def _show_in_jupyter() -> None:
    # In Jupyter the network layer's results (a log, a relay, a ping run) show as HTML tables.
    if "IPython" in sys.modules:  # never imported here: outside IPython this costs nothing
        from labsock.show.as_html import show_in_jupyter

        show_in_jupyter()
        shell = sys.modules["IPython"].get_ipython()
        if shell is not None:
            load_ipython_extension(shell)


_show_in_jupyter()
