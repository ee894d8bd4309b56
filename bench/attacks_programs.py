"""The attacks of issue 17 (points 1 and 3) on students' programs, re-run: figures to compare.

    unshare -n bash -c 'ip link set lo up && python bench/attacks_programs.py'
    PYTHONPATH=/path/to/other/labsock python bench/attacks_programs.py   # the same, other code

Not a benchmark with a target (run_all.py does not run it). Loopback only; each attack in a
fresh interpreter; everything it starts is stopped. Run it in a network namespace of its own:
the racer connects to every new loopback listener it sees.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

COMMON = """
    import gc, os, socket, tempfile, threading, time, labsock
    FOLDER = tempfile.mkdtemp()
    SERVER = ("from socket import *\\ns = socket(AF_INET, SOCK_DGRAM)\\n"
              "s.bind(('127.0.0.1', 0))\\nprint('ready')\\nwhile True:\\n"
              "    m, a = s.recvfrom(100)\\n    s.sendto(m.upper(), a)\\n")
    failures = []
    threading.excepthook = lambda args: failures.append(repr(args.exc_value))
    def program_pids(job):
        pids = [job.pid]
        try:
            children = open(f"/proc/{job.pid}/task/{job.pid}/children").read()
            pids += [int(p) for p in children.split()]
        except OSError:
            pass
        return pids
    def alive(pid):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] != "Z"
"""

# The programs the attacks run, as a student's cell would hold them.
FORGER = """\
import gc, json, os, struct, sys, time
reporter = [o for o in gc.get_objects() if type(o).__name__ == "Reporter"][0]
def note(**fields):
    body = b"N" + json.dumps(fields).encode()
    reporter.control.sendall(struct.pack("<I", len(body)) + body)
note(event="bound", sock=99, host="0.0.0.0", port=1)  # no proto
note(event="waiting", how="forged")
time.sleep(0.5)
print("alive", flush=True)
if os.fork() == 0:  # a child holding the channel while the program itself exits
    time.sleep(30)
os._exit(0)
"""
KEEPER = """\
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                         start_new_session=True)
print(child.pid, flush=True)
time.sleep(60)
"""

ATTACKS = {
    "race": """
        # 17.1: connect first to any new loopback listener (/proc/net/tcp is world-readable)
        def listeners():
            rows = open("/proc/net/tcp").read().splitlines()[1:]
            return {int(r.split()[1].split(":")[1], 16) for r in rows if r.split()[3] == "0A"}
        old, taken, stop = listeners(), set(), threading.Event()
        def racer():
            while not stop.is_set():
                for port in listeners() - old - taken:
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=0.5)
                        taken.add(port)
                    except OSError:
                        pass
        threading.Thread(target=racer, daemon=True).start()
        died = 0
        for run in range(3):
            job = labsock.background(SERVER, f"raced{run}", folder=FOLDER)
            died += job.waiting_in != "recvfrom"
            job.stop()
        stop.set()
        print(f"programs killed by a racer: {died} of 3; listeners the racer took: {len(taken)}")
    """,
    "environ": """
        # 17.1: a secret in /proc/PID/environ
        job = labsock.background(SERVER, "environ", folder=FOLDER)
        found = []
        for pid in program_pids(job):
            environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\\0")
            found += [v.split(b"=")[0].decode() for v in environ if v.startswith(b"LABSOCK")]
        print(f"labsock settings readable in /proc/PID/environ: {found or 'none'}")
        job.stop()
    """,
    "forged": """
        # 17.1: notes the bootstrap never writes, sent on the program's own report channel
        job = labsock.Job(FORGER, "forged", folder=FOLDER).start()
        start = time.perf_counter()
        ended = job.wait(10) and not job.running
        while job.running and time.perf_counter() - start < 10:
            time.sleep(0.01)
        took = time.perf_counter() - start
        print(f"exceptions in the kernel's reader threads: {len(failures)} {failures[:1]}")
        print(f"forged 'waiting' believed: {job.waiting_in == 'forged'}; "
              f"program printed 'alive' after the bad note: {'alive' in job.output}")
        print(f"job 'running' after the program exited (a child holds the channel): "
              f"{'until %.2f s' % took if not job.running else 'still after 10 s'}")
        job.stop()
    """,
    "children": """
        # 17.3: children in a new session, and a child left running by a program that exits
        job = labsock.background(KEEPER, "keeper", folder=FOLDER)
        time.sleep(0.3)
        child = int(job.output.split()[0])
        job.stop()
        print(f"a start_new_session child survives Stop: {alive(child)}")
        if alive(child):
            os.kill(child, 9)
        leaver = KEEPER.replace("time.sleep(60)\\n", "")
        job = labsock.Job(leaver, "leaver", folder=FOLDER).start()
        start = time.perf_counter()
        job.wait(5)
        while job.running and time.perf_counter() - start < 3:
            time.sleep(0.01)
        after = time.perf_counter() - start
        child = int(job.output.split()[0])
        state = job.state()
        start = time.perf_counter()
        job.stop()
        stop_took = time.perf_counter() - start
        print(f"a program that started a child and exited: running {after:.2f} s after "
              f"(capped at 3 s), Stop took {stop_took:.2f} s, child survives: {alive(child)}")
        print(f"its state: {state!r}")
        if alive(child):
            os.kill(child, 9)
    """,
}


def main(names: list[str]) -> int:
    for name in names or list(ATTACKS):
        print(f"== {name}", flush=True)
        programs = f"FORGER, KEEPER = {FORGER!r}, {KEEPER!r}\n"
        code = textwrap.dedent(COMMON) + programs + textwrap.dedent(ATTACKS[name])
        done = subprocess.run([sys.executable, "-c", code], timeout=120)
        if done.returncode:
            print(f"(exited with status {done.returncode})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
