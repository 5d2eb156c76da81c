"""Every widget replots: drive a control from code and check the plotted data changed.

The explorers here run on an empty store with tiny training settings, so every new setting
goes through the explicit "Train this setting" button (:func:`train`): moving a control never
trains by itself."""

import matplotlib

matplotlib.use("Agg")

import ast  # noqa: E402
import base64  # noqa: E402
import html  # noqa: E402
import io  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import ipywidgets  # noqa: E402
import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mpcore import (  # noqa: E402
    experiments,  # noqa: E402
    plots,
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
    assert all(isinstance(c, ipywidgets.Dropdown) for c in ex.controls.values())  # a <select> with a label
    assert [c.description for c in ex.controls.values()] == ["λ", "L_hid"]  # each control's accessible name
    assert len(list((store.root / "autoencoder").glob("*.npz"))) == 3  # each point trained once, cached
    ex.controls["n_hidden"].value = 64
    ex.controls["lam"].value = experiments.AutoencoderConfig.lam
    assert "not trained" not in ex.status.value and ex.shown == ex.values()  # trained before: replots at once


def test_sparsity_explorer_covers_the_shipped_beta_rho_grid():
    ex = widgets.sparsity_explorer()  # the shipped store
    assert (widgets._option_values(ex.controls["beta"]), widgets._option_values(ex.controls["rho"])) == (
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
    bundle, metadata = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # the live widget, where it can run
    assert bundle["text/plain"].startswith("Explorer 'Language model") and "w1, w2, w3" in bundle["text/plain"]
    first = matplotlib.image.imread(io.BytesIO(base64.b64decode(bundle["image/png"])), format="png")
    assert first.shape[0] > 200 and first.shape[1] > 300 and first.std() > 0  # a real picture, not blank
    assert metadata["image/png"]["alt"] == ex.alt == plots.alt_text(ex.figure)  # the static image's alt text
    ex.controls["w3"].value = "war"
    again, again_metadata = ex._repr_mimebundle_()
    assert again["image/png"] != bundle["image/png"]  # it follows the controls
    assert again_metadata["image/png"]["alt"] != metadata["image/png"]["alt"]  # and so does its alt text


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
    assert widgets._option_values(ex.controls["lr"]) == list(study.SEQ_LR_GRID)
    assert widgets._option_values(ex.controls["seed"]) == list(study.SEQ_SEEDS)


def test_a_failed_training_run_is_reported_and_the_controls_come_back(store, monkeypatch):
    ex = widgets.sequence_explorer(store=store, lr=0.1, n_hidden=8, epochs=1, n_train=64)

    def broken(config, progress=True):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(widgets.experiments, "run", broken)
    ex.train_button.click()
    ex.wait(timeout=60)
    assert isinstance(ex.error, RuntimeError) and "the disk is full" in ex.status.value
    assert ex.missing() and not any(c.disabled for c in ex.controls.values())


# ------------------------------------------------------------------- accessibility (issue 23)


def shown_alt(ex) -> str:
    """The alt attribute of the <img> the explorer sends to the browser."""
    found = re.findall(r'<img [^>]*alt="([^"]*)"', ex.image.value)
    assert len(found) == 1, ex.image.value[:200]
    return html.unescape(found[0])


def test_the_figure_on_screen_carries_its_alt_text_and_a_change_is_announced():
    def render(n, colour):
        fig, ax = plt.subplots()
        ax.bar(range(n), range(n), color=colour)
        return plots.describe(fig, f'{n} {colour} bars rising from 0 to {n - 1}; "quoted" & <escaped>.')

    ex = widgets.Explorer({"n": widgets._choice("bars", [2, 5], 2),
                           "colour": widgets._choice("colour", ["black", "grey"], "black")}, render, "Bars")
    assert shown_alt(ex) == ex.alt == '2 black bars rising from 0 to 1; "quoted" & <escaped>.'
    assert ex.status.value == ""  # the first figure is not announced: nothing changed
    first = ex.image.value
    ex.controls["n"].value = 5
    assert shown_alt(ex) == '5 black bars rising from 0 to 4; "quoted" & <escaped>.' and ex.image.value != first
    assert 'role="status"' in ex.status.value and "5 black bars" in ex.status.value  # said to screen readers
    assert ex.views() == [{"n": n, "colour": c} for n in (2, 5) for c in ("black", "grey")]
    bundle, metadata = ex._repr_mimebundle_()
    assert metadata == {"image/png": {"alt": ex.alt}}  # no factory: nothing says how to rebuild it


def test_every_control_is_a_labelled_dropdown_and_the_figure_has_alt_text():
    """A native <select> with a <label for> (module docstring of mpcore.widgets): its accessible
    name is the description, the arrow keys change it (tests/test_browser.py drives them)."""
    names = {"autoencoder_explorer": ["λ", "L_hid"], "sparsity_explorer": ["β", "ρ"],
             "language_model_explorer": ["model", "word 1", "word 2", "word 3"],
             "sequence_explorer": ["cell", "η", "seed"]}
    for factory, labels in names.items():
        ex = getattr(widgets, factory)()  # the shipped store
        assert all(isinstance(c, ipywidgets.Dropdown) for c in ex.controls.values()), factory
        assert [c.description for c in ex.controls.values()] == labels
        assert shown_alt(ex) == plots.alt_text(ex.figure) == ex.alt and len(ex.alt.split()) >= 5, factory
        before = ex.alt
        control = next(iter(ex.controls.values()))
        control.value = next(v for v in widgets._option_values(control) if v != control.value)
        assert shown_alt(ex) == ex.alt != before, factory  # the alt text follows the controls


def rebuilt(ex, store=None):
    """The explorer its output's metadata describes, opened again as a static page would."""
    bundle, metadata = ex._repr_mimebundle_()
    meta = json.loads(json.dumps(metadata["mpcore_explorer"]))  # as saved in the notebook
    assert meta["factory"] == ex.factory and set(meta) == {"factory", "opening"}
    assert not {"store", "data_dir"} & set(meta["opening"])
    return getattr(widgets, meta["factory"])(store, **meta["opening"])


def test_the_output_metadata_reopens_the_same_explorer():
    shown = [widgets.autoencoder_explorer(n_hidden=100, lam=3e-4), widgets.autoencoder_explorer(),
             widgets.sparsity_explorer(beta=0.3), widgets.language_model_explorer(),
             widgets.language_model_explorer(sizes=study.LM_SIZES[::-1], trigram=("in", "order", "to")),
             widgets.sequence_explorer(cell="rnn", lr=0.01, seed=2), widgets.sequence_explorer()]
    for ex in shown:
        again = rebuilt(ex)
        assert again.values() == ex.values() and again.views() == ex.views(), ex.title
        assert again.needs(**again.values()) == ex.needs(**ex.values())
        assert np.array_equal(_png_array(again), _png_array(ex))


def test_the_metadata_keeps_the_training_settings_of_an_explorer_off_the_shipped_grid(store):
    ex = widgets.sequence_explorer(store=store, lr=0.1, n_hidden=8, epochs=1, n_train=64)
    assert ex.opening == {"cell": "gru", "lr": 0.1, "seed": 0, "n_hidden": 8, "epochs": 1, "n_train": 64}
    again = rebuilt(ex, store)
    assert again.needs(**again.values()) == ex.needs(**ex.values())


def test_the_views_are_exactly_the_shipped_settings():
    """A page without a kernel shows every setting a control reaches on the grid explorers, and
    every model size with the contexts the notebooks suggest on the language model's."""
    store = Store()
    grids = {widgets.autoencoder_explorer(store): {"lam": study.AE_GRID_LAMBDA, "n_hidden": study.AE_GRID_HIDDEN},
             widgets.sparsity_explorer(store, beta=0.3): {"beta": study.AE_GRID_BETA, "rho": study.AE_GRID_RHO},
             widgets.sequence_explorer(store): {"cell": study.SEQ_CELLS, "lr": study.SEQ_LR_GRID,
                                                "seed": study.SEQ_SEEDS}}
    for ex, grid in grids.items():
        expected = [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]
        views = ex.views()
        assert views == expected, ex.title
        configs = [ex.needs(**v)[0] for v in views]
        assert len(set(configs)) == len(views) and all(store.get(c) is not None for c in configs), ex.title
    lm = widgets.language_model_explorer(store)
    contexts = [tuple(c) for c in widgets.LANGUAGE_MODEL_CONTEXTS]
    assert contexts[0] == tuple(lm.values()[k] for k in ("w1", "w2", "w3"))  # the opening context first
    assert {"of the united", "in order to"} <= {" ".join(c) for c in contexts}  # notebook 2, §6
    assert lm.views() == [{"size": tuple(size), "w1": a, "w2": b, "w3": c}
                          for size in study.LM_SIZES for a, b, c in contexts]
    assert all(not lm.needs(**v) or store.get(lm.needs(**v)[0]) is not None for v in lm.views())
    words = set(widgets._option_values(lm.controls["w1"]))
    assert all({v["w1"], v["w2"], v["w3"]} <= words for v in lm.views())
    first = lm.views()[0]
    fig = lm.render(**first)  # what a static page draws for a view
    assert plots.alt_text(fig) and "the united states" in fig.axes[0].get_title()
    plt.close(fig)
