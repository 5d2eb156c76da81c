"""`python -m mpcore reproduce` end to end: --quick on the bundled data, course files of other
sizes, bad data directories, the store making reruns instant, and the Dask path."""

import json

import matplotlib.image
import numpy as np
import pytest
from course_files import write_course_dir

from mpcore import cli, study

FIGURES = {
    "patches_rgb_vs_normalised.png", "autoencoder_features_main.png", "autoencoder_reconstructions.png",
    "autoencoder_cost.png", "autoencoder_features_grid.png", "autoencoder_features_sparsity.png",
    "language_model_loss_curves.png",
    "sequence_lr_selection.png", "sequence_seeds.png", "sequence_training_curves.png",
    "sequence_confusion_rnn.png", "sequence_confusion_lstm.png", "sequence_confusion_gru.png",
    "sequence_gradient_norms.png",
}


def test_quick_end_to_end_and_rerun_from_store(tmp_path, capsys):
    out, store = tmp_path / "out", tmp_path / "store"
    assert cli.main(["reproduce", "--quick", "--out", str(out), "--store", str(store), "--jobs", "2"]) == 0
    assert FIGURES | {"summary.md", "summary.json"} <= {p.name for p in out.iterdir()}
    image = matplotlib.image.imread(out / "sequence_seeds.png")
    assert image.shape == (462, 660, 4) and image[..., :3].std() > 0.05  # 6 x 4.2 inches at 110 dpi, not blank
    summary = json.loads((out / "summary.json").read_text())
    n = len(study.study_configs(study.PART_NAMES, quick=True))
    first = capsys.readouterr().out
    assert f"0 of {n} experiments found in the store" in first
    # per cell: validation accuracy for every η and seed, the chosen η, and 3 seeds' test accuracies with their mean
    for s in summary["sequence"]["cells"].values():
        assert list(s["val_accuracy_by_lr"]) == [f"{lr:g}" for lr in study.SEQ_LR_GRID]
        assert all(len(v) == len(study.SEQ_SEEDS) for v in s["val_accuracy_by_lr_and_seed"].values())
        assert s["val_accuracy_by_lr"][f"{s['chosen_lr']:g}"] == max(s["val_accuracy_by_lr"].values())
        assert s["seeds"] == list(study.SEQ_SEEDS) and len(s["test_accuracy"]["values"]) == 3
        assert s["test_accuracy"]["mean"] == pytest.approx(np.mean(s["test_accuracy"]["values"]))
    grid, sparsity = summary["autoencoder"]["grid"], summary["autoencoder"]["sparsity_grid"]
    assert all(0 <= g["selectivity"] <= 1 and 0 <= g["high_frequency"] <= 1 for g in grid + sparsity)
    main = summary["autoencoder"]["main"]
    quick_sparsity = {(b, r) for b in study.AE_GRID_BETA[::2] for r in study.AE_GRID_RHO[::2]}
    assert {(g["beta"], g["rho"]) for g in sparsity} == quick_sparsity | {(main["beta"], main["rho"])}
    assert main in grid and main in sparsity and {(g["beta"], g["rho"]) for g in grid} == {(main["beta"], main["rho"])}
    assert summary["autoencoder"]["not_whitened"] is not None
    assert len(summary["language_model"]["seeds"]["test_perplexity"]["values"]) == len(study.LM_SEEDS)
    assert len(summary["top10_candidates"]) == 5 and len(summary["top10_candidates"][0]["candidates"]) == 10
    assert cli.main(["reproduce", "--quick", "--out", str(tmp_path / "again"), "--store", str(store)]) == 0
    again_out = capsys.readouterr().out
    assert f"{n} of {n} experiments found in the store; training 0" in again_out
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
    assert all(np.isfinite(seq["metrics"]["hidden_gradient_norms"]))
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
    out = capsys.readouterr().out
    assert "training 27" in out  # 3 cells x 3 learning rates x 3 seeds
    assert len(list((tmp_path / "store" / "sequence").glob("*.npz"))) == 27


@pytest.mark.parametrize("option", ["--out", "--store"])
def test_unwritable_output_fails_before_any_work(tmp_path, capsys, option):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    for bad, message in [(a_file, "is a file, not a folder"), (a_file / "sub", "cannot write to")]:
        args = ["reproduce", "--quick", "--out", str(tmp_path / "out"), "--store", str(tmp_path / "store")]
        args[args.index(option) + 1] = str(bad)
        assert cli.main(args) == 2
        err = capsys.readouterr()
        assert message in err.err and option in err.err and "Traceback" not in err.err
        assert "experiments found" not in err.out  # nothing was started
