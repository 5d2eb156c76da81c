"""Small course-schema files (data1/2/3.h5) of arbitrary sizes, for tests."""

import h5py
import numpy as np


def write_h5(path, **arrays):
    with h5py.File(path, "w") as f:
        for k, v in arrays.items():
            f.create_dataset(k, data=v)
    return path


def course_data1(rng, n=12, p=8):
    return {"data": rng.uniform(0, 1, size=(n, 3, p, p))}


def course_data2(rng, V=7, n=(20, 5, 6), as_float=False):
    out = {"words": np.array([f"w{i}".encode() for i in range(V)])}
    for split, m in zip(("train", "val", "test"), n):
        x = rng.integers(1, V + 1, size=(m, 3))
        d = rng.integers(1, V + 1, size=m)
        out[f"{split}x"] = x.astype(np.float64) if as_float else x
        out[f"{split}d"] = d.astype(np.float64) if as_float else d
    return out


def course_data3(rng, n=(40, 10), T=9, C=2, K=6, as_float=True):
    out = {}
    for prefix, m in zip(("tr", "tst"), n):
        out[f"{prefix}X"] = rng.normal(size=(m, T, C))
        y = np.arange(m) % K
        Y = np.eye(K)[y]
        out[f"{prefix}Y"] = Y if as_float else Y.astype(np.int32)
    return out


def write_course_dir(folder, rng, patches=(300, 8), vocab=20, n_ngrams=(400, 60, 60), windows=(120, 40),
                     T=12, C=2, K=4):
    """All three course files, with sizes unlike the course's, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    write_h5(folder / "data1.h5", **course_data1(rng, n=patches[0], p=patches[1]))
    write_h5(folder / "data2.h5", **course_data2(rng, V=vocab, n=n_ngrams, as_float=True))
    write_h5(folder / "data3.h5", **course_data3(rng, n=windows, T=T, C=C, K=K))
    return folder
