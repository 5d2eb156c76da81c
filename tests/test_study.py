"""The science pieces of the study: ZCA whitening, the edge-likeness measure, L-BFGS convergence,
choosing η on validation data, the seed statistics and the gradient-norm figure."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mpcore import (  # noqa: E402
    data,
    experiments,  # noqa: E402
    metrics,
    plots,
    report,
    runner,
    study,
)
from mpcore.store import Result  # noqa: E402
from mpcore.train import History, lbfgs  # noqa: E402

# ------------------------------------------------------------------------------ ZCA whitening


def correlated_rows(rng, n=4000, d=9):
    A = rng.normal(size=(d, d)) * np.logspace(0, -2, d)  # very unequal variances
    Y = rng.normal(size=(n, d)) @ A.T
    return Y - Y.mean(axis=0)


def test_zca_with_tiny_epsilon_whitens_and_stays_symmetric(rng):
    Y = correlated_rows(rng)
    Z = data.zca_matrix(Y, 1e-9)
    np.testing.assert_allclose(Z, Z.T, atol=1e-12)
    W = Y @ Z
    np.testing.assert_allclose(W.T @ W / len(W), np.eye(Y.shape[1]), atol=1e-5)


def test_zca_epsilon_damps_low_variance_directions(rng):
    Y = correlated_rows(rng)
    s = np.linalg.eigvalsh(Y.T @ Y / len(Y))
    w = np.linalg.eigvalsh(np.cov((Y @ data.zca_matrix(Y, 1.0)).T, bias=True))
    # whitened variance along eigen-direction k is s_k / (s_k + ε s̄): below 1, largest for the strongest
    np.testing.assert_allclose(np.sort(w), np.sort(s / (s + s.mean())), rtol=1e-8)
    assert w.max() < 1 and w.min() < 0.1


@pytest.mark.parametrize("eps", [0.0, -1.0])
def test_zca_rejects_non_positive_epsilon(rng, eps):
    with pytest.raises(ValueError, match="epsilon must be > 0"):
        data.zca_matrix(correlated_rows(rng), eps)


def test_preprocess_statistics_come_from_the_fit_rows_only(rng):
    rgb = rng.uniform(0, 1, size=(60, 3, 4, 4))
    fit = np.arange(50)
    a = data.preprocess_patches(rgb, zca_epsilon=0.5, fit=fit)
    changed = rgb.copy()
    changed[50:] = rng.uniform(0, 1, size=(10, 3, 4, 4))  # other held-out patches
    b = data.preprocess_patches(changed, zca_epsilon=0.5, fit=fit)
    np.testing.assert_array_equal(a[:50], b[:50])
    assert not np.array_equal(a[50:], b[50:])
    assert a.min() >= 0.1 - 1e-12 and a.max() <= 0.9 + 1e-12
    # without whitening the course recipe is unchanged
    np.testing.assert_array_equal(data.preprocess_patches(rgb), data.preprocess_patches(rgb, None))


def test_whitening_flattens_the_spectrum_of_natural_patches():
    rgb = data.load_patches()[:2000]
    for eps, expect_flat in [(None, False), (1.0, True)]:
        x = data.preprocess_patches(rgb, eps).reshape(len(rgb), -1)
        x = x - x.mean(axis=0)
        s = np.linalg.eigvalsh(x.T @ x / len(x))[::-1]
        ratio = s[0] / s[64]  # strongest direction against the 65th
        assert (ratio < 10) == expect_flat, (eps, ratio)


# ------------------------------------------------------------------------------ edge-likeness


def grid16():
    return np.meshgrid(np.arange(16), np.arange(16), indexing="ij")


def test_spectrum_of_a_grating_a_blob_and_noise(rng):
    yy, xx = grid16()
    grating = np.cos(2 * np.pi * 2 * (xx * np.cos(0.5) + yy * np.sin(0.5)) / 16)
    blob = np.exp(-((xx - 7.5) ** 2 + (yy - 7.5) ** 2) / 8)
    noise = rng.normal(size=(16, 16))
    checker = (-1.0) ** (xx + yy)
    sel, hf = metrics.feature_spectrum(np.stack([grating, blob, noise, checker]).reshape(4, 256))
    assert sel[0] > 0.9 and sel[1] < 0.05 and sel[2] < 0.35
    assert hf[0] == pytest.approx(0.0, abs=0.05) and hf[1] < 0.01 and hf[3] == pytest.approx(1.0)
    assert 0.7 < hf[2] < 0.9  # white noise spreads its power evenly: ~80% of the frequencies are above 4


@pytest.mark.parametrize("angle", [0.0, 0.5, 0.785, 2.0])
def test_localised_oriented_features_score_high_at_any_angle(angle):
    yy, xx = grid16()
    u = (xx - 7.5) * np.cos(angle) + (yy - 7.5) * np.sin(angle)
    v = -(xx - 7.5) * np.sin(angle) + (yy - 7.5) * np.cos(angle)
    gabor = np.exp(-(u**2 + v**2) / 18) * np.cos(2 * np.pi * u / 6)
    edge = np.exp(-(u**2) / 2 - v**2 / 50)  # a short light bar
    sel, hf = metrics.feature_spectrum(np.stack([gabor, edge]).reshape(2, 256))
    assert sel[0] > 0.85 and sel[1] > 0.7 and hf.max() < 0.1


def test_spectrum_is_invariant_to_sign_scale_and_offset(rng):
    f = rng.normal(size=(5, 256))
    a = metrics.feature_spectrum(f)
    b = metrics.feature_spectrum(-3 * f + 7)
    np.testing.assert_allclose(a, b, rtol=1e-10)


def test_spectrum_rejects_non_square_features():
    with pytest.raises(ValueError, match="square"):
        metrics.feature_spectrum(np.ones((2, 10)))


def test_redundancy_finds_duplicated_features(rng):
    F = rng.normal(size=(4, 256))
    F[3] = -2 * F[0]
    r = metrics.feature_redundancy(F)
    assert r[0] == pytest.approx(1.0) and r[3] == pytest.approx(1.0) and r[1] < 0.5


# ------------------------------------------------------------------------------ L-BFGS stopping


def bowl(p):
    d = p["w"] - 3.0
    return float(np.sum(d**4) + 1000.0), {"w": 4 * d**3}  # a large offset: relative changes are small


def test_lbfgs_stops_on_relative_tolerance_and_says_so():
    p = {"w": np.zeros(5)}
    q, h = lbfgs(bowl, p, maxiter=10_000, rel_tol=1e-6, window=5, progress=False)
    assert h.stopped.startswith("converged: cost fell by less than 1e-06")
    assert len(h.train_loss) < 10_000
    J = h.train_loss
    assert (J[-6] - J[-1]) < 1e-6 * abs(J[-1])  # the rule it reports really held
    assert np.all(np.abs(q["w"] - 3.0) < 3.0)  # moved towards the minimum


def test_lbfgs_reports_the_iteration_cap():
    _, h = lbfgs(bowl, {"w": np.zeros(5)}, maxiter=3, rel_tol=1e-12, progress=False)
    assert h.stopped == "max iterations" and len(h.train_loss) == 3


def test_lbfgs_stops_on_the_gradient_norm_and_records_it():
    calls = []

    def record(p):
        calls.append(p["w"].copy())
        return {"distance": float(np.abs(p["w"] - 3.0).max())}

    q, h = lbfgs(bowl, {"w": np.zeros(5)}, maxiter=10_000, grad_tol=1e-3, record=record, progress=False)
    assert h.stopped.startswith("converged: gradient norm") and len(h.train_loss) < 10_000
    g = h.monitor["grad_norm"]
    assert len(g) == len(h.train_loss) == len(h.monitor["distance"]) == len(calls)
    assert g[-1] <= 1e-3 < min(g[:-1])  # it stopped at the first iteration that met the rule
    assert g[-1] == pytest.approx(np.linalg.norm(bowl(q)[1]["w"]))  # the norm at the returned weights
    np.testing.assert_array_equal(calls[-1], q["w"])


def test_autoencoder_cost_terms_add_up_to_the_loss(rng):
    from mpcore.models import autoencoder

    p = autoencoder.init_params(9, 4, rng)
    X = rng.uniform(0.1, 0.9, (7, 9))
    terms = autoencoder.cost_terms(p, X, lam=1e-2, beta=3.0, rho=0.05)
    assert list(terms) == ["reconstruction", "weight_decay", "sparsity"]
    assert sum(terms.values()) == pytest.approx(autoencoder.loss_and_grads(p, X, lam=1e-2, beta=3.0, rho=0.05)[0])


def test_uniform_cosine_and_feature_scales(rng):
    F = np.vstack([np.full(16, -2.0), np.tile([1.0, -1.0], 8), rng.normal(size=16) + 5])
    np.testing.assert_allclose(metrics.uniform_cosine(F)[:2], [-1.0, 0.0], atol=1e-12)
    assert 0.9 < metrics.uniform_cosine(F)[2] < 1
    images = plots._feature_images(F, "panel", remove_dc=True)
    np.testing.assert_allclose(images[0], 0.5)  # a uniform feature without its DC is flat mid-grey
    assert 0 <= images.min() <= images.max() <= 1 and min(images.min(), 1 - images.max()) == pytest.approx(0)
    tiles = plots._feature_images(F, "tile")
    assert all(t.min() == 0 and t.max() == 1 for t in tiles[1:])  # each tile stretched to its own range
    with pytest.raises(ValueError, match="scale"):
        plots._feature_images(F, "global")


def test_cost_terms_figure_reports_terms_it_cannot_draw_on_a_log_axis():
    h = {"train_loss": [3.0, 2.0, 1.0], "monitor": {"reconstruction": [2.0, 1.5, 1.0], "weight_decay": [0.0, 0.0, 0.0],
                                                    "sparsity": [1.0, 0.5, 0.0]}}
    fig = plots.cost_terms_figure(h, "t", baseline=1.2)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("3 iterations exactly 0" in t for t in labels) and any("1 iterations exactly 0" in t for t in labels)
    assert len(fig.axes) == 4  # the log-log overview and one panel per term


def test_warm_start_starts_from_the_smaller_lambdas_run_in_the_given_store(tmp_path):
    import sys
    from pathlib import Path

    from mpcore.store import Store

    sys.path.insert(0, str(Path(__file__).parent))
    from course_files import write_course_dir

    dd = str(write_course_dir(tmp_path / "course", np.random.default_rng(0)))
    store = Store(tmp_path / "store", read_only_roots=[])
    cfg = experiments.AutoencoderConfig(n_hidden=4, lam=3e-3, warm_start_lam=1e-4, grad_tol=1e-9, maxiter=5,
                                        data_dir=dd)
    base_cfg = cfg.warm_start_config()
    assert (base_cfg.lam, base_cfg.warm_start_lam, base_cfg.grad_tol) == (1e-4, None, None)
    result = store.get_or_run(cfg, lambda c, progress: experiments.run(c, progress=progress, store=store),
                              progress=False)
    base = store.get(base_cfg)  # the start was trained into the same store
    assert base is not None and result.config == cfg
    from mpcore.models import autoencoder

    X, _ = experiments.autoencoder_inputs(dd, cfg.zca_epsilon, cfg.seed)
    start_cost = autoencoder.loss_and_grads(base.params, X, lam=cfg.lam, beta=cfg.beta, rho=cfg.rho)[0]
    assert result.history["train_loss"][0] <= start_cost  # L-BFGS went on from there, not from random weights
    assert len(result.history["monitor"]["sparsity"]) == len(result.history["train_loss"])


def test_study_grid_configs():
    grid = study.autoencoder_grid_config(64, 3e-4, zca_epsilon=None)
    assert (grid.warm_start_lam, grid.grad_tol, grid.zca_epsilon) == (1e-4, study.AE_GRAD_TOL, None)
    assert study.autoencoder_grid_config(64, 1e-4) == experiments.AutoencoderConfig()
    cold = study.autoencoder_random_start_config(16, 3e-4)
    assert cold.warm_start_lam is None and cold.grad_tol == study.AE_GRAD_TOL
    sgd = study.autoencoder_course_sgd_config()
    assert (sgd.solver, sgd.sgd.momentum, sgd.sgd.batch_size, sgd.zca_epsilon) == ("sgd", 0.4, 32, None)
    cfgs = study.study_configs(["autoencoder"], quick=False)
    assert len(cfgs) == len(set(cfgs))
    for h in study.AE_GRID_HIDDEN:  # the course recipe's grid is in the study, and each warm start follows its start
        for zca in (1.0, None):
            warm = cfgs.index(study.autoencoder_grid_config(h, 3e-4, zca_epsilon=zca))
            assert cfgs.index(study.autoencoder_grid_config(h, 1e-4, zca_epsilon=zca)) < warm
            assert study.autoencoder_random_start_config(h, 3e-4, zca_epsilon=zca) in cfgs


# ------------------------------------------------------------------------------ choosing η, seeds


def fake(cell, lr, seed, val, test, val_loss=1.0):
    cfg = experiments.sequence_config(cell, lr, seed)
    h = History(train_loss=[1.0], val_loss=[val_loss], val_acc=[val], best_epoch=0, stopped="early stopping").as_dict()
    m = {"val_accuracy": val, "test_accuracy": test, "train_accuracy": 0.9, "epochs": 1, "n_params": 10,
         "seconds_per_epoch": 1.0, "test_cross_entropy": 2 * test}
    return Result(cfg, {}, h, m, 1.0)


def test_choose_lr_uses_mean_validation_accuracy_never_test():
    rs = [fake("gru", 0.01, 0, val=0.6, test=0.9), fake("gru", 0.01, 1, val=0.8, test=0.9),
          fake("gru", 0.1, 0, val=0.75, test=0.1), fake("gru", 0.1, 1, val=0.70, test=0.1)]
    assert study.choose_lr(rs) == 0.1  # means 0.725 vs 0.70, although 0.01 has the single best run and the best test
    tie = [fake("gru", 0.01, 0, 0.7, 0.2, val_loss=0.5), fake("gru", 0.1, 0, 0.7, 0.9, val_loss=0.8)]
    assert study.choose_lr(tie) == 0.01  # equal accuracy: the lower validation loss


def test_max_rise():
    assert study.max_rise([1.0, 0.8, 1.3, 1.2, 1.25]) == pytest.approx(0.5)
    assert study.max_rise([1.0, 0.9, 0.8]) == 0.0 and study.max_rise([1.0]) == 0.0


def test_median_result_and_sequence_summary():
    # the median by validation accuracy is seed 2; by test accuracy it would be seed 0
    rs = [fake("rnn", 0.01, s, v, t) for s, v, t in [(0, 0.5, 0.6), (1, 0.7, 0.5), (2, 0.6, 0.7)]]
    rs += [fake("rnn", 0.1, s, 0.4, 0.99) for s in (0, 1, 2)]  # another η: not part of the test statistics
    assert study.median_result(rs[:3]).config.seed == 2  # the default key: validation, never test
    assert study.median_result(rs[:3], key="test_accuracy").config.seed == 0
    s = study.sequence_summary(rs, {"rnn": 0.01})["cells"]["rnn"]
    assert s["seeds"] == [0, 1, 2] and s["median_seed"] == 2 and s["chosen_lr"] == 0.01
    assert s["test_accuracy"]["mean"] == pytest.approx(0.6)
    assert s["test_accuracy"]["sd"] == pytest.approx(0.1)
    assert s["val_accuracy_by_lr"] == {"0.01": pytest.approx(0.6), "0.1": pytest.approx(0.4)}
    assert s["val_accuracy_by_lr_and_seed"]["0.1"] == [0.4, 0.4, 0.4]
    assert s["test_cross_entropy"]["values"] == pytest.approx([1.2, 1.0, 1.4])
    assert [run["hit_cap"] for run in s["epoch_cap"]] == [False] * 3


def test_epoch_cap_report_reads_the_stored_history():
    cfg = experiments.sequence_config("lstm", 0.1, 0, epochs=14, patience=4)
    acc = [0.5, 0.6, 0.62, 0.61, 0.6, 0.63, 0.64, 0.6, 0.62, 0.66, 0.65, 0.64, 0.67, 0.6]
    capped = Result(cfg, {}, History(train_loss=[1.0] * 14, val_acc=acc, best_epoch=12,
                                     stopped="max epochs").as_dict(), {}, 1.0)
    r = study.epoch_cap_report(capped)
    # stopped by the cap, the 13th epoch kept, and the last 4 epochs beat the best before them by 0.01
    assert (r["hit_cap"], r["epochs_run"], r["epoch_cap"], r["kept_epoch"], r["last_epochs"]) == (True, 14, 14, 13, 4)
    assert r["val_acc_gain_last_epochs"] == pytest.approx(0.01)
    early = [0.5, 0.6, 0.7, 0.65, 0.6, 0.62, 0.64]  # no new best for 4 epochs after the 3rd
    stopped = Result(cfg, {}, History(train_loss=[1.0] * 7, val_acc=early, best_epoch=2,
                                      stopped="early stopping").as_dict(), {}, 1.0)
    r = study.epoch_cap_report(stopped)
    assert not r["hit_cap"] and r["kept_epoch"] == 3 and r["val_acc_gain_last_epochs"] == pytest.approx(-0.05)
    short = Result(cfg, {}, History(train_loss=[1.0] * 3, val_acc=acc[:3], best_epoch=2).as_dict(), {}, 1.0)
    assert study.epoch_cap_report(short)["val_acc_gain_last_epochs"] is None


def test_balanced_sample_takes_as_many_of_every_class():
    y = np.array([0] * 10 + [1] * 3 + [2] * 7)
    idx = experiments.balanced_sample(y, 5, seed=0)
    assert np.bincount(y[idx]).tolist() == [5, 3, 5] and len(set(idx)) == len(idx)
    np.testing.assert_array_equal(idx, experiments.balanced_sample(y, 5, seed=0))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "mgu"])
def test_state_gradients_match_the_model_and_finite_differences(cell):
    from mpcore import cells
    from mpcore.layers import softmax
    from mpcore.models import sequence

    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(5, 7, 3)), rng.integers(0, 4, 5)
    p = sequence.init_params(cell, 3, 6, 4, rng, mlp=(5,))
    g = experiments.state_gradients(p, X, y, cell=cell)
    np.testing.assert_allclose(g["h"].mean(axis=0), sequence.hidden_gradient_norms(p, X, y, cell=cell), rtol=1e-12)
    assert ("c" in g) == (cell == "lstm")
    if cell != "lstm":
        return

    def losses(t0, delta):  # each window's loss with c_t0 moved by delta (and h_t0 = o tanh(c_t0) with it)
        h = c = np.zeros((len(X), 6))
        for t in range(X.shape[1]):
            (h, c), cache = cells.lstm.step_forward(X[:, t], (h, c), p)
            if t == t0:
                c = c + delta
                h = cache[6] * np.tanh(c)
        proba = softmax(np.maximum(h @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"])
        return -np.log(proba[np.arange(len(y)), y])

    for t0 in (0, 3, 6):
        numeric = np.stack([(losses(t0, d) - losses(t0, -d)) / 2e-6 for d in 1e-6 * np.eye(6)[:, None, :]], axis=1)
        np.testing.assert_allclose(g["c"][:, t0], np.linalg.norm(numeric, axis=1), rtol=1e-6)


# ------------------------------------------------------------------------------ figures


def test_gradient_norm_figure_spans_every_value_and_reports_zeros():
    g = np.logspace(-66, 0, 150)
    g_with_zero = g.copy()
    g_with_zero[:3] = 0.0
    fig = plots.gradient_norms_figure({"RNN": g, "GRU (η=0.1)": g_with_zero})
    lo, hi = fig.axes[0].get_ylim()
    assert lo <= 1e-66 and hi >= 1.0
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["RNN", "GRU (η=0.1) (3 steps exactly 0, not drawn)"]
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), g)


@pytest.mark.parametrize("part", list(experiments.PARTS))
def test_each_run_reports_exactly_its_parts_metrics(tmp_path, part):
    """``metric_names`` is what the store checks entries against: it must match what runs report."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from course_files import write_course_dir

    dd = str(write_course_dir(tmp_path, np.random.default_rng(0)))
    cfg = {"autoencoder": lambda: experiments.AutoencoderConfig(n_hidden=4, maxiter=3, data_dir=dd),
           "language_model": lambda: experiments.language_model_config(4, 8, epochs=1, data_dir=dd),
           "sequence": lambda: experiments.sequence_config("mgu", 0.1, 0, n_hidden=4, mlp=(3,), epochs=1,
                                                           data_dir=dd)}[part]()
    result = experiments.run(cfg, progress=False)
    assert sorted(result.metrics) == sorted(cfg.metric_names)
    assert result.config == cfg


def test_top10_is_not_reported_for_a_vocabulary_of_ten_words_or_fewer(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from course_files import write_course_dir

    dd = str(write_course_dir(tmp_path, np.random.default_rng(0), vocab=9))
    D, P = study.LM_SIZES[0]
    small = experiments.run(experiments.language_model_config(D, P, epochs=1, data_dir=dd), progress=False)
    assert small.metrics["test_top10"] is None and 0 < small.metrics["test_top1"] < 1
    row = next(line for line in report.summary_markdown(study.build_summary([small], data_dir=dd)).splitlines()
               if line.startswith(f"| {D} | {P} |"))
    assert row.split(" | ")[4] == "n/a"  # the top-10 column


def test_estimate_of_the_time_left_uses_each_parts_mean():
    seq = [fake("gru", 0.1, s, 0.5, 0.5) for s in range(2)]
    for r, t in zip(seq, (100.0, 200.0)):
        r.wall_time = t
    left = [experiments.sequence_config("lstm", 0.1, 0), experiments.AutoencoderConfig()]
    # the sequence config: 150 s (its part's mean); the autoencoder: 150 s (no autoencoder yet: overall mean)
    assert runner.estimate_minutes_left(left, seq, jobs=2) == pytest.approx(300 / 2 / 60)
    assert runner.estimate_minutes_left(left, seq, jobs=1) == pytest.approx(300 / 60)


def test_standardizer_warns_about_a_constant_channel_and_never_makes_nan():
    from mpcore.data import ActivityData

    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, 5, 3))
    X[:, :, 1] = 7.0  # a dead sensor axis
    act = ActivityData(X, np.zeros(10, int), X[:2], np.zeros(2, int), X[:2], np.zeros(2, int), ["a"])
    with pytest.warns(UserWarning, match=r"channel\(s\) \[1\] are constant"):
        mu, sd = experiments.standardizer(act)
    Z = (X - mu) / sd
    assert np.isfinite(Z).all() and np.all(Z[:, :, 1] == 0) and sd[1] == 1.0
    np.testing.assert_allclose(Z[:, :, [0, 2]].std(axis=(0, 1)), 1.0)


def test_notebook_3_chooses_the_light_protocol_only_when_the_full_one_is_too_long(monkeypatch, tmp_path):
    from mpcore.store import Store

    asked = []

    def minutes(cfgs, store, jobs):
        asked.append((len(cfgs), store, jobs))
        return minutes.value

    monkeypatch.setattr(study, "expected_minutes", minutes)
    assert study.sequence_protocol(Store()) == ("full", 0.0)  # the bundled data: every run ships, nothing asked
    assert asked == []
    empty = Store(tmp_path / "store", read_only_roots=[])
    minutes.value = study.LIGHT_PROTOCOL_MINUTES + 1
    assert study.sequence_protocol(empty) == ("light", minutes.value)
    minutes.value = study.LIGHT_PROTOCOL_MINUTES
    assert study.sequence_protocol(empty) == ("full", minutes.value)
    # the whole protocol is estimated, runs already trained included (store None): a rerun decides the same way
    assert asked == [(len(study.sequence_configs()), None, 2)] * 2


def test_data_dir_and_lr_are_each_converted_once(tmp_path, monkeypatch):
    """Following ``data_dir`` and ``lr`` through the study, the runner, the store and the report:
    a ``Path`` becomes the config's ``str`` once (in the config), the file path is built from
    that very string once per read (``data.course_path``), and every η is the grid's own value."""
    import os
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from course_files import write_course_dir

    from mpcore.store import Store

    folder = Path(write_course_dir(tmp_path / "course", np.random.default_rng(0)))
    cfgs = study.study_configs(("sequence",), quick=True, data_dir=folder)
    as_str = cfgs[0].data_dir
    assert as_str == os.fspath(folder) and all(c.data_dir is as_str for c in cfgs)  # one conversion, shared
    assert experiments.sequence_config("rnn", 0.03, 0, data_dir=as_str).data_dir is as_str  # a str stays itself
    assert all(any(c.sgd.lr is lr for lr in study.SEQ_LR_GRID) for c in cfgs)

    seen, course_path = [], data.course_path
    monkeypatch.setattr(data, "course_path", lambda name, d=None: seen.append(d) or course_path(name, d))
    results, chosen = study.run_study(("sequence",), True, folder, Store(tmp_path / "store"), jobs=1,
                                      progress=False)
    assert seen and all(d is as_str for d in seen)  # the runner and the store read the config's own string
    assert all(any(r.config.sgd.lr is lr for lr in study.SEQ_LR_GRID) for r in results)
    assert chosen and all(any(v is lr for lr in study.SEQ_LR_GRID) for v in chosen.values())
    seen.clear()
    summary = report.write_report(results, tmp_path / "out", folder, chosen)
    assert seen and all(d is folder or d is as_str for d in seen)  # the caller's path or the results' own string
    assert {c: v["chosen_lr"] for c, v in summary["sequence"]["cells"].items()} == chosen
