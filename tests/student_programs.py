"""Students' programs, right and wrong, and what each self-check must say to them.

Each Case is one program (or pair of clients) a student could write for one self-check, and the
verdict the check owes it: "pass" for a right program, or the point that must fail (the start of
its `what`) for a wrong one, with a word its hint must hold. Right programs differ the way
students' do (`from socket import *` or `import socket`, prints, paces, sendall, bind '' or
'127.0.0.1'); wrong ones are the mistakes students make. tests/test_self_check_programs.py runs
every case, and `python -m tests.self_check_table` prints the table of verdicts.

Programs are format strings: {port} is the port the check looks at, {bind} a counting client's
own port; doubled braces are the program's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from labsock.lessons.exercises import STUB
from tests import textbook

PASS = "pass"


@dataclass(frozen=True)
class Case:
    check: str  # the self-check's name in labsock
    name: str  # what the program does, in a few words
    program: str  # the student's program (for the counting checks: the code of c1 and c2)
    expect: str = PASS  # PASS, or the start of the point that must fail first
    hint: str = ""  # a word the failing point's hint must hold
    options: dict = field(default_factory=dict)  # for the scenario (a pace, a relay's loss...)

    @property
    def right(self) -> bool:
        return self.expect == PASS

    @property
    def id(self) -> str:
        return f"{self.check}: {self.name}"


# -- UDP and TCP servers ---------------------------------------------------------------------

UDP_TEXTBOOK = textbook.UDP_SERVER

UDP_IMPORT_SOCKET = """\
import socket
server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server.bind(('', {port}))
while True:
    data, address = server.recvfrom(1024)
    text = data.decode('utf-8')
    print(address, text)
    server.sendto(text.upper().encode('utf-8'), address)
"""

UDP_WITH_BLOCK = """\
import socket
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.bind(('127.0.0.1', {port}))
    while 1:
        message, client = s.recvfrom(4096)
        reply = bytes(str.upper(message.decode()), 'utf-8')
        s.sendto(reply, client)
        print('answered', client[1])
"""


def udp_server_with(line: str) -> str:
    """The textbook UDP server with its reply line changed."""
    return UDP_TEXTBOOK.replace("modifiedMessage = message.decode().upper()", line)


UDP_SERVERS = [
    Case("check_udp_server", "textbook (from socket import *)", UDP_TEXTBOOK),
    Case("check_udp_server", "import socket, bind '', prints each message", UDP_IMPORT_SOCKET),
    Case("check_udp_server", "with-block, while 1, bytes(str.upper(...))", UDP_WITH_BLOCK),
    Case(
        "check_udp_server",
        "forgets to change the text (echo)",
        udp_server_with("modifiedMessage = message.decode()"),
        "'input lowercase sentence' comes back as",
        "The reply was 'input lowercase sentence'",
    ),
    Case(
        "check_udp_server",
        "upper() on the bytes (ASCII letters only)",
        UDP_TEXTBOOK.replace(
            "modifiedMessage = message.decode().upper()\n"
            "    serverSocket.sendto(modifiedMessage.encode(), clientAddress)",
            "serverSocket.sendto(message.upper(), clientAddress)",
        ),
        "text beyond ASCII",
        "GRüßE",
    ),
    Case(
        "check_udp_server",
        "decodes as ASCII, ignoring the rest",
        udp_server_with("modifiedMessage = message.decode('ascii', 'ignore').upper()"),
        "text beyond ASCII",
        "decode",
    ),
    Case(
        "check_udp_server",
        "adds 'From server: ' to the reply",
        udp_server_with("modifiedMessage = 'From server: ' + message.decode().upper()"),
        "'input lowercase sentence' comes back as",
        "From server",
    ),
    Case(
        "check_udp_server",
        "capitalize() instead of upper()",
        udp_server_with("modifiedMessage = message.decode().capitalize()"),
        "'input lowercase sentence' comes back as",
        "Input lowercase sentence",
    ),
    Case(
        "check_udp_server",
        "answers one client, then ends (no loop)",
        UDP_TEXTBOOK.replace("while True:\n", "if True:\n"),
        "a second client",
        "ended",
    ),
    Case(
        "check_udp_server",
        "replies to the server's own port, not clientAddress",
        UDP_TEXTBOOK.replace(
            "modifiedMessage.encode(), clientAddress", "modifiedMessage.encode(), ('127.0.0.1', 9)"
        ),
        "'input lowercase sentence' comes back as",
        "clientAddress",
    ),
    Case(
        "check_udp_server",
        "recvfrom(16): long sentences cut",
        UDP_TEXTBOOK.replace("recvfrom(2048)", "recvfrom(16)"),
        "'input lowercase sentence' comes back as",
        "INPUT LOWERCASE ",
    ),
    Case(
        "check_udp_server",
        "sends a str (forgets encode): fails at the first message",
        UDP_TEXTBOOK.replace(
            "modifiedMessage.encode(), clientAddress", "modifiedMessage, clientAddress"
        ),
        "'input lowercase sentence' comes back as",
        "failed at line 9",
    ),
    Case(
        "check_udp_server",
        "binds another port",
        UDP_TEXTBOOK.replace("serverPort = {port}", "serverPort = {port} + 1"),
        "it listens on UDP port",
        "bind the server's socket to port",
    ),
    Case(
        "check_udp_server",
        "a TCP socket (SOCK_STREAM)",
        UDP_TEXTBOOK.replace("SOCK_DGRAM", "SOCK_STREAM"),
        # It fails at recvfrom, which it reaches as the check begins: a race which point
        # meets it first, "runs" (with the failure) or "listens" (with SOCK_DGRAM).
        "a program called udp_server runs|it listens on UDP port",
        "",
    ),
    Case(
        "check_udp_server",
        "the student version's stub",
        STUB,
        "a program called udp_server runs",
        "not written yet",
    ),
]

ALNUM_SOLUTION = """\
from socket import *
serverPort = {port}
serverSocket = socket(AF_INET, SOCK_DGRAM)
serverSocket.bind(('127.0.0.1', serverPort))
print("The alphanumeric server is ready")
while True:
    message, clientAddress = serverSocket.recvfrom(2048)
    sentence = message.decode()
    kept = ''.join(ch for ch in sentence if ch.isalnum())
    reply = str(len(kept)) + ' alphanumeric: ' + kept
    serverSocket.sendto(reply.encode(), clientAddress)
"""

ALNUM_FILTER = """\
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('', {port}))
while True:
    data, addr = s.recvfrom(2048)
    text = data.decode()
    count = sum(1 for c in text if c.isalnum())
    s.sendto(f"{{count}} alphanumeric: {{''.join(filter(str.isalnum, text))}}".encode(), addr)
"""

ALNUM_LOOP = """\
from socket import *
serverSocket = socket(AF_INET, SOCK_DGRAM)
serverSocket.bind(('127.0.0.1', {port}))
while True:
    message, clientAddress = serverSocket.recvfrom(2048)
    kept = ''
    for ch in message.decode():
        if ch.isalnum():
            kept += ch
    print(clientAddress, kept)
    serverSocket.sendto((str(len(kept)) + ' alphanumeric: ' + kept).encode(), clientAddress)
"""


def alnum_with(test: str) -> str:
    return ALNUM_SOLUTION.replace("if ch.isalnum()", f"if {test}")


ALNUM_SERVERS = [
    Case("check_udp_server alnum", "the notebook's solution", ALNUM_SOLUTION),
    Case("check_udp_server alnum", "sum() and filter(str.isalnum), f-string", ALNUM_FILTER),
    Case("check_udp_server alnum", "a for loop, prints what it kept", ALNUM_LOOP),
    Case(
        "check_udp_server alnum",
        "isalpha() (drops the digits)",
        alnum_with("ch.isalpha()"),
        "digits and punctuation",
        "HelloWorld",
    ),
    Case(
        "check_udp_server alnum",
        "ASCII letters and digits only",
        alnum_with("ch in string.ascii_letters + string.digits").replace(
            "from socket import *", "import string\nfrom socket import *"
        ),
        "text beyond ASCII",
        "ascii_letters",
    ),
    Case(
        "check_udp_server alnum",
        "keeps the spaces",
        alnum_with("ch.isalnum() or ch == ' '"),
        "'input lowercase sentence' comes back as",
        "input lowercase sentence",
    ),
    Case(
        "check_udp_server alnum",
        "drops only spaces and , . ! ?",
        alnum_with("ch not in ' ,.!?'"),
        "digits and punctuation",
        "(",
    ),
    Case(
        "check_udp_server alnum",
        "counts every character, not the kept ones",
        ALNUM_SOLUTION.replace("str(len(kept))", "str(len(sentence))"),
        "'input lowercase sentence' comes back as",
        "24 alphanumeric",
    ),
    Case(
        "check_udp_server alnum",
        "the count without the word 'alphanumeric:'",
        ALNUM_SOLUTION.replace("' alphanumeric: '", "' '"),
        "'input lowercase sentence' comes back as",
        "22 inputlowercasesentence",
    ),
]

TCP_TEXTBOOK = textbook.TCP_SERVER

TCP_KEEPS_CONNECTION = """\
import socket
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(('', {port}))
server.listen()
while True:
    conn, addr = server.accept()
    print('connection from', addr)
    while True:
        data = conn.recv(2048)
        if not data:
            break
        conn.sendall(data.decode().strip().upper().encode() + b'\\n')
    conn.close()
"""

TCP_WITH_BLOCKS = """\
from socket import socket, AF_INET, SOCK_STREAM
with socket(AF_INET, SOCK_STREAM) as listener:
    listener.bind(('127.0.0.1', {port}))
    listener.listen(5)
    while True:
        connection, client = listener.accept()
        with connection:
            text = connection.recv(4096).decode('utf-8')
            connection.sendall(text.upper().encode('utf-8'))
"""

TCP_SERVERS = [
    Case("check_tcp_server", "textbook", TCP_TEXTBOOK),
    Case(
        "check_tcp_server",
        "import socket, keeps the connection, sendall + newline",
        TCP_KEEPS_CONNECTION,
    ),  # fmt: skip
    Case("check_tcp_server", "with-blocks, listen(5), sendall", TCP_WITH_BLOCKS),
    Case(
        "check_tcp_server",
        "accept() before the loop: serves one client",
        """\
from socket import *
serverSocket = socket(AF_INET, SOCK_STREAM)
serverSocket.bind(('127.0.0.1', {port}))
serverSocket.listen(1)
connectionSocket, addr = serverSocket.accept()
while True:
    sentence = connectionSocket.recv(1024).decode()
    connectionSocket.send(sentence.upper().encode())
""",
        "a second client",
        "",
    ),
    Case(
        "check_tcp_server",
        "forgets listen()",
        TCP_TEXTBOOK.replace("serverSocket.listen(1)\n", ""),
        # It fails in accept, which it reaches as the check begins: either point may meet it.
        "a program called tcp_server runs|'input lowercase sentence' comes back as",
        "failed at line 7",
    ),
    Case(
        "check_tcp_server",
        "echo (forgets upper)",
        TCP_TEXTBOOK.replace("sentence.upper()", "sentence"),
        "'input lowercase sentence' comes back as",
        "The reply was 'input lowercase sentence'",
    ),
    Case(
        "check_tcp_server",
        "sends on the listening socket",
        TCP_TEXTBOOK.replace("connectionSocket.send(", "serverSocket.send("),
        "'input lowercase sentence' comes back as",
        "failed at line 11",
    ),
    Case(
        "check_tcp_server",
        "a UDP socket (SOCK_DGRAM)",
        TCP_TEXTBOOK.replace("SOCK_STREAM", "SOCK_DGRAM"),
        "a program called tcp_server runs",
        "failed",
    ),
    Case(
        "check_tcp_server alnum",
        "the alphanumeric reply over TCP",
        TCP_TEXTBOOK.replace(
            "capitalizedSentence = sentence.upper()",
            "kept = ''.join(c for c in sentence if c.isalnum())\n"
            "    capitalizedSentence = f'{{len(kept)}} alphanumeric: {{kept}}'",
        ),
    ),
    Case(
        "check_tcp_server alnum",
        "isalpha() over TCP",
        TCP_TEXTBOOK.replace(
            "capitalizedSentence = sentence.upper()",
            "kept = ''.join(c for c in sentence if c.isalpha())\n"
            "    capitalizedSentence = f'{{len(kept)}} alphanumeric: {{kept}}'",
        ),
        "digits and punctuation",
        "HelloWorld",
    ),
]

# -- the printing server and the typing client (Task 1, part 5) ------------------------------

PRINT_SOLUTION = """\
from socket import *
serverPort = {port}
serverSocket = socket(AF_INET, SOCK_DGRAM)
serverSocket.bind(('127.0.0.1', serverPort))
print("Waiting for messages")
while True:
    message, clientAddress = serverSocket.recvfrom(2048)
    print(clientAddress[1], 'says:', message.decode())
"""


def print_server_with(line: str) -> str:
    return PRINT_SOLUTION.replace("print(clientAddress[1], 'says:', message.decode())", line)


PRINTING_SERVERS = [
    Case("check_printing_server", "the notebook's solution", PRINT_SOLUTION),
    Case(
        "check_printing_server",
        "prints the whole address tuple, f-string",
        print_server_with("print(f'{{clientAddress}}: {{message.decode()}}')"),
    ),
    Case(
        "check_printing_server",
        "import socket, port on one line, message on the next",
        """\
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('', {port}))
while True:
    data, addr = s.recvfrom(1024)
    print('From port', addr[1])
    print(data.decode('utf-8'))
""",
    ),
    Case(
        "check_printing_server",
        "prints and also replies",
        print_server_with(
            "print('port', clientAddress[1], message.decode())\n"
            "    serverSocket.sendto(message.upper(), clientAddress)"
        ),
    ),
    Case(
        "check_printing_server",
        "prints nothing",
        print_server_with("pass"),
        "what a client sends shows in its output",
        "print(",
    ),
    Case(
        "check_printing_server",
        "prints the bytes (forgets decode)",
        print_server_with("print(clientAddress[1], message)"),
        "what a client sends shows in its output",
        "decode",
    ),
    Case(
        "check_printing_server",
        "prints the client's address, not its port",
        print_server_with("print(clientAddress[0], 'says:', message.decode())"),
        "the client's port shows with it",
        "clientAddress[1]",
    ),
    Case(
        "check_printing_server",
        "prints the server's own port",
        print_server_with("print(serverPort, 'says:', message.decode())"),
        "the client's port shows with it",
        "clientAddress[1]",
    ),
    Case(
        "check_printing_server",
        "prints one message, then ends (no loop)",
        PRINT_SOLUTION.replace("while True:\n", "if True:\n"),
        "a second message, from another client, shows too",
        "ended",
    ),
    Case(
        "check_printing_server",
        "binds another port",
        PRINT_SOLUTION.replace("serverPort = {port}", "serverPort = {port} + 1"),
        "it listens on UDP port",
        "bind the server's socket",
    ),
    Case(
        "check_printing_server",
        "the student version's stub",
        STUB,
        "a program called print_server runs",
        "not written yet",
    ),
]

TYPING_SOLUTION = """\
from socket import *
serverName = '127.0.0.1'
serverPort = {port}
clientSocket = socket(AF_INET, SOCK_DGRAM)
while True:
    message = input('Message: ')
    clientSocket.sendto(message.encode(), (serverName, serverPort))
"""

TYPING_CLIENTS = [
    Case("check_typing_client", "the notebook's solution", TYPING_SOLUTION),
    Case(
        "check_typing_client",
        "import socket, '> ' prompt, bytes(line, 'utf-8'), 'localhost'",
        """\
import socket
client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    line = input('> ')
    client.sendto(bytes(line, 'utf-8'), ('localhost', {port}))
    print('sent', len(line), 'characters')
""",
    ),
    Case(
        "check_typing_client",
        "a new socket per message, 'quit' ends it",
        """\
from socket import *
while True:
    text = input()
    if text == 'quit':
        break
    with socket(AF_INET, SOCK_DGRAM) as s:
        s.sendto(text.encode('utf-8'), ('127.0.0.1', {port}))
""",
    ),
    Case(
        "check_typing_client",
        "sends one message, then ends (no loop)",
        TYPING_SOLUTION.replace("while True:\n", "if True:\n"),
        "it asks for the next line and sends it too",
        "while True",
    ),
    Case(
        "check_typing_client",
        "sends to another port",
        TYPING_SOLUTION.replace("serverPort = {port}", "serverPort = {port} + 1"),
        "what you type is sent to UDP port",
        "serverPort",
    ),
    Case(
        "check_typing_client",
        "input() before the loop: sends the same line for ever",
        """\
from socket import *
clientSocket = socket(AF_INET, SOCK_DGRAM)
message = input('Message: ')
while True:
    clientSocket.sendto(message.encode(), ('127.0.0.1', {port}))
""",
        "it asks for the next line and sends it too",
        "input(",
    ),
    Case(
        "check_typing_client",
        "waits for a reply the server never sends",
        TYPING_SOLUTION + "    print(clientSocket.recvfrom(2048)[0].decode())\n",
        "it asks for the next line and sends it too",
        "reply",
    ),
    Case(
        "check_typing_client",
        "never asks: sends a fixed text",
        TYPING_SOLUTION.replace("input('Message: ')", "'hello'").replace(
            "from socket import *", "import time\nfrom socket import *"
        )
        + "    time.sleep(0.5)\n",
        "it waits for you to type a line (input)",
        "input(",
    ),
    Case(
        "check_typing_client",
        "sends a str (forgets encode)",
        TYPING_SOLUTION.replace("message.encode(), (", "message, ("),
        "what you type is sent to UDP port",
        "failed at line 7",
    ),
    Case(
        "check_typing_client",
        "changes the text (upper) before sending",
        TYPING_SOLUTION.replace("message.encode()", "message.upper().encode()"),
        "what you type is sent to UDP port",
        "as typed",
    ),
    Case(
        "check_typing_client",
        "the student version's stub",
        STUB,
        "a program called typing_client runs",
        "not written yet",
    ),
]

# -- Task 3: the counting clients and their server --------------------------------------------

COUNTING_SOLUTION = """\
import time
from socket import *
serverName = '127.0.0.1'
serverPort = {port}
clientSocket = socket(AF_INET, SOCK_DGRAM)
clientSocket.bind(('', {bind}))
n = 1
while True:
    clientSocket.sendto(str(n).encode(), (serverName, serverPort))
    n = n + 1 if n < 100 else 1
    time.sleep({pause})
"""


def counting_with(old: str, new: str, pause: float = 0.2) -> str:
    return COUNTING_SOLUTION.replace(old, new).replace("{pause}", str(pause))


COUNTING_CLIENTS = [
    Case("check_counting_clients", "the notebook's solution (0.2 s)", counting_with("", "")),
    Case(
        "check_counting_clients",
        "import socket, n % 100 + 1, prints each number (0.1 s)",
        """\
import socket, time
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.bind(('127.0.0.1', {bind}))
n = 1
while True:
    c.sendto(str(n).encode('utf-8'), ('127.0.0.1', {port}))
    print('sent', n)
    n = n % 100 + 1
    time.sleep(0.1)
""",
    ),
    Case(
        "check_counting_clients",
        "a for loop inside while True, from time import sleep (0.5 s)",
        """\
from socket import *
from time import sleep
clientSocket = socket(AF_INET, SOCK_DGRAM)
clientSocket.bind(('', {bind}))
while True:
    for number in range(1, 101):
        clientSocket.sendto(f'{{number}}'.encode(), ('localhost', {port}))
        sleep(0.5)
""",
    ),
    Case(
        "check_counting_clients",
        "itertools.cycle, a pause of 1 s",
        """\
import itertools, time
from socket import *
s = socket(AF_INET, SOCK_DGRAM)
s.bind(('', {bind}))
for n in itertools.cycle(range(1, 101)):
    s.sendto(str(n).encode(), ('127.0.0.1', {port}))
    time.sleep(1)
""",
    ),
    Case(
        "check_counting_clients",
        "never goes back to 1 (n = n + 1)",
        counting_with("n = n + 1 if n < 100 else 1", "n = n + 1"),
        "{name} goes back to 1 after 100",
        "101",
    ),
    Case(
        "check_counting_clients",
        "goes back to 0 ((n + 1) % 100)",
        counting_with("n = n + 1 if n < 100 else 1", "n = (n + 1) % 100"),
        "{name} goes back to 1 after 100",
        "0",
    ),
    Case(
        "check_counting_clients",
        "goes back to 1 after 99 (range(1, 100))",
        counting_with("n = n + 1 if n < 100 else 1", "n = n + 1 if n < 99 else 1"),
        "{name} goes back to 1 after 100",
        "99",
    ),
    Case(
        "check_counting_clients",
        "starts at 0",
        counting_with("n = 1\n", "n = 0\n"),
        "{name} counts 1, 2, 3, ... in order",
        "0",
    ),
    Case(
        "check_counting_clients",
        "counts to 100 once, then ends",
        """\
import time
from socket import *
clientSocket = socket(AF_INET, SOCK_DGRAM)
clientSocket.bind(('', {bind}))
for n in range(1, 101):
    clientSocket.sendto(str(n).encode(), ('127.0.0.1', {port}))
    time.sleep(0.2)
""",
        "{name} goes back to 1 after 100",
        "ended",
    ),
    Case(
        "check_counting_clients",
        "no pause (no time.sleep)",
        counting_with("    time.sleep({pause})\n", ""),
        "{name} waits between two numbers",
        "time.sleep",
    ),
    Case(
        "check_counting_clients",
        "no bind: the system picks its port",
        counting_with("clientSocket.bind(('', {bind}))\n", ""),
        "{name} sends from UDP port",
        "bind",
    ),
    Case(
        "check_counting_clients",
        "sends the number as a byte, not as text",
        counting_with("str(n).encode()", "bytes([n])"),
        "{name} sends each number as text to UDP port",
        "str(n).encode()",
    ),
    Case(
        "check_counting_clients",
        "sends 'c1: n' (not only the number)",
        counting_with("str(n).encode()", "f'client {{n}}'.encode()"),
        "{name} sends each number as text to UDP port",
        "client 1",
    ),
    Case(
        "check_counting_clients",
        "sends to another port",
        counting_with("serverPort = {port}", "serverPort = {port} + 1"),
        "{name} sends each number as text to UDP port",
        "serverPort",
    ),
    Case(
        "check_counting_clients",
        "the student version's stub",
        STUB,
        "a program called c1 runs",
        "not written yet",
    ),
]

SERVER_SOLUTION = """\
from socket import *
serverPort = {port}
serverSocket = socket(AF_INET, SOCK_DGRAM)
serverSocket.bind(('127.0.0.1', serverPort))
names = {{{c1}: 'c1', {c2}: 'c2'}}
print('The server is ready to receive')
while True:
    message, caddr = serverSocket.recvfrom(2048)
    print(names.get(caddr[1], '?'), caddr[1], message.decode())
"""


def counting_server_with(line: str) -> str:
    return SERVER_SOLUTION.replace(
        "print(names.get(caddr[1], '?'), caddr[1], message.decode())", line
    )


COUNTING_SERVERS = [
    Case("check_counting_server", "the notebook's solution", SERVER_SOLUTION),
    Case(
        "check_counting_server",
        "prints caddr[1] and the number",
        counting_server_with("print(caddr[1], message.decode())"),
    ),
    Case(
        "check_counting_server",
        "prints the address tuple, f-string",
        counting_server_with("print(f'{{caddr}}: {{message.decode()}}')"),
    ),
    Case(
        "check_counting_server",
        "prints only the name from a dictionary",
        counting_server_with("print(names[caddr[1]], 'sent', message.decode())"),
    ),
    Case(
        "check_counting_server",
        "the solution, clients without a pause",
        SERVER_SOLUTION,
        options={"pause": 0},
    ),
    Case(
        "check_counting_server",
        "prints only the number",
        counting_server_with("print(message.decode())"),
        "it prints which client sent each number",
        "caddr[1]",
    ),
    Case(
        "check_counting_server",
        "prints the client's address, not its port",
        counting_server_with("print(caddr[0], message.decode())"),
        "it prints which client sent each number",
        "caddr[1]",
    ),
    Case(
        "check_counting_server",
        "prints its own port",
        counting_server_with("print(serverPort, message.decode())"),
        "it prints which client sent each number",
        "caddr[1]",
    ),
    Case(
        "check_counting_server",
        "names every number c1",
        counting_server_with("print('c1', message.decode())"),
        "it prints which client sent each number",
        "caddr[1]",
    ),
    Case(
        "check_counting_server",
        "its dictionary swaps c1 and c2",
        SERVER_SOLUTION.replace("{{{c1}: 'c1', {c2}: 'c2'}}", "{{{c1}: 'c2', {c2}: 'c1'}}"),
        "it prints which client sent each number",
        "caddr[1]",
    ),
    Case(
        "check_counting_server",
        "prints nothing",
        counting_server_with("pass"),
        "it prints which client sent each number",
        "print(",
    ),
    Case(
        "check_counting_server",
        "binds another port",
        SERVER_SOLUTION.replace("serverPort = {port}", "serverPort = {port} + 1"),
        "it listens on UDP port",
        "bind",
    ),
    Case(
        "check_counting_server",
        "the student version's stub",
        STUB,
        "a program called server runs",
        "not written yet",
    ),
]

# -- Task 4: the pinger and the framed server -------------------------------------------------

PINGER_SOLUTION = """\
import time
from socket import *
clientSocket = socket(AF_INET, SOCK_DGRAM)
clientSocket.settimeout(0.3)
for n in range(1, 11):
    sent = time.time()
    clientSocket.sendto(f'Ping {{n}} {{sent}}'.encode(), ('127.0.0.1', {port}))
    try:
        reply, serverAddress = clientSocket.recvfrom(1024)
        print(f'Ping {{n}}: reply in {{(time.time() - sent) * 1000:.1f}} ms')
    except timeout:
        print(f'Ping {{n}}: request timed out')
clientSocket.close()
"""


def pinger_with(old: str, new: str) -> str:
    assert old in PINGER_SOLUTION, old
    return PINGER_SOLUTION.replace(old, new)


PINGERS = [
    Case("check_pinger", "the notebook's solution", PINGER_SOLUTION),
    Case(
        "check_pinger",
        "import socket, except socket.timeout, 'RTT = ... ms'",
        """\
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.3)
for i in range(10):
    n = i + 1
    start = time.perf_counter()
    s.sendto(('Ping %d %f' % (n, time.time())).encode(), ('127.0.0.1', {port}))
    try:
        data, server = s.recvfrom(2048)
        rtt = (time.perf_counter() - start) * 1000
        print('Reply from', server, 'RTT =', round(rtt, 2), 'ms')
    except socket.timeout:
        print('Request timed out')
""",
    ),
    Case(
        "check_pinger",
        "a while loop, except TimeoutError, matches replies by number",
        """\
import time
from socket import *
c = socket(AF_INET, SOCK_DGRAM)
c.settimeout(0.3)
n = 0
while n < 10:
    n += 1
    t0 = time.time()
    c.sendto(f'Ping {{n}} {{t0}}'.encode(), ('127.0.0.1', {port}))
    while True:
        try:
            data, _ = c.recvfrom(1024)
        except TimeoutError:
            print(f'{{n}}: Request timed out')
            break
        if data.split()[1] == str(n).encode():
            print(f'{{n}}: {{(time.time() - t0) * 1000:.2f}} ms')
            break
""",
    ),
    Case(
        "check_pinger",
        "no settimeout: waits for ever for a lost reply",
        pinger_with("clientSocket.settimeout(0.3)\n", ""),
        "pinger ran to its end",
        "settimeout",
    ),
    Case(
        "check_pinger",
        "no try/except: the first timeout ends it",
        pinger_with(
            "    try:\n        reply, serverAddress = clientSocket.recvfrom(1024)\n"
            "        print(f'Ping {{n}}: reply in {{(time.time() - sent) * 1000:.1f}} ms')\n"
            "    except timeout:\n        print(f'Ping {{n}}: request timed out')\n",
            "    reply, serverAddress = clientSocket.recvfrom(1024)\n"
            "    print(f'Ping {{n}}: reply in {{(time.time() - sent) * 1000:.1f}} ms')\n",
        ),
        "pinger ran to its end",
        "except timeout",
    ),
    Case(
        "check_pinger",
        "nine pings (range(1, 10))",
        pinger_with("range(1, 11)", "range(1, 10)"),
        "it sent 10 pings",
        "It sent 9",
    ),
    Case(
        "check_pinger",
        "'ping 1 ...' in lower case",
        pinger_with("f'Ping {{n}} {{sent}}'", "f'ping {{n}} {{sent}}'"),
        "it sent 10 pings",
        "Ping",
    ),
    Case(
        "check_pinger",
        "'Ping 1' without the time",
        pinger_with("f'Ping {{n}} {{sent}}'", "f'Ping {{n}}'"),
        "it sent 10 pings",
        "time",
    ),
    Case(
        "check_pinger",
        "the round trip in seconds",
        pinger_with("{{(time.time() - sent) * 1000:.1f}} ms", "{{time.time() - sent:.4f}} s"),
        "it prints one line per ping",
        "ms",
    ),
    Case(
        "check_pinger",
        "says 'lost', not 'timed out'",
        pinger_with("request timed out", "lost"),
        "it prints one line per ping",
        "timed out",
    ),
    Case(
        "check_pinger",
        "prints a round trip even for a lost reply",
        pinger_with(
            "    except timeout:\n        print(f'Ping {{n}}: request timed out')\n",
            "    except timeout:\n        print(f'Ping {{n}}: reply in 1000.0 ms')\n",
        ),
        "every timeout is a ping or a reply the relay dropped",
        "dropped",
    ),
    Case(
        "check_pinger",
        "the student version's stub",
        PINGER_SOLUTION.split("for n in")[0].replace("clientSocket.settimeout(0.3)\n", "") + STUB,
        "pinger ran to its end",
        "not written yet",
    ),
]

FRAMED_SOLUTION = """\
from socket import *
serverSocket = socket(AF_INET, SOCK_STREAM)
serverSocket.bind(('127.0.0.1', {port}))
serverSocket.listen(1)
print('The server is ready to receive')
while True:
    connectionSocket, addr = serverSocket.accept()
    buffer = b''
    while True:
        chunk = connectionSocket.recv(1024)
        if not chunk:
            break
        buffer += chunk
        while b'\\n' in buffer:
            line, buffer = buffer.split(b'\\n', 1)
            print('message:', line.decode())
    connectionSocket.close()
"""

FRAMED_INNER = """\
    buffer = b''
    while True:
        chunk = connectionSocket.recv(1024)
        if not chunk:
            break
        buffer += chunk
        while b'\\n' in buffer:
            line, buffer = buffer.split(b'\\n', 1)
            print('message:', line.decode())
"""


def framed_with(inner: str) -> str:
    return FRAMED_SOLUTION.replace(FRAMED_INNER, inner)


FRAMED_SERVERS = [
    Case("check_framed_server", "the notebook's solution", FRAMED_SOLUTION),
    Case(
        "check_framed_server",
        "find() and slicing on a bytearray",
        framed_with("""\
    pending = bytearray()
    while chunk := connectionSocket.recv(4096):
        pending += chunk
        end = pending.find(b'\\n')
        while end != -1:
            print(pending[:end].decode('utf-8'))
            del pending[:end + 1]
            end = pending.find(b'\\n')
"""),
    ),
    Case(
        "check_framed_server",
        "makefile() and a for loop over its lines",
        framed_with("""\
    with connectionSocket.makefile('r', encoding='utf-8', newline='\\n') as stream:
        for line in stream:
            print('got:', line.rstrip('\\n'))
"""),
    ),
    Case(
        "check_framed_server",
        "partition(), one message a line",
        framed_with("""\
    rest = b''
    while True:
        data = connectionSocket.recv(64)
        if data == b'':
            break
        rest += data
        while True:
            line, newline, after = rest.partition(b'\\n')
            if not newline:
                break
            print(line.decode())
            rest = after
"""),
    ),
    Case(
        "check_framed_server",
        "prints each recv() as it comes",
        framed_with("""\
    while True:
        chunk = connectionSocket.recv(1024)
        if not chunk:
            break
        print('message:', chunk.decode(errors='replace'))
"""),
        "each of the 4 messages is printed whole|several messages in one piece",
        "buffer",
    ),
    Case(
        "check_framed_server",
        "takes one message per recv() (if, not while)",
        FRAMED_SOLUTION.replace("while b'\\n' in buffer:", "if b'\\n' in buffer:"),
        "each of the 4 messages is printed whole|several messages in one piece",
        "while",
    ),
    Case(
        "check_framed_server",
        "decodes each piece before keeping it",
        framed_with("""\
    buffer = ''
    while True:
        chunk = connectionSocket.recv(1024)
        if not chunk:
            break
        buffer += chunk.decode(errors='replace')
        while '\\n' in buffer:
            line, buffer = buffer.split('\\n', 1)
            print('message:', line)
"""),
        "each of the 4 messages is printed whole|several messages in one piece, and a character",
        "bytes",
    ),
    Case(
        "check_framed_server",
        "splits each piece at newlines, keeps nothing",
        framed_with("""\
    while True:
        chunk = connectionSocket.recv(1024)
        if not chunk:
            break
        for part in chunk.split(b'\\n'):
            if part:
                print('message:', part.decode(errors='replace'))
"""),
        "each of the 4 messages is printed whole|several messages in one piece",
        "buffer",
    ),
    Case(
        "check_framed_server",
        "one recv() per connection (the textbook server)",
        framed_with("""\
    print('message:', connectionSocket.recv(1024).decode(errors='replace'))
"""),
        "each of the 4 messages is printed whole|several messages in one piece",
        "buffer",
    ),
    Case(
        "check_framed_server",
        "the student version's stub",
        framed_with("    " + STUB.replace("\n", "\n    ") + "\n"),
        # The stub fails at the client's connection, just before the check: which of these two
        # points meets it first is a race; either says "not written yet".
        "a program called framed_server runs|each of the 4 messages is printed whole",
        "not written yet",
    ),
]

CASES: list[Case] = [
    *UDP_SERVERS,
    *ALNUM_SERVERS,
    *TCP_SERVERS,
    *PRINTING_SERVERS,
    *TYPING_CLIENTS,
    *COUNTING_CLIENTS,
    *COUNTING_SERVERS,
    *PINGERS,
    *FRAMED_SERVERS,
]
