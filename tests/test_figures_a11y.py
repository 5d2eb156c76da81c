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


def _pc(xy):
    return f"({xy[0]:.2f}, {xy[1]:.2f})"


def _catalogue(shipped):
    """``[(name, figure, [strings its alt text must contain])]``, the strings computed here."""
    rng = np.random.default_rng(0)
    out = []

    # -- part 1
    rgb = rng.uniform(size=(40, 3, 8, 8))
    gray = 0.1 + 0.8 * rgb.mean(axis=1)
    out.append(("patches_figure", plots.patches_figure(rgb, gray, 0.5 * gray, n=40),
                [f"{gray.min():.2f} to {gray.max():.2f}", f"mean {gray.mean():.2f}", "40 random 8 × 8",
                 f"{0.5 * gray.max():.2f}"]))
    X = gray.reshape(40, -1)
    s = np.linalg.eigvalsh(np.cov(X.T, bias=True))[::-1]
    out.append(("variance_spectrum", plots.variance_spectrum({"recipe": X}), [f"{s[9] / s[0]:.2g} at rank 10"]))
    edges, noise = _gratings(), rng.normal(size=(16, 64))
    sel_e, sel_n = metrics.feature_spectrum(edges)[0], metrics.feature_spectrum(noise)[0]
    out.append(("feature_grid", plots.feature_grid(edges, "gratings"),
                ["4 × 4 grid of the 16", f"mean orientation selectivity {sel_e.mean():.2f}",
                 f"{np.sum(sel_e > 0.5)} of 16", "oriented"]))
    out.append(("feature_grids", plots.feature_grids({"edges": edges, "noise": noise}, scale="panel"),
                [f"selectivity {sel_e.mean():.2f}", f"selectivity {sel_n.mean():.2f}", "pixel noise",
                 "one grey scale per panel"]))
    grid = {(16, 0.0): noise, (16, 1e-3): edges, (25, 0.0): _gratings(25, seed=1)}
    sel = {k: metrics.feature_spectrum(f)[0].mean() for k, f in grid.items()}
    out.append(("feature_grid_matrix", plots.feature_grid_matrix(grid, "Grid"),
                [f"L_hid = 16: {sel[(16, 0.0)]:.2f}, {sel[(16, 1e-3)]:.2f}", f"L_hid = 25: {sel[(25, 0.0)]:.2f}",
                 "2 × 2 matrix"]))
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
                 "from iteration 10"]))
    short = {"train_loss": J[:3], "monitor": {k: v[:3] for k, v in h["monitor"].items()}}
    out.append(("cost_terms_figure", plots.cost_terms_figure(short), ["from iteration 1 "]))
    main = shipped.get(experiments.MAIN_AUTOENCODER)
    out.append(("autoencoder_figure", plots.autoencoder_figure(main, scale="panel"),
                [f"selectivity {main.metrics['selectivity']:.2f}", f"final cost {main.metrics['cost']:.4f}",
                 f"L_hid={main.config.n_hidden}", f"{main.metrics['mean_activation']:.3f}"]))

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
    out.append(("embedding_map", plots.embedding_map(R, words, n=40, counts=counts, groups={"g": words[:5]}, P=7),
                [f"{share[0]:.1%} and {share[1]:.1%}", f"g (5 words) at {_pc(xy[:5].mean(axis=0))}",
                 "the 35 other words", "40 most frequent"]))
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
                [f"v{top[0, 0]} {proba[0, top[0, 0]]:.3f}", f"ranks {rank} of 30", "D=4, P=8, seed 5",
                 f"probability {proba[1, top[1, rank - 1]]:.3f}"]))

    # -- part 3
    Xw = rng.normal(size=(12, 30, 3)) * np.repeat([0.2, 1.0, 3.0], 4)[:, None, None]
    yw = np.repeat([0, 1, 2], 4)
    out.append(("activity_windows", plots.activity_windows(Xw, yw, ["sit", "walk", "jog"], per_class=4),
                [f"sit {Xw[:4].min():.1f} to {Xw[:4].max():.1f} (sd {Xw[:4].std():.2f})",
                 f"jog {Xw[8:].min():.1f} to {Xw[8:].max():.1f} (sd {Xw[8:].std():.2f})"]))
    cm = np.array([[50, 2, 0], [9, 30, 1], [0, 0, 3]])
    out.append(("confusion_figure", plots.confusion_figure({"test": cm}, ["a", "b", "c"]),
                [f"accuracy {83 / 95:.1%}", "a 50/52, b 30/40, c 3/3", "b predicted as a (9)"]))
    g = np.logspace(-12, 0, 40)
    out.append(("gradient_norms_figure", plots.gradient_norms_figure({"RNN": g, "GRU": np.sqrt(g)}),
                ["RNN 1e-12 at t = 1", "GRU 1e-06 at t = 1"]))
    v = rng.lognormal(size=(20, 30))
    labels = ["RNN ‖∂L/∂h_t‖", "LSTM ‖∂L/∂h_t‖", "LSTM ‖∂L/∂c_t‖"]
    out.append(("gradient_profiles", plots.gradient_profiles({"init": {k: v * (j + 1) for j, k in enumerate(labels)},
                                                              "trained": {labels[0]: v}}, "ratio",
                                                             styles=plots.cell_styles(labels)),
                [f"RNN ‖∂L/∂h_t‖ {np.median(v[:, 0]):.2g}", f"LSTM ‖∂L/∂c_t‖ {np.median(3 * v[:, 0]):.2g}",
                 "2 panels"]))
    norms = {"RNN": rng.lognormal(1, 1, 200), "GRU": rng.lognormal(0, 0.5, 200)}
    out.append(("step_gradient_norms", plots.step_gradient_norms(norms, clip=5.0),
                [f"RNN median {np.median(norms['RNN']):.3g}", f"{np.mean(norms['RNN'] > 5):.0%} of steps above",
                 "threshold 5"]))
    runs = {"RNN (η=0.1)": _history(), "LSTM (η=0.1)": _history(seed=2), "GRU (η=0.03)": _history(seed=3)}
    h0 = runs["RNN (η=0.1)"]
    out.append(("training_curves", plots.training_curves(runs),
                [f"kept epoch {h0['best_epoch'] + 1} of 12",
                 f"validation accuracy {h0['val_acc'][h0['best_epoch']]:.2f}"]))
    out.append(("iterate_loss", plots.iterate_loss(runs), ["RNN (η=0.1) from 2.000 to 0.800 over 12 epochs"]))
    acc = {c: {lr: list(rng.uniform(0.5, 0.9, 3)) for lr in (0.01, 0.03, 0.1)} for c in ("RNN", "LSTM", "GRU")}
    chosen = {c: max(a, key=lambda lr, a=a: np.mean(a[lr])) for c, a in acc.items()}
    out.append(("lr_selection", plots.lr_selection(acc, chosen),
                ["Chosen η: " + ", ".join(f"{c} {chosen[c]:g}" for c in acc),
                 ", ".join(f"{np.mean(acc[c][chosen[c]]):.2f}" for c in acc)]))
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
    assert "most are oriented" in plots.features_description(_gratings())
    assert "pixel noise" in plots.features_description(np.random.default_rng(0).normal(size=(16, 64)))
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
