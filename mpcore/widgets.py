"""Interactive explorers for the notebooks: ipywidgets controls wired to plot functions.

Widgets only wire controls to :mod:`mpcore.plots`; results come from the results store
(:mod:`mpcore.store`). Each control offers the settings the study ships, so a change replots at
once. A setting that is not in the store (e.g. with the course's own data files) is never
trained as a side effect of moving a control: the old figure stays, labelled as the previous
setting, and a **Train this setting** button starts training in a background thread, with a
progress bar and a Cancel button, the controls disabled until it ends. Each explorer is an
:class:`Explorer` (an ``ipywidgets.VBox``) whose ``controls`` can be driven from code and whose
``figure`` is the figure last drawn -- which is how the tests check that moving a control replots.

Accessibility (issue 23). Every control is an ``ipywidgets.Dropdown``: a native ``<select>``
whose ``<label for=...>`` is its description, so its accessible name is its label ("λ",
"L_hid", "cell", "η", "seed", "model", "word 1"), its value is announced, Tab reaches it and
the arrow keys (or typing the first letters) change it. ipywidgets 8 gives the other
candidates neither: a ``SelectionSlider`` is a noUiSlider handle (``role="slider"``) with no
accessible name -- its description is a ``<label>`` tied to nothing, and ipywidgets passes no
``aria-label`` to the handle nor offers a trait for one (axe: aria-input-field-name, serious);
``ToggleButtons`` are plain ``<button>`` elements named by their own text ("0", "GRU") and the
chosen one is marked only by a CSS class, with no ``aria-pressed``: a screen reader cannot tell
which is selected. Keys, measured in Chromium: in Voilà (the dashboard) the arrow keys, Home,
End, Page Up/Down and typing change a dropdown. In JupyterLab the notebook's command mode takes
Up/Down (select the cell above/below) and letters (``a`` inserts a cell) from every widget
control that is not a text field (a slider keeps Left/Right, a toggle button Enter/Space); Home,
End and Page Up/Down still step a dropdown, and Space (or Alt+Down) opens its list, where the
arrows, letters and Enter choose. The figure is an ``<img>`` with its alt text, :func:`plots.alt_text` of the
figure, in an ``ipywidgets.HTML`` (``ipywidgets.Image`` has no ``alt``); it is replaced, with
its new alt text, on every redraw, and a visually hidden status line (``role="status"``) says
what the new figure shows. (ipywidgets rewrites an HTML widget's whole content, so that region
is new each time: screen readers announce a new status region less reliably than a change in
one already on the page.) The explorer's output also carries, for places without a
kernel (GitHub, the static course site), a PNG of its figure with the alt text in the display
metadata, how to rebuild the explorer (``metadata["mpcore_explorer"]``: the factory here and
the keyword arguments it opened with) and :meth:`Explorer.views`, the control settings to show.
"""

from __future__ import annotations

import base64
import html
import itertools
import json
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


#: Hides text from the eye but not from screen readers (the usual "visually hidden" recipe).
_VISUALLY_HIDDEN = ("position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;"
                    "clip:rect(0,0,0,0);white-space:nowrap;border:0")


def _choice(label: str, options, value) -> W.Dropdown:
    """A labelled dropdown over ``options`` (values, or ``(text, value)`` pairs), at ``value``
    (module docstring: why a dropdown)."""
    pairs = [o if isinstance(o, tuple) and len(o) == 2 and isinstance(o[0], str) else (f"{o:g}" if isinstance(o, float)
             else str(o), o) for o in options]
    return W.Dropdown(options=pairs, value=value, description=label, style={"description_width": "initial"},
                      layout=W.Layout(width="auto", margin="2px 16px 2px 0"))


def _option_values(control) -> list:
    """The values a selection control offers, in order."""
    return list(control._options_values)


class Explorer(W.VBox):
    """Controls on top, a figure below; any control change calls ``render(**values)`` again.

    ``needs(**values)`` lists the experiment configs a view reads from ``store``; when one is
    missing, the explorer offers to train it instead of rendering (module docstring).
    ``views()`` lists the control settings a page without a kernel shows (default: every
    combination of the controls' options); ``factory`` and ``opening`` say how to open the same
    explorer again: ``getattr(mpcore.widgets, factory)(store, **opening)``.
    """

    def __init__(self, controls: dict, render, title: str = "", *, store=None, needs=None, views=None,
                 factory: str | None = None, opening: dict | None = None):
        self.controls = controls
        self.render = render
        self.title = title
        self.store, self.needs = store, needs
        self._views = views
        self.factory, self.opening = factory, opening
        self.image = W.HTML(layout=W.Layout(max_width="100%"))  # an <img> with its alt text (module docstring)
        self.figure = None
        self.alt = None  # the figure's alt text (plots.alt_text)
        self.shown = None  # the control values of the figure on screen
        self._png = None
        self.status = W.HTML()
        self.train_button = W.Button(description="Train this setting", icon="play", layout=W.Layout(display="none"))
        self.cancel_button = W.Button(description="Cancel", icon="stop", layout=W.Layout(display="none"))
        self.bar = W.FloatProgress(min=0.0, max=1.0, description="training", layout=W.Layout(display="none"))
        self.train_button.on_click(lambda _: self.train())
        self.cancel_button.on_click(lambda _: self._cancel.set())
        self._cancel = threading.Event()
        self._thread = None
        self.error = None  # the exception that ended the last training run, if any
        box = W.HBox(list(controls.values()), layout=W.Layout(flex_flow="row wrap"))
        actions = W.HBox([self.train_button, self.bar, self.cancel_button])
        super().__init__([W.HTML(f"<b>{html.escape(title)}</b>") if title else W.HTML(), box, self.status, actions,
                          self.image])
        for c in controls.values():
            c.observe(self._changed, names="value")
        self.update()

    def values(self) -> dict:
        return {k: c.value for k, c in self.controls.items()}

    def views(self) -> list[dict]:
        """The control settings to show where no kernel runs (the static course site), each as
        ``{control: value}`` for :meth:`render`: every combination of the controls' options unless
        the explorer says otherwise (the language model: its sizes × a few contexts)."""
        if self._views is not None:
            return [dict(v) for v in self._views()]
        options = {k: _option_values(c) for k, c in self.controls.items()}
        return [dict(zip(options, combo)) for combo in itertools.product(*options.values())]

    def _changed(self, _change):
        self.update()

    def _say(self, message: str, live: bool = True):
        """Show ``message`` (HTML) in the status line; ``live``: in a ``role="status"`` region,
        which screen readers announce (progress messages are not: they change every step)."""
        self.status.value = f'<div role="status" aria-live="polite">{message}</div>' if live and message else message

    def missing(self) -> list:
        """Configs the current view needs that are not in the store."""
        if self.needs is None:
            return []
        return [c for c in self.needs(**self.values()) if self.store.get(c) is None]

    def _not_trained_note(self, todo) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.shown.items()) if self.shown else "nothing yet"
        return (f"<i>This setting is not trained yet ({len(todo)} run{'s' * (len(todo) > 1)}). "
                f"The figure below is the previous setting: {shown}.</i>")

    def _alt_text(self, fig) -> str:
        """The figure's alt text (:func:`plots.alt_text`); for a figure its plot function did not
        describe, at least what it is and the settings it shows (tests require a real one)."""
        try:
            return plots.alt_text(fig)
        except ValueError:
            settings = ", ".join(f"{c.description} = {c.label}" for c in self.controls.values())
            return f"{self.title or 'Figure'}, for {settings}."

    def update(self):
        """Redraw with the current control values, or offer to train what is missing."""
        todo = self.missing()
        if todo:
            seconds = [_stored_seconds(self.store, c) for c in todo]
            guess = f" (≈ {sum(seconds):.0f} s)" if None not in seconds else ""
            self.train_button.description = f"Train this setting{guess}"
            self.train_button.layout.display = ""
            self._say(self._not_trained_note(todo))
            return
        self.train_button.layout.display = "none"
        fig = self.render(**self.values())
        if isinstance(fig, plt.Figure):
            alt = self._alt_text(fig)
            png = plots.png_bytes(fig)
            self._png = base64.b64encode(png).decode()
            self.image.value = (f'<img src="data:image/png;base64,{self._png}" alt="{html.escape(alt, quote=True)}" '
                                f'style="max-width:100%;height:auto">')
            self.alt = alt
            plt.close(fig)
        # a redraw after a control moved is announced; the first figure is not (nothing changed)
        self._say(f'<span style="{_VISUALLY_HIDDEN}">Figure updated. {html.escape(self.alt)}</span>'
                  if self.shown is not None and self.alt else "")
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
                    self._say(f"<i>training {k + 1} of {len(todo)}: step {done} of at most {total}, "
                              f"{time.perf_counter() - t0:.0f} s</i>", live=False)

                self.store.get_or_run(config, experiments.run, progress=progress)
        except Exception as e:  # shown in the status line; the previous figure stays
            self.error = e
        finally:
            for c in self.controls.values():
                c.disabled = False
            self.bar.layout.display = self.cancel_button.layout.display = "none"
        self.update()
        if isinstance(self.error, TrainingCancelled):
            self._say("<i>Training cancelled; nothing was stored.</i> " + self._not_trained_note(self.missing()))
        elif self.error is not None:
            self._say(f"<b>Training failed:</b> {html.escape(f'{type(self.error).__name__}: {self.error}')}")

    def wait(self, timeout: float | None = None):
        """Block until the training started by :meth:`train` has ended."""
        if self._thread is not None:
            self._thread.join(timeout)

    def __repr__(self) -> str:
        return (f"Explorer '{self.title}' with controls {', '.join(self.controls)}: run the notebook to use it "
                f"(the image shows its first view)")

    def _repr_mimebundle_(self, **kwargs):
        """The live widget, plus a PNG of the current figure and a plain-text line: where widgets
        cannot run (GitHub, nbviewer, a notebook not yet run) the figure still shows. Returns
        ``(bundle, metadata)``: the PNG's alt text (``metadata["image/png"]["alt"]``, which
        nbconvert and the course site put on the image) and how to open this explorer again
        (``metadata["mpcore_explorer"]``: ``factory``, ``opening``)."""
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        metadata = {}
        if self._png is not None:
            bundle["image/png"] = self._png
            metadata["image/png"] = {"alt": self.alt}
        if self.factory is not None:
            metadata["mpcore_explorer"] = {"factory": self.factory, "opening": self.opening}
        return bundle, metadata


def _store(store):
    return store if store is not None else Store()


def _opening(**kwargs) -> dict | None:
    """The keyword arguments an explorer opened with, as JSON (tuples become lists), for
    ``metadata["mpcore_explorer"]``; None when one is not JSON-able (the explorer then tells no
    page how to rebuild it)."""
    try:
        return json.loads(json.dumps(kwargs, allow_nan=False))
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------------------------- part 1


def _autoencoder_grid_explorer(factory, title, sliders: dict, store, data_dir, config, opening: dict) -> Explorer:
    """Controls over AutoencoderConfig fields, ``{field: (label, shipped values)}``, opening at
    ``opening`` (``{field: value}``; a value of None opens at the main setting's); replots the
    feature grid and the cost curve. Each point is the study's run
    (:func:`study.autoencoder_grid_config`: λ = 3e-4 starts from λ = 1e-4's weights)."""
    store = _store(store)
    main = experiments.MAIN_AUTOENCODER
    start = {field: getattr(main, field) if opening.get(field) is None else opening[field] for field in sliders}
    for field, (label, values) in sliders.items():
        if start[field] not in values:
            raise ValueError(f"{title}: cannot open at {label} = {start[field]!r}; the grid has {list(values)}")
    controls = {field: _choice(label, values, start[field]) for field, (label, values) in sliders.items()}

    def needs(**values):
        fields = {"n_hidden": main.n_hidden, "lam": main.lam, "data_dir": data_dir, **values, **config}
        return [study.autoencoder_grid_config(**fields)]

    def render(**values):
        return plots.autoencoder_figure(store.get(needs(**values)[0]), scale="panel")

    return Explorer(controls, render, title, store=store, needs=needs, factory=factory,
                    opening=_opening(**start, **config))


def autoencoder_explorer(store=None, data_dir=None, n_hidden=None, lam=None, **config) -> Explorer:
    """λ and L_hid over the shipped grid (whitened patches, β = 3, ρ = 0.01). Opens at
    ``n_hidden`` and ``lam`` (default: the main setting, L_hid = 64, λ = 1e-4)."""
    return _autoencoder_grid_explorer("autoencoder_explorer", "Sparse autoencoder: hidden features",
                                      {"lam": ("λ", study.AE_GRID_LAMBDA), "n_hidden": ("L_hid", study.AE_GRID_HIDDEN)},
                                      store, data_dir, config, {"n_hidden": n_hidden, "lam": lam})


def sparsity_explorer(store=None, data_dir=None, beta=None, rho=None, **config) -> Explorer:
    """The sparsity weight β and the target activation ρ over the shipped grid
    (whitened patches, the main L_hid and λ). Opens at ``beta`` and ``rho`` (default: the main
    setting, β = 3, ρ = 0.01 -- the figure :func:`autoencoder_explorer` opens on; a page that
    shows both opens this one elsewhere, e.g. ``beta=0.3``, so that each shows a figure of its own)."""
    return _autoencoder_grid_explorer("sparsity_explorer", "Sparse autoencoder: the sparsity penalty",
                                      {"beta": ("β", study.AE_GRID_BETA), "rho": ("ρ", study.AE_GRID_RHO)},
                                      store, data_dir, config, {"beta": beta, "rho": rho})


# ------------------------------------------------------------------------------------- part 2

#: The contexts a page without a kernel shows for every model size (:meth:`Explorer.views`): the
#: one the explorer opens on and those notebook 2 (§6) and notebook 4 (§3) ask the reader to try.
LANGUAGE_MODEL_CONTEXTS = (tuple(language_model.DEFAULT_CONTEXT), ("of", "the", "united"), ("in", "order", "to"))


def language_model_explorer(store=None, data_dir=None, sizes=study.LM_SIZES,
                            trigram=language_model.DEFAULT_CONTEXT, **config) -> Explorer:
    """Pick (D, P) and three context words; shows the top-10 next words with probabilities.
    Opens on the first of ``sizes`` after ``trigram`` (or, when the vocabulary lacks one of its
    words, the data's most frequent context). Its :meth:`~Explorer.views` are every size with
    the opening context and :data:`LANGUAGE_MODEL_CONTEXTS`."""
    store = _store(store)
    ng = experiments.PARTS["language_model"].load(data_dir)
    vocab = sorted(ng.words)
    first, _ = language_model.default_context(ng.words, ng.train_x, trigram)
    controls = {
        "size": _choice("model", [(f"D={D}, P={P}", (D, P)) for D, P in sizes], tuple(sizes[0])),
        "w1": _choice("word 1", vocab, first[0]),
        "w2": _choice("word 2", vocab, first[1]),
        "w3": _choice("word 3", vocab, first[2]),
    }

    def needs(size, **words):
        return [experiments.language_model_config(size[0], size[1], data_dir=data_dir, **config)]

    def render(size, w1, w2, w3):
        result = store.get(needs(size)[0])
        return plots.top10_figure(language_model.top_k_words(result.params, ng.words, [w1, w2, w3], k=10), [w1, w2, w3],
                                  model=experiments.label(result.config, seed=True))

    def views():  # the word dropdowns span the vocabulary: a few contexts instead of all V³
        contexts = [tuple(first)] + [c for c in LANGUAGE_MODEL_CONTEXTS if c != tuple(first) and set(c) <= set(vocab)]
        return [{"size": (D, P), "w1": a, "w2": b, "w3": c} for D, P in sizes for a, b, c in contexts]

    return Explorer(controls, render, "Language model: the 10 most likely next words", store=store, needs=needs,
                    views=views, factory="language_model_explorer",
                    opening=_opening(sizes=[list(s) for s in sizes], trigram=list(first), **config))


# ------------------------------------------------------------------------------------- part 3


def sequence_explorer(store=None, data_dir=None, cell="gru", lr=None, seed=0, **config) -> Explorer:
    """Cell type, learning rate and seed over the shipped runs; replots loss curves and both
    confusion matrices. Opens at ``cell``, ``lr`` (default: the middle η) and ``seed``."""
    store = _store(store)
    grid = list(study.SEQ_LR_GRID)
    lr = grid[len(grid) // 2] if lr is None else lr
    controls = {
        "cell": _choice("cell", [(c.upper(), c) for c in study.SEQ_CELLS], cell),
        "lr": _choice("η", grid, lr),
        "seed": _choice("seed", list(study.SEQ_SEEDS), seed),
    }

    def needs(cell, lr, seed):
        return [experiments.sequence_config(cell, lr, seed, data_dir=data_dir, **config)]

    def render(cell, lr, seed):
        return plots.sequence_figure(store.get(needs(cell, lr, seed)[0]))

    return Explorer(controls, render, "Sequence classifiers", store=store, needs=needs, factory="sequence_explorer",
                    opening=_opening(cell=cell, lr=lr, seed=seed, **config))
