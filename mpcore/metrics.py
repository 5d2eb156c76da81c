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
    """Share of examples whose true label is among the k most probable."""
    proba, y = _labels_and_proba(proba, y)
    k = _checks.positive_int("k", k)
    if k >= proba.shape[1]:
        return 1.0
    top = np.argpartition(-proba, k - 1, axis=1)[:, :k]
    return float(np.mean((top == y[:, None]).any(axis=1)))
