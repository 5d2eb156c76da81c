"""Argument checks shared by the public functions: clear ``ValueError``s, never a numpy
broadcasting error from deep inside a model."""

from __future__ import annotations

import numbers

import numpy as np


def positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def number(name: str, value, *, low=None, high=None, low_open=False, high_open=False) -> float:
    """A finite real in the given interval (closed unless ``*_open``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    lo_bad = low is not None and (value <= low if low_open else value < low)
    hi_bad = high is not None and (value >= high if high_open else value > high)
    if lo_bad or hi_bad:
        lb = "(" if low_open else "["
        rb = ")" if high_open else "]"
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(f"{name} must be in {lb}{lo}, {hi}{rb}, got {value!r}")
    return float(value)


def float_array(name: str, X, ndim: int, shape_doc: str) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != ndim:
        raise ValueError(f"{name} must have shape {shape_doc}, got an array of shape {X.shape}")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold numbers, got dtype {X.dtype}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty: need at least one example")
    finite(name, X)
    return X


def finite(name: str, X: np.ndarray) -> None:
    """ValueError naming ``name`` and the count of NaN / infinite values, if there are any."""
    if X.dtype.kind == "f" and not np.isfinite(X.sum()):  # one cheap pass when all is well
        bad = int(X.size - np.count_nonzero(np.isfinite(X)))
        if bad:
            raise ValueError(f"{name} has {bad} non-finite value{'s' if bad > 1 else ''} (NaN or ±inf) of {X.size}: "
                             f"clean or drop them before training")


def index_array(name: str, a, ndim: int, shape_doc: str, n: int) -> np.ndarray:
    """Integer indices in [0, n)."""
    a = np.asarray(a)
    if a.ndim != ndim:
        raise ValueError(f"{name} must have shape {shape_doc}, got an array of shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} is empty: need at least one example")
    if a.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integers, got dtype {a.dtype}")
    if a.min() < 0 or a.max() >= n:
        bad = a[(a < 0) | (a >= n)].ravel()[0]
        raise ValueError(f"{name} holds index {bad}, outside [0, {n})")
    return a


def same_length(name_a: str, a, name_b: str, b) -> None:
    if len(a) != len(b):
        raise ValueError(f"{name_a} has {len(a)} rows but {name_b} has {len(b)}")


def params_match(params: dict, shapes: dict, where: str) -> None:
    """Every expected key present with the expected shape."""
    missing = sorted(set(shapes) - set(params))
    if missing:
        raise ValueError(f"{where}: params lack {missing}")
    for k, shape in shapes.items():
        if np.shape(params[k]) != shape:
            raise ValueError(f"{where}: params[{k!r}] has shape {np.shape(params[k])}, expected {shape}")


def rng(value) -> np.random.Generator:
    if not isinstance(value, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(value)}")
    return value
