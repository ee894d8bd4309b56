"""The attacks of issue 11, re-run: what one message, one slow reply or one idle crowd does.

    python bench/attacks.py [NAME ...]            # all, or some: kill slow idle memory ...
    PYTHONPATH=/path/to/other/labsock python bench/attacks.py    # the same attacks, other code

Not a benchmark with a target (run_all.py does not run it): each attack prints what happened, to
compare one version of labsock with another. Loopback only; every load is bounded in count and
time; each attack runs in a fresh interpreter, so memory figures start from the same place.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

ATTACKS = {
    "kill": """
        # 11.1: one message, a reply that cannot be sent or a reply that exits
        import labsock, time
        def surrogate(t): return "\\ud800"
        def exits(t): raise SystemExit(3)
        for proto, reply in (("udp", surrogate), ("tcp", exits)):
            kind = labsock.UDPServer if proto == "udp" else labsock.TCPServer
            server = kind(port=0, reply=reply).start()
            try:
                labsock.send(proto, "hello", port=server.port, timeout=1)
            except Exception as exc:
                pass
            time.sleep(0.2)
            print(f"{proto} server after a {reply.__name__} reply: running={server.running}, "
                  f"errors logged={len(server.log.errors())}")
            server.stop()
    """,
    "slow": """
        # 11.2: a reply that blocks 2 s; another client; stop() meanwhile
        import labsock, socket, threading, time
        def slow(t):
            if t == "slow":
                time.sleep(2)
            return t.upper()
        for proto in ("udp", "tcp"):
            kind = labsock.UDPServer if proto == "udp" else labsock.TCPServer
            with kind(port=0, reply=slow) as server:
                def slow_client():
                    try:
                        labsock.send(proto, "slow", port=server.port, timeout=5)
                    except labsock.LabsockError:
                        pass
                blocked = threading.Thread(target=slow_client)
                blocked.start()
                time.sleep(0.1)
                start = time.perf_counter()
                labsock.send(proto, "quick", port=server.port, timeout=5)
                print(f"{proto}: a second client answered after "
                      f"{(time.perf_counter() - start) * 1000:.0f} ms while a reply blocks 2 s")
                blocked.join()
            server = kind(port=0, reply=slow).start()
            port = server.port
            def stuck():
                try:
                    labsock.send(proto, "slow", port=port, timeout=5)
                except labsock.LabsockError:
                    pass  # the server stopped: no reply, as expected
            threading.Thread(target=stuck, daemon=True).start()
            time.sleep(0.1)
            start = time.perf_counter()
            server.stop()
            took = (time.perf_counter() - start) * 1000
            kinds = {"udp": socket.SOCK_DGRAM, "tcp": socket.SOCK_STREAM}
            with socket.socket(socket.AF_INET, kinds[proto]) as again:
                if proto == "tcp":
                    again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    again.bind(("127.0.0.1", port))
                    free = True
                except OSError:
                    free = False
            alive = [t.name for t in threading.enumerate() if t.name == f"labsock-{proto}-{port}"]
            print(f"{proto}: stop() during the blocked reply took {took:.0f} ms; "
                  f"server thread alive after: {bool(alive)}; port free: {free}")
            time.sleep(2.1)
    """,
    "idle": """
        # 11.3: 500 idle TCP connections, then slowloris with 600 half lines
        import labsock, socket
        def a_new_client(what, server):
            try:
                answer = repr(labsock.send_tcp("hello", port=server.port, timeout=2))
            except labsock.LabsockError as exc:
                answer = str(exc)[:150]
            print(f"{what}, a new client: {answer}")
        with labsock.TCPServer(port=0) as server:
            idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(500)]
            a_new_client("500 idle connections", server)
            for s in idle:
                s.close()
        with labsock.TCPServer(port=0) as server:
            slow = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(600)]
            for s in slow:
                s.sendall(b"GET / HTTP/1.1")
            a_new_client("slowloris, 600 half lines", server)
            for s in slow:
                s.close()
    """,
    "memory": """
        # 11.4: 65 KB datagrams into the relay and into a server log; 50,000 senders in a view
        import gc, psutil, socket, labsock
        from labsock.net.relay import UDPRelay
        from labsock.show.counting_view import CountingView
        me = psutil.Process()
        def mb():
            gc.collect()
            return me.memory_info().rss / 1e6
        big = b"x" * 65_000
        base = mb()
        with labsock.UDPServer(port=0, reply="echo") as server:
            relay = UDPRelay(0, ("127.0.0.1", server.port)).start()
            clients = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(3)]
            for c in clients:
                c.settimeout(2)
            for _ in range(3_000):
                for c in clients:
                    c.sendto(big, ("127.0.0.1", relay.port))
                    try:
                        c.recv(65536)
                    except OSError:
                        pass
            during = mb()
            relay.stop()
            after = mb()
            print(f"relay, 3 clients x 3,000 datagrams of 65 KB (echoed): RSS {base:.0f} -> "
                  f"{during:.0f} MB, {after:.0f} MB after stop()")
        del relay, server
        base = mb()
        with labsock.UDPServer(port=0, reply="echo") as server, socket.socket(
            socket.AF_INET, socket.SOCK_DGRAM
        ) as c:
            c.settimeout(2)
            for _ in range(10_000):
                c.sendto(big, ("127.0.0.1", server.port))
                c.recv(65536)
            print(f"UDP log, 10,000 datagrams of 65 KB (echo): RSS {base:.0f} -> {mb():.0f} MB")
        del server
        base = mb()
        log = labsock.MessageLog(maxlen=10_000)
        view = CountingView(log, widget=False)
        for n in range(50_000):
            log.append(1.0, (f"10.{n // 65536}.{n // 256 % 256}.{n % 256}", 5000), b"1")
            if n % 5_000 == 4_999:
                view.update()
        print(f"counting view fed 50,000 senders: RSS {base:.0f} -> {mb():.0f} MB")
    """,
    "escape": """
        # 11.5: a datagram with ESC, BEL, CR and a forged line, printed by `serve`
        import socket, subprocess, sys
        proc = subprocess.Popen([sys.executable, "-m", "labsock", "serve", "udp", "--port", "0",
                                 "--count", "1"], stdout=subprocess.PIPE)
        port = int(proc.stdout.readline().split(b":")[1].split()[0])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"\\x1b]0;pwned\\x07\\x1b[2J\\r127.0.0.1:11000: 42", ("127.0.0.1", port))
        out = proc.communicate(timeout=20)[0]
        raw = sum(out.count(c) for c in (b"\\x1b", b"\\x07", b"\\r"))
        lines = out.count(b"\\n")
        print(f"serve printed {raw} raw control characters in {lines} line(s)")
    """,
    "odd": """
        # 11.6: odd but legal input, each: what the student gets
        import socket, subprocess, sys, threading
        import labsock
        def outcome(what, call):
            try:
                result = call()
                text = f"ok: {str(result)[:60]!r}"
            except labsock.LabsockError as exc:
                text = f"LabsockError: {str(exc)[:60]}"
            except BaseException as exc:
                text = f"RAW {type(exc).__name__}: {str(exc)[:60]}"
            print(f"{what:<38} {text}")
        with labsock.TCPServer(port=0, reply=lambda t: "x" * 100_000) as s:
            outcome("send_tcp, a 100 KB reply", lambda: len(labsock.send_tcp("a", port=s.port)))
        with labsock.UDPServer(port=0, reply=lambda t: "y" * 70_000) as s:
            outcome("send_udp, a 70 KB reply", lambda: labsock.send_udp("a", port=s.port))
        with labsock.UDPServer(port=0, reply=lambda t: "Ping \\u00b2 0") as s:
            from labsock.net.ping import ping
            outcome("ping, reply 'Ping \\u00b2 0'", lambda: ping(port=s.port, count=1).stats)
        udp = socket.SOCK_DGRAM
        with labsock.UDPServer(port=0, reply="echo") as s, socket.socket(type=udp) as c:
            c.settimeout(2)
            c.sendto(b"caf\\xe9", ("127.0.0.1", s.port))
            outcome("echo of b'caf\\\\xe9'", lambda: c.recv(100))
        counter = lambda: labsock.CountingClient(bind_port=None, port=9, count=1)  # noqa: E731
        outcome("CountingClient(bind_port=None)", lambda: counter().start().wait(2))
        from labsock.net.relay import relay_udp
        outcome("relay_udp(to=None)", lambda: relay_udp(0, to=None))
        outcome("relay_udp(max_clients=0)", lambda: relay_udp(0, to="127.0.0.1:9", max_clients=0))
        outcome("message_box(proto=5).send('hi')", lambda: labsock.message_box(proto=5).send("hi"))
        outcome("ping(interval='abc')", lambda: ping(port=9, count=1, interval="abc"))
        outcome("UDPServer(log_size=-1)", lambda: labsock.UDPServer(port=0, log_size=-1))
        for args in (
            ["ping", "--interval", "inf", "--count", "1"],
            ["preflight", "127.0.0.1", "--timeout", "inf"],
        ):
            command = [sys.executable, "-m", "labsock", *args]
            done = subprocess.run(command, capture_output=True, text=True)
            last = (done.stderr.strip().splitlines() or [""])[-1]
            print(f"{' '.join(args):<38} status {done.returncode}: {last[:70]}")
        labsock.stop_all()
    """,
    "views": """
        # 11.8: a redraw at 10,000 entries
        import time, labsock
        log = labsock.MessageLog()
        for i in range(10_000):
            log.append(float(i), ("127.0.0.1", 11000), b"%d" % i, "x")
        try:  # where the HTML lives since the face moved it out of the network layer
            from labsock.show.as_html import log_html
        except ImportError:  # an older labsock: the log drew itself
            log_html = type(log).tail_html
        start = time.perf_counter()
        for _ in range(50):
            log_html(log, 20)
        took = (time.perf_counter() - start) / 50 * 1000
        print(f"the log's HTML (20 rows) at 10,000 entries: {took:.2f} ms")
        start = time.perf_counter()
        for _ in range(2_000):
            log.since(log.total - 1)
        print(f"since() for one new entry: {(time.perf_counter() - start) / 2_000 * 1e6:.1f} us")
    """,
}


def main(names: list[str]) -> int:
    for name in names or list(ATTACKS):
        print(f"== {name}", flush=True)
        code = textwrap.dedent(ATTACKS[name])
        done = subprocess.run([sys.executable, "-c", code], timeout=600)
        if done.returncode:
            print(f"(exited with status {done.returncode})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
