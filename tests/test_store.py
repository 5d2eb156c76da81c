"""Results store: stable keys, atomic writes, corrupt and foreign files, concurrent writers."""

import json

import numpy as np
import pytest

from mpcore import experiments as E
from mpcore.store import Store, StoreError, config_key

FP = "0" * 64  # a fixed dataset fingerprint


def fake_result(cfg, seed=0):
    rng = np.random.default_rng(seed)
    params = {"W1": rng.normal(size=(4, 3)), "b1": np.zeros(3)}
    history = {"train_loss": [2.0, 1.0], "val_loss": [], "val_acc": [], "best_epoch": 1, "stopped": "max epochs"}
    return E.Result(E.config_dict(cfg), params, history, {"cost": 1.0}, 0.5)


def test_key_is_stable_and_data_dependent(tmp_path):
    cfg = E.AutoencoderConfig(n_hidden=16, lam=1e-3)
    # pinned: a change here silently orphans every shipped result, so it must be deliberate
    assert config_key(cfg, FP) == "bfcbf580e2ac233407f1ce69"
    assert config_key(E.AutoencoderConfig(n_hidden=16, lam=1e-3), FP) == config_key(cfg, FP)
    assert config_key(E.AutoencoderConfig(n_hidden=16, lam=1e-3, data_dir=str(tmp_path)), FP) == config_key(cfg, FP)
    assert config_key(cfg, "1" * 64) != config_key(cfg, FP)
    assert config_key(E.AutoencoderConfig(n_hidden=17, lam=1e-3), FP) != config_key(cfg, FP)
    assert config_key(E.SequenceConfig(cell="gru"), FP) != config_key(E.SequenceConfig(cell="lstm"), FP)


def test_roundtrip(tmp_path):
    store = Store(tmp_path)
    cfg = E.AutoencoderConfig(n_hidden=3)
    assert store.get(cfg, FP) is None
    res = fake_result(cfg)
    key = store.save(res, FP)
    got = store.get(cfg, FP)
    np.testing.assert_array_equal(got.params["W1"], res.params["W1"])
    assert got.history == res.history and got.metrics == res.metrics and got.config == res.config
    assert E.config_from_dict(got.config) == cfg
    assert sorted(p.name for p in (tmp_path / "autoencoder").iterdir()) == [f"{key}.json", f"{key}.npz"]


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    store = Store(tmp_path)
    cfg = E.AutoencoderConfig(n_hidden=3)
    res = fake_result(cfg)
    res.metrics = {"bad": object()}  # JSON serialisation fails after the npz was written
    with pytest.raises(TypeError):
        store.save(res, FP)
    leftovers = [p.name for p in (tmp_path / "autoencoder").iterdir()]
    assert not any(n.endswith(".tmp") or n.endswith(".json") for n in leftovers)
    assert store.get(cfg, FP) is None  # no json -> no entry


@pytest.mark.parametrize("damage", ["npz", "json", "foreign_json", "pickle"])
def test_corrupt_entries_are_reported_and_skipped(tmp_path, damage):
    store = Store(tmp_path)
    cfg = E.AutoencoderConfig(n_hidden=3)
    key = store.save(fake_result(cfg), FP)
    npz, js = tmp_path / "autoencoder" / f"{key}.npz", tmp_path / "autoencoder" / f"{key}.json"
    if damage == "npz":
        npz.write_bytes(npz.read_bytes()[:40])
    elif damage == "json":
        js.write_text("{not json")
    elif damage == "foreign_json":
        js.write_text(json.dumps({"format": 1, "key": "someone else"}))
    else:  # an object array needs pickle to load: refused
        np.savez(npz.with_suffix(".tmp.npz"), W1=np.array([{"a": 1}], dtype=object))
        npz.with_suffix(".tmp.npz").replace(npz)
    with pytest.warns(UserWarning, match="ignoring corrupt store entry"):
        assert store.get(cfg, FP) is None
    with pytest.raises(StoreError):
        store._load(npz, js, key)


def test_get_or_run_trains_once_and_retrains_corrupt(tmp_path, monkeypatch):
    monkeypatch.setenv("MPCORE_CACHE_DIR", str(tmp_path))
    store = Store()
    assert store.root == tmp_path
    cfg = E.AutoencoderConfig(n_hidden=2, maxiter=2)
    first = store.get_or_run(cfg, progress=False)
    assert first.metrics["iterations"] <= 2
    again = store.get_or_run(cfg, progress=False)
    assert again.wall_time == first.wall_time  # loaded, not retrained
    npz = next((tmp_path / "autoencoder").glob("*.npz"))
    npz.write_bytes(b"garbage")
    with pytest.warns(UserWarning):
        retrained = store.get_or_run(cfg, progress=False)
    np.testing.assert_allclose(retrained.params["W1"], first.params["W1"])  # deterministic training


def _get_or_run_in_process(root):
    cfg = E.AutoencoderConfig(n_hidden=2, maxiter=3)
    return Store(root).get_or_run(cfg, progress=False).wall_time


def test_two_processes_share_one_training(tmp_path):
    from joblib import Parallel, delayed

    times = Parallel(n_jobs=2)(delayed(_get_or_run_in_process)(str(tmp_path)) for _ in range(2))
    assert times[0] == times[1]  # the second process waited for the lock and loaded the first's result
    assert len(list((tmp_path / "autoencoder").glob("*.json"))) == 1


def test_shipped_results_are_found_first(tmp_path):
    shipped, cache = tmp_path / "shipped", tmp_path / "cache"
    cfg = E.AutoencoderConfig(n_hidden=3)
    Store(shipped).save(fake_result(cfg, seed=1), FP)
    Store(cache).save(fake_result(cfg, seed=2), FP)
    got = Store(cache, read_only_roots=[shipped]).get(cfg, FP)
    np.testing.assert_array_equal(got.params["W1"], fake_result(cfg, seed=1).params["W1"])
