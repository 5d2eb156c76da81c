"""The shared trainer: course momentum rule, seeded shuffling, early stopping, clipping, NaN stop."""

import re

import numpy as np
import pytest

from mpcore import fpu
from mpcore.models import autoencoder
from mpcore.train import SGDConfig, TrainingDiverged, lbfgs, sgd


def quadratic(p, X):
    """L = mean over rows of 0.5 ||w - x||^2 -> minimum at the mean row."""
    d = p["w"] - X
    return float(0.5 * np.mean(np.sum(d * d, axis=1))), {"w": d.mean(axis=0)}


def test_momentum_rule_matches_course_definition():
    X = np.array([[1.0, 2.0]])
    p0 = {"w": np.zeros(2)}
    cfg = SGDConfig(lr=0.1, momentum=0.5, batch_size=1, epochs=3, patience=10)
    p, hist = sgd(quadratic, p0, (X,), cfg, progress=False)
    # by hand: dW(n) = -lr grad + alpha dW(n-1)
    w, dW = np.zeros(2), np.zeros(2)
    for _ in range(3):
        dW = -0.1 * (w - X[0]) + 0.5 * dW
        w = w + dW
    np.testing.assert_allclose(p["w"], w)
    np.testing.assert_array_equal(p0["w"], 0)  # caller's arrays untouched
    assert hist.stopped == "max epochs" and len(hist.train_loss) == 3


def test_weight_averaging_validates_and_returns_the_moving_average():
    X = np.array([[1.0, 2.0]])
    cfg = SGDConfig(lr=0.1, momentum=0.5, batch_size=1, epochs=4, patience=10, average=0.9)
    seen = []

    def validate(q):
        seen.append(q["w"].copy())
        return {"loss": -float(np.sum(q["w"]))}  # keeps falling: the last epoch is the best

    p, _ = sgd(quadratic, {"w": np.zeros(2)}, (X,), cfg, validate=validate, progress=False)
    w, dW, avg, by_hand = np.zeros(2), np.zeros(2), np.zeros(2), []
    for _ in range(4):
        dW = -0.1 * (w - X[0]) + 0.5 * dW
        w = w + dW
        avg = 0.9 * avg + 0.1 * w
        by_hand.append(avg)
    np.testing.assert_allclose(seen, by_hand)  # validation saw W̄, not W
    np.testing.assert_allclose(p["w"], by_hand[-1])
    assert not np.allclose(p["w"], w)
    with pytest.raises(ValueError, match="average"):
        SGDConfig(average=1.0)


def test_seeded_shuffle_keeps_rows_together():
    seen = []

    def record(p, X, y):
        seen.append((X.copy(), y.copy()))
        np.testing.assert_array_equal(X[:, 0], y)  # data and labels from one permutation
        return 0.0, {"w": np.zeros(1)}

    X = np.arange(10.0)[:, None]
    cfg = SGDConfig(batch_size=3, epochs=2, patience=5, seed=7)
    sgd(record, {"w": np.zeros(1)}, (X, np.arange(10.0)), cfg, progress=False)
    first = np.concatenate([x for x, _ in seen[:4]]).ravel()
    assert sorted(first) == list(range(10)) and first.tolist() != list(range(10))
    seen2 = list(seen)
    seen.clear()
    sgd(record, {"w": np.zeros(1)}, (X, np.arange(10.0)), cfg, progress=False)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(seen, seen2))


def test_early_stopping_restores_best():
    X = np.zeros((4, 1))
    vals = iter([3.0, 1.0, 2.0, 2.5, 0.5])
    snapshots = []

    def validate(p):
        snapshots.append(p["w"].copy())
        return {"loss": next(vals), "acc": 0.5}

    cfg = SGDConfig(lr=0.1, momentum=0.0, batch_size=4, epochs=10, patience=2)
    p, hist = sgd(lambda p, X: (1.0, {"w": np.ones(1)}), {"w": np.zeros(1)}, (X,), cfg, validate=validate,
                  progress=False)
    assert hist.stopped == "early stopping" and hist.best_epoch == 1 and len(hist.val_loss) == 4
    np.testing.assert_allclose(p["w"], snapshots[1])
    assert hist.val_acc == [0.5] * 4


def test_early_stopping_on_accuracy_keeps_the_most_accurate_epoch():
    X = np.zeros((4, 1))
    # the loss is lowest in epoch 1 but the accuracy keeps rising until epoch 3; ties -> lower loss
    scores = iter([(0.5, 0.4), (0.9, 0.5), (1.2, 0.7), (1.0, 0.7), (0.8, 0.6), (0.7, 0.6), (0.6, 0.65)])
    snapshots = []

    def validate(p):
        snapshots.append(p["w"].copy())
        loss, acc = next(scores)
        return {"loss": loss, "acc": acc, "train_acc": 1.0}

    cfg = SGDConfig(lr=0.1, momentum=0.0, batch_size=4, epochs=10, patience=3, monitor="acc")
    p, hist = sgd(lambda p, X: (1.0, {"w": np.ones(1)}), {"w": np.zeros(1)}, (X,), cfg, validate=validate,
                  progress=False)
    assert hist.best_epoch == 3 and hist.stopped == "early stopping" and len(hist.val_acc) == 7
    np.testing.assert_allclose(p["w"], snapshots[3])
    assert hist.train_acc == [1.0] * 7 and len(hist.epoch_time) == 7 and min(hist.epoch_time) >= 0
    with pytest.raises(ValueError, match="monitor must be"):
        SGDConfig(monitor="accuracy")
    with pytest.raises(ValueError, match="needs validate"):
        sgd(lambda p, X: (1.0, {"w": np.ones(1)}), {"w": np.zeros(1)}, (X,), cfg, progress=False)


def test_nan_stops_with_best_weights():
    calls = {"n": 0}

    def loss(p, X):
        calls["n"] += 1
        return (np.nan if calls["n"] > 2 else 1.0), {"w": np.ones(1)}

    cfg = SGDConfig(lr=0.1, momentum=0.0, batch_size=2, epochs=5)
    with pytest.raises(TrainingDiverged, match=r"loss became nan at step 1 of epoch 3.*weights of epoch 1 ") as e:
        sgd(loss, {"w": np.zeros(1)}, (np.zeros((2, 1)),), cfg, progress=False)
    np.testing.assert_allclose(e.value.params["w"], [-0.1])
    assert e.value.history.stopped == "diverged"


def test_divergence_in_the_first_epoch_keeps_the_initial_weights():
    calls = {"n": 0}

    def loss(p, X):
        calls["n"] += 1
        return (np.inf if calls["n"] == 3 else 1.0), {"w": np.ones(1)}

    cfg = SGDConfig(lr=0.1, momentum=0.0, batch_size=1, epochs=5)
    with pytest.raises(TrainingDiverged, match=r"step 3 of epoch 1\b.*initial weights \(no epoch completed\)") as e:
        sgd(loss, {"w": np.full(1, 7.0)}, (np.zeros((4, 1)),), cfg, progress=False)
    np.testing.assert_array_equal(e.value.params["w"], [7.0])  # not the mid-epoch weights (6.8)
    assert e.value.history.train_loss == [] and e.value.history.best_epoch == -1


def test_a_loss_that_explodes_without_nan_is_divergence():
    """η far too large on a quadratic: the loss grows ~100x per epoch but stays finite for a while."""
    X = np.ones((4, 3))
    cfg = SGDConfig(lr=12.0, momentum=0.0, batch_size=4, epochs=50)
    with pytest.raises(TrainingDiverged, match=r"mean training loss of epoch 2 is .*more than 10x") as e:
        sgd(quadratic, {"w": np.zeros(3)}, (X,), cfg, progress=False)
    h = e.value.history
    assert len(h.train_loss) == 2 and np.isfinite(h.train_loss).all()  # raised at the first bad epoch
    assert h.train_loss[1] > 10 * 1.5  # 1.5: the loss at the initial weights
    np.testing.assert_allclose(e.value.params["w"], [12.0] * 3)  # epoch 1's weights (w - 12 (w - 1))


def test_non_finite_training_data_is_refused_by_name_and_count():
    X = np.zeros((6, 2))
    X[1, 0], X[4, 1] = np.nan, np.inf
    with pytest.raises(ValueError, match=r"train\[0\] has 2 non-finite values"):
        sgd(quadratic, {"w": np.zeros(2)}, (X,), SGDConfig(), progress=False)


def test_lbfgs_divergence_keeps_the_last_finite_point():
    def cost(p):
        w = p["w"]
        if w[0] > 0.5:  # a cliff: the cost is undefined past it
            return np.nan, {"w": np.zeros_like(w)}
        return float(-w[0]), {"w": np.array([-1.0, 0.0])}

    with pytest.raises(TrainingDiverged, match="cost became nan") as e:
        lbfgs(cost, {"w": np.zeros(2)}, maxiter=20, progress=False)
    assert e.value.params["w"][0] <= 0.5 and np.isfinite(e.value.params["w"]).all()


def test_clipping_caps_step():
    cfg = SGDConfig(lr=1.0, momentum=0.0, batch_size=1, epochs=1, clip_norm=0.5)
    p, _ = sgd(lambda p, X: (1.0, {"w": np.array([30.0, 40.0])}), {"w": np.zeros(2)}, (np.zeros((1, 1)),), cfg,
               progress=False)
    np.testing.assert_allclose(p["w"], [-0.3, -0.4])


def test_sgd_empty_and_mismatched():
    with pytest.raises(ValueError, match="empty"):
        sgd(quadratic, {"w": np.zeros(2)}, (np.zeros((0, 2)),), SGDConfig(), progress=False)
    with pytest.raises(ValueError, match="rows"):
        sgd(quadratic, {"w": np.zeros(2)}, (np.zeros((3, 2)), np.zeros(2)), SGDConfig(), progress=False)


def test_lbfgs_trains_autoencoder():
    rng = np.random.default_rng(0)
    X = rng.uniform(0.1, 0.9, size=(50, 16))
    p = autoencoder.init_params(16, 4, rng)
    f = lambda q: autoencoder.loss_and_grads(q, X, lam=1e-4, beta=0.1, rho=0.1)  # noqa: E731
    q, hist = lbfgs(f, p, maxiter=30, progress=False)
    assert f(q)[0] < 0.5 * f(p)[0]
    assert np.all(np.diff(hist.train_loss) <= 1e-12) and q["W1"].dtype == p["W1"].dtype


@pytest.mark.skipif(not fpu.available(), reason="MXCSR flags need Linux x86-64")
def test_flush_denormals_flushes_and_restores():
    tiny = np.array([1e-38], dtype=np.float32)
    assert (tiny * np.float32(0.01))[0] > 0
    with fpu.flush_denormals():
        assert (tiny * np.float32(0.01))[0] == 0
    assert (tiny * np.float32(0.01))[0] > 0


def test_training_runs_on_one_blas_thread_and_flushes_float32_denormals():
    """The numerics policy is set where the math runs: inside every training step, whoever calls sgd."""
    from threadpoolctl import threadpool_info

    seen = []

    def f(p, X):
        blas = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        ftz = fpu.get_mxcsr() & (1 << 15) if fpu.available() else None
        seen.append((blas, ftz))
        return 1.0, {"w": np.ones_like(p["w"])}

    X = np.zeros((4, 1))
    for dtype, want_ftz in [(np.float32, True), (np.float64, False)]:
        seen.clear()
        sgd(f, {"w": np.zeros(1, dtype=dtype)}, (X,), SGDConfig(batch_size=2, epochs=1), progress=False)
        assert seen and all(blas and set(blas) == {1} for blas, _ in seen)
        if fpu.available():
            assert all(bool(ftz) == want_ftz for _, ftz in seen)
    seen.clear()

    def cost(p):
        f(p, X)
        return float(np.sum(p["w"] ** 2)), {"w": 2 * p["w"]}

    lbfgs(cost, {"w": np.ones(2)}, maxiter=2, progress=False)
    assert seen and all(set(blas) == {1} for blas, _ in seen)


_PAGE_FAULTS_OF_A_STEP = """
import resource, sys
import numpy as np
from mpcore import fpu, train
if sys.argv[1] == "sgd":  # the policy comes with training, whoever calls it
    train.sgd(lambda p, X: (0.0, {"w": np.zeros(1)}), {"w": np.zeros(1)}, (np.zeros((2, 1)),),
              train.SGDConfig(batch_size=2, epochs=1), progress=False)

def step():  # what a training step does: the same large temporaries again (3 x 16 MB)
    a = np.ones(2_000_000)
    b, c = a * 2.0, a + 1.0
    return float(b[-1] + c[-1])

step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(fpu._libc() is None, reason="glibc's mallopt (Linux) only")
def test_training_keeps_freed_memory_so_steps_reuse_their_pages():
    """Without the policy glibc returns each step's 48 MB to the kernel and faults fresh zeroed
    pages in next time (about 15,000 faults over 10 steps here); with it, after training, steps reuse them."""
    import subprocess
    import sys

    def faults(mode):
        out = subprocess.run([sys.executable, "-c", _PAGE_FAULTS_OF_A_STEP, mode], check=True,
                             capture_output=True, text=True)
        return int(out.stdout.split()[-1])

    assert faults("plain") > 5_000  # the default, so that the next line means something
    assert faults("sgd") < 500


def _mean_fit(progress):
    X = np.random.default_rng(0).random((64, 2))
    return sgd(lambda p, Xb: (float(np.sum((p["w"] - Xb.mean(0)) ** 2)), {"w": 2 * (p["w"] - Xb.mean(0))}),
               {"w": np.zeros(2)}, (X,), SGDConfig(epochs=20, patience=20), progress=progress)


def _rosenbrock(progress):
    from scipy.optimize import rosen, rosen_der

    return lbfgs(lambda p: (rosen(p["x"]), {"x": rosen_der(p["x"])}), {"x": np.zeros(6)}, maxiter=200,
                 progress=progress)


@pytest.mark.parametrize("train, total", [(_mean_fit, 20), (_rosenbrock, 200)])
def test_a_progress_callable_sees_every_step_and_can_stop_training(train, total):
    """What the explorers' progress bar and Cancel button rely on."""
    seen = []
    train(lambda done, n: seen.append((done, n)))
    assert seen[0] == (1, total) and [d for d, _ in seen] == list(range(1, len(seen) + 1))
    calls = []

    class Stop(Exception):
        pass

    def cancel(done, n):
        calls.append(done)
        if done == 3:
            raise Stop

    with pytest.raises(Stop):
        train(cancel)
    assert calls == [1, 2, 3]


def _autoencoder_with(progress, **rule):
    """A small sparse autoencoder: L-BFGS meets either rule after about 200 iterations."""
    rng = np.random.default_rng(0)
    X = rng.random((50, 16))
    return lbfgs(lambda q: autoencoder.loss_and_grads(q, X, lam=1e-4, beta=3, rho=0.01),
                 autoencoder.init_params(16, 5, rng), maxiter=3000, progress=progress, **rule)


def test_lbfgs_with_a_convergence_rule_tells_a_progress_callable_the_rule_not_the_cap():
    """The notebooks' progress line shows how near the rule is to stopping, not "of 3000"."""
    seen = []
    _, hist = _autoencoder_with(lambda done, total, note=None: seen.append((done, total, note)), rel_tol=1e-4)
    assert hist.stopped.startswith("converged: cost fell by less than") and len(seen) < 3000
    assert [d for d, _, _ in seen] == list(range(1, len(seen) + 1)) and {t for _, t, _ in seen} == {3000}
    assert seen[0][2] == "fall over 20 it: from it 21 → stops < 1e-4"
    assert re.fullmatch(r"fall over 20 it -?\d(\.\d)?e-?\d+ → stops < 1e-4", seen[-1][2]), seen[-1]
    fall = float(seen[-1][2].split()[4])
    assert fall < 1e-4 and float(seen[-2][2].split()[4]) >= 1e-4  # the last note is the one that stopped it

    notes = []
    _autoencoder_with(lambda done, total, **kw: notes.append(kw["note"]), grad_tol=1e-3)
    assert re.fullmatch(r"\|∇J\| \d(\.\d)?e-?\d+ → stops ≤ 1e-3", notes[-1]) and float(notes[-1].split()[1]) <= 1e-3


def test_a_two_argument_progress_callable_still_works_with_a_convergence_rule():
    """As the explorers' callable (mpcore.widgets) is written: progress(done, total, k=k)."""
    seen = []
    _autoencoder_with(lambda done, total, k=0: seen.append((done, total)), rel_tol=1e-4)
    assert seen and all(total == 3000 for _, total in seen)


@pytest.mark.parametrize("rule, total", [({}, 200), ({"rel_tol": 1e-4}, None), ({"grad_tol": 1e-3}, None)])
def test_the_lbfgs_bar_has_no_total_under_a_convergence_rule_and_shows_the_rule(monkeypatch, rule, total):
    """The cap's total gave an estimate 2-3x too long: runs converge long before it."""
    from scipy.optimize import rosen, rosen_der

    from mpcore import train

    bars = []

    class Bar:
        def __init__(self, *args, **kwargs):
            self.kwargs, self.postfix = kwargs, []
            bars.append(self)

        def update(self, n=1):
            pass

        def set_postfix(self, **kw):
            self.postfix.append(", ".join(f"{k}={v}" for k, v in kw.items()))

        def set_postfix_str(self, s):
            self.postfix.append(s)

        def close(self):
            pass

    monkeypatch.setattr(train, "tqdm", Bar)
    lbfgs(lambda p: (rosen(p["x"]), {"x": rosen_der(p["x"])}), {"x": np.zeros(6)}, maxiter=200, **rule)
    assert bars[0].kwargs["total"] == total
    if "rel_tol" in rule:
        assert "fall over 20 it" in bars[0].postfix[-1] and "→ stops < 1e-4" in bars[0].postfix[-1]
    if "grad_tol" in rule:
        assert "|∇J|" in bars[0].postfix[-1] and "→ stops ≤ 1e-3" in bars[0].postfix[-1]
