"""Notebook 2's figures say what they plot, and what they draw is the data: the embedding map's
labels never overlap, the next-word bars are the model's most likely words, and the true 4th
word is the one marked."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from mpcore import experiments, plots  # noqa: E402
from mpcore.models import language_model  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _label_boxes(ax):
    """Window extents of the word labels drawn on ``ax`` (its annotations), after a draw."""
    renderer = ax.figure.canvas.get_renderer()
    return [t.get_window_extent(renderer) for t in ax.texts]


def _overlapping_pairs(boxes):
    return [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])]


def _clustered_embeddings(V=120, D=6, seed=0):
    """Embeddings with a dense clump: most words within a small ball, a few far out."""
    rng = np.random.default_rng(seed)
    R = 0.05 * rng.standard_normal((V, D))
    R[: V // 6] += 2 * rng.standard_normal((V // 6, D))
    return R, [f"word{i}" for i in range(V)]


def test_overlap_check_detects_overlapping_labels():
    # the check the tests below rely on: labels drawn on top of each other are caught
    fig, ax = plt.subplots()
    for k in range(3):
        ax.annotate(f"label{k}", (0.5, 0.5))
    fig.canvas.draw()
    assert len(_overlapping_pairs(_label_boxes(ax))) == 3


@pytest.mark.parametrize("dpi", [72, 100])
def test_embedding_map_labels_never_overlap_labels_or_dots(dpi):
    R, words = _clustered_embeddings()
    counts = np.arange(len(words))[::-1]
    fig = plots.embedding_map(R, words, n=100, counts=counts, groups={"first": words[:10]}, P=7, seed=3)
    fig.set_dpi(dpi)
    fig.canvas.draw()
    idx = plots.most_frequent(counts, 100)
    xy, _ = plots.embedding_pca(R, idx)
    for ax, labelled in zip(fig.axes, fig.labelled):
        boxes = _label_boxes(ax)
        assert len(boxes) == len(labelled) > 0
        assert _overlapping_pairs(boxes) == []
        # a label lies inside its panel and covers no other word's dot
        panel = ax.get_window_extent()
        dots = ax.transData.transform(xy)
        for box, text, word in zip(boxes, ax.texts, labelled):
            assert text.get_text() == words[word]
            assert panel.x0 <= box.x0 and box.x1 <= panel.x1 and panel.y0 <= box.y0 and box.y1 <= panel.y1
            others = np.delete(dots, list(idx).index(word), axis=0)
            assert not np.any((others[:, 0] > box.x0) & (others[:, 0] < box.x1)
                              & (others[:, 1] > box.y0) & (others[:, 1] < box.y1))
    # the clump cannot hold every label: some words stay unlabelled on the full map, and the
    # enlarged panel labels words the full map could not
    assert len(fig.labelled[0]) < 100
    assert set(fig.labelled[1]) - set(fig.labelled[0])


def test_embedding_map_draws_the_pca_of_the_most_frequent_words():
    R, words = _clustered_embeddings()
    counts = np.random.default_rng(1).integers(0, 1000, len(words))
    groups = {"some": [words[i] for i in plots.most_frequent(counts, 5)], "absent": ["not a word"]}
    fig = plots.embedding_map(R, words, n=40, counts=counts, groups=groups, P=9, seed=2)
    idx = plots.most_frequent(counts, 40)
    xy, share = plots.embedding_pca(R, idx)
    full = fig.axes[0]
    np.testing.assert_allclose(full.collections[0].get_offsets(), xy)
    # coloured by group: the group's words the palette's first colour, every other word grey
    colours = full.collections[0].get_facecolors()
    for k, i in enumerate(idx):
        expected = plots.PALETTE[0] if words[i] in groups["some"] else plots.OTHER_WORDS
        np.testing.assert_allclose(colours[k], to_rgba(expected))
    # PCA: the two components' share of the variance, and the variance really is that share
    E_ = R[idx] - R[idx].mean(axis=0)
    total = np.sum(E_**2)
    np.testing.assert_allclose(np.sum(xy**2, axis=0) / total, share)
    title = fig.texts[0].get_text() if fig.texts else fig._suptitle.get_text()
    for part in ("D=6", "P=9", "seed 2", "the 40 most frequent words", "PCA", f"{share.sum():.1%}"):
        assert part in title
    for ax in fig.axes:
        assert f"{share[0]:.1%}" in ax.get_xlabel() and f"{share[1]:.1%}" in ax.get_ylabel()
        assert "labelled" in ax.get_title()
    # the legend names each group present with its count, and no absent group
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["some (5)", "other words (35)"]


def test_embedding_map_zoom_panel_keeps_one_scale():
    R, words = _clustered_embeddings()
    fig = plots.embedding_map(R, words, n=100)
    fig.canvas.draw()
    for ax in fig.axes:
        box = ax.get_window_extent()
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        assert (x1 - x0) / box.width == pytest.approx((y1 - y0) / box.height, rel=0.02)
    # the enlarged panel is the dashed box drawn on the full map
    rect = fig.axes[0].patches[0]
    assert (rect.get_x(), rect.get_x() + rect.get_width()) == pytest.approx(fig.axes[1].get_xlim())
    assert (rect.get_y(), rect.get_y() + rect.get_height()) == pytest.approx(fig.axes[1].get_ylim())


def _small_result(V=30, D=4, P=8, seed=5):
    rng = np.random.default_rng(seed)
    params = {k: v * 300 for k, v in language_model.init_params(V, D, P, rng).items()}
    config = experiments.language_model_config(D, P, seed=seed)
    return SimpleNamespace(params=params, config=config), [f"w{i}" for i in range(V)]


def _bars(ax):
    """(tick label, probability, colour) of each bar of a next-word panel, top to bottom."""
    bars = sorted(ax.patches, key=lambda b: b.get_y())
    ticks = {round(t, 3): label.get_text() for t, label in zip(ax.get_yticks(), ax.get_yticklabels())}
    return [(ticks[round(b.get_y() + b.get_height() / 2, 3)], b.get_width(), b.get_facecolor()) for b in bars]


def test_next_word_figure_marks_the_true_word_and_its_rank():
    result, words = _small_result()
    contexts = np.array([[1, 2, 3], [4, 4, 5], [6, 7, 8]])
    proba = language_model.predict_proba(result.params, contexts)
    order = np.argsort(-proba, axis=1, kind="stable")
    actuals = [order[0, 0], order[1, 3], order[2, 20]]  # ranks 1, 4 and 21
    fig = plots.next_word_figure(result, words, contexts, actuals)
    ranks = (1, 4, 21)
    assert fig.marked == [(words[a], r, pytest.approx(proba[n, a])) for n, (a, r) in enumerate(zip(actuals, ranks))]
    title = fig._suptitle.get_text()
    assert "D=4, P=8, seed 5" in title and "3 test 4-grams" in title
    true, predicted = to_rgba(plots.NEXT_WORD_COLORS["true"]), to_rgba(plots.NEXT_WORD_COLORS["predicted"])
    for n, ax in enumerate(fig.axes[:3]):
        bars = _bars(ax)
        # the ten bars are the model's ten most likely words, in order, with their probabilities
        assert [w for w, _, _ in bars[:10]] == [words[i] for i in order[n, :10]]
        np.testing.assert_allclose([p for _, p, _ in bars[:10]], proba[n, order[n, :10]], rtol=1e-6)
        # exactly one bar is marked, and it is the true word
        marked = [(w, p) for w, p, c in bars if c == true]
        assert len(marked) == 1 and marked[0][0].startswith(words[actuals[n]])
        assert marked[0][1] == pytest.approx(proba[n, actuals[n]])
        assert all(c in (true, predicted) for _, _, c in bars)
        assert ax.get_xlim() == (0, 1) and "probability" in ax.get_xlabel()
        assert f"rank {fig.marked[n][1]}" in ax.get_title()
    # within the ten: no extra bar; outside: its own bar, labelled with the rank
    assert len(_bars(fig.axes[1])) == 10
    assert len(_bars(fig.axes[2])) == 11 and _bars(fig.axes[2])[-1][0] == f"{words[actuals[2]]} (rank 21 of 30)"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["the model's 10 most likely 4th words", "the true 4th word of the test 4-gram"]


def test_next_word_figure_without_true_words_marks_nothing():
    result, words = _small_result()
    fig = plots.next_word_figure(result, words, [["w1", "w2", "w3"]])
    assert fig.marked == [None]
    assert all(c == to_rgba(plots.NEXT_WORD_COLORS["predicted"]) for _, _, c in _bars(fig.axes[0]))
    assert "D=4, P=8, seed 5" in fig._suptitle.get_text()


def test_top10_figure_says_the_model_and_marks_the_actual_word():
    candidates = [(w, p) for w, p in zip("abcdefghij", np.linspace(0.3, 0.01, 10))]
    fig = plots.top10_figure(candidates, ["x", "y", "z"], actual="c", model="D=8, P=64, seed 1")
    ax = fig.axes[0]
    assert "D=8, P=64, seed 1" in ax.get_title() and "x y z" in ax.get_title()
    assert [w for w, _, c in _bars(ax) if c == to_rgba(plots.NEXT_WORD_COLORS["true"])] == ["c"]
    fig = plots.top10_figure(candidates, ["x", "y", "z"], actual="q", actual_rank=57, actual_prob=0.002, n_words=250)
    assert _bars(fig.axes[0])[-1][:2] == ("q (rank 57 of 250)", pytest.approx(0.002))
    # the explorer's call (no model, no actual word) still works
    fig = plots.top10_figure(candidates, ["x", "y", "z"])
    assert len(_bars(fig.axes[0])) == 10 and "probability" in fig.axes[0].get_xlabel()


def test_loss_curves_legend_names_models_line_styles_and_kept_epoch():
    hist = {"train_loss": [3.0, 2.5, 2.2, 2.1], "val_loss": [3.1, 2.7, 2.6, 2.65], "best_epoch": 2}
    fig = plots.loss_curves({"D=8, P=64": hist}, "title")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "D=8, P=64 (kept epoch 3)" in labels
    assert any("training" in t for t in labels) and any("validation" in t for t in labels)
    assert "nats" in ax.get_ylabel() and "epoch" in ax.get_xlabel()
    dot = [line for line in ax.lines if line.get_marker() == "o"][0]
    assert (dot.get_xdata()[0], dot.get_ydata()[0]) == (3, 2.6)

