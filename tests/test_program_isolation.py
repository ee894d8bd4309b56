"""Nobody else's business: another user on the same machine (a JupyterHub of 60 students) can
neither take, read, slow, stop nor fake a student's program; and the program's own bad reports
end only its report channel, never the notebook's reader.

The other user is made here with useradd (CI runs as root); without root the tests skip and say
why, and under CI=true that is a failure. Run inside a network namespace of their own
(`unshare -n`), as every test that opens sockets.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import labsock
from tests import textbook
from tests.ports import free_port

OTHER_USER = "labsock_other"


def runnable_by_anyone(path: str) -> bool:
    """True if every folder on the way and the file itself let anyone in (o+x)."""
    real = os.path.realpath(path)
    parts = [real, *[str(p) for p in Path(real).parents]]
    return os.path.isfile(real) and all(os.stat(p).st_mode & 0o001 for p in parts)


# A Python the other user may run (root's venv under /root is out of its reach): the one running
# the tests if it can, else the system's. The attacker's code needs the standard library only.
SYSTEM_PYTHON = next(
    (
        os.path.realpath(path)
        for path in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3")
        if path and os.path.exists(path) and runnable_by_anyone(path)
    ),
    "/usr/bin/python3",
)
IN_CI = os.environ.get("CI") == "true"


def unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"CI=true, but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def other_user():
    """(uid, gid) of a second, unprivileged user made for these tests, removed afterwards."""
    if os.geteuid() != 0:
        unavailable("making a second user needs root")
    for tool in ("useradd", "userdel", "setpriv"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} is not installed")
    if not runnable_by_anyone(SYSTEM_PYTHON):
        unavailable("no Python that another user may run (e.g. /usr/bin/python3)")
    made = False
    try:
        pwd.getpwnam(OTHER_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
             OTHER_USER],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip
        made = True
    entry = pwd.getpwnam(OTHER_USER)
    yield entry.pw_uid, entry.pw_gid
    if made:
        subprocess.run(["userdel", OTHER_USER], capture_output=True, timeout=30)


def as_other_user(user, code: str, **popen) -> subprocess.Popen:
    uid, gid = user
    return subprocess.Popen(
        ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--",
         SYSTEM_PYTHON, "-c", textwrap.dedent(code)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd="/", **popen,
    )  # fmt: skip


def program_pid(job) -> int:
    """The student's program itself: on Linux the process started is its supervisor."""
    with open(f"/proc/{job.pid}/task/{job.pid}/children") as children:
        found = children.read().split()
    return int(found[0]) if found else job.pid


@pytest.fixture
def thread_failures():
    """Exceptions that escaped any thread of this process (the notebook kernel's readers)."""
    failures, before = [], threading.excepthook
    threading.excepthook = lambda args: failures.append(args.exc_value)
    yield failures
    threading.excepthook = before


# An attacker who watches /proc/net/tcp and /proc/net/unix (readable by everyone) for a new
# listener and connects to it at once, as the issue did: it reports how many it connected to.
RACER = """
    import socket, sys, time
    def listeners():
        found = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                rows = open(table).read().splitlines()[1:]
            except OSError:
                continue
            for row in rows:
                fields = row.split()
                if fields[3] == "0A":  # LISTEN
                    found.add(int(fields[1].split(":")[1], 16))
        return found
    def named_unix_sockets():  # listening (flag 00010000), with a path or an abstract name
        rows = open("/proc/net/unix").read().splitlines()[1:]
        return {r.split()[7] for r in rows if len(r.split()) > 7 and r.split()[3] == "00010000"}
    old, old_unix, taken = listeners(), named_unix_sockets(), set()
    print("watching", flush=True)
    while not sys.stdin.closed:
        for port in listeners() - old - taken:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).sendall(b"x" * 64)
                taken.add(port)
            except OSError:
                pass
        for name in named_unix_sockets() - old_unix - taken:
            try:
                unix = socket.socket(socket.AF_UNIX)
                unix.connect("\\0" + name[1:] if name.startswith("@") else name)
                taken.add(name)
            except OSError:
                pass
        if __import__("select").select([sys.stdin], [], [], 0.0005)[0]:
            break
    print(len(taken), flush=True)
"""


def test_another_user_finds_no_port_to_take_while_programs_start(other_user, tmp_path):
    racer = as_other_user(other_user, RACER)
    try:
        assert racer.stdout.readline() == "watching\n", racer.stderr.read()
        for run in range(3):
            port = free_port()
            job = labsock.background(
                textbook.UDP_SERVER.format(port=port), f"raced{run}", folder=tmp_path
            )
            assert job.waiting_in == "recvfrom", (job.state(), job.output)
            assert job.error is None
            job.stop()
    finally:
        racer.stdin.close()
    assert racer.wait(10) == 0, racer.stderr.read()
    assert racer.stdout.read().strip() == "0", "a listener appeared that anyone could take"


def test_nothing_secret_in_the_programs_environment(other_user, tmp_path):
    job = labsock.background(
        textbook.UDP_SERVER.format(port=free_port()), "environ", folder=tmp_path
    )
    pid = program_pid(job)
    for who in (pid, job.pid):
        with open(f"/proc/{who}/environ", "rb") as environ:
            names = [item.split(b"=")[0] for item in environ.read().split(b"\0")]
        # Only what the kernel itself had (the tests' own LABSOCK_STATE_DIR): nothing added.
        added = [n for n in names if b"LABSOCK" in n and os.fsdecode(n) not in os.environ]
        assert not added, names
    reader = as_other_user(
        other_user,
        f"""
        try:
            open("/proc/{pid}/environ", "rb").read()
            print("read")
        except PermissionError:
            print("refused")
        """,
    )
    assert reader.communicate(timeout=10)[0].strip() == "refused"
    job.stop()


def test_another_user_cannot_stop_slow_or_reach_into_the_program(other_user, tmp_path):
    job = labsock.background(
        textbook.UDP_SERVER.format(port=free_port()), "victim", folder=tmp_path
    )
    pids = [job.pid, program_pid(job)]
    attacker = as_other_user(
        other_user,
        f"""
        import os, signal
        done = []
        for pid in {pids}:
            for attempt, act in (
                ("kill", lambda: os.kill(pid, signal.SIGKILL)),
                ("pause", lambda: os.kill(pid, signal.SIGSTOP)),
                ("slow", lambda: os.setpriority(os.PRIO_PROCESS, pid, 19)),
                ("fds", lambda: os.listdir(f"/proc/{{pid}}/fd")),
                ("channel", lambda: open(f"/proc/{{pid}}/fd/3", "wb")),
                ("memory", lambda: open(f"/proc/{{pid}}/mem", "rb").read(1)),
            ):
                try:
                    act()
                    done.append(attempt)
                except OSError:
                    pass
        print(done)
        """,
    )
    out, err = attacker.communicate(timeout=10)
    assert out.strip() == "[]", (out, err)
    assert job.running and job.state().startswith("victim: running")
    answer = labsock.send("udp", "still here", port=job.ports[0][2], timeout=2)
    assert str(answer) == "STILL HERE"
    job.stop()


# The program itself writes reports that are not the bootstrap's on the channel it inherited.
FORGER = """
import os, socket, struct, json
def frame(body):
    return struct.pack("<I", len(body)) + body
for fd in range(3, 64):
    try:
        probe = socket.socket(fileno=os.dup(fd))
    except OSError:
        continue
    if probe.family == socket.AF_UNIX and probe.type == socket.SOCK_STREAM:
        for note in ({{"event": "bound", "sock": 99, "port": 1}},  # no proto: KeyError before
                     {{"event": "waiting", "how": "forged"}}):
            probe.sendall(frame(b"N" + json.dumps(note).encode()))
    probe.detach()
{then}
"""


def job_shows(job, check, seconds: float = 30.0) -> bool:
    """Wait, change by change, until check() is true of the job (or seconds pass): its last
    answer. A slow start under load only takes longer, it does not fail the test."""
    deadline = time.monotonic() + seconds
    version = job.version
    while not check():
        if time.monotonic() > deadline:
            return check()
        version = job.wait_for_change(version, deadline - time.monotonic())
    return True


def test_a_forged_report_ends_the_channel_not_the_notebooks_reader(thread_failures, tmp_path):
    waits = "import time\ntime.sleep(0.3)\nprint('still running')\ntime.sleep(60)\n"
    job = labsock.Job(FORGER.format(then=waits), "forger", folder=tmp_path).start()
    # The refusal, then the print after it: whenever they come, the job has read both.
    refused = "stopped reading what forger reports"
    assert job_shows(job, lambda: refused in " ".join(job.notes)), job.notes
    assert job_shows(job, lambda: "still running" in job.output), job.output
    assert job.running and job.exit_code is None  # it goes on, and so does the job
    assert job.ports == [], "a port it never bound"
    job.stop()
    # Stopping joined the reader, which drained the channel to its end: the forged "waiting"
    # after the bad report has been read by now, and must not have been believed.
    assert job.waiting_in != "forged", "a report after the bad one was believed"
    assert thread_failures == [], "an exception escaped the notebook's reader thread"
    assert not job.running and job.state() == "forger: stopped"


def test_running_follows_the_process_whatever_the_channel_said(thread_failures, tmp_path):
    job = labsock.Job(FORGER.format(then="os._exit(3)"), "gone", folder=tmp_path).start()
    assert job.wait(5)
    assert not job.running and job.exit_code == 3
    assert thread_failures == []


# -- Stop ends everything the program started (issue 17, point 3) -----------------------------

CHILD = """
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], {how})
open({pid_file!r}, "w").write(str(child.pid))
{then}
"""

DAEMON = """
import os, sys, time
if os.fork() == 0:  # the textbook daemon: fork, setsid, fork again, the middle one exits
    os.setsid()
    if os.fork() == 0:
        open({pid_file!r}, "w").write(str(os.getpid()))
        time.sleep(120)
    os._exit(0)
os.wait()
{then}
"""

SERVE = """from socket import *
s = socket(AF_INET, SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
s.recvfrom(10)
"""


def eventually(check, seconds: float = 10.0) -> bool:
    """Poll check() until it is true or seconds pass (no event tells when another process
    wrote a file or died): its last answer."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return check()
        time.sleep(0.01)
    return True


def wait_for_file(path, job) -> int:
    if not eventually(lambda: path.exists() and path.read_text()):
        raise AssertionError(f"the program never wrote {path.name}: {job.output}")
    return int(path.read_text())


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] == "Z"


@pytest.mark.parametrize(
    "template, how",
    [(CHILD, "start_new_session=True"), (CHILD, ""), (DAEMON, "")],
    ids=["new session", "same group", "double fork"],
)
def test_stop_ends_every_process_the_program_started(template, how, tmp_path):
    pid_file = tmp_path / "child.pid"
    code = template.format(how=how, pid_file=str(pid_file), then=SERVE)
    job = labsock.background(code, "starter", folder=tmp_path)
    child = wait_for_file(pid_file, job)
    assert not gone(child)
    job.stop()
    assert gone(child), "a process the program started survived Stop"
    assert job.state() == "starter: stopped (and 1 process it had started)"
    assert job.others_ended == 1


@pytest.mark.parametrize(
    "template, how", [(CHILD, "start_new_session=True"), (DAEMON, "")], ids=["child", "daemon"]
)
def test_what_a_program_leaves_running_ends_with_it(template, how, tmp_path):
    pid_file = tmp_path / "child.pid"
    code = template.format(how=how, pid_file=str(pid_file), then="print('bye')")
    job = labsock.Job(code, "leaver", folder=tmp_path).start()
    assert job.wait(5), "the job follows the program, not what it left behind"
    assert gone(wait_for_file(pid_file, job))
    assert not job.running
    assert job.state() == (
        "leaver: exited with code 0; labsock ended 1 process it had started and left running"
    )


def test_killing_the_supervisor_takes_the_program_with_it(tmp_path):
    job = labsock.background(SERVE, "orphaned", folder=tmp_path)
    program = program_pid(job)
    assert program != job.pid
    os.kill(job.pid, signal.SIGKILL)
    assert job.wait(5)
    assert eventually(lambda: gone(program)), "the program outlived its supervisor"


def test_without_a_subreaper_the_group_and_the_descendants_found_are_ended(tmp_path):
    """macOS's way (no subreaper there), run here on plain processes: the program's group, and
    each descendant `ps` finds, also one in a session of its own."""
    from labsock.net.programs import process

    pid_file = tmp_path / "child.pid"
    parent = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(how="start_new_session=True", pid_file=str(pid_file),
                                            then="time.sleep(120)")],
        start_new_session=True,
    )  # fmt: skip
    try:
        assert eventually(lambda: pid_file.exists() and pid_file.read_text())
        child = int(pid_file.read_text())
        assert child in process._descendants(parent.pid)
        process._end_group_and_descendants(parent.pid)
        parent.wait(5)
        assert eventually(lambda: gone(child))
    finally:
        parent.kill()
        parent.wait()


def test_a_child_that_finished_by_itself_is_not_counted_as_ended(tmp_path):
    """A child that exited (never waited for) is no process labsock ended."""
    code = (  # the child exits at once; the program never reaps it, and ends
        "import os, sys, time\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    os._exit(0)\n"
        "while open(f'/proc/{child}/stat').read().rpartition(')')[2].split()[0] != 'Z':\n"
        "    time.sleep(0.01)\n"
    )
    job = labsock.Job(code, "reaped", folder=tmp_path).start()
    assert job.wait(10)
    assert job.others_ended == 0
    assert job.state() == "reaped: exited with code 0"


def test_a_program_that_kills_its_own_group_still_has_its_children_ended(tmp_path):
    pid_file = tmp_path / "child.pid"
    then = "import signal\nos.killpg(0, signal.SIGKILL)"
    code = CHILD.format(how="start_new_session=True", pid_file=str(pid_file), then=then)
    job = labsock.Job(code, "grouper", folder=tmp_path).start()
    assert job.wait(10)
    assert gone(wait_for_file(pid_file, job))
    assert job.exit_code == -9 and job.others_ended == 1


def test_the_ports_waited_for_at_the_end_include_the_last_reports(tmp_path, monkeypatch):
    """The end reads the ports only once the readers are done: a bind reported as the program
    ended is still waited for (it was read before the readers were joined, while they changed
    it)."""
    from labsock.net.programs import job as job_module

    job = labsock.Job("pass\n", "late", folder=tmp_path)
    waited_for = []
    monkeypatch.setattr(
        job_module.processes, "wait_until_free", lambda ports, timeout=2.0: waited_for.extend(ports)
    )
    ending = threading.Event()

    def reader_with_one_more_report():
        ending.wait()
        job._reports.note(
            {"event": "bound", "sock": 3, "proto": "udp", "host": "127.0.0.1", "port": 12000}
        )

    reader = threading.Thread(target=reader_with_one_more_report)
    reader.start()
    job._threads = [reader]
    ending.set()  # the reader still reports as the end begins
    job._finish()
    assert waited_for == [("udp", "127.0.0.1", 12000)]
