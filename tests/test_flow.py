"""Flow diagram from logs: pairing, lost marks, duplicates, text form."""

import pytest

from labsock.show.flow import flow_from_logs


@pytest.mark.fast
def test_lost_and_delivered_messages_are_paired_by_text():
    sent = [(10.000, "1"), (10.200, "2"), (10.400, "3")]
    received = [(10.001, "1"), (10.405, "3")]
    diagram = flow_from_logs(sent, received)
    by_label = {a.label: a for a in diagram.arrows}
    assert by_label["2"].lost and not by_label["1"].lost
    assert by_label["3"].arrived_at - by_label["3"].sent_at == pytest.approx(0.005)
    assert diagram.lost == 1


@pytest.mark.fast
def test_duplicate_gets_an_extra_arrow_and_repeated_texts_pair_in_order():
    sent = [(0.0, "1"), (1.0, "1")]
    received = [(0.1, "1"), (1.1, "1"), (1.2, "1")]
    arrows = flow_from_logs(sent, received).arrows
    assert [(a.sent_at, a.arrived_at, a.label) for a in arrows] == [
        (0.0, 0.1, "1"),
        (1.0, 1.1, "1"),
        (1.0, 1.2, "1 (copy)"),
    ]


@pytest.mark.fast
def test_text_form_marks_lost_ones():
    text = flow_from_logs([(0.0, "a"), (0.01, "b")], [(0.002, "a")]).text()
    lines = text.splitlines()
    assert "a ───▶" in lines[1] and "+2.00 ms" in lines[1]
    assert "b ───✕" in lines[2] and "lost" in lines[2]
    assert lines[-1] == "2 messages, 1 lost"


def test_plot_draws_without_a_display():
    import matplotlib

    matplotlib.use("Agg")
    ax = flow_from_logs([(0.0, "a"), (0.01, "b")], [(0.002, "a")]).plot()
    assert ax.get_title() == "2 messages, 1 lost"


def test_plot_labels_never_overlap_even_when_messages_leave_together():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Requests 2 ms apart answered 1 ms later: at this scale their labels would sit on each other
    sent = [(i * 0.002, f"ping {i}") for i in range(1, 13)] + [(0.5, "ping 99")]
    received = [(t + 0.001, text) for t, text in sent if text != "ping 7"]
    ax = flow_from_logs(sent, received).plot()
    try:
        ax.figure.canvas.draw()
        texts = [text for text in ax.texts if text.get_text()]  # arrows are empty annotations
        assert len(texts) == 13  # every label
        texts += [*ax.get_xticklabels(), ax.title]  # the lanes' names, the title
        assert [text.get_text() for text in texts[-3:]] == ["client", "server", ax.get_title()]
        boxes = [text.get_window_extent() for text in texts]
        overlapping = [
            (a.get_text(), b.get_text())
            for i, (a, box_a) in enumerate(zip(texts, boxes, strict=True))
            for b, box_b in zip(texts[i + 1 :], boxes[i + 1 :], strict=True)
            if box_a.overlaps(box_b)
        ]
        assert overlapping == []
        assert "ping 7 lost" in [text.get_text() for text in texts]
    finally:
        plt.close(ax.figure)
