"""Figures. Every function takes results (arrays, histories, metrics) and returns a
matplotlib Figure; none trains or reads training state."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


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


def patches_figure(rgb: np.ndarray, gray: np.ndarray, n: int = 200, seed: int = 0):
    """``n`` random RGB patches (N, 3, P, P) next to their normalised versions (N, P, P)."""
    idx = np.random.default_rng(seed).choice(len(rgb), size=min(n, len(rgb)), replace=False)
    cols = 20
    fig, axes = plt.subplots(1, 2, figsize=(12, 6.4))
    axes[0].imshow(_tile(rgb[idx].transpose(0, 2, 3, 1), cols))
    axes[0].set_title(f"{len(idx)} RGB patches")
    axes[1].imshow(_tile(gray[idx], cols), cmap="gray", vmin=0, vmax=1)
    axes[1].set_title("after preprocessing (gray, mean removed, clipped, [0.1, 0.9])")
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig


def feature_grid(features: np.ndarray, title: str = "", ax=None):
    """Hidden features (H, P*P) as P x P images, each scaled to its own range."""
    H, D = features.shape
    P = int(round(np.sqrt(D)))
    f = features.reshape(H, P, P)
    lo = f.min(axis=(1, 2), keepdims=True)
    hi = f.max(axis=(1, 2), keepdims=True)
    f = (f - lo) / np.where(hi > lo, hi - lo, 1)
    cols = int(np.ceil(np.sqrt(H)))
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(_tile(f, cols), cmap="gray", vmin=0, vmax=1)
    ax.set_title(title)
    ax.axis("off")
    return ax.figure


def feature_grid_matrix(features: dict, title: str = "Hidden features"):
    """``{(L_hid, lam): (H, P*P)}`` as a grid of feature grids: rows L_hid, columns λ."""
    Hs = sorted({h for h, _ in features})
    lams = sorted({lam for _, lam in features})
    fig, axes = plt.subplots(len(Hs), len(lams), figsize=(4 * len(lams), 4 * len(Hs)), squeeze=False)
    for i, H in enumerate(Hs):
        for j, lam in enumerate(lams):
            feature_grid(features[(H, lam)], f"L_hid={H}, λ={lam:g}", ax=axes[i, j])
    fig.suptitle(title)
    fig.tight_layout()
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


def confusion_figure(confusions: dict, classes: list, title: str = ""):
    """``{label: (K, K) counts}`` side by side; rows true class, columns prediction."""
    import seaborn as sns

    fig, axes = plt.subplots(1, len(confusions), figsize=(5.5 * len(confusions), 4.8), squeeze=False)
    for ax, (label, cm) in zip(axes[0], confusions.items()):
        cm = np.asarray(cm)
        acc = np.trace(cm) / max(cm.sum(), 1)
        sns.heatmap(cm, annot=True, fmt="d", cmap="Blues", cbar=False, ax=ax, xticklabels=classes, yticklabels=classes)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{label} (accuracy {acc:.1%})")
        ax.tick_params(axis="x", rotation=45)
        ax.tick_params(axis="y", rotation=0)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def gradient_norms_figure(norms: dict):
    """``{cell: (T,)}`` mean ‖∂L/∂h_t‖ per time step, log scale: vanishing gradients made visible."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for cell, g in norms.items():
        ax.semilogy(np.arange(1, len(g) + 1), g, label=cell.upper())
    ax.set_xlabel("time step t")
    ax.set_ylabel("mean ‖∂L/∂h_t‖")
    ax.set_title("Gradient reaching each time step from the loss at t = T")
    ax.legend()
    fig.tight_layout()
    return fig


def embedding_map(R: np.ndarray, words: list, n: int = 100):
    """The first ``n`` words' embeddings projected on their 2 principal components (SVD)."""
    E = R[:n] - R[:n].mean(axis=0)
    U, S, Vt = np.linalg.svd(E, full_matrices=False)
    xy = E @ Vt[:2].T
    xy *= np.sign(Vt[:2].sum(axis=1))  # fix the sign ambiguity of the SVD
    fig, ax = plt.subplots(figsize=(9, 7))
    ax.scatter(xy[:, 0], xy[:, 1], s=8, color="C0")
    for (x, y), w in zip(xy, words[:n]):
        ax.annotate(w, (x, y), fontsize=8, xytext=(2, 2), textcoords="offset points")
    share = S[:2] ** 2 / np.sum(S**2)
    ax.set_xlabel(f"component 1 ({share[0]:.0%} of variance)")
    ax.set_ylabel(f"component 2 ({share[1]:.0%} of variance)")
    ax.set_title(f"Word embeddings of the {n} most frequent words, 2-D projection")
    fig.tight_layout()
    return fig


def activity_windows(X: np.ndarray, y: np.ndarray, classes: list, per_class: int = 3, seed: int = 0):
    """A few windows (N, T, C) of each class, one panel per class, channels as colours."""
    rng = np.random.default_rng(seed)
    K = len(classes)
    cols = min(K, 3)
    rows = int(np.ceil(K / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 2.8 * rows), sharey=True, squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        if k >= K:
            ax.axis("off")
            continue
        idx = np.flatnonzero(y == k)
        for j, i in enumerate(rng.choice(idx, size=min(per_class, len(idx)), replace=False)):
            for c in range(X.shape[2]):
                ax.plot(X[i, :, c], color=f"C{c}", alpha=1.0 - 0.25 * j, lw=0.8,
                        label=f"channel {c}" if j == 0 else None)
        ax.set_title(classes[k])
        ax.set_xlabel("time step")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig
