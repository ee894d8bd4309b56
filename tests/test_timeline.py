"""The picture (text chart and matplotlib) and the per-client table, over plain data."""

import subprocess
import sys

import pytest

from labsock.logic.sequence import SequenceTracker
from labsock.show.client_table import ClientTable, port_of, sender_label, sender_name
from labsock.show.timeline import Timeline

NAMES = {11000: "c1", 13000: "c2"}
C1, C2 = "127.0.0.1:11000", "127.0.0.1:13000"


def two_clients(count=120):
    points = []
    for i in range(count):
        points.append((C1, i % 100 + 1, 100.0 + i))
        points.append((C2, i % 100 + 1, 100.5 + i))
    return points


@pytest.mark.fast
def test_text_chart_places_each_client_and_names_them():
    chart = Timeline([(C1, 1, 0.0), (C1, 100, 10.0), (C2, 50, 5.0)], NAMES).text(width=11)
    lines = chart.splitlines()
    assert lines[0] == " 100 |          a"  # top row, right edge: 100 at the end
    assert lines[5] == "  50 |     b"  # row of 41..50, halfway across
    assert lines[9] == "  10 |a"  # bottom row, left edge
    assert "a = c1 (127.0.0.1:11000)" in lines[-1]
    assert "b = c2 (127.0.0.1:13000)" in lines[-1]
    assert "10.0 s" in lines[-2]


@pytest.mark.fast
def test_text_chart_marks_where_clients_meet():
    chart = Timeline([(C1, 5, 0.0), (C2, 6, 0.0), (C1, 7, 1.0)]).text(width=10)
    assert chart.splitlines()[9] == "  10 |*        a"


@pytest.mark.fast
def test_empty_timeline():
    assert str(Timeline([])) == "no numbers yet"


@pytest.mark.fast
def test_series_are_seconds_from_the_first_arrival():
    series = Timeline(two_clients(3)).series()
    assert series[C1] == [(0.0, 1), (1.0, 2), (2.0, 3)]
    assert series[C2][0] == (0.5, 1)


def test_plot_draws_one_line_per_client():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = Timeline(two_clients(), NAMES).plot()
    try:
        lines = ax.get_lines()
        assert [line.get_label() for line in lines] == [
            "c1 (127.0.0.1:11000)",
            "c2 (127.0.0.1:13000)",
        ]
        assert list(lines[0].get_ydata()[98:102]) == [99, 100, 1, 2]
        assert lines[1].get_xdata()[0] == 0.5
    finally:
        plt.close(ax.figure)


def test_importing_the_picture_does_not_import_matplotlib():
    code = (
        "import labsock.show.timeline, labsock.show.client_table, sys; "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.fast
def test_sender_names_by_key_or_port():
    assert port_of(C1) == 11000 and port_of(("::1", 5)) == 5 and port_of(11000) == 11000
    assert port_of("no port") is None
    assert sender_name(C1, NAMES) == "c1"
    assert sender_name(C1, {C1: "mine"}) == "mine"
    assert sender_name("127.0.0.1:9", NAMES) is None
    assert sender_label(("127.0.0.1", 13000), NAMES) == "c2 (127.0.0.1:13000)"
    assert sender_label(C1) == C1


@pytest.mark.fast
def test_client_table_text_and_html():
    tracker = SequenceTracker()
    tracker.feed_many(two_clients(101))
    tracker.feed(C2, 100)  # a duplicate
    table = ClientTable(tracker.all_stats(), NAMES, rates=False)
    assert str(table).splitlines() == [
        "client                received  last  missing  duplicates  out of order  wraps",
        "c1 (127.0.0.1:11000)       101     1        0           0             0      1",
        "c2 (127.0.0.1:13000)       102   100        0           1             0      1",
    ]
    page = table._repr_html_()
    assert page.count("<tr") == 3 and "c1 (127.0.0.1:11000)" in page
    assert page.count("background") == 1  # only the client with a duplicate is tinted
    assert "rate" not in page
    assert str(ClientTable([])) == "no messages yet"


@pytest.mark.fast
def test_client_table_shows_rate():
    tracker = SequenceTracker()
    tracker.feed_many(two_clients(11))
    assert str(ClientTable(tracker.all_stats())).splitlines()[1].endswith("1.0/s")


def test_a_pause_is_a_gap_and_the_legend_covers_no_data():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # c1: 40 numbers 0.3 s apart, a 5 s pause, 40 more; c2 steady, wrapping early (top left)
    points = [(C1, i + 1, 100.0 + i * 0.3) for i in range(40)]
    points += [(C1, 41 + i, 117.0 + i * 0.3) for i in range(40)]
    points += [(C2, i % 100 + 1, 100.0 + i * 0.05) for i in range(300)]
    ax = Timeline(sorted(points, key=lambda p: p[2]), NAMES).plot()
    try:
        c1, c2 = ax.get_lines()
        gaps = [i for i, y in enumerate(c1.get_ydata()) if y != y]  # NaN: the line breaks
        assert gaps == [40] and c1.get_xdata()[41] == pytest.approx(17.0)
        assert not any(y != y for y in c2.get_ydata())  # steady: one unbroken line
        ax.figure.canvas.draw()
        legend = ax.get_legend().get_window_extent()
        for line in (c1, c2):
            shown = ax.transData.transform([(x, y) for x, y in line.get_xydata() if y == y])
            assert not any(legend.contains(x, y) for x, y in shown)
        assert legend.x0 >= ax.get_window_extent().x1  # beside the plot, not on it
    finally:
        plt.close(ax.figure)
