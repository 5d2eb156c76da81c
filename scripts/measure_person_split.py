"""Measure a validation split by person against the shipped split by recording (issue 19 §3).

The bundled ``data3.h5`` holds validation windows from unseen *recordings* of the 8 training
people, while its test set is 2 unseen *people*. This script retrains seed 0 of every cell and
η of the study with one whole training person held out for validation instead, and writes,
next to the shipped seed-0 runs (split by recording), what each split chose and how well its
validation accuracy tracked test accuracy::

    pip install -e ".[build-data]"        # seglearn: which person recorded each recording
    python scripts/measure_person_split.py  # 9 runs, two at a time (~35 min on 2 cores)

The recording -> person table comes from the pinned seglearn file that ``data3.h5`` was built
from (``scripts/build_datasets.py``, where recording ids are assigned in the same order).
Output: ``mpcore/results/sequence_person_split.json``, which notebook 3 prints.
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

OUT = Path(__file__).parents[1] / "mpcore" / "results" / "sequence_person_split.json"
SEED = 0


def person_of_recording() -> np.ndarray:
    from build_datasets import load_watch_recordings

    return np.asarray(load_watch_recordings()["subject"], dtype=int)


def person_split(seed: int = SEED):
    """The bundled windows with one training person (chosen by ``seed``) as validation."""
    from mpcore import data

    act = data.load_activity(None, seed=seed)  # the shipped split, to be undone
    with data._File(None, data.ACTIVITY_FILE) as f:
        trX, rec = f.floats("trX", 3), f.integers("trRec", 1)
        trY = f.integers("trY", 2).argmax(axis=1)
    person = person_of_recording()[rec]
    people = np.unique(person)
    held_out = int(np.random.default_rng(seed).choice(people))
    va = person == held_out
    split = data.ActivityData(
        train_x=trX[~va], train_y=trY[~va], val_x=trX[va], val_y=trY[va],
        test_x=act.test_x, test_y=act.test_y, classes=act.classes,
        val_split=f"by person (person {held_out} of {len(people)})", path=act.path)
    return split, held_out, [int(p) for p in people]


def train_one(args):
    cell, lr = args
    from mpcore import experiments

    act, _, _ = person_split()
    r = experiments.train_sequence(experiments.sequence_config(cell, lr, SEED), act, progress=False)
    return {"cell": cell, "lr": lr, "val_accuracy": r.metrics["val_accuracy"],
            "test_accuracy": r.metrics["test_accuracy"], "epochs": r.metrics["epochs"],
            "stopped": r.history["stopped"], "best_epoch": r.history["best_epoch"]}


def main() -> None:
    from mpcore import experiments, study
    from mpcore.store import Store

    act, held_out, people = person_split()
    jobs = [(c, lr) for c in study.SEQ_CELLS for lr in study.SEQ_LR_GRID]
    os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    with ProcessPoolExecutor(2) as pool:
        person_runs = []
        for k, row in enumerate(pool.map(train_one, jobs), 1):
            person_runs.append(row)
            print(f"{k}/{len(jobs)} {row}", flush=True)
    store = Store()
    recording_runs = []
    for cell, lr in jobs:
        r = store.get(experiments.sequence_config(cell, lr, SEED))
        recording_runs.append({"cell": cell, "lr": lr, "val_accuracy": r.metrics["val_accuracy"],
                               "test_accuracy": r.metrics["test_accuracy"], "epochs": r.metrics["epochs"],
                               "stopped": r.history["stopped"], "best_epoch": r.history["best_epoch"]})
    OUT.write_text(json.dumps({
        "what": "seed 0 of every cell and learning rate, validation split by person vs by recording",
        "seed": SEED, "held_out_person": held_out, "training_people": people,
        "val_windows": {"by person": len(act.val_y),
                        "by recording": len(experiments.PARTS["sequence"].load(None, seed=SEED).val_y)},
        "by_person": person_runs, "by_recording": recording_runs,
    }, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
