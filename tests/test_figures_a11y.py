"""Every figure can be read without sight and without full colour vision (issue 23).

(a) Each figure function attaches alt text written from the data: the numbers it states are
recomputed here from the same arrays, independently of :mod:`mpcore.plots`. (b) Every line,
marker, bar and band is drawn in a colour of the one palette, or a grey -- whatever the caller's
colour cycle. (c) Every text drawn passes WCAG AA contrast (4.5:1) against what lies behind it.
(d) Every figure in the committed notebooks 1-3 carries a useful alt text in its output's
metadata. (e) The report's ``summary.md`` shows every PNG it wrote with its alt text.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from cycler import cycler  # noqa: E402
from matplotlib.colors import to_rgb, to_rgba  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from mpcore import experiments, metrics, plots, study  # noqa: E402
from mpcore.models import language_model  # noqa: E402
from mpcore.store import Store, shipped_dir  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from a11y import is_useful_alt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["01_sparse_autoencoder", "02_word_embeddings", "03_sequence_classification"]

# ------------------------------------------------------------------ WCAG, written out here


def luminance(colour) -> float:
    """WCAG 2.1 relative luminance (sRGB channels linearised, weighted 0.2126, 0.7152, 0.0722)."""
    def linear(c):
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in to_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_function_matches_wcag_reference_values():
    assert contrast("black", "white") == pytest.approx(21.0)
    assert contrast("#777777", "white") == pytest.approx(4.48, abs=0.01)  # the classic just-failing grey
    assert contrast("0.55", "white") < 4.5  # the embedding map's grey, as a text colour, fails


# ------------------------------------------------------------------ the figures, on data


def _gratings(H=16, P=8, seed=0):
    """H oriented gratings (selectivity near 1) as (H, P*P) features."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:P, :P]
    angles = rng.uniform(0, np.pi, H)
    return np.stack([np.cos(2 * np.pi * 2 * (x * np.cos(a) + y * np.sin(a)) / P) for a in angles]).reshape(H, -1)


def _history(n=12, seed=0):
    rng = np.random.default_rng(seed)
    val = 1.5 - np.linspace(0, 0.8, n) + 0.05 * rng.normal(size=n)
    return {"train_loss": list(2.0 - np.linspace(0, 1.2, n)), "val_loss": list(val),
            "train_acc": list(np.linspace(0.3, 0.9, n)), "val_acc": list(np.linspace(0.25, 0.8, n)),
            "best_epoch": int(np.argmin(val))}


@pytest.fixture(scope="module")
def shipped():
    return Store(shipped_dir(), read_only_roots=[])


def _neighbour_corr(x):
    """The correlation of horizontally and vertically adjacent pixels of (N, P, P) patches."""
    pairs = [(x[:, :, :-1], x[:, :, 1:]), (x[:, :-1, :], x[:, 1:, :])]
    a = np.concatenate([p.ravel() for p, _ in pairs])
    b = np.concatenate([q.ravel() for _, q in pairs])
    return np.corrcoef(a, b)[0, 1]


def _where(point, xy):
    """Where ``point`` lies on the map of ``xy``, in words, written out here: the offset from the
    middle of the range over the half-range; beyond 0.6 "far"/"near the", beyond 0.2 beside the centre."""
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    u = (point - (lo + hi) / 2) / ((hi - lo) / 2)
    vertical = ("near the bottom" if u[1] <= -0.6 else "near the top" if u[1] >= 0.6 else
                "below" if u[1] <= -0.2 else "above" if u[1] >= 0.2 else "")
    horizontal = ("far left" if u[0] <= -0.6 else "far right" if u[0] >= 0.6 else
                  "left of" if u[0] <= -0.2 else "right of" if u[0] >= 0.2 else "")
    if vertical in ("below", "above") and horizontal in ("left of", "right of"):
        return f"{vertical} and {horizontal} the centre"
    words = [w + " the centre" if w in ("below", "above", "left of", "right of") else w
             for w in (vertical, horizontal) if w]
    return ", ".join(words) or "at the centre"


def _catalogue(shipped):
    """``[(name, figure, [strings its alt text must contain])]``, the strings computed here."""
    rng = np.random.default_rng(0)
    out = []

    # -- part 1
    rgb = rng.uniform(size=(40, 3, 8, 8))
    yy, xx = np.mgrid[:8, :8]
    phase = rng.uniform(0, 2 * np.pi, (40, 1, 1))
    gray = 0.5 + 0.3 * np.sin(0.4 * xx + 0.2 * yy + phase)  # smooth shading
    white = 0.5 + 0.1 * rng.normal(size=(40, 8, 8))  # every pixel on its own
    out.append(("patches_figure", plots.patches_figure(rgb, gray, white, n=40),
                [f"correlate {_neighbour_corr(gray):.2f} in the grey patches and {_neighbour_corr(white):.2f} in "
                 "the whitened ones", "40 random 8 × 8", "2 rows × 20 columns"]))
    X = (0.1 + 0.8 * rgb.mean(axis=1)).reshape(40, -1)
    s = np.linalg.eigvalsh(np.cov(X.T, bias=True))[::-1]
    out.append(("variance_spectrum", plots.variance_spectrum({"recipe": X}), [f"{s[9] / s[0]:.2g} at rank 10"]))
    edges, noise = _gratings(), rng.normal(size=(16, 64))
    sel_e, sel_n = metrics.feature_spectrum(edges)[0], metrics.feature_spectrum(noise)[0]
    out.append(("feature_grid", plots.feature_grid(edges, "gratings"),
                ["a 4 × 4 grid of the 16", f"mean {sel_e.mean():.2f}", f"{np.sum(sel_e > 0.5)} of 16", "oriented"]))
    out.append(("feature_grids", plots.feature_grids({"edges": edges, "noise": noise}, scale="panel"),
                [f"mean {sel_e.mean():.2f}", f"mean {sel_n.mean():.2f}", "pixel noise", "one grey scale per panel",
                 f"like pixel noise (high-frequency share {metrics.feature_spectrum(noise)[1].mean():.2f})"]))
    big = _gratings(64, seed=2)
    sel_big = metrics.feature_spectrum(big)[0]
    out.append(("feature_grids", plots.feature_grids(
        {"off\nselectivity 9.99": big, "on": _gratings(64, seed=3)},
        measured={"off\nselectivity 9.99": {"units_off": 64, "mean_activation": 0.0004, "weight_norm": 0.08},
                  "on": {"units_off": 3, "weight_norm": 3.3}}),
                ["Left, off: ", "every unit switched off (the same activation for every patch), mean activation 0.000",
                 "3 of 64 units switched off. ",
                 f"{3.3 / 0.08:.0f} times shorter", f"mean {sel_big.mean():.2f}", "an 8 × 8 grid"]))
    grid = {(16, 0.0): noise, (16, 1e-3): edges, (25, 0.0): _gratings(25, seed=1), (25, 1e-3): edges[::-1]}
    sel = {k: metrics.feature_spectrum(f)[0].mean() for k, f in grid.items()}
    high = {k: metrics.feature_spectrum(f)[1].mean() for k, f in grid.items()}
    least = min(grid, key=sel.get)
    top = max(round(v, 2) for v in sel.values())
    ties = [k for k in grid if round(sel[k], 2) == top]
    assert len(ties) > 1  # the same features twice, at least: a tie, every panel of it named
    out.append(("feature_grid_matrix", plots.feature_grid_matrix(grid, "Grid", measured={
        k: {"units_off": 2 if k == (25, 0.0) else 0} for k in grid}),
                [f"L_hid = 16: {sel[(16, 0.0)]:.2f}, {sel[(16, 1e-3)]:.2f}", f"L_hid = 25: {sel[(25, 0.0)]:.2f}",
                 "a 2 × 2 matrix",
                 f"Most oriented ({top:.2f}): " + "; ".join(f"L_hid = {r:g}, λ = {c:g}" for r, c in ties) + ".",
                 f"Least oriented ({sel[least]:.2f}): L_hid = {least[0]:g}, λ = {least[1]:g}.",
                 f"λ = 0: {min(high[(16, 0.0)], high[(25, 0.0)]):.2f}–{max(high[(16, 0.0)], high[(25, 0.0)]):.2f}",
                 f"λ = 0.001: {high[(16, 1e-3)]:.2f}.", "Units switched off: 2 of 25 at L_hid = 25, λ = 0."]))
    X_hat = 0.9 * X + 0.05
    out.append(("reconstructions", plots.reconstructions(X, X_hat, n=10),
                [f"mean squared error per pixel {np.mean((X[:10] - X_hat[:10]) ** 2):.4f}", "first 10 patches"]))
    J = list(np.geomspace(3.0, 1.25, 30))
    h = {"train_loss": J, "monitor": {"reconstruction": list(np.geomspace(2.0, 1.0, 30)),
                                      "weight_decay": list(np.linspace(0.1, 0.25, 30)),
                                      "sparsity": list(np.linspace(1.0, 0.0, 30))}}
    out.append(("cost_curve", plots.cost_curve(h), ["from 3 to 1.25 over 30 iterations"]))
    out.append(("cost_terms_figure", plots.cost_terms_figure(h, "Cost", baseline=1.642),
                ["from 3 to 1.25", "weight decay from 0.1 to 0.25", "1.642", "1 iterations exactly 0",
                 "from iteration 10", "the cost on a linear axis, the iterations on a log axis"]))
    short = {"train_loss": J[:3], "monitor": {k: v[:3] for k, v in h["monitor"].items()}}
    out.append(("cost_terms_figure", plots.cost_terms_figure(short), ["from iteration 1 "]))
    main = shipped.get(experiments.MAIN_AUTOENCODER)
    out.append(("autoencoder_figure", plots.autoencoder_figure(main, scale="panel"),
                [f"mean {main.metrics['selectivity']:.2f}", f"to {main.history['train_loss'][-1]:.4g} over",
                 f"L_hid={main.config.n_hidden}", f"mean hidden activation {main.metrics['mean_activation']:.3f}",
                 "16 × 16 images (one grey scale per panel, 0 = mid-grey); "]))

    # -- part 2
    hist = _history()
    best = hist["best_epoch"]
    out.append(("loss_curves", plots.loss_curves({"D=8, P=64": hist, "D=16, P=128": _history(seed=1)}),
                [f"lowest {hist['val_loss'][best]:.3f} at the kept epoch {best + 1} of 12", "2 models"]))
    R = rng.normal(size=(60, 5))
    words = [f"w{i}" for i in range(60)]
    counts = np.arange(60)[::-1]
    idx = plots.most_frequent(counts, 40)
    xy, share = plots.embedding_pca(R, idx)
    groups = {"g": words[:5], "h": words[5:9], "far": [words[int(np.argmin(xy[:, 0]))]]}
    out.append(("embedding_map", plots.embedding_map(R, words, n=40, counts=counts, groups=groups, P=7),
                [f"{share[0]:.1%} and {share[1]:.1%}", f"g (5 words) {_where(xy[:5].mean(axis=0), xy)}",
                 f"h (4 words) {_where(xy[5:9].mean(axis=0), xy)}",
                 f"far (1 word) {_where(xy[int(np.argmin(xy[:, 0]))], xy)}",
                 "far left",
                 "the 30 other words", "40 most frequent"]))
    candidates = [(w, float(p)) for w, p in zip("abcdefghij", np.linspace(0.3, 0.01, 10))]
    out.append(("top10_figure", plots.top10_figure(candidates, ["x", "y", "z"], actual="q", actual_rank=57,
                                                   actual_prob=0.002, n_words=250),
                ["“x y z”", "a 0.300, b 0.268", "j 0.010", "ranks 57 of 250, probability 0.002"]))
    params = {k: v * 300 for k, v in language_model.init_params(30, 4, 8, np.random.default_rng(5)).items()}
    result = SimpleNamespace(params=params, config=experiments.language_model_config(4, 8, seed=5))
    vocab = [f"v{i}" for i in range(30)]
    contexts = np.array([[1, 2, 3], [4, 4, 5]])
    proba = language_model.predict_proba(params, contexts)
    top = np.argsort(-proba, axis=1, kind="stable")
    rank = 7
    out.append(("next_word_figure", plots.next_word_figure(result, vocab, contexts, [top[0, 0], top[1, rank - 1]]),
                [f"“v1 v2 v3”: v{top[0, 0]} {proba[0, top[0, 0]]:.3f}", "(of 30 words)", "D=4, P=8, seed 5",
                 f"“v{top[1, rank - 1]}” rank {rank}, {proba[1, top[1, rank - 1]]:.3f}."]))

    # -- part 3
    t = np.arange(30)[None, :, None]
    swing = np.sin(2 * np.pi * np.array([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4])[:, None, None] * t / 30)
    Xw = np.array([0.0, 1.0, 0.0]) + 0.3 * swing * np.array([1.0, 0.2, 0.5]) + 0.01 * rng.normal(size=(12, 30, 3))
    Xw[8:10, :, 0] -= 1.0  # "jog": gravity on x too, with either sign (the left arm and the right)
    Xw[10:, :, 0] += 1.0
    yw = np.repeat([0, 1, 2], 4)
    signed = lambda v: "0.0" if abs(v) < 0.05 else f"{v:+.1f}"  # noqa: E731  (every window: the same sign)
    means = {k: ", ".join(signed(v) for v in Xw[4 * k:4 * k + 4].mean(axis=(0, 1))) for k in range(2)}
    means[2] = f"±{np.abs(Xw[8:, :, 0].mean(axis=1)).mean():.1f}, " + ", ".join(
        signed(v) for v in Xw[8:, :, 1:].mean(axis=(0, 1)))
    out.append(("activity_windows", plots.activity_windows(Xw, yw, ["sit", "walk", "jog"], per_class=4,
                                                           ylabel="acceleration (g)", channels="xyz"),
                [f"sit {means[0]}, 1 cycle;", f"walk {means[1]}, 2 cycles;", f"jog {means[2]}, 3–4 cycles.",
                 "mean of x, y and z in g", "+1.0", "±1.0"]))
    cm = np.array([[50, 2, 0], [9, 30, 1], [0, 0, 3]])
    out.append(("confusion_figure", plots.confusion_figure({"test": cm}, ["a", "b", "c"]),
                [f"accuracy {83 / 95:.1%}", "a 50/52, b 30/40, c 3/3",
                 "largest confusions b predicted as a (9 of 40) and a predicted as b (2 of 52)"]))
    g = np.logspace(-12, 0, 40)
    out.append(("gradient_norms_figure", plots.gradient_norms_figure({"RNN": g, "GRU": np.sqrt(g)}),
                ["RNN 1e-12 at t = 1", "GRU 1e-06 at t = 1"]))
    v = rng.lognormal(size=(20, 30))
    labels = ["RNN ‖∂L/∂h_t‖", "LSTM ‖∂L/∂h_t‖", "LSTM ‖∂L/∂c_t‖"]
    out.append(("gradient_profiles", plots.gradient_profiles({"init": {k: v * (j + 1) for j, k in enumerate(labels)},
                                                              "trained": {labels[0]: v}}, "ratio",
                                                             styles=plots.cell_styles(labels)),
                ["2 panels (init and trained), log scale: ratio, against",
                 f"Median at t = 1, init: RNN {np.median(v[:, 0]):.2g}, LSTM {np.median(2 * v[:, 0]):.2g}, "
                 f"LSTM cell state {np.median(3 * v[:, 0]):.2g}; trained: RNN {np.median(v[:, 0]):.2g}.", "2 panels"]))
    norms = {"RNN": rng.lognormal(1, 1, 200), "GRU": rng.lognormal(0, 0.5, 200)}
    out.append(("step_gradient_norms", plots.step_gradient_norms(norms, clip=5.0),
                [f"RNN median {np.median(norms['RNN']):.3g}", f"{np.mean(norms['RNN'] > 5):.0%} of steps above",
                 "threshold 5"]))
    runs = {"RNN (η=0.1)": _history(), "LSTM (η=0.1)": _history(seed=2), "GRU (η=0.03)": _history(seed=3)}
    h0 = runs["RNN (η=0.1)"]
    out.append(("training_curves", plots.training_curves(runs),
                [f"kept epoch {h0['best_epoch'] + 1} of 12",
                 f"last epoch {h0['val_loss'][-1]:.3f}), validation accuracy {h0['val_acc'][h0['best_epoch']]:.2f}",
                 f"training accuracy {h0['train_acc'][h0['best_epoch']]:.2f} (last epoch {h0['train_acc'][-1]:.2f})"]))
    out.append(("iterate_loss", plots.iterate_loss(runs), ["RNN (η=0.1) from 2.000 to 0.800 over 12 epochs"]))
    acc = {c: {lr: list(rng.uniform(0.5, 0.9, 3)) for lr in (0.01, 0.03, 0.1)} for c in ("RNN", "LSTM", "GRU")}
    chosen = {c: max(a, key=lambda lr, a=a: np.mean(a[lr])) for c, a in acc.items()}
    out.append(("lr_selection", plots.lr_selection(acc, chosen),
                ["Chosen η: " + ", ".join(f"{c} {chosen[c]:g}" for c in acc), "each seed a marker",
                 "; ".join(f"{c} " + ", ".join(f"{np.mean(acc[c][lr]):.2f}" for lr in (0.01, 0.03, 0.1))
                           for c in acc)]))
    spread = {c: list(rng.uniform(0.6, 0.9, 3)) for c in ("RNN", "LSTM", "GRU")}
    out.append(("seed_spread", plots.seed_spread(spread, seeds=[0, 1, 2]),
                [f"RNN {np.mean(spread['RNN']):.3f} ± {np.std(spread['RNN'], ddof=1):.3f}"]))
    seq = shipped.get(experiments.sequence_config("gru", study.SEQ_LR_GRID[1], 0))
    test_cm = np.asarray(seq.metrics["test_confusion"])
    out.append(("sequence_figure", plots.sequence_figure(seq),
                [f"test: accuracy {np.trace(test_cm) / test_cm.sum():.1%}",
                 f"epoch {seq.history['best_epoch'] + 1} of {len(seq.history['val_loss'])} kept"]))
    return out


@pytest.fixture(scope="module")
def catalogue(shipped):
    with plt.rc_context({"axes.prop_cycle": cycler(color=["#ff0000", "#00ff00", "#123456"]),
                         "image.cmap": "jet", "lines.color": "#ff00ff",  # a caller's settings must not leak
                         "figure.max_open_warning": 0}):
        figures = _catalogue(shipped)
    yield figures
    plt.close("all")


def _figure_functions():
    """The functions of :mod:`mpcore.plots` that make a figure of their own."""
    return {name for name, fn in inspect.getmembers(plots, inspect.isfunction)
            if fn.__module__ == plots.__name__ and "plt.subplots(" in inspect.getsource(fn)}


def test_catalogue_covers_every_figure_function(catalogue):
    assert _figure_functions() - {name for name, _, _ in catalogue} == set()


def test_every_figure_has_alt_text_written_from_its_data(catalogue):
    for name, fig, expected in catalogue:
        alt = plots.alt_text(fig)
        assert is_useful_alt(alt), name
        missing = [s for s in expected if s not in alt]
        assert not missing, f"{name}: {missing} not in {alt!r}"
        assert len(re.findall(r"[.!?](?:\s|$)", alt)) <= 6, f"{name}: too long: {alt!r}"


def test_feature_descriptions_follow_the_measured_selectivity():
    assert "16 of 16 oriented" in plots.features_description(_gratings())
    assert "pixel noise" in plots.features_description(np.random.default_rng(0).normal(size=(16, 64)))
    # a broad light-dark gradient is oriented too: the measures cannot call anything an edge or a bar
    y, x = np.mgrid[:16, :16]  # one cycle across the patch: a broad light-dark gradient
    ramps = np.stack([np.cos(2 * np.pi * (np.cos(a) * x + np.sin(a) * y) / 16)
                      for a in np.linspace(0, np.pi, 16)]).reshape(16, -1)
    sel, high = metrics.feature_spectrum(ramps)
    assert np.mean(sel > 0.5) > 0.6 and high.mean() < 0.15
    said = plots.features_description(ramps)
    assert f"{np.sum(sel > 0.5)} of 16 oriented" in said and "smooth (high-frequency share" in said
    for features in (ramps, _gratings(), np.random.default_rng(0).normal(size=(16, 64))):
        assert not re.search(r"\bedges?\b|\bbars?\b", plots.features_description(features))
    uniform = np.ones((9, 64)) + 0.01 * np.random.default_rng(1).normal(size=(9, 64))
    assert "uniform brightness" in plots.features_description(uniform)
    with pytest.raises(ValueError, match="no alt text"):
        plots.alt_text(plt.figure())


# ------------------------------------------------------------------ (b) one palette


def _is_grey(rgba) -> bool:
    r, g, b = rgba[:3]
    return abs(r - g) < 1e-6 and abs(g - b) < 1e-6


def _drawn_colours(fig):
    """(what, rgba) of every line, marker, patch and collection drawn, legends included;
    collections coloured by a colour map are checked by their map instead."""
    found = []
    for artist in fig.findobj(lambda a: isinstance(a, Line2D)):
        if artist.get_linestyle() in ("None", "") and artist.get_marker() in ("None", "", None):
            continue  # an invisible legend spacer
        found.append(("line", to_rgba(artist.get_color())))
        for c in (artist.get_markerfacecolor(), artist.get_markeredgecolor()):
            if artist.get_marker() not in ("None", "", None):
                found.append(("marker", to_rgba(c)))
    for artist in fig.findobj(lambda a: isinstance(a, matplotlib.patches.Patch)):
        found += [("patch", to_rgba(artist.get_facecolor())), ("patch edge", to_rgba(artist.get_edgecolor()))]
    for artist in fig.findobj(lambda a: isinstance(a, matplotlib.collections.Collection)):
        if artist.get_array() is not None:
            found.append(("mapped", artist.get_cmap().name))
            continue
        found += [("collection", tuple(c)) for c in artist.get_facecolors()]
        found += [("collection edge", tuple(c)) for c in artist.get_edgecolors()]
    return [(what, c) for what, c in found if isinstance(c, str) or c[3] > 0]


def test_every_colour_is_from_the_palette_or_grey(catalogue):
    palette = {tuple(np.round(to_rgb(c), 4)) for c in plots.PALETTE}
    assert len(palette) == 7 and {"#0072B2", "#D55E00", "#009E73"} <= set(plots.PALETTE)
    for name, fig, _ in catalogue:
        for what, c in _drawn_colours(fig):
            if what == "mapped":
                assert c in ("gray", plots.COLOUR_MAP), (name, c)
            else:
                assert _is_grey(c) or tuple(np.round(c[:3], 4)) in palette, (name, what, c)
        for ax in fig.axes:
            for image in ax.images:
                assert image.get_cmap().name in ("gray", plots.COLOUR_MAP), (name, image.get_cmap().name)


def _over_white(rgba):
    """A colour drawn with transparency ``alpha`` over white, as seen."""
    r, g, b, a = to_rgba(rgba)
    return tuple(a * np.array([r, g, b]) + (1 - a))


def test_every_line_marker_and_bar_reaches_3_to_1_against_white(catalogue):
    """WCAG 1.4.11: a graphic needed to read a figure contrasts 3:1 with the white background.
    Exempt, because they carry no meaning of their own: the white backgrounds (figure, axes,
    legend box), the light grid lines (alpha below 0.5: a reading aid), translucent percentile
    bands (alpha below 0.3, and their legend keys) drawn behind a median line that meets 3:1 --
    the band is a backdrop, its numbers are in the alt text -- and a filled bar whose
    edge meets 3:1 (its face may be a light grey)."""
    palette_light = [c for c in plots.OKABE_ITO if contrast(c, "white") < 3]
    assert palette_light and not any(contrast(c, "white") < 3 for c in plots.PALETTE)
    checked = 0
    for name, fig, _ in catalogue:
        grid = {id(line) for ax in fig.axes for line in ax.get_xgridlines() + ax.get_ygridlines()}
        for line in fig.findobj(lambda a: isinstance(a, Line2D)):
            if id(line) in grid or (line.get_alpha() is not None and line.get_alpha() < 0.5):
                assert id(line) in grid or line.get_alpha() >= 0.5, (name, line.get_label())
                continue
            visible = line.get_linestyle() not in ("None", "") or line.get_marker() not in ("None", "", None)
            if not visible or not line.get_visible():
                continue
            colours = [line.get_color()] + ([line.get_markerfacecolor(), line.get_markeredgecolor()]
                                            if line.get_marker() not in ("None", "", None) else [])
            for c in colours:
                if to_rgba(c)[3] == 0 or (isinstance(c, str) and c == "none"):
                    continue
                assert contrast(_over_white(c), "white") >= 3, (name, line.get_label(), c)
                checked += 1
        for patch in fig.findobj(lambda a: isinstance(a, matplotlib.patches.Patch)):
            face, edge = to_rgba(patch.get_facecolor()), to_rgba(patch.get_edgecolor())
            if not patch.get_visible() or (patch.get_fill() and face[3] > 0 and face[:3] == (1, 1, 1)):
                continue  # a background or a legend box
            if face[3] < 0.3 and (edge[3] < 0.3 or patch.get_linewidth() == 0):
                continue  # the legend key of a translucent band
            if patch.get_fill() and face[3] > 0 and contrast(_over_white(face), "white") < 3:
                assert edge[3] > 0 and contrast(_over_white(edge), "white") >= 3, (name, "bar face", face)
            checked += 1
        for coll in fig.findobj(lambda a: isinstance(a, matplotlib.collections.Collection)):
            if coll.get_array() is not None:
                continue  # coloured by a colour map
            for c in coll.get_facecolors():
                if c[3] >= 0.3:  # below: a translucent band behind its line
                    assert contrast(_over_white(c), "white") >= 3, (name, "marker", tuple(c))
                    checked += 1
    assert checked > 300


def test_seeds_are_not_drawn_in_the_cells_colours():
    fig = plots.seed_spread({"RNN": [0.5, 0.6, 0.55], "GRU": [0.7, 0.8, 0.75]}, seeds=[0, 1, 2],
                            title="Test accuracy, 128 units at the chosen η: each seed, mean ± sd, a long title")
    seeds = [ln for ln in fig.axes[0].get_lines() if ln.get_label().startswith("seed")]
    assert len(seeds) == 3
    assert all(_is_grey(to_rgba(ln.get_color())) for ln in seeds)
    assert len({ln.get_marker() for ln in seeds}) == 3  # told apart without colour
    fig.canvas.draw()
    title = fig.axes[0].title.get_window_extent()
    assert title.x0 >= 0 and title.x1 <= fig.bbox.x1  # not cut off at the edge
    plt.close(fig)


def test_series_told_apart_by_colour_also_differ_by_style_or_marker(catalogue):
    for name, fig, _ in catalogue:
        for ax in fig.axes:
            # series: coloured lines of more than one point (grey and black ones are references: a
            # kept epoch, a threshold, the total cost)
            lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 1 and not _is_grey(to_rgba(ln.get_color()))]
            for i, a in enumerate(lines):
                for b in lines[:i]:
                    if to_rgba(a.get_color()) != to_rgba(b.get_color()):
                        same_style = a.get_linestyle() == b.get_linestyle() and a.get_marker() == b.get_marker()
                        assert not same_style, (name, a.get_label(), b.get_label())


def test_notebook_style_sets_the_palette_and_a_uniform_colour_map():
    with plt.rc_context():
        plots.notebook_style()
        assert [to_rgb(c["color"]) for c in plt.rcParams["axes.prop_cycle"]] == [to_rgb(c) for c in plots.PALETTE]
        assert plt.rcParams["image.cmap"] == plots.COLOUR_MAP == "cividis"
    # the first three colours (RNN, LSTM, GRU) are the cells' colours in every figure
    assert [plots.series_style(c, 5)["color"] for c in ("RNN", "LSTM", "GRU")] == list(plots.PALETTE[:3])


# ------------------------------------------------------------------ (c) text contrast


def _background(text, ax):
    """What lies behind a text drawn in an axes: a confusion cell, a bar, or the axes' face."""
    x, y = text.get_position()
    for image in ax.images:
        values = image.get_array()
        i, j = int(round(y)), int(round(x))
        if image.get_cmap().name != "gray" and 0 <= i < values.shape[0] and 0 <= j < values.shape[1]:
            return image.cmap(image.norm(values[i, j]))
    for patch in ax.patches:
        if isinstance(patch, Rectangle) and patch.get_fill() and patch.contains_point(
                ax.transData.transform((x, y))):
            return patch.get_facecolor()
    return ax.get_facecolor()


def test_every_text_passes_aa_contrast_against_what_is_behind_it(catalogue):
    checked = 0
    for name, fig, _ in catalogue:
        fig.canvas.draw()
        cell_texts = {id(t): ax for ax in fig.axes for t in ax.texts}
        for text in fig.findobj(lambda a: isinstance(a, Text)):
            if not text.get_visible() or not text.get_text().strip():
                continue
            behind = _background(text, cell_texts[id(text)]) if id(text) in cell_texts else "white"
            ratio = contrast(text.get_color(), behind)
            assert ratio >= 4.5, f"{name}: {text.get_text()!r} in {text.get_color()} on {behind}: {ratio:.2f}"
            checked += 1
    assert checked > 500


def test_confusion_cell_text_is_chosen_by_contrast_with_the_cell():
    cm = np.array([[0, 1, 2], [3, 40, 5], [6, 7, 80]])
    fig = plots.confusion_figure({"x": cm}, ["a", "b", "c"])
    ax = fig.axes[0]
    image = ax.images[0]
    assert image.get_cmap().name == plots.COLOUR_MAP
    for text in ax.texts:
        x, y = text.get_position()
        cell = image.cmap(image.norm(cm[int(y), int(x)]))
        other = "white" if to_rgb(text.get_color()) == (0, 0, 0) else "black"
        assert contrast(text.get_color(), cell) >= max(4.5, contrast(other, cell))
    plt.close(fig)


def test_text_colour_darkens_palette_colours_to_aa():
    for c in plots.PALETTE + ("0.55", plots.OTHER_WORDS):
        dark = plots.text_colour(c)
        assert contrast(dark, "white") >= 4.5
        ratio = np.divide(to_rgb(dark), to_rgb(c), out=np.zeros(3), where=np.asarray(to_rgb(c)) > 0)
        assert np.allclose(ratio[np.asarray(to_rgb(c)) > 0], ratio.max(), atol=0.02)  # the same hue, darker
        assert plots.contrast_ratio(dark, "white") == pytest.approx(contrast(dark, "white"))
    assert plots.text_colour("black") == "#000000"


# ------------------------------------------------------------------ (d) the committed notebooks


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_notebook_figure_has_a_useful_alt(name):
    nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())
    images = 0
    for cell in nb["cells"]:
        outputs = cell.get("outputs", [])
        if any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs):
            continue  # an explorer: its figures are the widgets' (mpcore.widgets)
        for o in outputs:
            if "image/png" in o.get("data", {}):
                alt = o.get("metadata", {}).get("image/png", {}).get("alt")
                assert is_useful_alt(alt), f"{name}: {''.join(cell['source'])[:120]!r} has alt {alt!r}"
                assert not re.search(r"<Figure size", alt)
                images += 1
    assert images >= {"01_sparse_autoencoder": 12, "02_word_embeddings": 3, "03_sequence_classification": 11}[name]


def test_notebook_prose_names_the_colours_the_figures_use():
    texts = {name: (ROOT / "notebooks" / f"{name}.py").read_text() for name in NOTEBOOKS}
    assert not any(re.search(r"\bC\d\b", t) for t in texts.values())  # matplotlib's cycle, not the palette
    true_word = plots.COLOUR_NAMES[plots.NEXT_WORD_COLORS["true"]]
    assert f"the true 4th word's bar is {true_word} and hatched" in texts["02_word_embeddings"]


# ------------------------------------------------------------------ (e) the report


def test_report_summary_shows_every_png_with_its_alt_text(tmp_path, shipped):
    from mpcore import report

    results, chosen = study.run_study(("language_model", "sequence"), False, None, shipped, train=False,
                                      progress=False)
    summary = report.write_report(results, tmp_path, chosen_lr=chosen)
    md = (tmp_path / "summary.md").read_text()
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    images = dict((name, alt) for alt, name in re.findall(r"^!\[(.*)\]\(([^)]+\.png)\)$", md, re.M))
    assert sorted(images) == pngs and len(pngs) >= 8
    for name, alt in images.items():
        assert is_useful_alt(alt), name
    cells = summary["sequence"]["cells"]
    lr = images["sequence_lr_selection.png"]
    assert "Chosen η: " + ", ".join(f"{c.upper()} {v['chosen_lr']:g}" for c, v in cells.items()) in lr
    for c, v in cells.items():
        assert f"{c.upper()} (η={v['chosen_lr']:g}) {v['test_accuracy']['mean']:.3f}" in images["sequence_seeds.png"]
