"""What a student's program says, read from its source: the lines an explanation can point at.

A hint that names the student's own line and variables ("serverSocket listens at line 4")
teaches more than one with the textbook's names. These functions read the program's source
(never run it) and answer small questions: which socket call is on this line, where is this name
set, does a loop send for ever without a pause. Code that does not parse answers None.
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass

SOCKET_CALLS = (
    "sendto", "send", "sendall", "recvfrom", "recv", "listen", "accept", "connect", "bind",
)  # fmt: skip
WAITING_CALLS = ("recvfrom", "recv", "accept")  # a server blocks in these
SENDING_CALLS = ("sendto", "send", "sendall")


@dataclass(frozen=True)
class Call:
    """A method call on one line, e.g. serverSocket.sendto(reply, clientAddress)."""

    receiver: str  # the object's text: serverSocket
    method: str  # sendto
    arguments: tuple[str, ...]  # the arguments' text: ("reply", "clientAddress")
    line: int


@dataclass(frozen=True)
class Line:
    """A line of the program: its number and its text (stripped)."""

    number: int
    text: str

    def __str__(self) -> str:
        return f"line {self.number}: `{self.text}`"


def _tree(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def _text(source: str, node: ast.AST) -> str:
    return _segment(source, node) or ast.unparse(node)


def _segment(source: str, node: ast.AST) -> str | None:
    """ast.get_source_segment, with the source's lines split once: it splits them again for
    each node, and a cell's every call is read before the cell runs (warn_plain_server), which
    made a 100-line cell wait over a second."""
    end_line, end_col = getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)
    if end_line is None or end_col is None:
        return None
    lines = _source_lines(source)
    first, last = node.lineno - 1, end_line - 1
    if last >= len(lines):
        return None
    # Columns count UTF-8 bytes.
    if first == last:
        return lines[first].encode()[node.col_offset : end_col].decode()
    head = lines[first].encode()[node.col_offset :].decode()
    return head + "".join(lines[first + 1 : last]) + lines[last].encode()[:end_col].decode()


# ast's own line ends: \r\n, \r or \n (not str.splitlines' \f or \u2028, which ast does not count).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


@functools.lru_cache(maxsize=16)
def _source_lines(source: str) -> list[str]:
    return _LINE.findall(source)


def _method_calls(source: str, tree: ast.AST, *, run_now: bool = False):
    """Every obj.method(...) call; run_now: only those the code runs as it runs (not the ones
    inside a def, a lambda or a class, which run only when called)."""
    for node in _walk(tree, skip=_DEFINITIONS if run_now else ()):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            yield Call(
                receiver=_text(source, node.func.value),
                method=node.func.attr,
                arguments=tuple(_text(source, a) for a in node.args),
                line=node.lineno,
            )


def is_simple(expression: str) -> bool:
    """True when `expression.encode()` reads right without brackets (a name, a call, 'text')."""
    tree = _tree(expression)
    if tree is None or len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return False
    simple = (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Constant, ast.JoinedStr)
    return isinstance(tree.body[0].value, simple)


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _walk(tree: ast.AST, skip: tuple = ()):
    """ast.walk, without going into the nodes of the kinds in skip."""
    waiting = [tree]
    while waiting:
        node = waiting.pop()
        yield node
        waiting.extend(c for c in ast.iter_child_nodes(node) if not isinstance(c, skip))


def socket_call_at(source: str, line: int) -> Call | None:
    """The socket call (sendto, recvfrom, listen...) on this line, if there is one."""
    return method_call_at(source, line, SOCKET_CALLS)


def method_call_at(source: str, line: int, methods: tuple[str, ...]) -> Call | None:
    """The call of one of these methods on this line, if there is one."""
    tree = _tree(source)
    if tree is None:
        return None
    for call in _method_calls(source, tree):
        if call.line == line and call.method in methods:
            return call
    return None


def line_of(source: str, number: int) -> Line | None:
    lines = source.splitlines()
    if not 0 < number <= len(lines):
        return None
    return Line(number, lines[number - 1].strip())


def assignment_of(source: str, name: str) -> Line | None:
    """The line that sets `name` (its first top-level `name = ...`), e.g. serverPort = 12000."""
    tree = _tree(source)
    if tree is None:
        return None
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else []
        for target in targets:
            names = target.elts if isinstance(target, ast.Tuple) else [target]
            if any(isinstance(n, ast.Name) and n.id == name for n in names):
                return line_of(source, node.lineno)
    return None


def calls_in(source: str) -> list[Call]:
    """Every obj.method(...) call of the program, in the order of its lines."""
    tree = _tree(source)
    return [] if tree is None else sorted(_method_calls(source, tree), key=lambda c: c.line)


def calls_on(source: str, receiver: str, method: str) -> Line | None:
    """The first line that calls receiver.method(...), e.g. serverSocket.listen(1)."""
    tree = _tree(source)
    if tree is None:
        return None
    for call in sorted(_method_calls(source, tree), key=lambda c: c.line):
        if call.receiver == receiver and call.method == method:
            return line_of(source, call.line)
    return None


def accepted_into(source: str, name: str) -> bool:
    """True if `name` is set from an accept() (connectionSocket, addr = serverSocket.accept())."""
    tree = _tree(source)
    if tree is None:
        return False
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
            continue
        func = node.value.func
        if isinstance(func, ast.Attribute) and func.attr == "accept":
            for target in node.targets:
                names = target.elts if isinstance(target, ast.Tuple) else [target]
                if any(isinstance(n, ast.Name) and n.id == name for n in names):
                    return True
    return False


def port_line(source: str, call: Call) -> Line | None:
    """The line that chose the port of a bind/connect/sendto call: `serverPort = 12000` when the
    address is (host, serverPort), else the call's own line (a port written in the call)."""
    return address_line(source, call.arguments[-1] if call.arguments else "", call.line)


def address_line(source: str, address: str, line: int) -> Line | None:
    """The line that chose the port in `address`, the text of an address (host, port) or of a
    port alone: the line that sets the name it is (`serverPort = 12000`), else `line`."""
    tree = _tree(address)
    if tree is not None and tree.body and isinstance(tree.body[0], ast.Expr):
        value = tree.body[0].value
        if isinstance(value, ast.Tuple) and len(value.elts) == 2:
            port = value.elts[1]
            if isinstance(port, ast.Name):
                found = assignment_of(source, port.id)
                if found is not None:
                    return found
        elif isinstance(value, ast.Name):  # bind(address) with address = ('', 12000)
            found = assignment_of(source, value.id)
            if found is not None:
                return found
    return line_of(source, line)


def _is_true(test: ast.expr) -> bool:
    return isinstance(test, ast.Constant) and bool(test.value) and test.value is not None


def _called(node: ast.AST, names: tuple[str, ...]) -> bool:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call):
            func = inner.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in names:
                return True
    return False


@dataclass(frozen=True)
class EndlessLoop:
    """A `while True:` loop that sends and has no break: it never ends."""

    line: Line
    pauses: bool  # it calls sleep: slow, but still for ever


def endless_sending_loop(source: str) -> EndlessLoop | None:
    """The `while True:` loop that sends and never ends (no break), if the program has one."""
    tree = _tree(source)
    if tree is None:
        return None
    for node in sorted(_walk(tree), key=lambda n: getattr(n, "lineno", 0)):
        if (
            isinstance(node, ast.While)
            and _is_true(node.test)
            and _called(node, SENDING_CALLS)
            and not any(isinstance(inner, ast.Break) for inner in ast.walk(node))
        ):
            return EndlessLoop(line_of(source, node.lineno), _called(node, ("sleep",)))
    return None


@dataclass(frozen=True)
class BlockingServer:
    """A server written in a plain cell: where it waits, and its protocol."""

    waits: Line
    proto: str  # "udp" or "tcp"


def blocking_server(source: str) -> BlockingServer | None:
    """A program that binds a socket and then waits in recvfrom/accept/recv with no timeout:
    run in the kernel itself, it freezes the notebook until Interrupt."""
    tree = _tree(source)
    if tree is None:
        return None
    calls = sorted(_method_calls(source, tree, run_now=True), key=lambda c: c.line)
    # socketserver and socket.create_server bind inside the library (a server made there).
    if not any(c.method == "bind" for c in calls) and not _makes_a_server(source, tree):
        return None
    if any(c.method in ("settimeout", "setblocking") for c in calls):
        return None  # it may well return: no warning that could be wrong
    for call in calls:
        if call.method in WAITING_CALLS or call.method in SERVING_CALLS:
            udp = call.method == "recvfrom" or "SOCK_DGRAM" in source or "UDPServer" in source
            return BlockingServer(line_of(source, call.line), "udp" if udp else "tcp")
    return None


# socketserver's: they wait for clients as accept and recvfrom do.
SERVING_CALLS = ("serve_forever", "handle_request")


@dataclass(frozen=True)
class ServerCall:
    """A library call that binds a server's port for the program, e.g.
    `server = socketserver.TCPServer((HOST, PORT), Handler)` or `asyncio.start_server(...)`."""

    callee: str  # its text: socketserver.TCPServer, asyncio.start_server, loop.create_server
    kind: str  # "socketserver", "create_server" (socket's), "asyncio"
    target: str | None  # the name it is kept in (server), if one
    port: Line | None  # the line that chose the port
    line: int


ASYNCIO_SERVERS = ("start_server", "create_datagram_endpoint")


def server_call_at(source: str, line: int) -> ServerCall | None:
    """The socketserver, socket.create_server or asyncio call on this line (a call written on
    several lines: the one that begins nearest above it), if there is one."""
    tree = _tree(source)
    if tree is None:
        return None
    classes = _server_classes(tree)
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and node.lineno <= line <= (node.end_lineno or node.lineno)
    ]
    found = (_server_call(source, tree, classes, node) for node in sorted(calls, key=_last_first))
    return next(filter(None, found), None)


def first_server_call(source: str) -> ServerCall | None:
    """The program's first socketserver, socket.create_server or asyncio server call."""
    tree = _tree(source)
    if tree is None:
        return None
    classes = _server_classes(tree)
    calls = sorted((node for node in ast.walk(tree) if isinstance(node, ast.Call)), key=_line)
    return next(filter(None, (_server_call(source, tree, classes, node) for node in calls)), None)


def _makes_a_server(source: str, tree: ast.Module) -> bool:
    """Does the program itself (not a function it only defines) make a library server?"""
    classes = _server_classes(tree)
    calls = (node for node in _walk(tree, skip=_DEFINITIONS) if isinstance(node, ast.Call))
    return any(_server_call(source, tree, classes, node) for node in calls)


def _line(node: ast.AST) -> int:
    return node.lineno


def _last_first(node: ast.AST) -> int:
    return -node.lineno


def _server_call(source: str, tree: ast.Module, classes: set, node: ast.Call) -> ServerCall | None:
    """The call as a library server it makes, or None: one tree, read once by the caller (a
    cell's every call is asked about before it runs)."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name == "create_server":
        receiver = _text(source, func.value) if isinstance(func, ast.Attribute) else ""
        kind = "create_server" if receiver in ("", "socket") else "asyncio"
    elif name in ASYNCIO_SERVERS:
        kind = "asyncio"
    elif name.endswith("Server") or name in classes:
        kind = "socketserver"
    else:
        return None
    address = _address_argument(node, kind)
    text = _text(source, address) if address is not None else ""
    return ServerCall(
        callee=_text(source, func),
        kind=kind,
        target=_kept_in(tree, node),
        port=address_line(source, text, node.lineno),
        line=node.lineno,
    )


def _server_classes(tree: ast.AST) -> set[str]:
    """The program's own classes made from a socketserver server (class Echo(TCPServer))."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
                if name.endswith("Server"):
                    found.add(node.name)
    return found


def _address_argument(node: ast.Call, kind: str) -> ast.expr | None:
    """The argument that holds the port: an address (host, port), or, for asyncio's servers,
    the port itself (loop.create_server(factory, host, port))."""
    keywords = {k.arg: k.value for k in node.keywords if k.arg}
    if kind == "asyncio":
        if "local_addr" in keywords:
            return keywords["local_addr"]
        return keywords.get("port", node.args[2] if len(node.args) > 2 else None)
    named = keywords.get("server_address", keywords.get("address"))
    return named if named is not None else (node.args[0] if node.args else None)


def _kept_in(tree: ast.AST, call: ast.Call) -> str | None:
    """The name the call's result is kept in: `server = ...`, `server = await ...`,
    `with ... as server`, `transport, protocol = await ...` (the first)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            value, target = node.value, node.targets[0]
        elif isinstance(node, ast.withitem):
            value, target = node.context_expr, node.optional_vars
        else:
            continue
        if isinstance(value, ast.Await):
            value = value.value
        if value is not call:
            continue
        if isinstance(target, ast.Tuple) and target.elts:
            target = target.elts[0]
        return target.id if isinstance(target, ast.Name) else None
    return None
