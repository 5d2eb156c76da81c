"""Figures. Every function takes results (arrays, histories, metrics) and returns a
matplotlib Figure; none trains or reads training state."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from .models import autoencoder


def notebook_style():
    """The notebooks' display defaults, set in one place: 8 x 5 inch figures, and numpy arrays
    printed with 4 decimals and no scientific notation."""
    plt.rcParams["figure.figsize"] = (8, 5)
    np.set_printoptions(precision=4, suppress=True)


def _tile(images: np.ndarray, cols: int, pad: int = 1, fill=1.0) -> np.ndarray:
    """Arrange (n, h, w[, 3]) images in a grid with ``pad`` pixels between them."""
    n, h, w = images.shape[:3]
    rows = int(np.ceil(n / cols))
    shape = (rows * (h + pad) + pad, cols * (w + pad) + pad) + images.shape[3:]
    canvas = np.full(shape, fill, dtype=float)
    for k in range(n):
        r, c = divmod(k, cols)
        canvas[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = images[k]
    return canvas


def patches_figure(rgb: np.ndarray, gray: np.ndarray, whitened: np.ndarray | None = None, n: int = 200,
                   seed: int = 0):
    """``n`` random RGB patches (N, 3, P, P) next to their normalised versions (N, P, P) and,
    if given, their whitened versions (N, P, P)."""
    idx = np.random.default_rng(seed).choice(len(rgb), size=min(n, len(rgb)), replace=False)
    cols = 20
    panels = [(_tile(rgb[idx].transpose(0, 2, 3, 1), cols), f"{len(idx)} RGB patches"),
              (_tile(gray[idx], cols), "course recipe (gray, mean removed, clipped, [0.1, 0.9])")]
    if whitened is not None:
        panels.append((_tile(whitened[idx], cols), "ZCA-whitened, then the same clipping"))
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 6.4))
    for ax, (img, title) in zip(axes, panels):
        ax.imshow(img, cmap="gray", vmin=0, vmax=1)
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    fig.tight_layout()
    return fig


def variance_spectrum(patches: dict, title: str = "Variance along each principal direction"):
    """``{label: (N, D) rows}``: the eigenvalues of each set's covariance, largest first, on a
    log axis -- natural images put most variance in a few smooth directions; whitening flattens it."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, X in patches.items():
        X = np.asarray(X, dtype=np.float64)
        X = X - X.mean(axis=0)
        s = np.linalg.eigvalsh(X.T @ X / len(X))[::-1]
        s = s / s[0]
        ax.semilogy(np.arange(1, len(s) + 1), np.where(s > 0, s, np.nan), label=label)
    ax.set_xlabel("principal direction (by variance)")
    ax.set_ylabel("variance / largest variance")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


#: How a feature grid scales grey levels: each tile stretched to its own range, or one symmetric
#: range for every tile of a panel (0 is mid-grey), so tiles compare with each other.
SCALES = {"tile": "each tile stretched to its own range", "panel": "one grey scale per panel, 0 = mid-grey"}


def _feature_images(features: np.ndarray, scale: str = "tile", remove_dc: bool = False) -> np.ndarray:
    """(H, P*P) features as (H, P, P) images in [0, 1] (see :data:`SCALES`); ``remove_dc``
    subtracts each feature's pixel mean first (its uniform, DC component)."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {sorted(SCALES)}, got {scale!r}")
    H, D = features.shape
    P = int(round(np.sqrt(D)))
    f = np.asarray(features, dtype=np.float64).reshape(H, P, P)
    if remove_dc:
        f = f - f.mean(axis=(1, 2), keepdims=True)
    if scale == "panel":
        m = np.abs(f).max()
        return 0.5 + 0.5 * f / (m if m > 0 else 1.0)
    lo = f.min(axis=(1, 2), keepdims=True)
    hi = f.max(axis=(1, 2), keepdims=True)
    return (f - lo) / np.where(hi > lo, hi - lo, 1)


def feature_grid(features: np.ndarray, title: str = "", ax=None, scale: str = "tile", remove_dc: bool = False):
    """Hidden features (H, P*P) as P x P images, grey levels as ``scale`` says (:data:`SCALES`)."""
    H = features.shape[0]
    cols = int(np.ceil(np.sqrt(H)))
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(_tile(_feature_images(features, scale, remove_dc), cols), cmap="gray", vmin=0, vmax=1)
    ax.set_title(title)
    ax.axis("off")
    return ax.figure


def _scale_note(scale: str, remove_dc: bool) -> str:
    return ("pixel mean (DC) removed; " if remove_dc else "") + SCALES[scale]


def feature_grids(features: dict, title: str = "", scale: str = "tile", remove_dc: bool = False):
    """``{label: (H, P*P)}`` feature grids side by side; the grey scale is named under the title."""
    fig, axes = plt.subplots(1, len(features), figsize=(5.5 * len(features), 6.4), squeeze=False,
                             layout="constrained")
    for ax, (label, f) in zip(axes[0], features.items()):
        feature_grid(f, label, ax=ax, scale=scale, remove_dc=remove_dc)
    fig.suptitle((title + "\n" if title else "") + f"({_scale_note(scale, remove_dc)})", fontsize=11)
    return fig


def feature_grid_matrix(features: dict, title: str = "Hidden features", notes: dict | None = None,
                        labels: tuple = ("L_hid", "λ"), scale: str = "tile", remove_dc: bool = False,
                        panel_size: float = 4.2):
    """``{(row value, column value): (H, P*P)}`` as a grid of feature grids, e.g. rows L_hid and
    columns λ (the default ``labels``), or rows β and columns ρ. ``notes`` maps the same keys to
    a second title line (e.g. measured selectivity). The suptitle names the grey scale."""
    rows = sorted({r for r, _ in features})
    cols = sorted({c for _, c in features})
    fig, axes = plt.subplots(len(rows), len(cols), figsize=(panel_size * len(cols), (panel_size + 0.45) * len(rows)),
                             squeeze=False, layout="constrained")
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            if (r, c) not in features:
                axes[i, j].axis("off")
                continue
            label = f"{labels[0]}={r:g}, {labels[1]}={c:g}"
            if notes and (r, c) in notes:
                label += "\n" + notes[(r, c)]
            feature_grid(features[(r, c)], label, ax=axes[i, j], scale=scale, remove_dc=remove_dc)
            axes[i, j].title.set_fontsize(9)
    fig.suptitle(f"{title}\n({_scale_note(scale, remove_dc)})")
    return fig


def reconstructions(X: np.ndarray, X_hat: np.ndarray, n: int = 12, title: str = ""):
    """The first ``n`` patches (rows of P*P values in [0, 1]) above their reconstructions, large
    enough to compare pixel by pixel; grey levels on the data's scale (0 black, 1 white)."""
    n = min(n, len(X))
    P = int(round(np.sqrt(X.shape[1])))
    fig, axes = plt.subplots(2, 1, figsize=(12, 0.7 + 2 * 11.0 / max(n, 1)), layout="constrained")
    for ax, img, label in zip(axes, (X, X_hat), ("input", "reconstruction")):
        ax.imshow(_tile(np.asarray(img[:n]).reshape(n, P, P), n, pad=2), cmap="gray", vmin=0, vmax=1)
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        axes[0].set_title(title)
    return fig


def loss_curves(histories: dict, title: str = "", ylabel: str = "cross-entropy"):
    """``{label: history}``: training (dashed) and validation (solid) loss per epoch."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for k, (label, h) in enumerate(histories.items()):
        color = f"C{k}"
        epochs = np.arange(1, len(h["train_loss"]) + 1)
        ax.plot(epochs, h["train_loss"], "--", color=color, label=f"{label} train")
        if h.get("val_loss"):
            ax.plot(epochs, h["val_loss"], "-", color=color, label=f"{label} validation")
            ax.plot(h["best_epoch"] + 1, h["val_loss"][h["best_epoch"]], "o", color=color)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def cost_curve(history: dict, title: str = ""):
    """Cost per iteration (L-BFGS) or epoch (SGD) on a log scale."""
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy(np.arange(1, len(history["train_loss"]) + 1), history["train_loss"])
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost J")
    ax.set_title(title)
    fig.tight_layout()
    return fig


#: The terms of the autoencoder's cost as :func:`mpcore.models.autoencoder.cost_terms` names them.
COST_TERMS = {"reconstruction": "reconstruction ½‖x − x̂‖² (mean over patches)",
              "weight_decay": "weight decay (λ/2)(‖W₁‖² + ‖W₂‖²)", "sparsity": "sparsity β Σ KL(ρ ‖ ρ̂ⱼ)"}


def cost_terms_axes(ax, history: dict, baseline: float | None = None):
    """The total cost and, when the history recorded them (``history["monitor"]``), its three terms
    per L-BFGS iteration, on log-log axes (every value is positive). ``baseline``: the
    reconstruction term of always answering the mean training patch, drawn dotted."""
    J = np.asarray(history["train_loss"], dtype=float)
    it = np.arange(1, len(J) + 1)
    ax.loglog(it, J, color="k", lw=2, label="total cost J")
    monitor = history.get("monitor") or {}
    for k, (name, label) in enumerate(COST_TERMS.items()):
        if name in monitor:
            v = np.asarray(monitor[name], dtype=float)
            zeros = int(np.sum(v <= 0))  # a log axis cannot draw 0 (λ = 0, β = 0): said, not dropped silently
            note = f" ({zeros} iterations exactly 0, not drawn)" if zeros else ""
            ax.loglog(it[: len(v)], np.where(v > 0, v, np.nan), color=f"C{k}", label=label + note)
    if baseline is not None:
        ax.axhline(baseline, color="C0", ls=":", lw=1.2, label="reconstruction of the mean patch")
    ax.set_xlabel("L-BFGS iteration (log scale)")
    ax.set_ylabel("cost (log scale)")
    ax.legend(fontsize=8)


def cost_terms_figure(history: dict, title: str = "", baseline: float | None = None):
    """The three terms of the autoencoder's cost during training, one panel each on a linear
    axis from iteration 10 on (the first iterations fall from far above), and all of them with
    the total on log-log axes (:func:`cost_terms_axes`)."""
    monitor = history.get("monitor") or {}
    names = [n for n in COST_TERMS if n in monitor]
    rows = 2 if names else 1
    fig, axes = plt.subplots(rows, 2 if names else 1, figsize=(12, 4.2 * rows), squeeze=False, layout="constrained")
    axes = axes.ravel()
    cost_terms_axes(axes[0], history, baseline)
    axes[0].set_title("the total and its three terms, from iteration 1", fontsize=10)
    for ax, name in zip(axes[1:], names):
        v = np.asarray(monitor[name], dtype=float)
        it = np.arange(1, len(v) + 1)
        ax.plot(it[9:], v[9:], color=f"C{COST_TERMS_ORDER[name]}")
        if name == "reconstruction" and baseline is not None:
            ax.axhline(baseline, color="C0", ls=":", lw=1.2, label="mean patch")
            ax.legend(fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel("L-BFGS iteration (log scale)")
        ax.set_ylabel("term of the cost")
        ax.set_title(f"{COST_TERMS[name]}, from iteration 10", fontsize=10)
    if title:
        fig.suptitle(title)
    return fig


COST_TERMS_ORDER = {name: k for k, name in enumerate(COST_TERMS)}


def confusion_axes(ax, cm, classes: list, title: str = "", fontsize: int = 10):
    """One confusion matrix on ``ax``: rows true class, columns prediction, every count written
    in its cell. Plain matplotlib: ``seaborn.heatmap`` redraws the whole figure to check its tick
    labels, which doubled the sequence explorer's replot time (1.1 s -> 0.6 s measured)."""
    cm = np.asarray(cm)
    ax.imshow(cm, cmap="Blues", vmin=0, vmax=max(int(cm.max()), 1))
    for (i, j), count in np.ndenumerate(cm):
        ax.text(j, i, str(count), ha="center", va="center", fontsize=fontsize,
                color="white" if count > cm.max() / 2 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)


def confusion_figure(confusions: dict, classes: list, title: str = ""):
    """``{label: (K, K) counts}`` side by side; rows true class, columns prediction."""
    fig, axes = plt.subplots(1, len(confusions), figsize=(5.5 * len(confusions), 4.8), squeeze=False)
    for ax, (label, cm) in zip(axes[0], confusions.items()):
        cm = np.asarray(cm)
        confusion_axes(ax, cm, classes, f"{label} (accuracy {np.trace(cm) / max(cm.sum(), 1):.1%})")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def gradient_norms_figure(norms: dict, title: str = "Gradient reaching each time step from the loss at t = T"):
    """``{label: (T,)}`` mean ‖∂L/∂h_t‖ per time step, log scale: vanishing gradients made visible.

    The y-axis spans every value; a value of exactly 0 cannot be drawn on a log axis and is
    reported in the legend instead of silently dropped."""
    fig, ax = plt.subplots(figsize=(7, 4))
    positive = []
    for label, g in norms.items():
        g = np.asarray(g, dtype=np.float64)
        zeros = int(np.sum(g <= 0))
        note = f" ({zeros} steps exactly 0, not drawn)" if zeros else ""
        ax.semilogy(np.arange(1, len(g) + 1), np.where(g > 0, g, np.nan), label=label + note)
        positive.append(g[g > 0])
    values = np.concatenate(positive) if positive else np.array([1.0])
    if values.size:
        ax.set_ylim(values.min() / 10, values.max() * 10)
    ax.set_xlabel("time step t")
    ax.set_ylabel("mean ‖∂L/∂h_t‖ (float64)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def gradient_profiles(panels: dict, ylabel: str, title: str = "", styles: dict | None = None):
    """Per-window gradient profiles over time, one panel per condition, log scale, y shared.

    ``panels`` maps a panel title to ``{label: (N, T) values}`` (one row per window, e.g.
    ‖∂L_n/∂h_t‖ / ‖∂L_n/∂h_T‖): each label is drawn as the median over the windows with the
    10th-90th percentile band shaded -- the windows span many orders of magnitude, and a mean
    would follow the few largest. ``styles`` maps a label to plot keywords (colour, line style).
    Values of exactly 0 cannot be drawn on a log axis: their count goes into the legend."""
    styles = styles or {}
    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 4.6), sharey=True, squeeze=False)
    drawn = []
    for ax, (panel, curves) in zip(axes[0], panels.items()):
        for k, (label, v) in enumerate(curves.items()):
            v = np.asarray(v, dtype=np.float64)
            t = np.arange(1, v.shape[1] + 1)
            zeros = int(np.sum(v <= 0))
            note = f" ({zeros} values exactly 0, not drawn)" if zeros else ""
            v = np.where(v > 0, v, np.nan)
            style = {"color": f"C{k}", **styles.get(label, {})}
            lo, mid, hi = np.nanpercentile(v, [10, 50, 90], axis=0)
            ax.fill_between(t, lo, hi, color=style["color"], alpha=0.12, lw=0)
            ax.semilogy(t, mid, label=label + note, **style)
            drawn.append(v[np.isfinite(v)])
        ax.set_title(panel)
        ax.set_xlabel("time step t (the loss sits at t = T)")
        ax.grid(alpha=0.3, which="major")
    values = np.concatenate(drawn) if drawn else np.array([1.0])
    if values.size:
        ax.set_ylim(values.min() / 3, values.max() * 3)
    axes[0, 0].set_ylabel(ylabel)
    legend = {}
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    fig.legend(list(legend.values()), list(legend), loc="lower center", ncol=min(len(legend), 4), fontsize=10,
               frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.04 + 0.04 * ((len(legend) - 1) // 4), 1, 1))
    return fig


def cell_styles(labels) -> dict:
    """One colour per cell for labels that start with the cell's name ("RNN ...", "LSTM ...");
    a cell state's curve (a label with "c_t") dashed."""
    colours = {"RNN": "C0", "LSTM": "C1", "GRU": "C2", "MGU": "C3"}
    return {label: {"color": colours.get(label.split()[0], "C4"), "ls": "--" if "c_t" in label else "-"}
            for label in labels}


def step_gradient_norms(norms: dict, clip: float | None = None, title: str = ""):
    """``{label: (steps,)}`` the global gradient norm of every SGD step, log scale, with the
    clipping threshold ``clip`` as a dashed line."""
    fig, ax = plt.subplots(figsize=(8, 4))
    for k, (label, g) in enumerate(norms.items()):
        g = np.asarray(g, dtype=np.float64)
        ax.semilogy(np.arange(1, len(g) + 1), g, lw=0.9, color=plots_colour(label, k), label=label)
    if clip is not None:
        ax.axhline(clip, color="k", ls="--", lw=1, label=f"clipping threshold ({clip:g})")
    ax.set_xlabel("SGD step (mini-batch of 32)")
    ax.set_ylabel("‖gradient‖ over all parameters")
    ax.grid(alpha=0.3)
    ax.set_title(title)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def plots_colour(label: str, k: int) -> str:
    """The colour of a cell in every sequence figure (RNN C0, LSTM C1, GRU C2), else C``k``."""
    return {"RNN": "C0", "LSTM": "C1", "GRU": "C2", "MGU": "C3"}.get(label.split()[0], f"C{k}")


def training_curves(histories: dict, title: str = ""):
    """``{label: history}``, one column per model, every curve from the same weights: the
    **averaged** weights :math:`\bar W` that are validated and kept (``SGDConfig.average``).
    Top: validation cross-entropy per epoch; bottom: accuracy on 512 training windows (dashed)
    and on the validation windows (solid); the kept epoch marked. Axes shared by row. (The
    mean mini-batch loss of the SGD iterate W is another model's loss: :func:`iterate_loss`.)"""
    n = len(histories)
    fig, axes = plt.subplots(2, n, figsize=(4.2 * n, 6.4), sharey="row", squeeze=False)
    for j, (label, h) in enumerate(histories.items()):
        ep = np.arange(1, len(h["val_loss"]) + 1)
        best = h["best_epoch"] + 1
        ax = axes[0, j]
        ax.plot(ep, h["val_loss"], "-", color="C1", label="validation")
        ax.axvline(best, color="0.6", lw=0.8, label="epoch kept")
        ax.set_title(label)
        ax = axes[1, j]
        if h.get("train_acc"):
            ax.plot(ep, h["train_acc"], "--", color="C0", label="training (512 windows)")
        ax.plot(ep, h["val_acc"], "-", color="C1", label="validation")
        ax.axvline(best, color="0.6", lw=0.8, label="epoch kept")
        ax.set_xlabel("epoch")
        for ax in axes[:, j]:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("validation cross-entropy (nats)")
    axes[1, 0].set_ylabel("accuracy")
    handles, labels = axes[1, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=10, frameon=False)
    fig.suptitle(title or "Averaged weights W̄ (the weights validated and kept)")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def iterate_loss(histories: dict, title: str = ""):
    """``{label: history}``: the mean mini-batch cross-entropy of each epoch, one line per model.
    That loss belongs to the SGD iterate W while it moves through the epoch -- not to the
    averaged weights that are validated and kept -- so it is plotted on its own."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for k, (label, h) in enumerate(histories.items()):
        ep = np.arange(1, len(h["train_loss"]) + 1)
        ax.plot(ep, h["train_loss"], "-", color=f"C{k}", label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("training cross-entropy (nats)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.set_title(title or "SGD iterate W: mean mini-batch loss over each epoch")
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def lr_selection(val_acc: dict, chosen: dict, title: str = "Choosing η on validation accuracy"):
    """``{label: {lr: [validation accuracy per seed]}}``: every seed as a dot, the mean as a line
    over η (log axis); the chosen η circled."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for k, (label, accs) in enumerate(val_acc.items()):
        lrs = sorted(accs)
        ax.semilogx(lrs, [np.mean(accs[lr]) for lr in lrs], "-", color=f"C{k}", label=f"{label} (mean over seeds)")
        for lr in lrs:
            ax.plot(np.full(len(accs[lr]), lr), accs[lr], ".", color=f"C{k}", alpha=0.6)
        ax.plot(chosen[label], np.mean(accs[chosen[label]]), "o", ms=14, mfc="none", color=f"C{k}")
    ax.set_xlabel("learning rate η")
    ax.set_ylabel("validation accuracy (best epoch)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def seed_spread(values: dict, ylabel: str = "test accuracy", title: str = "", seeds=None):
    """``{label: [value per seed]}``: the mean as a bar with ± 1 sd, and every seed as a dot
    (a seaborn strip plot). With ``seeds`` (one name per value, the same order for every label)
    each seed has its own colour and its own place beside the others, so no dot hides another
    and a seed can be followed across labels."""
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(6, 4))
    rows = []
    for k, (label, v) in enumerate(values.items()):
        v = np.asarray(v, dtype=float)
        ax.bar(k, v.mean(), color="0.85", edgecolor="0.5", width=0.6,
               yerr=v.std(ddof=1) if len(v) > 1 else None, capsize=6, zorder=1)
        ax.text(k, 0.02 * v.mean(), f"mean\n{v.mean():.3f}", ha="center", va="bottom", fontsize=9)
        names = [f"seed {s}" for s in seeds] if seeds is not None else ["run"] * len(v)
        rows += [(label, x, name) for x, name in zip(v, names)]
    x, y, hue = (list(c) for c in zip(*rows))
    sns.stripplot(x=x, y=y, hue=hue if seeds is not None else None,
                  dodge=seeds is not None, jitter=0 if seeds is not None else 0.15, size=7,
                  palette="dark" if seeds is not None else None,
                  color=None if seeds is not None else "C0", ax=ax, zorder=3)
    ax.set_xticks(range(len(values)), list(values))
    ax.set_xlabel("")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if seeds is not None:
        ax.legend(title=None, fontsize=9, loc="upper left")
    fig.tight_layout()
    return fig


def most_frequent(counts, n: int) -> np.ndarray:
    """Indices of the ``n`` largest ``counts``, largest first (ties: the lower index first)."""
    return np.argsort(-np.asarray(counts), kind="stable")[:n]


def embedding_map(R: np.ndarray, words: list, n: int = 100, counts=None):
    """Embeddings of ``n`` words projected on their 2 principal components (SVD): the ``n`` most
    frequent by ``counts`` (V,) when given (e.g. occurrences in the training data), else the
    first ``n`` of ``words``."""
    idx = most_frequent(counts, n) if counts is not None else np.arange(min(n, len(words)))
    E = R[idx] - R[idx].mean(axis=0)
    U, S, Vt = np.linalg.svd(E, full_matrices=False)
    xy = E @ Vt[:2].T
    xy *= np.sign(Vt[:2].sum(axis=1))  # fix the sign ambiguity of the SVD
    fig, ax = plt.subplots(figsize=(9, 7))
    ax.scatter(xy[:, 0], xy[:, 1], s=8, color="C0")
    for (x, y), i in zip(xy, idx):
        ax.annotate(words[i], (x, y), fontsize=8, xytext=(2, 2), textcoords="offset points")
    share = S[:2] ** 2 / np.sum(S**2)
    ax.set_xlabel(f"component 1 ({share[0]:.0%} of variance)")
    ax.set_ylabel(f"component 2 ({share[1]:.0%} of variance)")
    which = f"the {len(idx)} most frequent words" if counts is not None else f"the first {len(idx)} words"
    ax.set_title(f"Word embeddings of {which}, 2-D projection")
    fig.tight_layout()
    return fig


def activity_windows(X: np.ndarray, y: np.ndarray, classes: list, per_class: int = 3, seed: int = 0,
                     ylabel: str = "acceleration", channels=None, title: str = ""):
    """A few windows (N, T, C) of each class, one panel per class, channels as colours (named
    by ``channels``, default "channel 0", ...), later windows fainter; ``ylabel`` should say the
    unit."""
    rng = np.random.default_rng(seed)
    K = len(classes)
    cols = min(K, 3)
    rows = int(np.ceil(K / cols))
    names = list(channels) if channels is not None else [f"channel {c}" for c in range(X.shape[2])]
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 2.8 * rows + 0.4), sharey=True, squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        if k >= K:
            ax.axis("off")
            continue
        idx = np.flatnonzero(y == k)
        for j, i in enumerate(rng.choice(idx, size=min(per_class, len(idx)), replace=False)):
            for c in range(X.shape[2]):
                ax.plot(X[i, :, c], color=f"C{c}", alpha=1.0 - 0.25 * j, lw=0.8,
                        label=names[c] if j == 0 else None)
        ax.set_title(classes[k])
        ax.set_xlabel("time step")
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    axes[0, 0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------- figures of the explorers


def spectrum_note(metrics: dict) -> str:
    """A feature grid's measured edge-likeness, for a title: selectivity and high-frequency share."""
    return f"selectivity {metrics['selectivity']:.2f}, high-freq. {metrics['high_frequency']:.2f}"


def autoencoder_figure(result, scale: str = "tile", remove_dc: bool = False):
    """Hidden features and the cost during training of one autoencoder result, side by side."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.4), gridspec_kw={"width_ratios": [1.1, 1]}, layout="constrained")
    c, m = result.config, result.metrics
    white = "whitened" if c.zca_epsilon is not None else "course recipe, not whitened"
    start = f", from λ={c.warm_start_lam:g}'s weights" if getattr(c, "warm_start_lam", None) is not None else ""
    feature_grid(autoencoder.hidden_features(result.params),
                 f"L_hid={c.n_hidden}, λ={c.lam:g}, β={c.beta:g}, ρ={c.rho:g} ({white}{start})\n"
                 f"{spectrum_note(m)}, mean activation {m['mean_activation']:.3f}\n({_scale_note(scale, remove_dc)})",
                 ax=axes[0], scale=scale, remove_dc=remove_dc)
    axes[0].title.set_fontsize(10)
    if c.solver == "lbfgs":
        cost_terms_axes(axes[1], result.history)
        axes[1].set_title(f"final cost {m['cost']:.4f} after {m['iterations']} iterations", fontsize=10)
    else:
        axes[1].plot(np.arange(1, len(result.history["train_loss"]) + 1), result.history["train_loss"])
        axes[1].set_xlabel("epoch")
        axes[1].set_ylabel("mean mini-batch cost")
        axes[1].set_title(f"full-batch cost {m['cost']:.4f} after {m['iterations']} epochs", fontsize=10)
    return fig


def top10_figure(candidates, trigram, actual=None):
    """Horizontal bars of the 10 most likely 4th words, on a fixed probability axis [0, 1] so that
    models and contexts compare by eye."""
    words = [w for w, _ in candidates][::-1]
    probs = [p for _, p in candidates][::-1]
    fig, ax = plt.subplots(figsize=(6, 4))
    colors = ["C2" if w == actual else "C0" for w in words]
    ax.barh(words, probs, color=colors)
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    title = f"“{' '.join(trigram)} ___”"
    if actual is not None:
        title += f" (actual: {actual})"
    ax.set_title(title)
    fig.tight_layout()
    return fig


def sequence_figure(result):
    """Loss curves and train/test confusion matrices of one sequence result. The training loss
    is the SGD iterate's (the mean over each epoch's mini-batches); the validation loss and the
    confusion matrices belong to the averaged weights that were kept (see :func:`training_curves`)."""
    m = result.metrics
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    h = result.history
    ep = np.arange(1, len(h["train_loss"]) + 1)
    axes[0].plot(ep, h["train_loss"], "--", label="training: SGD iterate W\n(mean over the epoch's batches)")
    axes[0].plot(ep, h["val_loss"], label="validation: averaged weights W̄")
    axes[0].axvline(h["best_epoch"] + 1, color="0.6", lw=0.8, label="epoch kept (W̄)")
    axes[0].set_xlabel("epoch")
    axes[0].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].set_ylabel("cross-entropy (nats)")
    axes[0].legend(fontsize=9)
    axes[0].set_title(f"{result.config.cell.upper()}, η={result.config.sgd.lr:g}, seed {result.config.seed}")
    for ax, split in zip(axes[1:], ("train", "test")):
        confusion_axes(ax, m[f"{split}_confusion"], m["classes"],
                       f"{split}, kept weights (accuracy {m[f'{split}_accuracy']:.1%})", fontsize=12)
    fig.tight_layout()
    return fig
