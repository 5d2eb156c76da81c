"""Loaders on course-schema fixtures, every malformed-input path, preprocessing, bundled data."""

import hashlib

import numpy as np
import pytest
from course_files import course_data1, course_data2, course_data3, write_h5
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mpcore import data
from mpcore.data import DataFormatError

# ---------------------------------------------------------------------------- patches


def test_load_patches_course_file_is_transposed_upright(tmp_path, rng):
    raw = course_data1(rng)
    path = write_h5(tmp_path / "d1.h5", **raw)
    rgb = data.load_patches(path)
    assert rgb.shape == (12, 3, 8, 8) and rgb.dtype == np.float64
    # course: data[i].T is upright (y, x, c); ours: rgb[i].transpose(1, 2, 0) is upright
    np.testing.assert_array_equal(rgb[3].transpose(1, 2, 0), raw["data"][3].T)


def test_load_patches_uint8_is_scaled(tmp_path, rng):
    raw = rng.integers(0, 256, size=(4, 3, 5, 5), dtype=np.uint8)
    rgb = data.load_patches(write_h5(tmp_path / "d1.h5", data=raw))
    np.testing.assert_allclose(rgb[1].transpose(1, 2, 0), raw[1].T / 255.0)


@pytest.mark.parametrize(
    "arr, msg",
    [
        (np.zeros((4, 3, 8)), "4-d array"),
        (np.zeros((4, 1, 8, 8)), "3 colour channels"),
        (np.zeros((4, 3, 8, 7)), "square"),
        (np.full((4, 3, 8, 8), 1.5), r"values in \[0, 1\]"),
        (np.full((4, 3, 8, 8), np.nan), "NaN/inf"),
        (np.zeros((0, 3, 8, 8)), "at least one row"),
        (np.array([b"x", b"y"]), "2-d|numbers|1-d|4-d"),
    ],
)
def test_load_patches_errors(tmp_path, arr, msg):
    path = write_h5(tmp_path / "bad.h5", data=arr)
    with pytest.raises(DataFormatError, match=msg) as e:
        data.load_patches(path)
    assert "bad.h5" in str(e.value) and "'data'" in str(e.value)


def test_missing_key_names_key(tmp_path):
    path = write_h5(tmp_path / "bad.h5", other=np.zeros(3))
    with pytest.raises(DataFormatError, match="key 'data'.*no such key"):
        data.load_patches(path)


def test_not_hdf5_and_missing_file(tmp_path):
    txt = tmp_path / "notes.h5"
    txt.write_text("hello")
    with pytest.raises(DataFormatError, match="not a readable HDF5"):
        data.load_patches(txt)
    with pytest.raises(DataFormatError, match="does not exist"):
        data.load_ngrams(tmp_path / "nope.h5")
    with pytest.raises(DataFormatError, match="directory"):
        data.load_activity(tmp_path)
    assert issubclass(DataFormatError, ValueError)


def test_preprocess_properties(rng):
    rgb = rng.uniform(0, 1, size=(50, 3, 6, 6))
    x = data.preprocess_patches(rgb)
    assert x.shape == (50, 6, 6)
    assert x.min() >= 0.1 - 1e-12 and x.max() <= 0.9 + 1e-12
    Y = np.einsum("c,ncij->nij", data.LUMA, rgb)
    Y = Y - Y.mean(axis=(1, 2), keepdims=True)
    s = 3 * Y.std()
    inside = np.abs(Y) < s
    # inside the clip range the map is linear: x = 0.5 + 0.4 * Y / s
    np.testing.assert_allclose(x[inside], 0.5 + 0.4 * Y[inside] / s)
    assert np.all(x[Y >= s] == pytest.approx(0.9)) and np.all(x[Y <= -s] == pytest.approx(0.1))
    rgb_copy = rgb.copy()
    data.preprocess_patches(rgb)
    np.testing.assert_array_equal(rgb, rgb_copy)  # caller's array untouched


def test_preprocess_clips_outliers_with_std_of_mean_removed_data():
    rgb = np.full((10, 3, 4, 4), 0.5)
    rgb[0, :, 0, 0] = 1.0  # a single bright pixel: far beyond 3 std of the mean-removed data
    x = data.preprocess_patches(rgb)
    assert x[0, 0, 0] == pytest.approx(0.9)
    assert data.preprocess_patches(np.full((2, 3, 4, 4), 0.3)).tolist() == np.full((2, 4, 4), 0.5).tolist()


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.just(3), st.integers(1, 4), st.integers(1, 4)),
              elements=st.floats(0, 1)))
def test_preprocess_range_property(rgb):
    x = data.preprocess_patches(rgb)
    assert x.shape == (rgb.shape[0],) + rgb.shape[2:]
    assert np.all((x >= 0.1 - 1e-9) & (x <= 0.9 + 1e-9))


@pytest.mark.parametrize("shape", [(3, 16, 16), (4, 1, 16, 16), (0, 3, 4, 4)])
def test_preprocess_bad_shape(shape):
    with pytest.raises(ValueError, match="expected rgb of shape"):
        data.preprocess_patches(np.zeros(shape))


# ---------------------------------------------------------------------------- 4-grams


@pytest.mark.parametrize("as_float", [False, True])
def test_load_ngrams_converts_one_based(tmp_path, rng, as_float):
    raw = course_data2(rng, as_float=as_float)
    ng = data.load_ngrams(write_h5(tmp_path / "d2.h5", **raw))
    assert ng.words == [f"w{i}" for i in range(7)] and ng.n_words == 7
    np.testing.assert_array_equal(ng.train_x, np.asarray(raw["trainx"], dtype=np.int64) - 1)
    np.testing.assert_array_equal(ng.test_y, np.asarray(raw["testd"], dtype=np.int64) - 1)
    assert ng.val_x.shape == (5, 3) and ng.train_x.dtype == np.int64
    assert ng.train_x.min() >= 0 and ng.train_x.max() <= 6


def _bad_ngrams(rng, key, value):
    raw = course_data2(rng)
    if value is None:
        del raw[key]
    else:
        raw[key] = value
    return raw


@pytest.mark.parametrize(
    "key, value, msg",
    [
        ("trainx", None, "no such key"),
        ("words", None, "no such key"),
        ("trainx", np.ones((20, 4), dtype=int), r"shape \(N, 3\)"),
        ("trainx", np.ones(20, dtype=int), "2-d array"),
        ("traind", np.ones(19, dtype=int), "20 targets"),
        ("valx", np.zeros((5, 3), dtype=int), r"1-based word indices in \[1, 7\].*index 0"),
        ("testd", np.full(6, 8), r"\[1, 7\].*index 8"),
        ("trainx", np.full((20, 3), 1.5), "integral"),
        ("vald", np.full(5, np.inf), "NaN/inf"),
        ("testx", np.zeros((0, 3), dtype=int), "at least one row"),
        ("words", np.arange(7), "byte strings"),
    ],
)
def test_load_ngrams_errors(tmp_path, rng, key, value, msg):
    path = write_h5(tmp_path / "d2.h5", **_bad_ngrams(rng, key, value))
    with pytest.raises(DataFormatError, match=msg) as e:
        data.load_ngrams(path)
    assert f"'{key}'" in str(e.value) and "d2.h5" in str(e.value)


# ---------------------------------------------------------------------------- activity


def test_load_activity_course_file(tmp_path, rng):
    raw = course_data3(rng)
    with pytest.warns(UserWarning, match="validation split holds 12 windows"):
        with pytest.warns(UserWarning, match=r"no recording ids \(trRec\).*random share.*overlap"):
            act = data.load_activity(write_h5(tmp_path / "d3.h5", **raw), val_fraction=0.25, seed=3)
    assert act.classes == data.COURSE_CLASSES and act.val_split == "random"
    # stratified: a quarter of each class's windows (rounded), every class present
    per_class = np.bincount(raw["trY"].argmax(1), minlength=6)
    expected = [min(n - 1, max(1, round(0.25 * n))) for n in per_class]
    np.testing.assert_array_equal(np.bincount(act.val_y, minlength=6), expected)
    assert act.train_x.shape == (40 - sum(expected), 9, 2) and act.val_x.shape == (sum(expected), 9, 2)
    assert act.test_x.shape == (10, 9, 2) and act.test_y.dtype == np.int64
    # data and labels were permuted together: every window is found with its own label
    full = {tuple(x.ravel()): y for x, y in zip(raw["trX"], raw["trY"].argmax(1))}
    for x, y in zip(np.concatenate([act.train_x, act.val_x]), np.concatenate([act.train_y, act.val_y])):
        assert full[tuple(x.ravel())] == y
    assert len(full) == 40
    again = data.load_activity(tmp_path / "d3.h5", val_fraction=0.25, seed=3)
    np.testing.assert_array_equal(again.val_x, act.val_x)
    other = data.load_activity(tmp_path / "d3.h5", val_fraction=0.25, seed=4)
    assert not np.array_equal(other.val_x, act.val_x)


def test_load_activity_other_sizes_and_names(tmp_path, rng):
    raw = course_data3(rng, K=4, T=5, C=3, as_float=False)
    act = data.load_activity(write_h5(tmp_path / "d3.h5", **raw))
    assert act.classes == [f"class {k}" for k in range(4)] and act.n_classes == 4
    raw["classes"] = np.array([b"a", b"b", b"c", b"d"])
    act = data.load_activity(write_h5(tmp_path / "d3n.h5", **raw))
    assert act.classes == ["a", "b", "c", "d"]


def test_load_activity_splits_by_recording(tmp_path, rng):
    raw = course_data3(rng, n=(60, 12))
    raw["trRec"] = np.arange(60) // 3  # 20 recordings of 3 windows, one class each
    raw["trY"] = np.eye(6)[(np.arange(60) // 3) % 6]
    act = data.load_activity(write_h5(tmp_path / "d3.h5", **raw), val_fraction=0.2)
    assert act.val_split == "by recording"
    rec_of = {tuple(x.ravel()): r for x, r in zip(raw["trX"], raw["trRec"])}
    tr_recs = {rec_of[tuple(x.ravel())] for x in act.train_x}
    va_recs = {rec_of[tuple(x.ravel())] for x in act.val_x}
    assert tr_recs.isdisjoint(va_recs) and len(act.train_x) + len(act.val_x) == 60
    assert set(act.val_y) == set(range(6))  # stratified: each class is represented


@pytest.mark.parametrize(
    "key, value, msg",
    [
        ("trY", None, "no such key"),
        ("trX", np.zeros((40, 9)), "3-d array"),
        ("tstX", np.zeros((10, 9, 5)), r"windows of shape \(T, C\)"),
        ("trY", np.eye(6)[np.arange(39) % 6], "40 label rows"),
        ("tstY", np.full((10, 6), 0.5), "integral"),
        ("tstY", np.ones((10, 6)), "one-hot"),
        ("tstY", np.eye(5)[np.arange(10) % 5], "6 classes"),
        ("trX", np.full((40, 9, 2), np.nan), "NaN/inf"),
        ("tstX", np.where(np.arange(10 * 9 * 2).reshape(10, 9, 2) == 7, 1e200, 0.5), r"within ±1e\+30.*1e\+200"),
        ("trX", np.zeros((40, 9, 2), dtype=int), "floating-point"),
        ("tstX", np.zeros((0, 9, 2)), "at least one row"),
        ("trRec", np.arange(3), "40 recording ids"),
        ("classes", np.array([b"a"]), "6 strings"),
    ],
)
def test_load_activity_errors(tmp_path, rng, key, value, msg):
    raw = course_data3(rng)
    if value is None:
        del raw[key]
    else:
        raw[key] = value
    with pytest.raises(DataFormatError, match=msg) as e:
        data.load_activity(write_h5(tmp_path / "d3.h5", **raw))
    assert f"'{key}'" in str(e.value)


def test_tiny_course_file_keeps_every_class_in_validation_and_warns(tmp_path, rng):
    raw = course_data3(rng, n=(40, 10))  # 10% of 40 windows would be 4 windows: some class missing
    with pytest.warns(UserWarning, match=r"validation split holds 6 windows.*steps of 1/6"):
        act = data.load_activity(write_h5(tmp_path / "d3.h5", **raw), val_fraction=0.1)
    assert sorted(act.val_y) == list(range(6))


@pytest.mark.parametrize("frac", [0, 1, -0.1, 1.5, "0.1"])
def test_load_activity_bad_fraction(frac):
    with pytest.raises(ValueError, match="val_fraction"):
        data.load_activity(val_fraction=frac)


# ---------------------------------------------------------------------------- bundled defaults

def _digest(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def test_bundled_patches():
    rgb = data.load_patches()
    assert rgb.shape == (10240, 3, 16, 16) and rgb.dtype == np.float64
    assert 0 <= rgb.min() and rgb.max() <= 1
    assert rgb.mean() == pytest.approx(0.38843, abs=1e-5)
    assert _digest(rgb) == "291d9aae7c562332"


def test_bundled_ngrams():
    ng = data.load_ngrams()
    assert ng.n_words == 250 and ng.words[:4] == ["the", "of", ",", "."]
    assert ng.train_x.shape == (242304, 3) and ng.val_x.shape == (30288, 3) and ng.test_x.shape == (30288, 3)
    assert _digest(ng.train_x, ng.train_y, ng.val_x, ng.test_y) == "21b0e1e8356e6b1a"


def test_bundled_activity():
    act = data.load_activity()
    assert act.val_split == "by recording" and act.n_classes == 6
    assert act.train_x.shape[1:] == (150, 3)
    assert len(act.train_x) + len(act.val_x) == 3319 and act.test_x.shape == (655, 150, 3)
    assert act.classes[0] == "abduction"
    assert _digest(act.train_x, act.train_y, act.val_y, act.test_x) == "6848e8d38ae9c94e"
