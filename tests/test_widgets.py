"""Every widget replots: drive a control from code and check the plotted data changed.

The explorers here run on an empty store with tiny training settings, so every new setting
goes through the explicit "Train this setting" button (:func:`train`): moving a control never
trains by itself."""

import matplotlib

matplotlib.use("Agg")

import ast  # noqa: E402
import base64  # noqa: E402
import io  # noqa: E402
import itertools  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import matplotlib.image  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mpcore import (  # noqa: E402
    experiments,  # noqa: E402
    study,
    widgets,
)
from mpcore.store import Store  # noqa: E402


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path)


def image_data(fig):
    return fig.axes[0].images[0].get_array().copy()


def train(ex):
    """Press "Train this setting" and wait for the background run; it must have drawn a figure."""
    assert ex.train_button.layout.display != "none" and ex.missing()
    ex.train_button.click()
    ex.wait(timeout=300)
    assert ex.error is None and not ex.missing() and ex.train_button.layout.display == "none"
    assert not any(c.disabled for c in ex.controls.values())


def test_autoencoder_explorer_opens_at_the_main_setting_and_replots(store):
    ex = widgets.autoencoder_explorer(store=store, maxiter=2)
    assert ex.values() == {"lam": experiments.AutoencoderConfig.lam, "n_hidden": experiments.AutoencoderConfig.n_hidden}
    assert ex.figure is None and "not trained yet" in ex.status.value  # an empty store: nothing trained yet
    train(ex)
    before = image_data(ex.figure)
    ex.controls["n_hidden"].value = 16
    assert image_data(ex.figure).shape == before.shape  # moving a control never trains: the old figure stays
    assert "previous setting: lam=0.0001, n_hidden=64" in ex.status.value
    train(ex)
    assert image_data(ex.figure).shape != before.shape  # 16 features instead of 64
    mid = image_data(ex.figure)
    ex.controls["lam"].value = study.AE_GRID_LAMBDA[-1]
    train(ex)
    assert not np.array_equal(image_data(ex.figure), mid)
    assert f"λ={study.AE_GRID_LAMBDA[-1]:g}" in ex.figure.axes[0].get_title()
    assert all(not c.continuous_update for c in ex.controls.values())  # dragging never queues work
    assert len(list((store.root / "autoencoder").glob("*.npz"))) == 3  # each point trained once, cached
    ex.controls["n_hidden"].value = 64
    ex.controls["lam"].value = experiments.AutoencoderConfig.lam
    assert ex.status.value == "" and ex.shown == ex.values()  # trained before: replots at once


def test_sparsity_explorer_covers_the_shipped_beta_rho_grid():
    ex = widgets.sparsity_explorer()  # the shipped store
    assert (list(ex.controls["beta"].options), list(ex.controls["rho"].options)) == (
        list(study.AE_GRID_BETA), list(study.AE_GRID_RHO))
    seen = set()
    for beta in study.AE_GRID_BETA:
        for rho in study.AE_GRID_RHO:
            ex.controls["beta"].value, ex.controls["rho"].value = beta, rho
            assert not ex.missing(), (beta, rho)  # every reachable point ships
            assert f"β={beta:g}, ρ={rho:g}" in ex.figure.axes[0].get_title()
            seen.add(image_data(ex.figure).tobytes())
    assert len(seen) == len(study.AE_GRID_BETA) * len(study.AE_GRID_RHO)


def test_the_grid_explorers_open_where_they_are_told():
    ae = widgets.autoencoder_explorer(n_hidden=100, lam=3e-4)  # the shipped store
    assert ae.values() == {"lam": 3e-4, "n_hidden": 100} == ae.shown
    assert "L_hid=100, λ=0.0003" in ae.figure.axes[0].get_title()
    sp = widgets.sparsity_explorer(beta=0.3)
    assert sp.values() == {"beta": 0.3, "rho": experiments.AutoencoderConfig.rho} == sp.shown
    assert "β=0.3, ρ=0.01" in sp.figure.axes[0].get_title()
    main = experiments.MAIN_AUTOENCODER
    assert widgets.sparsity_explorer().values() == {"beta": main.beta, "rho": main.rho}
    with pytest.raises(ValueError, match="cannot open at β = 1"):
        widgets.sparsity_explorer(beta=1.0)


def _png_array(explorer):
    return matplotlib.image.imread(io.BytesIO(base64.b64decode(explorer._png)), format="png")


def notebook_explorers(source: Path) -> list:
    """The explorers a notebook's code cells show (each cell's last expression), in order: the
    cells run here as the kernel runs them, on the shipped store."""
    import jupytext

    namespace, shown = {}, []
    for cell in jupytext.read(source).cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, str(source), "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), str(source), "eval"), namespace)
            if isinstance(value, widgets.Explorer):
                shown.append(value)
    return shown


def test_each_dashboard_explorer_opens_on_a_figure_of_its_own():
    """Issue 21: notebook 4 (the Voilà dashboard) once opened its first two explorers on the same
    figure (both at the main setting). No two may open on the same setting or the same picture."""
    explorers = notebook_explorers(Path(__file__).parents[1] / "notebooks" / "04_explorers.py")
    assert [type(e) for e in explorers] == [widgets.Explorer] * 4
    assert all(e.figure is not None and e._png is not None for e in explorers)  # each opens on a figure
    for a, b in itertools.combinations(explorers, 2):
        assert a.needs(**a.values()) != b.needs(**b.values()), (a.title, b.title)
        pa, pb = _png_array(a), _png_array(b)
        assert pa.shape != pb.shape or not np.array_equal(pa, pb), (a.title, b.title)
    # the first two draw the same kind of figure: their feature images themselves differ
    assert not np.array_equal(image_data(explorers[0].figure), image_data(explorers[1].figure))


def test_cancel_stops_training_and_keeps_the_old_figure(store, monkeypatch):
    ex = widgets.autoencoder_explorer(store=store, maxiter=2)
    train(ex)
    first = image_data(ex.figure)
    steps = []

    def slow(config, progress=True):  # a long run that reports progress, as lbfgs and sgd do
        for k in range(1, 3001):
            progress(k, 3000)
            steps.append(k)
            time.sleep(0.01)
        raise AssertionError("not cancelled")

    monkeypatch.setattr(widgets.experiments, "run", slow)
    ex.controls["n_hidden"].value = 100
    ex.train_button.click()
    time.sleep(0.3)
    assert all(c.disabled for c in ex.controls.values()) and ex.bar.layout.display != "none" and steps
    assert 0 < ex.bar.value < 1
    ex.cancel_button.click()
    ex.wait(timeout=30)
    assert isinstance(ex.error, widgets.TrainingCancelled) and len(steps) < 3000
    assert "cancelled" in ex.status.value and ex.missing()  # nothing stored
    assert not any(c.disabled for c in ex.controls.values())
    assert np.array_equal(image_data(ex.figure), first)  # the previous setting's figure stays


def bar_widths(fig):
    return [p.get_width() for p in fig.axes[0].patches]


def test_language_model_explorer_replots(store):
    ex = widgets.language_model_explorer(store=store, epochs=1, n_train=3000)
    train(ex)
    before = bar_widths(ex.figure)
    assert len(before) == 10 and "the united states" in ex.figure.axes[0].get_title()
    ex.controls["w3"].value = "war"
    after = bar_widths(ex.figure)
    assert after != before and "the united war" in ex.figure.axes[0].get_title()
    ex.controls["size"].value = (8, 64)
    train(ex)
    assert bar_widths(ex.figure) != after


def test_explorer_output_carries_a_png_of_its_figure_for_places_without_widgets(store):
    """GitHub and nbviewer cannot run widgets: the committed output must still show the figure."""
    import base64
    import io

    import matplotlib.image

    ex = widgets.language_model_explorer(store=store, epochs=1, n_train=3000)
    train(ex)
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # the live widget, where it can run
    assert bundle["text/plain"].startswith("Explorer 'Language model") and "w1, w2, w3" in bundle["text/plain"]
    first = matplotlib.image.imread(io.BytesIO(base64.b64decode(bundle["image/png"])), format="png")
    assert first.shape[0] > 200 and first.shape[1] > 300 and first.std() > 0  # a real picture, not blank
    ex.controls["w3"].value = "war"
    assert ex._repr_mimebundle_()["image/png"] != bundle["image/png"]  # it follows the controls


def test_sequence_explorer_replots(store):
    ex = widgets.sequence_explorer(store=store, lr=0.1, n_hidden=8, epochs=1, n_train=64)
    train(ex)
    loss_before = ex.figure.axes[0].lines[0].get_ydata().copy()
    assert ex.figure.axes[0].get_title() == "GRU, η=0.1, seed 0, 8 units"
    ex.controls["cell"].value = "rnn"
    train(ex)
    assert ex.figure.axes[0].get_title() == "RNN, η=0.1, seed 0, 8 units"
    assert not np.array_equal(ex.figure.axes[0].lines[0].get_ydata(), loss_before)
    ex.controls["lr"].value = 0.01
    train(ex)
    assert ex.figure.axes[0].get_title() == "RNN, η=0.01, seed 0, 8 units"
    loss_seed0 = ex.figure.axes[0].lines[0].get_ydata().copy()
    ex.controls["seed"].value = 1
    train(ex)
    assert ex.figure.axes[0].get_title() == "RNN, η=0.01, seed 1, 8 units"
    assert not np.array_equal(ex.figure.axes[0].lines[0].get_ydata(), loss_seed0)
    assert list(ex.controls["lr"].options) == list(study.SEQ_LR_GRID)
    assert list(ex.controls["seed"].options) == list(study.SEQ_SEEDS)


def test_a_failed_training_run_is_reported_and_the_controls_come_back(store, monkeypatch):
    ex = widgets.sequence_explorer(store=store, lr=0.1, n_hidden=8, epochs=1, n_train=64)

    def broken(config, progress=True):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(widgets.experiments, "run", broken)
    ex.train_button.click()
    ex.wait(timeout=60)
    assert isinstance(ex.error, RuntimeError) and "the disk is full" in ex.status.value
    assert ex.missing() and not any(c.disabled for c in ex.controls.values())
