"""Which process holds a port, read from what macOS's lsof and Windows' netstat print (pure).

Windows' `netstat -ano -p UDP` (or TCP) prints one socket a line, its process id last:

      UDP    127.0.0.1:12000        *:*                                    4242
      TCP    0.0.0.0:12000          0.0.0.0:0              LISTENING       4242

A TCP server's socket is the one whose foreign address is port 0 (the state's word is in the
system's language, so it is not read). `tasklist /FI "PID eq 4242" /FO CSV /NH` then names it:
"python.exe","4242","Console","1","12,345 K". macOS's `lsof -t` prints bare process ids.
"""

from __future__ import annotations


def netstat_pid(text: str, proto: str, port: int) -> int | None:
    """The process id of the socket bound to `port` in `netstat -ano` output, or None."""
    for row in text.splitlines():
        fields = row.split()
        if len(fields) < 4 or fields[0].lower() != proto or not fields[-1].isdigit():
            continue
        local, remote = fields[1], fields[2]
        if not local.endswith(f":{port}"):
            continue
        if proto == "tcp" and not remote.endswith(":0"):
            continue  # a connection, not a server's socket
        return int(fields[-1])
    return None


def tasklist_name(text: str) -> str:
    """The program's name in `tasklist /FO CSV /NH` output ("python.exe"), or ""."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first.split('","', 1)[0].strip('"') if first.startswith('"') else ""


def first_pid(text: str) -> int | None:
    """The first process id in `lsof -t` output (one a line), or None."""
    for word in text.split():
        if word.isdigit():
            return int(word)
    return None
