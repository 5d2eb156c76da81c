"""`python -m mpcore reproduce` end to end: --quick on the bundled data, course files of other
sizes, bad data directories, the store making reruns instant, and the Dask path."""

import json

import numpy as np
import pytest
from course_files import write_course_dir

from mpcore import cli

FIGURES = {
    "patches_rgb_vs_normalised.png", "autoencoder_features_main.png", "autoencoder_cost.png",
    "autoencoder_features_grid.png", "language_model_loss_curves.png", "sequence_loss_curves.png",
    "sequence_confusion_rnn.png", "sequence_confusion_lstm.png", "sequence_confusion_gru.png",
    "sequence_gradient_norms.png",
}


def test_quick_end_to_end_and_rerun_from_store(tmp_path, capsys):
    out, store = tmp_path / "out", tmp_path / "store"
    assert cli.main(["reproduce", "--quick", "--out", str(out), "--store", str(store), "--jobs", "2"]) == 0
    assert FIGURES | {"summary.md", "summary.json"} <= {p.name for p in out.iterdir()}
    summary = json.loads((out / "summary.json").read_text())
    labels = [e["label"] for e in summary["experiments"]]
    assert "GRU" in labels and "D=32, P=256" in labels and "L_hid=64, λ=0.0005" in labels
    assert len(summary["top10_candidates"]) == 5 and len(summary["top10_candidates"][0]["candidates"]) == 10
    first = capsys.readouterr().out
    assert "0 of 11 experiments found in the store" in first
    assert cli.main(["reproduce", "--quick", "--out", str(tmp_path / "again"), "--store", str(store)]) == 0
    assert "11 of 11 experiments found in the store; training 0" in capsys.readouterr().out
    again = json.loads((tmp_path / "again" / "summary.json").read_text())
    assert again["experiments"] == summary["experiments"]


def test_course_files_of_other_sizes(tmp_path):
    data_dir = write_course_dir(tmp_path / "course", np.random.default_rng(0))
    out = tmp_path / "out"
    code = cli.main(["reproduce", "--quick", "--data-dir", str(data_dir), "--out", str(out),
                     "--store", str(tmp_path / "store"), "--jobs", "1"])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    seq = [e for e in summary["experiments"] if e["config"]["part"] == "sequence"][0]
    assert seq["metrics"]["classes"] == ["class 0", "class 1", "class 2", "class 3"]
    assert len(seq["metrics"]["hidden_gradient_norms"]) == 12
    assert FIGURES <= {p.name for p in out.iterdir()}


def test_bad_data_dirs(tmp_path, capsys):
    with pytest.raises(SystemExit, match="not a directory"):
        cli.main(["reproduce", "--data-dir", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    (tmp_path / "half").mkdir()
    with pytest.raises(SystemExit, match="lacks data1.h5, data2.h5, data3.h5"):
        cli.main(["reproduce", "--data-dir", str(tmp_path / "half"), "--parts", "autoencoder", "language_model",
                  "sequence", "--out", str(tmp_path / "o")])
    bad = write_course_dir(tmp_path / "bad", np.random.default_rng(0))
    (bad / "data3.h5").write_text("not hdf5")
    code = cli.main(["reproduce", "--quick", "--data-dir", str(bad), "--parts", "sequence", "--out",
                     str(tmp_path / "o"), "--store", str(tmp_path / "s")])
    assert code == 2
    assert "not a readable HDF5 file" in capsys.readouterr().err


def test_dask_scheduler_path(tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        code = cli.main(["reproduce", "--quick", "--parts", "sequence", "--scheduler", cluster.scheduler_address,
                         "--out", str(tmp_path / "out"), "--store", str(tmp_path / "store")])
    assert code == 0
    assert "training 3" in capsys.readouterr().out
    assert len(list((tmp_path / "store" / "sequence").glob("*.npz"))) == 3
