"""Every widget replots: drive a control from code and check the plotted data changed."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mpcore import experiments as E  # noqa: E402
from mpcore import widgets  # noqa: E402
from mpcore.store import Store  # noqa: E402


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path)


def image_data(fig):
    return fig.axes[0].images[0].get_array().copy()


def test_autoencoder_explorer_opens_at_the_main_setting_and_replots(store):
    ex = widgets.autoencoder_explorer(store=store, maxiter=2)
    assert ex.values() == {"lam": E.AutoencoderConfig.lam, "n_hidden": E.AutoencoderConfig.n_hidden}
    before = image_data(ex.figure)
    ex.controls["n_hidden"].value = 16
    assert image_data(ex.figure).shape != before.shape  # 16 features instead of 64
    mid = image_data(ex.figure)
    ex.controls["lam"].value = E.AE_GRID_LAMBDA[-1]
    assert not np.array_equal(image_data(ex.figure), mid)
    assert f"λ={E.AE_GRID_LAMBDA[-1]:g}" in ex.figure.axes[0].get_title()
    assert all(not c.continuous_update for c in ex.controls.values())  # dragging never queues work
    assert len(list((store.root / "autoencoder").glob("*.npz"))) == 3  # each point trained once, cached


def bar_widths(fig):
    return [p.get_width() for p in fig.axes[0].patches]


def test_language_model_explorer_replots(store):
    ex = widgets.language_model_explorer(store=store, epochs=1, n_train=3000)
    before = bar_widths(ex.figure)
    assert len(before) == 10 and "the united states" in ex.figure.axes[0].get_title()
    ex.controls["w3"].value = "war"
    after = bar_widths(ex.figure)
    assert after != before and "the united war" in ex.figure.axes[0].get_title()
    ex.controls["size"].value = (8, 64)
    assert bar_widths(ex.figure) != after


def test_explorer_output_carries_a_png_of_its_figure_for_places_without_widgets(store):
    """GitHub and nbviewer cannot run widgets: the committed output must still show the figure."""
    import base64
    import io

    import matplotlib.image

    ex = widgets.language_model_explorer(store=store, epochs=1, n_train=3000)
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # the live widget, where it can run
    assert bundle["text/plain"].startswith("Explorer 'Language model") and "w1, w2, w3" in bundle["text/plain"]
    first = matplotlib.image.imread(io.BytesIO(base64.b64decode(bundle["image/png"])), format="png")
    assert first.shape[0] > 200 and first.shape[1] > 300 and first.std() > 0  # a real picture, not blank
    ex.controls["w3"].value = "war"
    assert ex._repr_mimebundle_()["image/png"] != bundle["image/png"]  # it follows the controls


def test_sequence_explorer_replots(store):
    ex = widgets.sequence_explorer(store=store, lr=0.1, n_hidden=8, epochs=1, n_train=64)
    loss_before = ex.figure.axes[0].lines[0].get_ydata().copy()
    assert ex.figure.axes[0].get_title() == "GRU, η=0.1, seed 0"
    ex.controls["cell"].value = "rnn"
    assert ex.figure.axes[0].get_title() == "RNN, η=0.1, seed 0"
    assert not np.array_equal(ex.figure.axes[0].lines[0].get_ydata(), loss_before)
    ex.controls["lr"].value = 0.01
    assert ex.figure.axes[0].get_title() == "RNN, η=0.01, seed 0"
    loss_seed0 = ex.figure.axes[0].lines[0].get_ydata().copy()
    ex.controls["seed"].value = 1
    assert ex.figure.axes[0].get_title() == "RNN, η=0.01, seed 1"
    assert not np.array_equal(ex.figure.axes[0].lines[0].get_ydata(), loss_seed0)
    assert list(ex.controls["lr"].options) == list(E.SEQ_LR_GRID)
    assert list(ex.controls["seed"].options) == list(E.SEQ_SEEDS)
