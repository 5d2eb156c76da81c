"""Interactive explorers for the notebooks: ipywidgets controls wired to plot functions.

Widgets only wire controls to :mod:`mpcore.plots`; results come from the results store
(:mod:`mpcore.store`): shipped grid points load instantly, an off-grid choice trains once,
with a progress bar, and is cached. Each explorer is an :class:`Explorer` (an
``ipywidgets.VBox``) whose ``controls`` can be driven from code and whose ``figure`` is the
figure last drawn -- which is how the tests check that moving a slider replots.
"""

from __future__ import annotations

import base64
import io

import ipywidgets as W
import matplotlib.pyplot as plt
from IPython.display import display

from . import experiments as E
from . import plots
from .models import language_model
from .store import Store


class Explorer(W.VBox):
    """Controls on top, a figure below; any control change calls ``render(**values)`` again."""

    def __init__(self, controls: dict, render, title: str = ""):
        self.controls = controls
        self.render = render
        self.title = title
        self.output = W.Output()
        self.figure = None
        self._png = None
        self.status = W.HTML()
        box = W.HBox(list(controls.values()))
        super().__init__([W.HTML(f"<b>{title}</b>") if title else W.HTML(), box, self.status, self.output])
        for c in controls.values():
            c.observe(self._changed, names="value")
        self.update()

    def values(self) -> dict:
        return {k: c.value for k, c in self.controls.items()}

    def _changed(self, _change):
        self.update()

    def update(self):
        """Redraw with the current control values."""
        self.output.clear_output(wait=True)
        with self.output:
            fig = self.render(**self.values())
            if isinstance(fig, plt.Figure):
                png = io.BytesIO()
                fig.savefig(png, format="png", bbox_inches="tight")
                self._png = base64.b64encode(png.getvalue()).decode()
                display(fig)
                plt.close(fig)
        self.figure = fig

    def __repr__(self) -> str:
        return (f"Explorer '{self.title}' with controls {', '.join(self.controls)}: run the notebook to use it "
                f"(the image shows its first view)")

    def _repr_mimebundle_(self, **kwargs):
        """The live widget, plus a PNG of the current figure and a plain-text line: where widgets
        cannot run (GitHub, nbviewer, a notebook not yet run) the figure still shows."""
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        if self._png is not None:
            bundle["image/png"] = self._png
        return bundle


def _store(store):
    return store if store is not None else Store()


# ------------------------------------------------------------------------------------- part 1


def autoencoder_explorer(store=None, data_dir=None, **config) -> Explorer:
    """Sliders for λ and L_hid over the shipped grid (whitened patches, β = 3, ρ = 0.01);
    replots the feature grid and the cost curve."""
    store = _store(store)
    main = E.AutoencoderConfig()
    controls = {
        "lam": W.SelectionSlider(options=list(E.AE_GRID_LAMBDA), value=main.lam, description="λ",
                                 continuous_update=False),
        "n_hidden": W.SelectionSlider(options=list(E.AE_GRID_HIDDEN), value=main.n_hidden, description="L_hid",
                                      continuous_update=False),
    }

    def render(lam, n_hidden):
        cfg = E.AutoencoderConfig(n_hidden=n_hidden, lam=lam, data_dir=data_dir, **config)
        return plots.autoencoder_figure(store.get_or_run(cfg, E.run))

    return Explorer(controls, render, "Sparse autoencoder: hidden features")


# ------------------------------------------------------------------------------------- part 2


def language_model_explorer(store=None, data_dir=None, sizes=E.LM_SIZES,
                            trigram=("the", "united", "states"), **config) -> Explorer:
    """Pick (D, P) and three context words; shows the top-10 next words with probabilities."""
    store = _store(store)
    ng = E.PARTS["language_model"].load(data_dir)
    vocab = sorted(ng.words)
    first = [w if w in ng.words else ng.words[k] for k, w in enumerate(trigram)]
    controls = {
        "size": W.Dropdown(options=[(f"D={D}, P={P}", (D, P)) for D, P in sizes], value=tuple(sizes[0]),
                           description="model"),
        "w1": W.Dropdown(options=vocab, value=first[0], description="word 1"),
        "w2": W.Dropdown(options=vocab, value=first[1], description="word 2"),
        "w3": W.Dropdown(options=vocab, value=first[2], description="word 3"),
    }

    def render(size, w1, w2, w3):
        result = store.get_or_run(E.language_model_config(size[0], size[1], data_dir=data_dir, **config), E.run)
        return plots.top10_figure(language_model.top_k_words(result.params, ng.words, [w1, w2, w3], k=10), [w1, w2, w3])

    return Explorer(controls, render, "Language model: the 10 most likely next words")


# ------------------------------------------------------------------------------------- part 3


def sequence_explorer(store=None, data_dir=None, cell="gru", lr=None, seed=0, **config) -> Explorer:
    """Cell type, learning rate and seed over the shipped runs; replots loss curves and both
    confusion matrices. Opens at ``cell``, ``lr`` (default: the middle η) and ``seed``."""
    store = _store(store)
    grid = list(E.SEQ_LR_GRID)
    controls = {
        "cell": W.ToggleButtons(options=[(c.upper(), c) for c in E.SEQ_CELLS], value=cell, description="cell"),
        "lr": W.SelectionSlider(options=grid, value=grid[len(grid) // 2] if lr is None else lr, description="η",
                                continuous_update=False),
        "seed": W.ToggleButtons(options=list(E.SEQ_SEEDS), value=seed, description="seed"),
    }

    def render(cell, lr, seed):
        cfg = E.sequence_config(cell, lr, seed, data_dir=data_dir, **config)
        return plots.sequence_figure(store.get_or_run(cfg, E.run))

    return Explorer(controls, render, "Sequence classifiers")
