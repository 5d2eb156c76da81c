"""Interactive explorers for the notebooks: ipywidgets controls wired to plot functions.

Widgets only wire controls to :mod:`mpcore.plots`; results come from the results store
(:mod:`mpcore.store`). Each control offers the settings the study ships, so a change replots at
once. A setting that is not in the store (e.g. with the course's own data files) is never
trained as a side effect of moving a control: the old figure stays, labelled as the previous
setting, and a **Train this setting** button starts training in a background thread, with a
progress bar and a Cancel button, the controls disabled until it ends. Each explorer is an
:class:`Explorer` (an ``ipywidgets.VBox``) whose ``controls`` can be driven from code and whose
``figure`` is the figure last drawn -- which is how the tests check that moving a slider replots.
"""

from __future__ import annotations

import base64
import io
import threading
import time

import ipywidgets as W
import matplotlib.pyplot as plt

from . import experiments, plots, study
from .models import language_model
from .store import Store


class TrainingCancelled(Exception):
    """Raised inside a training run when its explorer's Cancel button is pressed."""


def _stored_seconds(store, config):
    """Wall time of the same setting trained on the bundled data, if stored (an estimate), else None."""
    from dataclasses import replace

    bundled = store.get(replace(config, data_dir=None)) if getattr(config, "data_dir", None) else None
    return bundled.wall_time if bundled is not None else None


class Explorer(W.VBox):
    """Controls on top, a figure below; any control change calls ``render(**values)`` again.

    ``needs(**values)`` lists the experiment configs a view reads from ``store``; when one is
    missing, the explorer offers to train it instead of rendering (module docstring).
    """

    def __init__(self, controls: dict, render, title: str = "", *, store=None, needs=None):
        self.controls = controls
        self.render = render
        self.title = title
        self.store, self.needs = store, needs
        self.image = W.Image(format="png", layout=W.Layout(max_width="100%"))
        self.figure = None
        self.shown = None  # the control values of the figure on screen
        self._png = None
        self.status = W.HTML()
        self.train_button = W.Button(description="Train this setting", icon="play", layout=W.Layout(display="none"))
        self.cancel_button = W.Button(description="Cancel", icon="stop", layout=W.Layout(display="none"))
        self.bar = W.FloatProgress(min=0.0, max=1.0, layout=W.Layout(display="none"))
        self.train_button.on_click(lambda _: self.train())
        self.cancel_button.on_click(lambda _: self._cancel.set())
        self._cancel = threading.Event()
        self._thread = None
        self.error = None  # the exception that ended the last training run, if any
        box = W.HBox(list(controls.values()))
        actions = W.HBox([self.train_button, self.bar, self.cancel_button])
        super().__init__([W.HTML(f"<b>{title}</b>") if title else W.HTML(), box, self.status, actions, self.image])
        for c in controls.values():
            c.observe(self._changed, names="value")
        self.update()

    def values(self) -> dict:
        return {k: c.value for k, c in self.controls.items()}

    def _changed(self, _change):
        self.update()

    def missing(self) -> list:
        """Configs the current view needs that are not in the store."""
        if self.needs is None:
            return []
        return [c for c in self.needs(**self.values()) if self.store.get(c) is None]

    def update(self):
        """Redraw with the current control values, or offer to train what is missing."""
        todo = self.missing()
        if todo:
            seconds = [_stored_seconds(self.store, c) for c in todo]
            guess = f" (≈ {sum(seconds):.0f} s)" if None not in seconds else ""
            self.train_button.description = f"Train this setting{guess}"
            self.train_button.layout.display = ""
            shown = ", ".join(f"{k}={v}" for k, v in self.shown.items()) if self.shown else "nothing yet"
            self.status.value = (f"<i>This setting is not trained yet ({len(todo)} run{'s' * (len(todo) > 1)}). "
                                 f"The figure below is the previous setting: {shown}.</i>")
            return
        self.train_button.layout.display = "none"
        self.status.value = ""
        fig = self.render(**self.values())
        if isinstance(fig, plt.Figure):
            png = io.BytesIO()
            fig.savefig(png, format="png", bbox_inches="tight")
            self.image.value = png.getvalue()
            self._png = base64.b64encode(png.getvalue()).decode()
            plt.close(fig)
        self.figure = fig
        self.shown = self.values()

    def train(self):
        """Train what the current setting needs, in a background thread (see :meth:`wait`)."""
        todo = self.missing()
        if not todo or (self._thread is not None and self._thread.is_alive()):
            return
        self._cancel.clear()
        self.error = None
        for c in self.controls.values():
            c.disabled = True
        self.train_button.layout.display = "none"
        self.bar.value, self.bar.layout.display, self.cancel_button.layout.display = 0.0, "", ""
        self._thread = threading.Thread(target=self._train, args=(todo,), daemon=True)
        self._thread.start()

    def _train(self, todo):
        t0 = time.perf_counter()
        try:
            for k, config in enumerate(todo):
                def progress(done, total, k=k):
                    if self._cancel.is_set():
                        raise TrainingCancelled("cancelled")
                    self.bar.value = (k + done / total) / len(todo)
                    self.status.value = f"<i>training {k + 1} of {len(todo)}: step {done} of at most {total}, " \
                                        f"{time.perf_counter() - t0:.0f} s</i>"

                self.store.get_or_run(config, experiments.run, progress=progress)
        except Exception as e:  # shown in the status line; the previous figure stays
            self.error = e
        finally:
            for c in self.controls.values():
                c.disabled = False
            self.bar.layout.display = self.cancel_button.layout.display = "none"
        if isinstance(self.error, TrainingCancelled):
            self.update()
            self.status.value = "<i>Training cancelled; nothing was stored. " + self.status.value[3:]
        elif self.error is not None:
            self.update()
            self.status.value = f"<b>Training failed:</b> {type(self.error).__name__}: {self.error}"
        else:
            self.update()

    def wait(self, timeout: float | None = None):
        """Block until the training started by :meth:`train` has ended."""
        if self._thread is not None:
            self._thread.join(timeout)

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


def _autoencoder_grid_explorer(title, sliders: dict, store, data_dir, config, opening: dict) -> Explorer:
    """Sliders over AutoencoderConfig fields, ``{field: (label, shipped values)}``, opening at
    ``opening`` (``{field: value}``; a value of None opens at the main setting's); replots the
    feature grid and the cost curve. Each point is the study's run
    (:func:`study.autoencoder_grid_config`: λ = 3e-4 starts from λ = 1e-4's weights)."""
    store = _store(store)
    main = experiments.MAIN_AUTOENCODER
    start = {field: getattr(main, field) if opening.get(field) is None else opening[field] for field in sliders}
    for field, (label, values) in sliders.items():
        if start[field] not in values:
            raise ValueError(f"{title}: cannot open at {label} = {start[field]!r}; the grid has {list(values)}")
    controls = {field: W.SelectionSlider(options=list(values), value=start[field], description=label,
                                         continuous_update=False)
                for field, (label, values) in sliders.items()}

    def needs(**values):
        fields = {"n_hidden": main.n_hidden, "lam": main.lam, "data_dir": data_dir, **values, **config}
        return [study.autoencoder_grid_config(**fields)]

    def render(**values):
        return plots.autoencoder_figure(store.get(needs(**values)[0]), scale="panel")

    return Explorer(controls, render, title, store=store, needs=needs)


def autoencoder_explorer(store=None, data_dir=None, n_hidden=None, lam=None, **config) -> Explorer:
    """Sliders for λ and L_hid over the shipped grid (whitened patches, β = 3, ρ = 0.01). Opens at
    ``n_hidden`` and ``lam`` (default: the main setting, L_hid = 64, λ = 1e-4)."""
    return _autoencoder_grid_explorer("Sparse autoencoder: hidden features",
                                      {"lam": ("λ", study.AE_GRID_LAMBDA), "n_hidden": ("L_hid", study.AE_GRID_HIDDEN)},
                                      store, data_dir, config, {"n_hidden": n_hidden, "lam": lam})


def sparsity_explorer(store=None, data_dir=None, beta=None, rho=None, **config) -> Explorer:
    """Sliders for the sparsity weight β and the target activation ρ over the shipped grid
    (whitened patches, the main L_hid and λ). Opens at ``beta`` and ``rho`` (default: the main
    setting, β = 3, ρ = 0.01 -- the figure :func:`autoencoder_explorer` opens on; a page that
    shows both opens this one elsewhere, e.g. ``beta=0.3``, so that each shows a figure of its own)."""
    return _autoencoder_grid_explorer("Sparse autoencoder: the sparsity penalty",
                                      {"beta": ("β", study.AE_GRID_BETA), "rho": ("ρ", study.AE_GRID_RHO)},
                                      store, data_dir, config, {"beta": beta, "rho": rho})


# ------------------------------------------------------------------------------------- part 2


def language_model_explorer(store=None, data_dir=None, sizes=study.LM_SIZES,
                            trigram=language_model.DEFAULT_CONTEXT, **config) -> Explorer:
    """Pick (D, P) and three context words; shows the top-10 next words with probabilities.
    Opens on ``trigram`` (or, when the vocabulary lacks one of its words, the data's most
    frequent context)."""
    store = _store(store)
    ng = experiments.PARTS["language_model"].load(data_dir)
    vocab = sorted(ng.words)
    first, _ = language_model.default_context(ng.words, ng.train_x, trigram)
    controls = {
        "size": W.Dropdown(options=[(f"D={D}, P={P}", (D, P)) for D, P in sizes], value=tuple(sizes[0]),
                           description="model"),
        "w1": W.Dropdown(options=vocab, value=first[0], description="word 1"),
        "w2": W.Dropdown(options=vocab, value=first[1], description="word 2"),
        "w3": W.Dropdown(options=vocab, value=first[2], description="word 3"),
    }

    def needs(size, **words):
        return [experiments.language_model_config(size[0], size[1], data_dir=data_dir, **config)]

    def render(size, w1, w2, w3):
        result = store.get(needs(size)[0])
        return plots.top10_figure(language_model.top_k_words(result.params, ng.words, [w1, w2, w3], k=10), [w1, w2, w3],
                                  model=experiments.label(result.config, seed=True))

    return Explorer(controls, render, "Language model: the 10 most likely next words", store=store, needs=needs)


# ------------------------------------------------------------------------------------- part 3


def sequence_explorer(store=None, data_dir=None, cell="gru", lr=None, seed=0, **config) -> Explorer:
    """Cell type, learning rate and seed over the shipped runs; replots loss curves and both
    confusion matrices. Opens at ``cell``, ``lr`` (default: the middle η) and ``seed``."""
    store = _store(store)
    grid = list(study.SEQ_LR_GRID)
    controls = {
        "cell": W.ToggleButtons(options=[(c.upper(), c) for c in study.SEQ_CELLS], value=cell, description="cell"),
        "lr": W.SelectionSlider(options=grid, value=grid[len(grid) // 2] if lr is None else lr, description="η",
                                continuous_update=False),
        "seed": W.ToggleButtons(options=list(study.SEQ_SEEDS), value=seed, description="seed"),
    }

    def needs(cell, lr, seed):
        return [experiments.sequence_config(cell, lr, seed, data_dir=data_dir, **config)]

    def render(cell, lr, seed):
        return plots.sequence_figure(store.get(needs(cell, lr, seed)[0]))

    return Explorer(controls, render, "Sequence classifiers", store=store, needs=needs)
