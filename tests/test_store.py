"""Results store: stable keys, atomic writes, corrupt and foreign files, concurrent writers."""

import json
import warnings

import numpy as np
import pytest

from mpcore import experiments
from mpcore.store import Result, Store, StoreError, config_key
from mpcore.train import SGDConfig

FP = "0" * 64  # a fixed dataset fingerprint


def fake_result(cfg, seed=0):
    rng = np.random.default_rng(seed)
    params = {"W1": rng.normal(size=(4, 3)), "b1": np.zeros(3)}
    history = {"train_loss": [2.0, 1.0], "val_loss": [], "val_acc": [], "best_epoch": 1, "stopped": "max epochs"}
    return Result(cfg, params, history, {name: 1.0 for name in cfg.metric_names}, 0.5)


def test_key_is_stable_and_data_dependent(tmp_path):
    cfg = experiments.AutoencoderConfig(n_hidden=16, lam=1e-3)
    # pinned: a change here silently orphans every shipped result, so it must be deliberate
    assert config_key(cfg, FP) == "463bd1fe9180003ea9c9f3dc"
    assert config_key(experiments.AutoencoderConfig(n_hidden=16, lam=1e-3), FP) == config_key(cfg, FP)
    same = experiments.AutoencoderConfig(n_hidden=16, lam=1e-3, data_dir=str(tmp_path))
    assert config_key(same, FP) == config_key(cfg, FP)
    assert config_key(cfg, "1" * 64) != config_key(cfg, FP)
    assert config_key(experiments.AutoencoderConfig(n_hidden=17, lam=1e-3), FP) != config_key(cfg, FP)
    gru, lstm = experiments.SequenceConfig(cell="gru"), experiments.SequenceConfig(cell="lstm")
    assert config_key(gru, FP) != config_key(lstm, FP)


def test_key_ignores_unused_fields_and_follows_the_schema(tmp_path, monkeypatch):
    cfg = experiments.AutoencoderConfig(n_hidden=16)
    # L-BFGS never reads the SGD settings: changing them must not orphan a stored result ...
    assert config_key(experiments.AutoencoderConfig(n_hidden=16, sgd=SGDConfig(lr=0.5)), FP) == config_key(cfg, FP)
    # ... but the SGD solver does, and then the L-BFGS settings are the unused ones
    sgd_cfg = experiments.AutoencoderConfig(n_hidden=16, solver="sgd")
    assert config_key(experiments.AutoencoderConfig(n_hidden=16, solver="sgd", sgd=SGDConfig(lr=0.5)), FP) != \
        config_key(sgd_cfg, FP)
    same = experiments.AutoencoderConfig(n_hidden=16, solver="sgd", maxiter=7)
    assert config_key(same, FP) == config_key(sgd_cfg, FP)
    # the convergence and warm-start options are left out of the key while unset: entries trained
    # before they existed are still found; set, they change the key (and grad_tol replaces rel_tol)
    assert config_key(experiments.AutoencoderConfig(n_hidden=16, grad_tol=None, warm_start_lam=None), FP) == \
        config_key(cfg, FP) == "b7aa30fcb2401c736f6d50ff"
    grad = experiments.AutoencoderConfig(n_hidden=16, grad_tol=1e-4)
    assert config_key(grad, FP) != config_key(cfg, FP)
    same = experiments.AutoencoderConfig(n_hidden=16, grad_tol=1e-4, rel_tol=0.5)
    assert config_key(same, FP) == config_key(grad, FP)
    assert config_key(experiments.AutoencoderConfig(n_hidden=16, warm_start_lam=1e-5), FP) != config_key(cfg, FP)
    old = config_key(cfg, FP)
    store = Store(tmp_path)
    store.save(fake_result(cfg), FP)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # found as it is: no "ignoring store entry" warning
        assert store.get(experiments.AutoencoderConfig(n_hidden=16, sgd=SGDConfig(lr=0.5)), FP) is not None
    monkeypatch.setattr(experiments.AutoencoderConfig, "schema", experiments.AutoencoderConfig.schema + 1)
    assert config_key(cfg, FP) != old  # a new results schema retires the old results


def test_roundtrip(tmp_path):
    store = Store(tmp_path)
    cfg = experiments.AutoencoderConfig(n_hidden=3)
    assert store.get(cfg, FP) is None
    res = fake_result(cfg)
    key = store.save(res, FP)
    got = store.get(cfg, FP)
    np.testing.assert_array_equal(got.params["W1"], res.params["W1"])
    assert got.history == res.history and got.metrics == res.metrics and got.config == cfg
    on_disk = json.loads((tmp_path / "autoencoder" / f"{key}.json").read_text())
    assert experiments.config_from_dict(on_disk["config"]) == cfg and on_disk["schema"] == cfg.schema
    assert sorted(p.name for p in (tmp_path / "autoencoder").iterdir()) == [f"{key}.json", f"{key}.npz"]


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    store = Store(tmp_path)
    cfg = experiments.AutoencoderConfig(n_hidden=3)
    res = fake_result(cfg)
    res.metrics = {"bad": object()}  # JSON serialisation fails after the npz was written
    with pytest.raises(TypeError):
        store.save(res, FP)
    leftovers = [p.name for p in (tmp_path / "autoencoder").iterdir()]
    assert not any(n.endswith(".tmp") or n.endswith(".json") for n in leftovers)
    assert store.get(cfg, FP) is None  # no json -> no entry


@pytest.mark.parametrize("damage", ["npz", "json", "foreign_json", "pickle", "garbage_npz", "missing_metric",
                                    "other_config"])
def test_corrupt_entries_are_reported_and_skipped(tmp_path, damage):
    store = Store(tmp_path)
    cfg = experiments.AutoencoderConfig(n_hidden=3)
    key = store.save(fake_result(cfg), FP)
    npz, js = tmp_path / "autoencoder" / f"{key}.npz", tmp_path / "autoencoder" / f"{key}.json"
    if damage == "npz":
        npz.write_bytes(npz.read_bytes()[:40])
    elif damage == "json":
        js.write_text("{not json")
    elif damage == "foreign_json":
        js.write_text(json.dumps({"format": 1, "key": "someone else"}))
    elif damage == "pickle":  # an object array needs pickle to load: refused
        np.savez(npz.with_suffix(".tmp.npz"), W1=np.array([{"a": 1}], dtype=object))
        npz.with_suffix(".tmp.npz").replace(npz)
    elif damage == "garbage_npz":
        npz.write_bytes(b"\x93NUMPY not really")
    else:  # a valid JSON from an older mpcore: a metric is missing, or the config differs
        meta = json.loads(js.read_text())
        if damage == "missing_metric":
            del meta["metrics"]["selectivity"]
        else:
            meta["config"]["lam"] = 0.5
        js.write_text(json.dumps(meta))
    with pytest.warns(UserWarning, match="ignoring store entry .*it will be retrained"):
        assert store.get(cfg, FP) is None
    expected = {"npz": "corrupt", "json": "not a readable", "foreign_json": "not an mpcore result",
                "pickle": "corrupt", "garbage_npz": "corrupt", "missing_metric": "lacks the metrics .'selectivity'.",
                "other_config": "config or schema"}[damage]
    with pytest.raises(StoreError, match=expected) as e:
        store._load(npz, js, key, cfg)
    assert "pickle" not in str(e.value)


def test_get_or_run_trains_once_and_retrains_corrupt(tmp_path, monkeypatch):
    monkeypatch.setenv("MPCORE_CACHE_DIR", str(tmp_path))
    store = Store()
    assert store.root == tmp_path
    cfg = experiments.AutoencoderConfig(n_hidden=2, maxiter=2)
    first = store.get_or_run(cfg, experiments.run, progress=False)
    assert first.metrics["iterations"] <= 2
    again = store.get_or_run(cfg, experiments.run, progress=False)
    assert again.wall_time == first.wall_time  # loaded, not retrained
    npz = next((tmp_path / "autoencoder").glob("*.npz"))
    npz.write_bytes(b"garbage")
    with pytest.warns(UserWarning):
        retrained = store.get_or_run(cfg, experiments.run, progress=False)
    np.testing.assert_allclose(retrained.params["W1"], first.params["W1"])  # deterministic training


def _get_or_run_in_process(root):
    cfg = experiments.AutoencoderConfig(n_hidden=2, maxiter=3)
    return Store(root).get_or_run(cfg, experiments.run, progress=False).wall_time


def test_two_processes_share_one_training(tmp_path):
    from joblib import Parallel, delayed

    times = Parallel(n_jobs=2)(delayed(_get_or_run_in_process)(str(tmp_path)) for _ in range(2))
    assert times[0] == times[1]  # the second process waited for the lock and loaded the first's result
    assert len(list((tmp_path / "autoencoder").glob("*.json"))) == 1


def test_shipped_results_are_found_first(tmp_path):
    shipped, cache = tmp_path / "shipped", tmp_path / "cache"
    cfg = experiments.AutoencoderConfig(n_hidden=3)
    Store(shipped).save(fake_result(cfg, seed=1), FP)
    Store(cache).save(fake_result(cfg, seed=2), FP)
    got = Store(cache, read_only_roots=[shipped]).get(cfg, FP)
    np.testing.assert_array_equal(got.params["W1"], fake_result(cfg, seed=1).params["W1"])


def test_format_2_entries_are_migrated_without_retraining(tmp_path):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("migrate_store", Path(__file__).parents[1] / "scripts" /
                                                  "migrate_store.py")
    migrate_store = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migrate_store)
    store = Store(tmp_path)
    cfg = experiments.language_model_config(8, 64, seed=2)
    key = store.save(fake_result(cfg), FP)
    js = tmp_path / "language_model" / f"{key}.json"
    meta = json.loads(js.read_text())  # rewrite it as format 2 wrote it: flat SGD fields, old key
    flat = {k: v for k, v in meta["config"].items() if k != "sgd"}
    flat.update({k: meta["config"]["sgd"][k] for k in ("lr", "momentum", "batch_size", "epochs", "patience")})
    meta.update(format=2, key="0" * 24, config=flat)
    del meta["schema"]
    js.unlink()
    (tmp_path / "language_model" / f"{key}.npz").rename(tmp_path / "language_model" / f"{'0' * 24}.npz")
    (tmp_path / "language_model" / f"{'0' * 24}.json").write_text(json.dumps(meta))
    assert store.get(cfg, FP) is None
    moved = migrate_store.migrate(tmp_path)
    assert [new.name for _, new in moved] == [f"{key}.json"]
    got = store.get(cfg, FP)
    np.testing.assert_array_equal(got.params["W1"], fake_result(cfg).params["W1"])
    assert got.config == cfg and got.metrics == fake_result(cfg).metrics
    assert sorted(p.name for p in (tmp_path / "language_model").iterdir()) == [f"{key}.json", f"{key}.npz"]


def test_files_follow_the_umask_not_private(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        key = Store(tmp_path).save(fake_result(experiments.AutoencoderConfig(n_hidden=3)), FP)
    finally:
        os.umask(old)
    for suffix in (".json", ".npz"):
        assert (tmp_path / "autoencoder" / f"{key}{suffix}").stat().st_mode & 0o777 == 0o644
