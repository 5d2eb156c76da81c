"""Loaders for the course's data files and mpcore's bundled defaults.

Every loader reads the course's own HDF5 schema and converts it, here and nowhere else, to
the package's conventions: **rows are examples**, word indices and labels are **0-based
integers**, and arrays are float64 / int64. ``path=None`` reads the bundled default dataset
(built from public data by ``scripts/build_datasets.py``); a path reads a course file.

Course schemas (sizes are inferred from the file, never assumed):

``data1.h5``  ``data`` (N, 3, P, P) floats in [0, 1]; ``data[i].T`` is an upright P x P x 3 image.
              Integer (uint8) pixels are accepted too and divided by 255.
``data2.h5``  ``trainx``/``valx``/``testx`` (N, 3) word indices, **1-based**;
              ``traind``/``vald``/``testd`` (N,) 1-based; ``words`` (V,) byte strings.
``data3.h5``  ``trX``/``tstX`` (N, T, C) floats; ``trY``/``tstY`` (N, K) one-hot. Optional
              ``trRec``/``tstRec`` (N,) recording ids and ``classes`` (K,) byte strings.

Indices and labels may be stored as integers or as integral floats (MATLAB writes doubles).
Any file that does not match raises :class:`DataFormatError` naming the file, the key, what
was expected and what was found. Nothing is silently truncated, reordered or cast.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = [
    "ACTIVITY_FILE",
    "COURSE_CLASSES",
    "NGRAM_FILE",
    "PATCH_FILE",
    "ActivityData",
    "DataFormatError",
    "NGramData",
    "load_activity",
    "load_ngrams",
    "load_patches",
    "preprocess_patches",
    "zca_matrix",
    "default_path",
    "file_fingerprint",
]

#: The course's file names, one per part; a data folder holds them under these names.
PATCH_FILE = "data1.h5"
NGRAM_FILE = "data2.h5"
ACTIVITY_FILE = "data3.h5"

#: Class names of the course's activity data (alphabetical = label order).
COURSE_CLASSES = ["downstairs", "jogging", "sitting", "standing", "upstairs", "walking"]

#: Luminosity weights of the course's grayscale conversion (ITU-R BT.709).
LUMA = np.array([0.2126, 0.7152, 0.0722])
#: Largest magnitude accepted in a course file's float arrays: far beyond any pixel or sensor
#: reading, and small enough that sums of squares of millions of them stay finite in float64.
MAX_ABS = 1e30


class DataFormatError(ValueError):
    """A data file does not match the course schema (missing key, bad shape, bad values...)."""


# --------------------------------------------------------------------------------------------
# file access and validation helpers
# --------------------------------------------------------------------------------------------


def default_path(name: str) -> Path:
    """Path of a bundled default dataset: ``PATCH_FILE``, ``NGRAM_FILE`` or ``ACTIVITY_FILE``."""
    return Path(str(resources.files("mpcore") / "datasets" / name))


def course_path(name: str, data_dir: str | Path | None = None) -> Path:
    """The course file ``name`` in ``data_dir``, or the bundled default when ``data_dir`` is None."""
    return default_path(name) if data_dir is None else Path(data_dir) / name


_FINGERPRINTS: dict = {}


def file_fingerprint(path: str | Path) -> str:
    """sha256 of a file's bytes: identifies the dataset a result was trained on.

    Hashed once per version of the file: cached by (absolute path, size, modification time), so
    a store lookup (every explorer control move) does not re-read the data file."""
    path = Path(path).resolve()
    st = path.stat()
    key = (path, st.st_size, st.st_mtime_ns)
    if key not in _FINGERPRINTS:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _FINGERPRINTS[key] = h.hexdigest()
    return _FINGERPRINTS[key]


class _File:
    """An open HDF5 file whose reads raise DataFormatError with the file and key named."""

    def __init__(self, path: str | Path | None, default: str):
        import h5py

        self.path = Path(default_path(default) if path is None else path)
        if not self.path.exists():
            raise DataFormatError(f"{self.path}: file does not exist (expected a course file like {default})")
        if self.path.is_dir():
            raise DataFormatError(f"{self.path}: is a directory, expected an HDF5 file like {default}")
        try:
            self._f = h5py.File(self.path, "r")
        except OSError as e:
            raise DataFormatError(f"{self.path}: not a readable HDF5 file ({e})") from None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()

    def has(self, key: str) -> bool:
        return key in self._f

    def fail(self, key: str, expected: str, found: str):
        raise DataFormatError(f"{self.path}: key '{key}': expected {expected}, found {found}")

    def array(self, key: str, ndim: int) -> np.ndarray:
        """Read dataset ``key`` as a numpy array of rank ``ndim``; numeric and non-empty."""
        if key not in self._f:
            self.fail(key, "a dataset", f"no such key (keys: {sorted(self._f.keys())})")
        node = self._f[key]
        if not hasattr(node, "shape"):
            self.fail(key, "a dataset", "a group")
        a = node[()]
        a = np.asarray(a)
        if a.ndim != ndim:
            self.fail(key, f"a {ndim}-d array", f"shape {a.shape}")
        if a.dtype.kind not in "biuf":
            self.fail(key, "numbers", f"dtype {a.dtype}")
        if a.shape[0] == 0:
            self.fail(key, "at least one row", "an empty array")
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            self.fail(key, "finite values", f"{np.count_nonzero(~np.isfinite(a))} NaN/inf values")
        return a

    def floats(self, key: str, ndim: int) -> np.ndarray:
        a = self.array(key, ndim)
        if a.dtype.kind != "f":
            self.fail(key, "floating-point values", f"dtype {a.dtype}")
        a = a.astype(np.float64)
        if a.size and np.abs(a).max() > MAX_ABS:
            self.fail(key, f"values within ±{MAX_ABS:g}", f"a value of {a[np.abs(a) > MAX_ABS].ravel()[0]:g} "
                      f"(squares of such values overflow the statistics used to standardise)")
        return a

    def integers(self, key: str, ndim: int) -> np.ndarray:
        """Integer-valued array (ints or integral floats) as int64."""
        a = self.array(key, ndim)
        if a.dtype.kind == "f":
            if not np.array_equal(a, np.round(a)):
                bad = a[a != np.round(a)].ravel()[0]
                self.fail(key, "integer values (or integral floats)", f"non-integral value {bad}")
            if np.abs(a).max() > 2**53:
                self.fail(key, "integer values below 2**53", f"max {np.abs(a).max()}")
        return a.astype(np.int64)

    def strings(self, key: str, n: int | None = None) -> list[str]:
        if key not in self._f:
            self.fail(key, "a dataset of strings", f"no such key (keys: {sorted(self._f.keys())})")
        a = np.asarray(self._f[key][()]).ravel()
        if a.dtype.kind not in "SUO":
            self.fail(key, "byte strings", f"dtype {a.dtype}")
        out = [s.decode("utf-8", "replace") if isinstance(s, bytes) else str(s) for s in a]
        if n is not None and len(out) != n:
            self.fail(key, f"{n} strings", f"{len(out)}")
        return out


# --------------------------------------------------------------------------------------------
# Part 1: image patches
# --------------------------------------------------------------------------------------------


def load_patches(path: str | Path | None = None) -> np.ndarray:
    """Load RGB image patches.

    Parameters
    ----------
    path : course ``data1.h5`` or None for the bundled patches.

    Returns
    -------
    rgb : float64 array (N, 3, P, P) in [0, 1]; ``rgb[i].transpose(1, 2, 0)`` is the upright
        P x P x 3 image (the course file stores ``data[i].T`` upright, i.e. (c, x, y); we swap
        to (c, y, x) here, once).
    """
    with _File(path, PATCH_FILE) as f:
        raw = f.array("data", 4)
        if raw.shape[1] != 3 or raw.shape[2] != raw.shape[3]:
            f.fail("data", "shape (N, 3, P, P): 3 colour channels of square patches", f"shape {raw.shape}")
        if raw.dtype.kind in "iu":
            if raw.min() < 0 or raw.max() > 255:
                f.fail("data", "8-bit pixels in [0, 255]", f"range [{raw.min()}, {raw.max()}]")
            rgb = raw.astype(np.float64) / 255.0
        elif raw.dtype.kind == "f":
            rgb = raw.astype(np.float64)
            if rgb.min() < 0 or rgb.max() > 1:
                f.fail("data", "values in [0, 1]", f"range [{rgb.min():.4g}, {rgb.max():.4g}]")
        else:
            f.fail("data", "float or uint8 pixels", f"dtype {raw.dtype}")
    return np.ascontiguousarray(rgb.swapaxes(2, 3))


def zca_matrix(Y: np.ndarray, epsilon: float) -> np.ndarray:
    """ZCA whitening matrix of mean-removed rows ``Y`` (N, D): (D, D), symmetric.

    Parameters
    ----------
    Y : (N, D) rows with each row's own mean removed.
    epsilon : regulariser ε > 0, in units of the average pixel variance :math:`\\mathrm{tr}(\\Sigma)/D`
        (so one value suits data of any contrast).

    Notes
    -----
    .. math::
        \\Sigma = \\frac1N Y^\\top Y = U \\,\\mathrm{diag}(s)\\, U^\\top, \\qquad
        Z = U \\,\\mathrm{diag}\\Big(\\frac{1}{\\sqrt{s + \\varepsilon\\, \\bar s}}\\Big)\\, U^\\top,
        \\qquad \\bar s = \\frac1D \\sum_d s_d .

    ``Y Z`` has (nearly) unit variance along every principal direction whose variance ``s`` is
    well above ``ε s̄`` and is *damped* along the others: natural images have most variance at
    low spatial frequencies (power falls like 1/f²), so whitening flattens the spectrum and
    the network sees edges rather than smooth brightness gradients; without ε the tiny,
    noise-dominated high-frequency directions would be blown up. ZCA (rather than PCA)
    whitening rotates back with ``U``, so whitened patches still look like images.
    """
    Y = np.asarray(Y, dtype=np.float64)
    epsilon = float(epsilon)
    if not epsilon > 0:
        raise ValueError(f"zca_matrix: epsilon must be > 0, got {epsilon!r}")
    sigma = Y.T @ Y / len(Y)
    s, U = np.linalg.eigh(sigma)
    s = np.clip(s, 0, None)  # eigh returns tiny negative values for the zero-variance direction
    return (U / np.sqrt(s + epsilon * s.mean())) @ U.T


def preprocess_patches(rgb: np.ndarray, zca_epsilon: float | None = None, fit=None) -> np.ndarray:
    """Course recipe: grayscale, remove each patch's mean, [ZCA-whiten,] clip at 3 std, map to [0.1, 0.9].

    Parameters
    ----------
    rgb : (N, 3, P, P) array in [0, 1], as returned by :func:`load_patches`.
    zca_epsilon : None (the course recipe, no whitening) or the ε of :func:`zca_matrix`.
    fit : index (array, slice or None = all) of the patches whose statistics -- the whitening
        matrix and the clipping range -- are estimated; they are applied to every patch, so a
        held-out set is transformed without being looked at.

    Returns
    -------
    x : float64 array (N, P, P) in [0.1, 0.9].

    Notes
    -----
    .. math::
        Y = 0.2126 R + 0.7152 G + 0.0722 B, \\qquad Y_i \\leftarrow Y_i - \\bar Y_i,
        \\qquad [\\,Y \\leftarrow Y Z\\,],

        s = 3\\,\\mathrm{std}(Y) \\text{ over all pixels of the mean-removed data},

        x = 0.1 + 0.8 \\cdot \\frac{\\mathrm{clip}(Y, -s, s) + s}{2 s}.

    (A common student bug takes the std of the RGB array instead of the mean-removed one.)
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 4 or rgb.shape[1] != 3 or rgb.shape[0] == 0:
        raise ValueError(f"preprocess_patches: expected rgb of shape (N, 3, P, P) with N >= 1, got {rgb.shape}")
    if rgb.dtype.kind not in "biuf" or not np.isfinite(rgb).all():
        raise ValueError("preprocess_patches: rgb must be finite numbers")
    fit = slice(None) if fit is None else fit
    Y = np.tensordot(LUMA, rgb, axes=([0], [1]))  # (N, P, P)
    Y = Y - Y.mean(axis=(1, 2), keepdims=True)
    if zca_epsilon is not None:
        N, P, _ = Y.shape
        rows = Y.reshape(N, P * P)
        Y = (rows @ zca_matrix(rows[fit], zca_epsilon)).reshape(N, P, P)
    s = 3.0 * Y[fit].std()
    if s == 0:  # every patch flat: all pixels sit at the middle of the range
        return np.full(Y.shape, 0.5)
    return 0.1 + 0.8 * (np.clip(Y, -s, s) + s) / (2 * s)


# --------------------------------------------------------------------------------------------
# Part 2: 4-grams
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Splits:
    """Inputs ``*_x`` and 0-based integer targets ``*_y`` of the training, validation and test sets."""

    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray


@dataclass(frozen=True, eq=False)
class NGramData(Splits):
    """4-gram data, 0-based: ``*_x`` (N, 3) context word indices, ``*_y`` (N,) 4th word."""

    words: list[str]
    path: Path = field(repr=True, default=None)

    @property
    def n_words(self) -> int:
        return len(self.words)


def load_ngrams(path: str | Path | None = None) -> NGramData:
    """Load 4-grams from a course ``data2.h5`` (1-based) or the bundled SOTU 4-grams.

    Returns an :class:`NGramData` with 0-based int64 indices in ``[0, V)``.
    """
    with _File(path, NGRAM_FILE) as f:
        words = f.strings("words")
        V = len(words)
        if V == 0:
            f.fail("words", "at least one word", "an empty list")
        out = {}
        for split in ("train", "val", "test"):
            x = f.integers(f"{split}x", 2)
            d = f.integers(f"{split}d", 1)
            if x.shape[1] != 3:
                f.fail(f"{split}x", "shape (N, 3): three context words", f"shape {x.shape}")
            if len(d) != len(x):
                f.fail(f"{split}d", f"{len(x)} targets (one per row of {split}x)", f"{len(d)}")
            for key, a in ((f"{split}x", x), (f"{split}d", d)):
                if a.min() < 1 or a.max() > V:
                    bad = a[(a < 1) | (a > V)].ravel()[0]
                    f.fail(key, f"1-based word indices in [1, {V}]", f"index {bad}")
            out[f"{split}_x"] = x - 1
            out[f"{split}_y"] = d - 1
        p = f.path
    return NGramData(**out, words=words, path=p)


# --------------------------------------------------------------------------------------------
# Part 3: activity windows
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ActivityData(Splits):
    """Activity windows: ``*_x`` (N, T, C) float64, ``*_y`` (N,) int64 0-based labels."""

    classes: list[str]
    val_split: str = "random"
    path: Path = field(repr=True, default=None)

    @property
    def n_classes(self) -> int:
        return len(self.classes)


def _one_hot_labels(f: _File, key: str, n: int) -> np.ndarray:
    Y = f.integers(key, 2)
    if len(Y) != n:
        f.fail(key, f"{n} label rows (one per window)", f"{len(Y)}")
    if not (np.isin(Y, (0, 1)).all() and (Y.sum(axis=1) == 1).all()):
        rows = np.flatnonzero(~(np.isin(Y, (0, 1)).all(axis=1) & (Y.sum(axis=1) == 1)))
        found = f"{len(rows)} bad rows, first row {rows[0]}: {Y[rows[0]]}"
        f.fail(key, "one-hot rows (a single 1, zeros elsewhere)", found)
    return Y.argmax(axis=1)


def _validation_split(labels: np.ndarray, groups: np.ndarray | None, val_fraction: float, seed: int):
    """Indices (train, val) of the training windows.

    Both are stratified, class by class. With recording ids (``groups``) whole recordings are
    held out until at least ``val_fraction`` of each class's windows are in validation; without
    ids, a seeded random ``val_fraction`` of each class's windows, and at least one window of
    every class that has two or more -- so validation accuracy never ignores a class.
    """
    rng = np.random.default_rng(seed)
    if groups is None:
        val = []
        for k in np.unique(labels):
            idx = rng.permutation(np.flatnonzero(labels == k))
            if len(idx) >= 2:
                val.extend(idx[: min(len(idx) - 1, max(1, int(round(val_fraction * len(idx)))))])
        is_val = np.isin(np.arange(len(labels)), val)
        return np.flatnonzero(~is_val), np.flatnonzero(is_val)
    val_ids = []
    for k in np.unique(labels):
        ids = np.unique(groups[labels == k])
        rng.shuffle(ids)
        if len(ids) < 2:
            continue
        sizes = np.array([np.count_nonzero(groups == g) for g in ids])
        take = int(np.searchsorted(np.cumsum(sizes), val_fraction * sizes.sum())) + 1
        val_ids.extend(ids[: min(take, len(ids) - 1)])
    is_val = np.isin(groups, val_ids)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


#: Fewer validation windows than this in a class make validation accuracy too coarse to steer
#: early stopping or the choice of η: :func:`load_activity` warns.
MIN_VAL_PER_CLASS = 5


def _warn_if_small_validation(val_y, classes, path):
    counts = np.bincount(val_y, minlength=len(classes))
    if counts.min() < MIN_VAL_PER_CLASS:
        few = ", ".join(f"{c}: {n}" for c, n in zip(classes, counts) if n < MIN_VAL_PER_CLASS)
        warnings.warn(
            f"{path}: the validation split holds {counts.sum()} windows, and few or none of some classes "
            f"({few}). Validation accuracy then moves in steps of 1/{max(counts.sum(), 1)} and early stopping "
            f"follows noise: use more training windows or a larger val_fraction.", stacklevel=3)


def _warn_random_split(path):
    warnings.warn(
        f"{path}: no recording ids (trRec) to split by, so the validation windows are a random share of the "
        f"training windows. Windows cut from one recording overlap, so most validation windows share most of "
        f"their samples with training windows: validation accuracy will be far higher than on new recordings "
        f"or new people, and the choices made on it (the epoch kept, the learning rate) rest on that "
        f"optimistic number. Judge the model by the test set.", stacklevel=3)


def load_activity(path: str | Path | None = None, val_fraction: float = 0.1, seed: int = 0) -> ActivityData:
    """Load accelerometer windows from a course ``data3.h5`` or the bundled smartwatch data.

    Parameters
    ----------
    path : course file or None for the bundled data.
    val_fraction : share of the training windows held out for validation, in (0, 1).
    seed : seed of the validation split. Windows and labels are split with one index set.
        When the file carries recording ids (``trRec``, the bundled data does) whole
        recordings are held out -- overlapping windows of one recording would otherwise leak
        into validation; course files have no ids and get a seeded random split.

    Returns
    -------
    ActivityData with ``*_x`` (N, T, C) float64 and ``*_y`` (N,) int64 in ``[0, K)``.
    """
    if not (isinstance(val_fraction, (int, float)) and 0 < val_fraction < 1):
        raise ValueError(f"load_activity: val_fraction must be in (0, 1), got {val_fraction!r}")
    with _File(path, ACTIVITY_FILE) as f:
        trX = f.floats("trX", 3)
        tstX = f.floats("tstX", 3)
        if tstX.shape[1:] != trX.shape[1:]:
            f.fail("tstX", f"windows of shape (T, C) = {trX.shape[1:]} like trX", f"{tstX.shape[1:]}")
        trY = _one_hot_labels(f, "trY", len(trX))
        tstY = _one_hot_labels(f, "tstY", len(tstX))
        K = f.integers("trY", 2).shape[1]
        if f.integers("tstY", 2).shape[1] != K:
            f.fail("tstY", f"{K} classes like trY", f"{f.integers('tstY', 2).shape[1]}")
        if f.has("classes"):
            classes = f.strings("classes", K)
        elif K == len(COURSE_CLASSES):
            classes = list(COURSE_CLASSES)
        else:
            classes = [f"class {k}" for k in range(K)]
        groups = None
        if f.has("trRec"):
            groups = f.integers("trRec", 1)
            if len(groups) != len(trX):
                f.fail("trRec", f"{len(trX)} recording ids (one per window)", f"{len(groups)}")
            if len(np.unique(groups)) < 2:
                groups = None
        if len(trX) < 2:
            f.fail("trX", "at least 2 windows (to hold some out for validation)", f"{len(trX)}")
        p = f.path
    tr, va = _validation_split(trY, groups, val_fraction, seed)
    if len(va) == 0:  # recordings too few to hold any out: fall back to a random split
        groups = None
        tr, va = _validation_split(trY, None, val_fraction, seed)
    if groups is None:
        _warn_random_split(p)
    _warn_if_small_validation(trY[va], classes, p)
    return ActivityData(
        train_x=trX[tr], train_y=trY[tr], val_x=trX[va], val_y=trY[va],
        test_x=tstX, test_y=tstY, classes=classes,
        val_split="by recording" if groups is not None else "random",
        path=p,
    )
