import threading

import pytest

from labsock.net.log import CONNECTED, MessageLog, readable
from labsock.show.as_html import log_html


@pytest.mark.fast
def test_readable_shows_bytes_that_are_not_utf8():
    assert readable("héllo".encode()) == "héllo"
    assert readable(b"caf\xe9") == "caf\\xe9"


@pytest.mark.fast
def test_since_returns_only_what_is_new():
    log = MessageLog()
    log.append(1.0, ("127.0.0.1", 1), b"a")
    log.append(2.0, ("127.0.0.1", 1), b"b")
    first, cursor = log.since(0)
    assert [m.text for m in first] == ["a", "b"] and cursor == 2
    log.append(3.0, ("127.0.0.1", 2), b"c")
    new, cursor = log.since(cursor)
    assert [m.text for m in new] == ["c"] and cursor == 3
    assert log.since(cursor) == ([], 3)


@pytest.mark.fast
def test_bound_keeps_the_newest_and_since_says_what_was_dropped():
    log = MessageLog(maxlen=3)
    for i in range(10):
        log.append(float(i), ("127.0.0.1", 1), str(i).encode())
    assert log.texts() == ["7", "8", "9"]
    entries, cursor = log.since(2)
    assert [m.text for m in entries] == ["7", "8", "9"]
    assert cursor - 2 - len(entries) == 5  # dropped by the bound
    assert log.message_count == 10


@pytest.mark.fast
def test_events_are_not_messages():
    log = MessageLog()
    log.add_event(1.0, ("127.0.0.1", 5), CONNECTED)
    log.append(2.0, ("127.0.0.1", 5), b"hi", "HI")
    assert log.message_count == 1 and log.total == 2
    assert [m.kind for m in log.entries()] == ["connected", "message"]
    assert log.messages()[0].reply == "HI"


@pytest.mark.fast
def test_names_label_senders_by_port():
    log = MessageLog(names={11000: "c1"})
    log.append(1.0, ("127.0.0.1", 11000), b"1")
    log.append(1.0, ("127.0.0.1", 13000), b"1")
    assert log.by_client() == {"c1 (127.0.0.1:11000)": ["1"], "127.0.0.1:13000": ["1"]}


def test_wait_for_wakes_when_the_message_arrives():
    log = MessageLog()
    waiting = threading.Event()
    result = []

    def reader():
        waiting.set()
        result.append(log.wait_for(3, timeout=10))

    thread = threading.Thread(target=reader)
    thread.start()
    waiting.wait()
    for i in range(3):
        log.append(float(i), ("127.0.0.1", 1), b"x")
    thread.join(10)
    assert result == [True]


@pytest.mark.fast
def test_wait_for_gives_up_after_its_timeout():
    log = MessageLog()
    log.append(1.0, ("127.0.0.1", 1), b"x")
    assert log.wait_for(1, timeout=0.01) is True
    assert log.wait_for(2, timeout=0.01) is False


def test_close_wakes_readers():
    log = MessageLog()
    done = []
    thread = threading.Thread(target=lambda: done.append(log.wait(0, timeout=30)))
    thread.start()
    log.close()
    thread.join(10)
    assert done == [True] and not thread.is_alive()


@pytest.mark.fast
def test_text_and_html_views_show_messages():
    log = MessageLog()
    log.append(1.0, ("127.0.0.1", 9), b"<b>hi</b>", "<B>HI</B>")
    assert "127.0.0.1:9: <b>hi</b>  -> <B>HI</B>" in repr(log)
    html = log_html(log)
    assert "&lt;b&gt;hi&lt;/b&gt;" in html and "<b>hi</b>" not in html


def test_wait_for_sleeps_until_enough_could_have_arrived():
    log = MessageLog()
    woken = threading.Event()
    result = []

    def reader():
        result.append(log.wait_for(100, timeout=10))
        woken.set()

    thread = threading.Thread(target=reader)
    thread.start()
    for i in range(99):
        log.append(float(i), ("127.0.0.1", 1), b"x")
    # 99 of 100: the reader must still be waiting
    assert not woken.wait(0.05) and result == []
    log.append(99.0, ("127.0.0.1", 1), b"x")
    thread.join(10)
    assert result == [True]


def test_since_is_consistent_while_a_writer_appends():
    log = MessageLog(maxlen=500)
    done = threading.Event()

    def writer():
        for i in range(20_000):
            log.append(float(i), ("127.0.0.1", 1), str(i).encode())
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    cursor, seen, dropped = 0, [], 0
    while not (done.is_set() and cursor == log.total):
        entries, new_cursor = log.since(cursor)
        dropped += new_cursor - cursor - len(entries)
        seen += [int(m.text) for m in entries]
        cursor = new_cursor
    thread.join()
    # every number either seen once, in order, or counted as dropped by the bound
    assert seen == sorted(set(seen)) and len(seen) + dropped == 20_000
    assert all(m.index == int(m.text) for m in log.messages())


def test_big_entries_are_bounded_by_bytes_and_the_drop_is_said():
    from labsock.net.log import MAX_BYTES

    log = MessageLog()  # the defaults a server uses
    data = b"x" * 65_000
    for i in range(2_000):  # 2,000 x 130 KB with the replies: 260 MB if all were kept
        log.append(float(i), ("127.0.0.1", 1), data, "X" * 65_000)
    kept = log.entries()
    assert sum(len(m.data) + len(m.reply) for m in kept) <= MAX_BYTES
    assert kept[-1].time == 1999.0 and log.message_count == 2_000
    assert log.dropped == 2_000 - len(kept) > 0
    assert f"({log.dropped} oldest entries no longer kept)" in log.tail_text()
    entries, cursor = log.since(0)
    assert cursor == 2_000 and len(entries) == len(kept)


def test_small_entries_are_bounded_by_count_only():
    log = MessageLog(maxlen=50)
    for i in range(60):
        log.append(float(i), ("127.0.0.1", 1), b"y" * 100)
    assert len(log) == 50 and log.dropped == 10


def test_one_huge_entry_is_kept_until_the_next():
    log = MessageLog(max_bytes=10_000)
    log.append(1.0, ("127.0.0.1", 1), b"z" * 50_000)
    assert log.texts() == ["z" * 50_000]
    log.append(2.0, ("127.0.0.1", 1), b"w" * 2_000)
    assert log.texts() == ["w" * 2_000]


@pytest.mark.parametrize("size", [-1, 0, 2.5, "10", True, None])
def test_a_bad_log_size_is_explained(size):
    from labsock import LabsockError, UDPServer

    with pytest.raises(LabsockError, match="log_size="):
        MessageLog(size)
    with pytest.raises(LabsockError, match="log_size="):
        UDPServer(port=0, log_size=size)


def test_tail_builds_only_the_rows_it_shows(monkeypatch):
    import labsock.net.log as log_module

    log = MessageLog()
    for i in range(10_000):
        log.append(float(i), ("127.0.0.1", 1), b"%d" % i)
    built = []

    class Counted(log_module.Message):
        __slots__ = ()

        def __init__(self, *args):
            built.append(1)
            super().__init__(*args)

    monkeypatch.setattr(log_module, "Message", Counted)
    text, html = log.tail_text(20), log_html(log, 20)
    assert len(built) == 40  # 20 rows each, not 10,000
    assert text.splitlines()[-1].endswith(": 9999") and "9999" in html
