"""Classification and language-model metrics (vectorised)."""

from __future__ import annotations

import numpy as np

from . import _checks


def _labels_and_proba(proba, y):
    proba = _checks.float_array("proba", proba, 2, "(N, K)")
    y = _checks.index_array("y", y, 1, "(N,)", proba.shape[1])
    _checks.same_length("proba", proba, "y", y)
    return proba, y


def accuracy(y_true, y_pred) -> float:
    """Share of examples whose predicted label equals the true one."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    _checks.same_length("y_true", y_true, "y_pred", y_pred)
    if len(y_true) == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """(K, K) counts; row = true class, column = predicted class (one ``bincount``)."""
    K = _checks.positive_int("n_classes", n_classes)
    y_true = _checks.index_array("y_true", y_true, 1, "(N,)", K)
    y_pred = _checks.index_array("y_pred", y_pred, 1, "(N,)", K)
    _checks.same_length("y_true", y_true, "y_pred", y_pred)
    return np.bincount(K * y_true + y_pred, minlength=K * K).reshape(K, K)


def cross_entropy(proba, y) -> float:
    """Mean :math:`-\\log p_{n, y_n}` (probabilities clipped at 1e-300 to stay finite)."""
    proba, y = _labels_and_proba(proba, y)
    return float(-np.mean(np.log(np.clip(proba[np.arange(len(y)), y], 1e-300, None))))


def perplexity(proba, y) -> float:
    """:math:`\\exp` of the mean cross-entropy: the effective number of equally likely words."""
    return float(np.exp(cross_entropy(proba, y)))


def top_k_accuracy(proba, y, k: int = 1) -> float:
    """Share of examples whose true label is among the k most probable.

    With k at least the number of classes every label is among them: that "accuracy" is 1 by
    construction and means nothing, so it is refused (ValueError)."""
    proba, y = _labels_and_proba(proba, y)
    k = _checks.positive_int("k", k)
    if k >= proba.shape[1]:
        raise ValueError(f"top-{k} accuracy over {proba.shape[1]} classes is 1 by construction: use k < "
                         f"{proba.shape[1]}")
    top = np.argpartition(-proba, k - 1, axis=1)[:, :k]
    return float(np.mean((top == y[:, None]).any(axis=1)))


def feature_spectrum(features) -> tuple[np.ndarray, np.ndarray]:
    """How edge-like each feature image is: orientation selectivity and high-frequency share.

    Parameters
    ----------
    features : (H, P*P) feature images (rows, e.g. :func:`mpcore.models.autoencoder.hidden_features`).

    Returns
    -------
    selectivity : (H,) in [0, 1]. A grating or Gabor-like edge scores ~0.9, a short bar
        0.75-0.9, a round blob ~0, pixel noise ~0.1. (The FFT treats the patch as periodic: a
        long edge crossing the whole patch at an oblique angle scores lower than it looks.)
    high_frequency : (H,) share of the power at spatial frequencies above P/4 cycles per patch
        (4 for 16 x 16 patches): ~0.8 for pixel noise, near 0 for smooth features.

    Notes
    -----
    With :math:`P(k)` the power spectrum of the mean-removed P x P image (2-D FFT), summed over the
    nonzero frequencies :math:`k` with angle :math:`\\theta(k)`:

    .. math::
        \\mathrm{selectivity} = \\frac{\\lvert \\sum_k P(k)\\, e^{2 i \\theta(k)} \\rvert}{\\sum_k P(k)},
        \\qquad
        \\mathrm{high\\ frequency} = \\frac{\\sum_{\\lvert k \\rvert > P/4} P(k)}{\\sum_k P(k)} .

    The doubled angle makes k and -k (the same orientation) add up instead of cancelling.
    """
    F = _checks.float_array("features", features, 2, "(H, P*P)")
    H, D = F.shape
    P = int(round(np.sqrt(D)))
    if P * P != D:
        raise ValueError(f"features must be square images: {D} values per row is not P*P")
    f = F.reshape(H, P, P).astype(np.float64)
    f = f - f.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.fft2(f)) ** 2  # (H, P, P)
    k = np.fft.fftfreq(P) * P  # cycles per patch
    ky, kx = np.meshgrid(k, k, indexing="ij")
    radius, theta = np.hypot(kx, ky), np.arctan2(ky, kx)
    nonzero = radius > 0
    total = power[:, nonzero].sum(axis=1)
    total = np.where(total > 0, total, 1.0)  # a flat feature has no spectrum: scores 0, 0
    selectivity = np.abs(power[:, nonzero] @ np.exp(2j * theta[nonzero])) / total
    high_frequency = power[:, radius > P / 4].sum(axis=1) / total
    return selectivity, high_frequency


def uniform_cosine(features) -> np.ndarray:
    """Each feature's cosine similarity with the uniform (DC) patch, all pixels equal: (H,).

    Near ±1: the unit's weights are mostly one shared brightness component; a localised edge
    scores near 0. The DC part of a feature is its pixel mean times the uniform patch, so
    :math:`\\cos = \\sqrt{D}\\,\\bar f / \\lVert f \\rVert`."""
    F = _checks.float_array("features", features, 2, "(H, D)")
    norm = np.linalg.norm(F, axis=1)
    return np.sqrt(F.shape[1]) * F.mean(axis=1) / np.where(norm > 0, norm, 1.0)


def feature_redundancy(features: np.ndarray) -> np.ndarray:
    """For each feature (H, D), the largest |cosine similarity| to any other feature: (H,).

    Near 1: the unit duplicates another one (a redundant feature)."""
    F = features / np.linalg.norm(features, axis=1, keepdims=True).clip(1e-12)
    cos = np.abs(F @ F.T)
    np.fill_diagonal(cos, 0.0)
    return cos.max(axis=1)
