"""Figures. Every function takes results (arrays, histories, metrics) and returns a
matplotlib Figure; none trains or reads training state.

In the study's order: what every part shares, then one section per part (the autoencoder, the
language model, the sequence classifiers). A new figure goes into its part's section."""

from __future__ import annotations

import functools
import io

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import cycler
from matplotlib.colors import to_hex, to_rgb
from matplotlib.markers import MarkerStyle
from matplotlib.ticker import MaxNLocator

from . import metrics
from .models import autoencoder

# -- Shared by every part ------------------------------------------------------------------------


#: Okabe & Ito's colour-blind-safe colours (blue, vermillion, sky blue, reddish purple, orange,
#: bluish green, yellow), as published. Sky blue (2.3:1 on white), orange (2.2:1) and yellow
#: (1.3:1) are too light for a line or a marker (WCAG 1.4.11 asks 3:1 of graphics): the figures
#: draw :data:`PALETTE`, these darkened.
OKABE_ITO = ("#0072B2", "#D55E00", "#56B4E9", "#CC79A7", "#E69F00", "#009E73", "#F0E442")

#: The lowest contrast against the white background of any colour a figure draws a line, a
#: marker or a bar in (WCAG 1.4.11, non-text contrast).
GRAPHIC_CONTRAST = 3.0


def _darken_to(c: str, background: str, ratio: float) -> str:
    """``c`` scaled towards black (same hue) just enough to reach ``ratio`` against ``background``."""
    rgb = np.asarray(to_rgb(c))
    for f in np.linspace(1.0, 0.0, 101):
        if contrast_ratio(rgb * f, background) >= ratio:
            return to_hex(rgb * f).upper() if f < 1.0 else c
    return "#000000"


def relative_luminance(c) -> float:
    """WCAG 2's relative luminance of a colour (any matplotlib colour), 0 black to 1 white."""
    rgb = np.asarray(to_rgb(c))
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def contrast_ratio(a, b) -> float:
    """WCAG 2's contrast ratio of two colours, 1 to 21 (AA asks 4.5 for text, 3 for graphics)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)))
    return (lb + 0.05) / (la + 0.05)


#: The one palette of every figure: :data:`OKABE_ITO`, each colour darkened just enough to reach
#: :data:`GRAPHIC_CONTRAST` on white (blue, vermillion, reddish purple and bluish green
#: unchanged). Ordered so that the first three (the RNN, LSTM and GRU everywhere) stay apart
#: under simulated colour-vision deficiencies (Machado et al. 2009, full protanopia,
#: deuteranopia and tritanopia): vermillion lies a CIELAB distance of 80 or more from both
#: blues; sky blue, darkened, comes within 15-20 of blue (25 before darkening), which is one
#: reason every series also has its own line style and marker. Yellow, darkened to olive,
#: comes last.
PALETTE = tuple(_darken_to(c, "white", GRAPHIC_CONTRAST) for c in OKABE_ITO)

#: The palette's colours by name, for prose that names a colour.
COLOUR_NAMES = dict(zip(PALETTE, ("blue", "vermillion", "sky blue", "reddish purple", "orange", "bluish green",
                                  "olive (dark yellow)")))

#: Line styles for curves told apart by colour, so that they differ without colour too.
LINE_STYLES = ("-", "--", ":", "-.")

#: Markers for series told apart by colour (drawn every few points on long curves); "o" is kept
#: for single marked points (the kept epoch, one seed).
MARKERS = ("s", "^", "D", "v", "P", "X", "*")

#: The colour map of every map of values (confusion matrices; :func:`notebook_style` makes it the
#: default): perceptually uniform, and readable with every colour-vision deficiency. Images of
#: pixels stay grey.
COLOUR_MAP = "cividis"

#: The colour index (into :data:`PALETTE`, :data:`LINE_STYLES` and :data:`MARKERS`) of each
#: recurrent cell, the same in every figure.
CELLS = {"RNN": 0, "LSTM": 1, "GRU": 2, "MGU": 3}

#: Matplotlib settings of the notebooks and the report (:func:`notebook_style`): the palette as
#: the colour cycle -- so that a reader's own plots match -- and :data:`COLOUR_MAP` as the default map.
STYLE = {"axes.prop_cycle": cycler(color=PALETTE), "image.cmap": COLOUR_MAP}


def colour(k: int) -> str:
    """The ``k``-th colour of :data:`PALETTE` (cycling)."""
    return PALETTE[k % len(PALETTE)]


def series_style(label: str, k: int) -> dict:
    """Plot keywords of the ``k``-th series named ``label``: its colour, line style and marker
    (spaced evenly along the curve, on any axis scale), so that no two series differ by colour
    alone. A label that starts with a cell's name ("GRU", "LSTM (η=0.1)") gets that cell's style
    in every figure (:data:`CELLS`)."""
    i = CELLS.get(label.split()[0], k) if label.split() else k
    return {"color": colour(i), "ls": LINE_STYLES[i % len(LINE_STYLES)], "marker": MARKERS[i % len(MARKERS)],
            "ms": 5, "markevery": 0.1}


@functools.lru_cache(maxsize=256)
def _darkened(c: str, background: str, ratio: float) -> str:
    rgb = np.asarray(to_rgb(c))
    for f in np.linspace(1.0, 0.0, 101):
        if contrast_ratio(rgb * f, background) >= ratio:
            return to_hex(rgb * f)
    return "#000000"


def text_colour(c, background="white", ratio: float = 4.5) -> str:
    """The colour ``c`` darkened just enough for text on ``background`` to reach ``ratio`` (WCAG AA:
    4.5), e.g. a word label in its group's colour; a dark enough colour comes back unchanged."""
    return _darkened(to_hex(c), to_hex(background), ratio)


def ink_on(background) -> str:
    """Black or white: whichever contrasts more with ``background`` (text written on a colour)."""
    return "black" if contrast_ratio("black", background) >= contrast_ratio("white", background) else "white"


def describe(fig, alt: str):
    """Attach ``fig``'s text alternative (alt text): one or two sentences written from the data
    the figure shows -- what is plotted, and the numbers a sighted reader would take from it.
    Every figure function here describes the figure it returns; returns ``fig``."""
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError(f"alt text must be a non-empty string, got {alt!r}")
    fig.mpcore_alt = alt.strip()
    return fig


def alt_text(fig) -> str:
    """The text alternative :func:`describe` attached to ``fig`` (ValueError when there is none)."""
    alt = getattr(fig, "mpcore_alt", None)
    if alt is None:
        raise ValueError("this figure has no alt text: describe it with plots.describe(fig, text)")
    return alt


def png_bytes(fig, dpi: float | None = None) -> bytes:
    """``fig`` as PNG bytes, cropped to its content."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", dpi=dpi)
    return buffer.getvalue()


def show(fig):
    """Display ``fig`` in a notebook as a PNG with its alt text in the display metadata (which
    JupyterLab, nbconvert and the course site turn into the image's ``alt``), then close it."""
    from IPython.display import Image, display

    display(Image(png_bytes(fig)), metadata={"image/png": {"alt": alt_text(fig)}})
    plt.close(fig)


def notebook_style():
    """The notebooks' display defaults, set in one place: 8 x 5 inch figures, :data:`STYLE` (the
    palette as the colour cycle, a perceptually uniform colour map), and numpy arrays printed
    with 4 decimals and no scientific notation."""
    plt.rcParams["figure.figsize"] = (8, 5)
    plt.rcParams.update(STYLE)
    np.set_printoptions(precision=4, suppress=True)


def _one_line(text: str) -> str:
    """A (multi-line) title or label as one line of prose."""
    return ", ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _join(items) -> str:
    """``a, b and c``."""
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _a(text: str) -> str:
    """``text`` with its indefinite article: "an 8 × 8 grid", "a 3 × 3 matrix"."""
    spoken_vowel = text[:1] in "aeiouAEIOU8" or text.split(" ")[0] in ("11", "18")
    return ("an " if spoken_vowel else "a ") + text


def _count(n: int, noun: str) -> str:
    """``1 panel``, ``3 panels``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _panel_names(n: int) -> list:
    return {1: [""], 2: ["left", "right"], 3: ["left", "middle", "right"]}.get(n, [f"panel {k + 1}" for k in range(n)])


def _span(values, fmt: str = ".3g") -> str:
    """The first and last of ``values``: 'from a to b'."""
    return f"from {values[0]:{fmt}} to {values[-1]:{fmt}}"


def _tile(images: np.ndarray, cols: int, pad: int = 1, fill=1.0) -> np.ndarray:
    """Arrange (n, h, w[, 3]) images in a grid with ``pad`` pixels between them."""
    n, h, w = images.shape[:3]
    rows = int(np.ceil(n / cols))
    shape = (rows * (h + pad) + pad, cols * (w + pad) + pad) + images.shape[3:]
    canvas = np.full(shape, fill, dtype=float)
    for k in range(n):
        r, c = divmod(k, cols)
        canvas[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = images[k]
    return canvas


# -- Part 1: the sparse autoencoder (notebook 1) -------------------------------------------------


def patches_figure(rgb: np.ndarray, gray: np.ndarray, whitened: np.ndarray | None = None, n: int = 200,
                   seed: int = 0):
    """``n`` random RGB patches (N, 3, P, P) next to their normalised versions (N, P, P) and,
    if given, their whitened versions (N, P, P)."""
    idx = np.random.default_rng(seed).choice(len(rgb), size=min(n, len(rgb)), replace=False)
    cols = 20
    panels = [(_tile(rgb[idx].transpose(0, 2, 3, 1), cols), f"{len(idx)} RGB patches"),
              (_tile(gray[idx], cols), "course recipe (gray, mean removed, clipped, [0.1, 0.9])")]
    if whitened is not None:
        panels.append((_tile(whitened[idx], cols), "ZCA-whitened, then the same clipping"))
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 6.4))
    for ax, (img, title) in zip(axes, panels):
        ax.imshow(img, cmap="gray", vmin=0, vmax=1)
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    fig.tight_layout()
    shown = [("the grey patches", gray[idx])] + ([("the whitened ones", whitened[idx])] if whitened is not None else [])
    smooth = " and ".join(f"{neighbour_correlation(x):.2f} in {what}" for what, x in shown)
    P = rgb.shape[-1]
    ways = _join(["the RGB patches", "their grey versions after the course recipe"]
                 + (["the ZCA-whitened versions"] if whitened is not None else []))
    rows = int(np.ceil(len(idx) / cols))
    return describe(fig, f"{len(panels)} panels of the same {len(idx)} random {P} × {P} image patches, each panel "
                         f"{rows} rows × {min(cols, len(idx))} columns of patches: {ways}. Neighbouring pixels "
                         f"correlate {smooth} (1 = perfectly smooth shading, 0 = none).")


def neighbour_correlation(patches: np.ndarray) -> float:
    """How smooth (N, P, P) patches are: the correlation between the values of horizontally and
    vertically adjacent pixels, over all pairs (near 1: smooth shading; near 0: every pixel on its own)."""
    x = np.asarray(patches, dtype=np.float64)
    a = np.concatenate([x[:, :, :-1].ravel(), x[:, :-1, :].ravel()])
    b = np.concatenate([x[:, :, 1:].ravel(), x[:, 1:, :].ravel()])
    return float(np.corrcoef(a, b)[0, 1])


def variance_spectrum(patches: dict, title: str = "Variance along each principal direction"):
    """``{label: (N, D) rows}``: the eigenvalues of each set's covariance, largest first, on a
    log axis -- natural images put most variance in a few smooth directions; whitening flattens it."""
    fig, ax = plt.subplots(figsize=(6, 4))
    read = []
    for k, (label, X) in enumerate(patches.items()):
        X = np.asarray(X, dtype=np.float64)
        X = X - X.mean(axis=0)
        s = np.linalg.eigvalsh(X.T @ X / len(X))[::-1]
        s = s / s[0]
        ax.semilogy(np.arange(1, len(s) + 1), np.where(s > 0, s, np.nan), LINE_STYLES[k % len(LINE_STYLES)],
                    color=colour(k), label=label)
        last = np.flatnonzero(s > 0)[-1]  # numerically 0 or below: not drawn on the log axis
        read.append(f"{label}: {s[min(9, last)]:.2g} at rank {min(10, last + 1)} and {s[last]:.2g} at rank {last + 1}")
    ax.set_xlabel("rank of the principal direction (1 = the largest variance)")
    ax.set_ylabel("variance / largest variance")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return describe(fig, f"{_one_line(title)}: the variance along each of the {len(s)} principal directions, "
                         f"relative to the largest, against its rank (log scale), one line per set of patches. "
                         + "; ".join(read) + ".")


#: How a feature grid scales grey levels: each tile stretched to its own range, or one symmetric
#: range for every tile of a panel (0 is mid-grey), so tiles compare with each other.
SCALES = {"tile": "each tile stretched to its own range", "panel": "one grey scale per panel, 0 = mid-grey"}

#: The orientation selectivity (:func:`mpcore.metrics.feature_spectrum`) above which a feature's
#: description counts it as oriented (a grating scores ~0.9, a blob ~0, noise ~0.1). A broad
#: light-dark gradient is oriented too: the measure tells strokes from blotches, not strokes from
#: gradients, so the description says "oriented", never "edge".
ORIENTED = 0.5

#: The high-frequency shares (:func:`mpcore.metrics.feature_spectrum`) below which a grid's
#: features are described as smooth, and above which as fine-grained.
SMOOTH, FINE = 0.15, 0.5

def _feature_images(features: np.ndarray, scale: str = "tile", remove_dc: bool = False) -> np.ndarray:
    """(H, P*P) features as (H, P, P) images in [0, 1] (see :data:`SCALES`); ``remove_dc``
    subtracts each feature's pixel mean first (its uniform, DC component)."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {sorted(SCALES)}, got {scale!r}")
    H, D = features.shape
    P = int(round(np.sqrt(D)))
    f = np.asarray(features, dtype=np.float64).reshape(H, P, P)
    if remove_dc:
        f = f - f.mean(axis=(1, 2), keepdims=True)
    if scale == "panel":
        m = np.abs(f).max()
        return 0.5 + 0.5 * f / (m if m > 0 else 1.0)
    lo = f.min(axis=(1, 2), keepdims=True)
    hi = f.max(axis=(1, 2), keepdims=True)
    return (f - lo) / np.where(hi > lo, hi - lo, 1)


def _grid_layout(features: np.ndarray) -> str:
    H, D = features.shape
    cols = int(np.ceil(np.sqrt(H)))
    P = int(round(np.sqrt(D)))
    return f"{int(np.ceil(H / cols))} × {cols} grid of the {H} hidden units' input weights as {P} × {P} images"


def features_description(features: np.ndarray, layout: bool = True, note: str = "") -> str:
    """What a feature grid shows, measured (:func:`mpcore.metrics.feature_spectrum`): the grid's
    layout (unless ``layout`` is False) followed by ``note`` in brackets (e.g. the grey scale),
    how many features are oriented (selectivity above :data:`ORIENTED`) and the mean
    selectivity, the mean high-frequency share (smooth below :data:`SMOOTH`, fine-grained above
    :data:`FINE`), and, when most of the weights are one uniform brightness component, their
    mean |cosine| with the uniform patch. Only the measures' words: "oriented" for a stroke and
    for a gradient alike."""
    F = np.asarray(features, dtype=np.float64)
    H = len(F)
    selectivity, high = metrics.feature_spectrum(F)
    oriented = int(np.sum(selectivity > ORIENTED))
    uniform = float(np.mean(np.abs(metrics.uniform_cosine(F))))
    h = high.mean()
    grain = (f"smooth (high-frequency share {h:.2f})" if h < SMOOTH else
             f"fine-grained, like pixel noise (high-frequency share {h:.2f})" if h > FINE and oriented <= 0.4 * H else
             f"fine-grained (high-frequency share {h:.2f})" if h > FINE else f"high-frequency share {h:.2f}")
    head = (_grid_layout(F) + (f" ({note})" if note else "") + "; ") if layout else (f"{note}; " if note else "")
    text = f"{head}{oriented} of {H} oriented (selectivity above {ORIENTED:g}; mean {selectivity.mean():.2f}), {grain}"
    if uniform > 0.5:
        text += f"; most weight is one uniform brightness (mean |cosine| with the uniform patch {uniform:.2f})"
    return text


def feature_grid(features: np.ndarray, title: str = "", ax=None, scale: str = "tile", remove_dc: bool = False):
    """Hidden features (H, P*P) as P x P images, grey levels as ``scale`` says (:data:`SCALES`).
    Drawn on ``ax`` when given (a panel of the caller's figure, which the caller describes), else
    on a figure of its own, described (:func:`features_description`)."""
    H = features.shape[0]
    cols = int(np.ceil(np.sqrt(H)))
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(_tile(_feature_images(features, scale, remove_dc), cols), cmap="gray", vmin=0, vmax=1)
    ax.set_title(title)
    ax.axis("off")
    if own:
        describe(ax.figure, (f"{_one_line(title)}: " if title else "")
                 + _a(features_description(features, note=_scale_note(scale, remove_dc))) + ".")
    return ax.figure


def _scale_note(scale: str, remove_dc: bool) -> str:
    return ("pixel mean (DC) removed; " if remove_dc else "") + SCALES[scale]


def _first_line(label: str) -> str:
    """A panel's label without the measures its later lines carry (the alt text says them once)."""
    return str(label).strip().splitlines()[0].strip() if str(label).strip() else ""


def feature_grids(features: dict, title: str = "", scale: str = "tile", remove_dc: bool = False,
                  measured: dict | None = None):
    """``{label: (H, P*P)}`` feature grids side by side; the grey scale is named under the title.
    ``measured`` (``{label: {...}}``, optional) gives what the grids cannot show, measured by the
    caller on the run: ``"mean_activation"`` and ``"units_off"`` (units whose activation does not
    vary) go into each panel's description; ``"weight_norm"`` (the mean length of a unit's input
    weights) is said when the panels' differ more than fivefold, since the features are drawn at
    unit length."""
    fig, axes = plt.subplots(1, len(features), figsize=(5.5 * len(features), 6.4), squeeze=False,
                             layout="constrained")
    for ax, (label, f) in zip(axes[0], features.items()):
        feature_grid(f, label, ax=ax, scale=scale, remove_dc=remove_dc)
    fig.suptitle((title + "\n" if title else "") + f"({_scale_note(scale, remove_dc)})", fontsize=11)
    measured = measured or {}
    layouts = {_grid_layout(np.asarray(f)) for f in features.values()}
    same = len(layouts) == 1  # say the layout once
    names = _panel_names(len(features))
    panels, defined = [], False
    for where, (label, f) in zip(names, features.items()):
        text = f"{where.capitalize() + ', ' if where else ''}{_first_line(label)}: {features_description(f, not same)}"
        m = measured.get(label, {})
        if "units_off" in m:
            off = int(m["units_off"])
            text += (f"; {'every unit' if off == len(f) else f'{off} of {len(f)} units'} switched off" if off
                     else "; no unit switched off")
            if off and not defined:
                text += " (the same activation for every patch)"
                defined = True
        if "mean_activation" in m:
            text += f", mean activation {m['mean_activation']:.3f}"
        panels.append(text + ".")
    norms = {where: measured.get(label, {}).get("weight_norm") for where, label in zip(names, features)}
    norms = {k: v for k, v in norms.items() if v is not None}
    if len(norms) > 1 and max(norms.values()) > 5 * min(norms.values()):
        short, long = min(norms, key=norms.get), max(norms, key=norms.get)
        panels.append(f"The {short} panel's weights are {norms[long] / norms[short]:.0f} times shorter than the "
                      f"{long} one's (mean length {norms[short]:.2g} against {norms[long]:.2g}), which the "
                      f"unit-length tiles hide.")
    head = f"{_one_line(title)}: " if title else ""
    each = f", each {_a(layouts.pop())}" if same else ""
    return describe(fig, f"{head}{_count(len(features), 'grid')} of hidden features side by side{each} "
                         f"({_scale_note(scale, remove_dc)}). " + " ".join(panels))


def feature_grid_matrix(features: dict, title: str = "Hidden features", notes: dict | None = None,
                        labels: tuple = ("L_hid", "λ"), scale: str = "tile", remove_dc: bool = False,
                        panel_size: float = 4.2, measured: dict | None = None):
    """``{(row value, column value): (H, P*P)}`` as a grid of feature grids, e.g. rows L_hid and
    columns λ (the default ``labels``), or rows β and columns ρ. ``notes`` maps the same keys to
    a second title line (e.g. measured selectivity); ``measured`` maps them to what the caller
    measured on each run: ``{"units_off": n}`` (units whose activation does not vary). The
    suptitle names the grey scale; the alt text gives each panel's mean orientation selectivity,
    the most and least oriented panels (every one that ties at the 2 decimals said), each
    column's range of high-frequency share and, with ``measured``, the units switched off."""
    rows = sorted({r for r, _ in features})
    cols = sorted({c for _, c in features})
    fig, axes = plt.subplots(len(rows), len(cols), figsize=(panel_size * len(cols), (panel_size + 0.45) * len(rows)),
                             squeeze=False, layout="constrained")
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            if (r, c) not in features:
                axes[i, j].axis("off")
                continue
            label = f"{labels[0]}={r:g}, {labels[1]}={c:g}"
            if notes and (r, c) in notes:
                label += "\n" + notes[(r, c)]
            feature_grid(features[(r, c)], label, ax=axes[i, j], scale=scale, remove_dc=remove_dc)
            axes[i, j].title.set_fontsize(9)
    fig.suptitle(f"{title}\n({_scale_note(scale, remove_dc)})")
    spectra = {k: metrics.feature_spectrum(f) for k, f in features.items()}
    selectivity = {k: round(float(sel.mean()), 2) for k, (sel, _) in spectra.items()}  # as said: 2 decimals
    high = {k: float(h.mean()) for k, (_, h) in spectra.items()}
    at = lambda k: f"{labels[0]} = {k[0]:g}, {labels[1]} = {k[1]:g}"  # noqa: E731
    table = "; ".join(f"{labels[0]} = {r:g}: " + ", ".join(f"{selectivity[(r, c)]:.2f}" if (r, c) in features
                                                             else "none" for c in cols) for r in rows)
    text = (f"{_one_line(title)}: {_a(f'{len(rows)} × {len(cols)} matrix')} of hidden-feature grids, rows "
            f"{labels[0]} = {', '.join(f'{r:g}' for r in rows)}, columns {labels[1]} = "
            f"{', '.join(f'{c:g}' for c in cols)} ({_scale_note(scale, remove_dc)}). Mean orientation selectivity "
            f"of each panel, by row: {table}.")
    extremes = []  # the most and least oriented panels, every one that ties at 2 decimals
    for word, value in (("most", max(selectivity.values())), ("least", min(selectivity.values()))):
        tied = [k for k in features if selectivity[k] == value]
        if len(tied) < len(features):
            extremes.append(f"{word} oriented ({value:.2f}): {'; '.join(at(k) for k in tied)}")
    text += "".join(f" {e[0].upper()}{e[1:]}." for e in extremes)
    spans = []
    for c in cols:
        h = [high[(r, c)] for r in rows if (r, c) in features]
        if h:
            spans.append(f"{labels[1]} = {c:g}: {min(h):.2f}" + (f"–{max(h):.2f}" if f"{min(h):.2f}" != f"{max(h):.2f}"
                                                                  else ""))
    text += f" High-frequency share by column (0 smooth, near 1 pixel noise): {'; '.join(spans)}."
    off = {k: int(v["units_off"]) for k, v in (measured or {}).items() if k in features and v.get("units_off")}
    if measured is not None:
        text += (" Units switched off: " + "; ".join(f"{off[k]} of {len(features[k])} at {at(k)}" for k in off) + "."
                 if off else " No unit is switched off.")
    return describe(fig, text)


def reconstructions(X: np.ndarray, X_hat: np.ndarray, n: int = 12, title: str = ""):
    """The first ``n`` patches (rows of P*P values in [0, 1]) above their reconstructions, large
    enough to compare pixel by pixel; grey levels on the data's scale (0 black, 1 white)."""
    n = min(n, len(X))
    P = int(round(np.sqrt(X.shape[1])))
    fig, axes = plt.subplots(2, 1, figsize=(12, 0.7 + 2 * 11.0 / max(n, 1)), layout="constrained")
    for ax, img, label in zip(axes, (X, X_hat), ("input", "reconstruction")):
        shown = ax.imshow(_tile(np.asarray(img[:n]).reshape(n, P, P), n, pad=2), cmap="gray", vmin=0, vmax=1)
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(shown, ax=axes, fraction=0.02, pad=0.01, label="grey level\n(0 black, 1 white)")
    if title:
        axes[0].set_title(title)
    x, x_hat = np.asarray(X[:n], dtype=np.float64), np.asarray(X_hat[:n], dtype=np.float64)
    return describe(fig, (f"{_one_line(title)}: t" if title else "T")
                    + f"he first {n} patches ({P} × {P} pixels, top row) above their reconstructions (bottom row), "
                      f"grey levels from 0 black to 1 white. The inputs span {x.min():.2f} to {x.max():.2f} "
                      f"(pixel standard deviation {x.std():.3f}), the reconstructions {x_hat.min():.2f} to "
                      f"{x_hat.max():.2f} (standard deviation {x_hat.std():.3f}); mean squared error per pixel "
                      f"{np.mean((x - x_hat) ** 2):.4f}.")


def cost_curve(history: dict, title: str = ""):
    """Cost per iteration (L-BFGS) or epoch (SGD) on a log scale."""
    fig, ax = plt.subplots(figsize=(6, 4))
    J = np.asarray(history["train_loss"], dtype=float)
    ax.semilogy(np.arange(1, len(J) + 1), J, color=colour(0))
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost J")
    ax.set_title(title)
    fig.tight_layout()
    return describe(fig, (f"{_one_line(title)}: c" if title else "C")
                    + f"ost J per iteration on a log scale, {_span(J, '.4g')} over {len(J)} iterations.")


#: The terms of the autoencoder's cost as :func:`mpcore.models.autoencoder.cost_terms` names them.
COST_TERMS = {"reconstruction": "reconstruction ½‖x − x̂‖² (mean over patches)",
              "weight_decay": "weight decay (λ/2)(‖W₁‖² + ‖W₂‖²)", "sparsity": "sparsity β Σ KL(ρ ‖ ρ̂ⱼ)"}

#: Each term's line style and marker (the total is solid black, the mean patch's reconstruction
#: dotted), so that the terms differ without colour too.
COST_TERM_STYLES = {"reconstruction": {"ls": "--"}, "weight_decay": {"ls": "-."},
                    "sparsity": {"ls": "-", "marker": "^", "ms": 4, "markevery": 0.1}}

COST_TERMS_ORDER = {name: k for k, name in enumerate(COST_TERMS)}


def cost_terms_axes(ax, history: dict, baseline: float | None = None) -> str:
    """The total cost and, when the history recorded them (``history["monitor"]``), its three terms
    per L-BFGS iteration, on log-log axes (every value is positive). ``baseline``: the
    reconstruction term of always answering the mean training patch, drawn dotted. Returns the
    panel's description (for the figure's alt text)."""
    J = np.asarray(history["train_loss"], dtype=float)
    it = np.arange(1, len(J) + 1)
    ax.loglog(it, J, color="k", lw=2, label="total cost J")
    monitor = history.get("monitor") or {}
    read = []
    for name, label in COST_TERMS.items():
        if name in monitor:
            v = np.asarray(monitor[name], dtype=float)
            zeros = int(np.sum(v <= 0))  # a log axis cannot draw 0 (λ = 0, β = 0): said, not dropped silently
            note = f" ({zeros} iterations exactly 0, not drawn)" if zeros else ""
            ax.loglog(it[: len(v)], np.where(v > 0, v, np.nan), color=colour(COST_TERMS_ORDER[name]),
                      label=label + note, **COST_TERM_STYLES[name])
            read.append(f"{name.replace('_', ' ')} {_span(v, '.3g')}{note}")
    if baseline is not None:
        ax.axhline(baseline, color=colour(0), ls=":", lw=1.2, label="reconstruction of the mean patch")
    ax.set_xlabel("L-BFGS iteration (log scale)")
    ax.set_ylabel("cost (log scale)")
    ax.legend(fontsize=8)
    text = f"the total cost J per L-BFGS iteration on log-log axes, {_span(J, '.4g')} over {len(J)} iterations"
    if read:
        text += f", with its terms: {_join(read)}"
    if baseline is not None:
        text += f"; the mean patch's reconstruction term, {baseline:.4g}, is a dotted line"
    return text


def cost_terms_figure(history: dict, title: str = "", baseline: float | None = None):
    """The three terms of the autoencoder's cost during training, one panel each (cost on a linear
    axis, iterations on a log axis) from iteration 10 on (the first iterations fall from far
    above), and all of them with the total on log-log axes (:func:`cost_terms_axes`)."""
    monitor = history.get("monitor") or {}
    names = [n for n in COST_TERMS if n in monitor]
    rows = 2 if names else 1
    fig, axes = plt.subplots(rows, 2 if names else 1, figsize=(12, 4.2 * rows), squeeze=False, layout="constrained")
    axes = axes.ravel()
    overview = cost_terms_axes(axes[0], history, baseline)
    axes[0].set_title("the total and its three terms, from iteration 1", fontsize=10)
    first = 10 if len(history["train_loss"]) > 10 else 1  # a short run: every iteration
    for ax, name in zip(axes[1:], names):
        v = np.asarray(monitor[name], dtype=float)
        it = np.arange(1, len(v) + 1)
        ax.plot(it[first - 1:], v[first - 1:], color=colour(COST_TERMS_ORDER[name]), **COST_TERM_STYLES[name])
        if name == "reconstruction" and baseline is not None:
            ax.axhline(baseline, color=colour(0), ls=":", lw=1.2, label="mean patch")
            ax.legend(fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel("L-BFGS iteration (log scale)")
        ax.set_ylabel("term of the cost")
        ax.set_title(f"{COST_TERMS[name]}, from iteration {first}", fontsize=10)
    if title:
        fig.suptitle(title)
    text = (f"{_one_line(title)}. " if title else "") + overview[0].upper() + overview[1:] + "."
    if names:
        text += (f" {len(names)} more panels show each term alone from iteration {first} "
                 f"({_join(n.replace('_', ' ') for n in names)}): the cost on a linear axis, the iterations on a "
                 f"log axis.")
    return describe(fig, text)


def spectrum_note(metrics: dict) -> str:
    """A feature grid's measured edge-likeness, for a title: selectivity and high-frequency share."""
    return f"selectivity {metrics['selectivity']:.2f}, high-freq. {metrics['high_frequency']:.2f}"


def autoencoder_figure(result, scale: str = "tile", remove_dc: bool = False):
    """Hidden features and the cost during training of one autoencoder result, side by side."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.4), gridspec_kw={"width_ratios": [1.1, 1]}, layout="constrained")
    c, m = result.config, result.metrics
    white = "whitened" if c.zca_epsilon is not None else "course recipe, not whitened"
    start = f", from λ={c.warm_start_lam:g}'s weights" if getattr(c, "warm_start_lam", None) is not None else ""
    setting = f"L_hid={c.n_hidden}, λ={c.lam:g}, β={c.beta:g}, ρ={c.rho:g} ({white}{start})"
    features = autoencoder.hidden_features(result.params)
    feature_grid(features, f"{setting}\n{spectrum_note(m)}, mean activation {m['mean_activation']:.3f}\n"
                           f"({_scale_note(scale, remove_dc)})", ax=axes[0], scale=scale, remove_dc=remove_dc)
    axes[0].title.set_fontsize(10)
    if c.solver == "lbfgs":
        cost = cost_terms_axes(axes[1], result.history)
        axes[1].set_title(f"final cost {m['cost']:.4f} after {m['iterations']} iterations", fontsize=10)
    else:
        loss = np.asarray(result.history["train_loss"], dtype=float)
        axes[1].plot(np.arange(1, len(loss) + 1), loss, color=colour(0))
        axes[1].set_xlabel("epoch")
        axes[1].set_ylabel("mean mini-batch cost")
        axes[1].set_title(f"full-batch cost {m['cost']:.4f} after {m['iterations']} epochs", fontsize=10)
        cost = (f"the mean mini-batch cost per SGD epoch, {_span(loss, '.4g')} over {len(loss)} epochs; full-batch "
                f"cost of the weights kept {m['cost']:.4f}")
    return describe(fig, f"Sparse autoencoder, {setting}. Left: "
                         f"{_a(features_description(features, note=_scale_note(scale, remove_dc)))}; mean hidden "
                         f"activation {m['mean_activation']:.3f}. Right: {cost}.")


# -- Part 2: the language model (notebook 2) -----------------------------------------------------


def loss_curves(histories: dict, title: str = "", ylabel: str = "mean cross-entropy (nats per predicted word)"):
    """``{label: history}``: training (dashed) and validation (solid) loss per epoch, one colour
    and marker per label, the kept epoch (lowest validation loss) as a dot. The legend's first
    column names the models by colour and marker, its second what each line style means."""
    fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    models, read = [], []
    for k, (label, h) in enumerate(histories.items()):
        epochs = np.arange(1, len(h["train_loss"]) + 1)
        style = series_style(label, k)
        color, mark = style["color"], {key: style[key] for key in ("marker", "ms", "markevery")}
        ax.plot(epochs, h["train_loss"], "--", color=color, **mark)
        said = f"{label}: training {_span(h['train_loss'], '.3f')}"
        if h.get("val_loss"):
            ax.plot(epochs, h["val_loss"], "-", color=color, **mark)
            best = h["best_epoch"]
            ax.plot(best + 1, h["val_loss"][best], "o", color=color, ms=8)
            said += f", validation lowest {h['val_loss'][best]:.3f} at the kept epoch {best + 1} of {len(epochs)}"
            label = f"{label} (kept epoch {best + 1})"
        read.append(said)
        models.append(plt.Line2D([], [], color=color, lw=3, marker=style["marker"], label=label))
    styles = [plt.Line2D([], [], ls="--", color="0.3", label="training: mean over the epoch's mini-batches"),
              plt.Line2D([], [], ls="-", color="0.3", label="validation, after the epoch"),
              plt.Line2D([], [], ls="", marker="o", color="0.3", label="epoch kept (lowest validation)")]
    blank = plt.Line2D([], [], ls="", label=" ")  # pads the shorter column
    rows = max(len(models), len(styles))
    ax.legend(handles=models + [blank] * (rows - len(models)) + styles + [blank] * (rows - len(styles)),
              ncol=2, fontsize=9, loc="upper right")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch (one pass over the training data)")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.set_title(title)
    return describe(fig, (f"{_one_line(title)}: t" if title else "T")
                    + f"raining (dashed) and validation (solid) {ylabel.split(' (')[0]} per epoch for "
                      f"{_count(len(histories), 'model')}. " + "; ".join(read) + ".")


def _word_label(w: str) -> str:
    """A word as a label: punctuation in quotes, so that "," and "." can be read."""
    return w if any(ch.isalnum() for ch in w) else f"“{w}”"


def most_frequent(counts, n: int) -> np.ndarray:
    """Indices of the ``n`` largest ``counts``, largest first (ties: the lower index first)."""
    return np.argsort(-np.asarray(counts), kind="stable")[:n]


def embedding_pca(R: np.ndarray, idx) -> tuple[np.ndarray, np.ndarray]:
    """The rows ``idx`` of the embeddings R (V, D) on their first two principal components:
    ``(xy (n, 2), share (2,))``, ``share`` the fraction of the rows' total variance each component
    holds. The SVD fixes each component only up to its sign: the sign is chosen so that the
    component's coefficients sum to a positive number (the same picture on every platform)."""
    E = np.asarray(R, dtype=np.float64)[np.asarray(idx)]
    E = E - E.mean(axis=0)
    _, S, Vt = np.linalg.svd(E, full_matrices=False)
    xy = E @ Vt[:2].T * np.sign(Vt[:2].sum(axis=1))
    return xy, S[:2] ** 2 / np.sum(S**2)


#: Where a word's label may go, tried in this order: (dx, dy) in points from the word's dot,
#: and the label's alignment there.
_LABEL_SPOTS = [(3, 2, "left", "bottom"), (3, -2, "left", "top"), (-3, 2, "right", "bottom"),
                (-3, -2, "right", "top"), (0, 4, "center", "bottom"), (0, -4, "center", "top"),
                (5, 0, "left", "center"), (-5, 0, "right", "center")]


def place_labels(ax, xy: np.ndarray, labels: list, order, colors=None, fontsize: float = 9,
                 marker_radius: float = 2.5, pad: float = 1.0) -> list:
    """Label the points ``xy`` (n, 2, data coordinates) of ``ax`` without overlaps, a simple label
    repulsion: in ``order`` (most important first), try the spots of :data:`_LABEL_SPOTS` around
    each point and keep the first whose box (grown by ``pad`` points) lies inside the axes and
    overlaps neither a label already placed nor another point's dot (radius ``marker_radius``
    points); a point with no free spot stays unlabelled. Call it once the axes' limits and the
    figure's layout are final. Returns the indices of the labelled points."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    px = fig.dpi / 72  # display pixels per point
    pts = ax.transData.transform(np.asarray(xy, dtype=float))
    box = ax.get_window_extent(renderer)
    r, g = marker_radius * px, pad * px
    placed = np.empty((0, 4))  # x0, y0, x1, y1 of every label placed, in display pixels
    labelled = []
    for k in order:
        x, y = pts[k]
        if not (box.x0 <= x <= box.x1 and box.y0 <= y <= box.y1):
            continue  # outside the view (a zoomed panel)
        others = np.delete(pts, k, axis=0)
        for dx, dy, ha, va in _LABEL_SPOTS:
            t = ax.annotate(labels[k], xy[k], xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                            fontsize=fontsize, color=None if colors is None else colors[k])
            b = t.get_window_extent(renderer)
            x0, y0, x1, y1 = b.x0 - g, b.y0 - g, b.x1 + g, b.y1 + g
            p0, p1 = placed[:, :2], placed[:, 2:]
            free = (box.x0 <= x0 and x1 <= box.x1 and box.y0 <= y0 and y1 <= box.y1
                    and not np.any((p0[:, 0] < x1) & (x0 < p1[:, 0]) & (p0[:, 1] < y1) & (y0 < p1[:, 1]))
                    and not np.any((others[:, 0] > x0 - r) & (others[:, 0] < x1 + r)
                                   & (others[:, 1] > y0 - r) & (others[:, 1] < y1 + r)))
            if free:
                placed = np.vstack([placed, [x0, y0, x1, y1]])
                labelled.append(int(k))
                break
            t.remove()
    return labelled


def densest_window(xy: np.ndarray, frac: float = 0.3) -> tuple[float, float, float, float]:
    """``(x0, x1, y0, y1)``: a window ``frac`` of the points' spread wide and high, placed where it
    holds the most points (centred on one of them), then shrunk to those points plus a margin."""
    xy = np.asarray(xy, dtype=float)
    w, h = frac * np.ptp(xy, axis=0)
    inside = (np.abs(xy[:, None, 0] - xy[None, :, 0]) <= w / 2) & (np.abs(xy[:, None, 1] - xy[None, :, 1]) <= h / 2)
    members = xy[inside[np.argmax(inside.sum(axis=1))]]
    (x0, y0), (x1, y1) = members.min(axis=0), members.max(axis=0)
    mx, my = 0.15 * max(x1 - x0, 1e-9), 0.08 * max(y1 - y0, 1e-9)  # labels run sideways: more room there
    return x0 - mx, x1 + mx, y0 - my, y1 + my


#: The colour of the words in no group, on the embedding map (their labels: :func:`text_colour` of it).
OTHER_WORDS = "0.55"


def _marker_path(marker):
    """A marker's path in points, for a scatter whose points have different markers."""
    style = MarkerStyle(marker)
    return style.get_path().transformed(style.get_transform())


def embedding_map(R: np.ndarray, words: list, n: int = 100, counts=None, groups: dict | None = None,
                  P: int | None = None, seed: int | None = None, zoom: bool = True):
    """Embeddings R (V, D) of ``n`` words projected on their first two principal components
    (:func:`embedding_pca`): the ``n`` most frequent by ``counts`` (V,) when given (e.g.
    occurrences in the training data), else the first ``n`` of ``words``.

    ``groups`` (``{name: words}``) gives the words of each group (its words that are among the
    ``n``) a colour and a marker of their own, the others grey dots; each label in its dot's
    colour, darkened to contrast 4.5:1 with the white background (:func:`text_colour`). Labels
    never overlap each other or a dot: a word whose label has no free spot is drawn unlabelled
    (:func:`place_labels`; the groups' words are labelled first, then the others by frequency).
    With ``zoom``, a second panel enlarges the densest part of the map (:func:`densest_window`,
    marked by a dashed box) where more labels fit.
    ``P`` and ``seed`` (the model's hidden size and seed) go into the title with D. The labelled
    words of each panel are in ``fig.labelled`` (``[indices into words]`` per panel)."""
    idx = most_frequent(counts, n) if counts is not None else np.arange(min(n, len(words)))
    xy, share = embedding_pca(R, idx)
    names = [words[i] for i in idx]
    color = np.array([OTHER_WORDS] * len(idx), dtype=object)
    marker = np.array(["o"] * len(idx), dtype=object)
    first = []
    legend = []
    centres = []
    for k, (group, members) in enumerate((groups or {}).items()):
        hits = [j for j, w in enumerate(names) if w in set(members)]
        if hits:
            color[hits], marker[hits] = colour(k), MARKERS[k % len(MARKERS)]
            first += [j for j in hits if j not in first]
            legend.append((group, colour(k), len(hits), MARKERS[k % len(MARKERS)]))
            centres.append(f"{group} ({_count(len(hits), 'word')}) {map_position(xy[hits].mean(axis=0), xy)}")
    rest = [j for j in range(len(idx)) if j not in first]  # idx is most frequent first
    order = first + rest
    panels = [None] + ([densest_window(xy)] if zoom else [])  # a panel's window, None: the whole map
    fig, axes = plt.subplots(1, len(panels), figsize=(8.2 * len(panels), 8.2), squeeze=False, layout="constrained")
    axes = axes[0]
    for ax, window in zip(axes, panels):
        dots = ax.scatter(xy[:, 0], xy[:, 1], s=16, c=list(color), zorder=2)
        dots.set_paths([_marker_path(m) for m in marker])  # each group its own marker, not only its colour
        if window is None:
            ax.set_aspect("equal", adjustable="datalim")  # distances as in the projection
            ax.margins(0.06)
        else:
            ax.set_xlim(*window[:2])  # widened to the same scale on both axes once the layout is known
            ax.set_ylim(*window[2:])
        # the final title has the same number of lines: the layout leaves it room
        ax.set_title("all the words: 100 of 100 labelled\n", fontsize=10)
        ax.set_xlabel(f"principal component 1 ({share[0]:.1%} of the variance; embedding units)")
        ax.set_ylabel(f"principal component 2 ({share[1]:.1%} of the variance; embedding units)")
        ax.grid(alpha=0.25)
    handles = [plt.Line2D([], [], ls="", marker=mk, color=c, label=f"{g} ({m})") for g, c, m, mk in legend]
    if handles:
        handles.append(plt.Line2D([], [], ls="", marker="o", color=OTHER_WORDS,
                                  label=f"other words ({len(idx) - sum(m for _, _, m, _ in legend)})"))
        fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 4), fontsize=10,
                   frameon=False)
    which = f"the {len(idx)} most frequent words" if counts is not None else f"the first {len(idx)} words"
    model = ", ".join([f"D={R.shape[1]}"] + ([f"P={P}"] if P is not None else [])
                      + ([f"seed {seed}"] if seed is not None else []))
    fig.suptitle(f"Word embeddings of the language model ({model}): {which}, projected by PCA\n"
                 f"on their first two principal components, which hold {share.sum():.1%} of the variance of the "
                 f"{R.shape[1]}-D embeddings", fontsize=12)
    fig.draw_without_rendering()  # the layout and the equal-aspect limits, final before labels are placed
    fig.set_layout_engine("none")
    fig.labelled = []
    counted = []  # (labelled, shown) per panel
    for ax, window in zip(axes, panels):
        if window is not None:  # one data unit as long on both axes, as in the full map
            x0, x1, y0, y1 = window
            box = ax.get_window_extent()
            scale = max((x1 - x0) / box.width, (y1 - y0) / box.height)
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            ax.set_xlim(cx - scale * box.width / 2, cx + scale * box.width / 2)
            ax.set_ylim(cy - scale * box.height / 2, cy + scale * box.height / 2)
            (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
            axes[0].add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ls="--", lw=1, color="k",
                                            zorder=1))
        done = place_labels(ax, xy, [_word_label(w) for w in names], order, colors=[text_colour(c) for c in color])
        fig.labelled.append([int(idx[j]) for j in done])
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        shown = int(np.sum((xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)))
        where = "all the words" if window is None else "the dashed box of the left panel, enlarged"
        ax.set_title(f"{where}: {len(done)} of {shown} words labelled\n"
                     "(a word whose label would cover another label or dot is left unlabelled)", fontsize=10)
        counted.append((len(done), shown))
    others = len(idx) - sum(m for _, _, m, _ in legend)
    zoomed = (f"; a second panel enlarges the densest part ({counted[1][0]} of {counted[1][1]} words labelled "
              f"there)" if zoom else "")
    groups_said = (f" Where each group's centre lies (each group its own colour and marker): {'; '.join(centres)}; "
                   f"the {others} other words are grey dots." if centres else "")
    return describe(fig, f"Word embeddings of the language model ({model}): {which} projected by PCA on their first "
                         f"two principal components ({share[0]:.1%} and {share[1]:.1%} of the variance), one marker "
                         f"per word, {counted[0][0]} of {counted[0][1]} labelled{zoomed}.{groups_said}")


#: How far from the middle of a map (as a share of its half-width) a point is still "at the centre".
_CENTRE = 0.2


def map_position(point, xy: np.ndarray) -> str:
    """Where ``point`` lies on a map of the points ``xy`` (n, 2), in words: its offset from the
    middle of their range, as a share of the half-range on each axis, called centre (below
    :data:`_CENTRE`), "left/right of" or "below/above" the centre (below 0.6), or "far left", "far
    right", "near the bottom", "near the top"."""
    xy = np.asarray(xy, dtype=float)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    u = (np.asarray(point, dtype=float) - (lo + hi) / 2) / np.where(hi > lo, (hi - lo) / 2, 1.0)
    words = []
    for v, (near_lo, lo_word, hi_word, near_hi) in zip(u[::-1], (("near the bottom", "below", "above", "near the top"),
                                                                ("far left", "left of", "right of", "far right"))):
        if abs(v) >= 0.6:
            words.append(near_lo if v < 0 else near_hi)
        elif abs(v) >= _CENTRE:
            words.append(f"{lo_word if v < 0 else hi_word} the centre")
    if not words:
        return "at the centre"
    if len(words) == 2 and words[0].endswith("the centre") and words[1].endswith("the centre"):
        return f"{words[0].removesuffix(' the centre')} and {words[1]}"  # "below and left of the centre"
    return ", ".join(words)


#: Colours of the next-word bars: the model's most likely words, and the true 4th word (which is
#: also hatched, and its tick label written in its colour, darkened for contrast).
NEXT_WORD_COLORS = {"predicted": PALETTE[0], "true": PALETTE[1]}


#: The hatching of the true 4th word's bar.
TRUE_WORD_HATCH = "///"


def next_word_text(candidates, actual=None, actual_rank=None, actual_prob=None, n_words=None,
                   shown: int | None = None) -> str:
    """What a panel of :func:`next_word_axes` shows: the candidates with their probabilities, most
    likely first (the first ``shown`` of them, default all), and the true word's rank and probability."""
    text = ", ".join(f"{_word_label(w)} {p:.3f}" for w, p in candidates[:shown])
    if shown and shown < len(candidates):
        text += f" (down to {candidates[-1][1]:.3f} for the {len(candidates)}th)"
    if actual is not None:
        probs = dict(candidates)
        rank = actual_rank if actual_rank is not None else (
            [w for w, _ in candidates].index(actual) + 1 if actual in probs else None)
        prob = actual_prob if actual_prob is not None else probs.get(actual)
        of = f" of {n_words}" if n_words is not None else ""
        where = f"ranks {rank}{of}" if rank is not None else "is not among them"
        text += f"; the true 4th word “{actual}” {where}" + (f", probability {prob:.3f}" if prob is not None else "")
    return text


def next_word_axes(ax, candidates, actual=None, actual_rank=None, actual_prob=None, n_words=None):
    """Bars of the ``candidates`` ([(word, probability)], most likely first) on ``ax``, top to
    bottom, each with its probability written beside it (3 decimals), on a fixed axis [0, 1]. ``actual``: the
    true 4th word, drawn in :data:`NEXT_WORD_COLORS` ``["true"]``; when it is not among the
    candidates and ``actual_prob`` is given, it gets its own bar below them, labelled with its
    rank (among ``n_words``). Returns the bars' words, top to bottom, and the colour of each."""
    words = [w for w, _ in candidates]
    probs = [float(p) for _, p in candidates]
    ypos = list(range(len(words)))
    ticks = [_word_label(w) for w in words]
    if actual is not None and actual not in words and actual_prob is not None:
        words.append(actual)
        probs.append(float(actual_prob))
        ypos.append(len(candidates) + 0.5)  # set apart from the ranked bars
        of = f" of {n_words}" if n_words is not None else ""
        rank = f" (rank {actual_rank}{of})" if actual_rank is not None else ""
        ticks.append(_word_label(actual) + rank)
    colors = [NEXT_WORD_COLORS["true" if w == actual else "predicted"] for w in words]
    bars = ax.barh(ypos, probs, color=colors, height=0.75)
    for bar, w in zip(bars, words):
        if w == actual:  # marked without colour too
            bar.set(hatch=TRUE_WORD_HATCH, edgecolor="white", lw=0)
    for y, p in zip(ypos, probs):
        ax.text(p + 0.01, y, f"{p:.3f}", va="center", fontsize=8)
    ax.set_yticks(ypos, ticks)
    for tick, c in zip(ax.get_yticklabels(), colors):
        tick.set_color(text_colour(c) if c == NEXT_WORD_COLORS["true"] else "black")
    ax.set_ylim(max(ypos) + 0.7, -0.7)
    ax.set_xlim(0, 1)
    ax.set_xlabel("predicted probability of the 4th word (0 to 1)")
    ax.grid(axis="x", alpha=0.3)
    return words, colors


def _next_word_legend(fig_or_ax, marked: bool, k: int, **kw):
    from matplotlib.patches import Patch

    handles = [Patch(color=NEXT_WORD_COLORS["predicted"], label=f"the model's {k} most likely 4th words")]
    if marked:
        handles.append(Patch(facecolor=NEXT_WORD_COLORS["true"], hatch=TRUE_WORD_HATCH, edgecolor="white", lw=0,
                             label="the true 4th word of the test 4-gram"))
    fig_or_ax.legend(handles=handles, fontsize=9, **kw)


def top10_figure(candidates, trigram, actual=None, model: str | None = None, actual_rank=None, actual_prob=None,
                 n_words=None):
    """Horizontal bars of the 10 most likely 4th words after ``trigram``, on a fixed probability
    axis [0, 1] so that models and contexts compare by eye (:func:`next_word_axes`). ``model``
    (e.g. ``experiments.label(config, seed=True)``) goes into the title; ``actual`` marks the true 4th word, with its
    own bar below the ten (rank and probability) when it is not among them."""
    fig, ax = plt.subplots(figsize=(7, 4.6), layout="constrained")
    next_word_axes(ax, candidates, actual, actual_rank, actual_prob, n_words)
    ax.set_ylabel("candidate 4th word, most likely first")
    title = f"“{' '.join(trigram)} ___”: the {len(candidates)} most likely next words"
    if model is not None:
        title = f"Language model {model}\n" + title
    ax.set_title(title, fontsize=11)
    _next_word_legend(ax, actual is not None, len(candidates), loc="lower right")
    who = f"Language model {model}: b" if model is not None else "B"
    return describe(fig, f"{who}ar chart of the next-word probabilities after “{' '.join(trigram)}” on a 0 to 1 "
                         f"axis, the {len(candidates)} most likely first: "
                         f"{next_word_text(candidates, actual, actual_rank, actual_prob, n_words)}.")


def next_word_figure(result, words: list, contexts, actuals=None, k: int = 10, cols: int = 3):
    """One panel per context: the ``k`` most likely 4th words of the language model ``result``
    (its params and config), and, when ``actuals`` gives the true 4th word of each context (a test
    4-gram's), that word marked -- with its own bar, rank and probability when it is not among the
    ``k``. ``contexts``: trigrams of words or of indices. The title says the model's D, P and seed."""
    from .experiments import label
    from .models import language_model

    index = {w: i for i, w in enumerate(words)}
    ids = np.array([[index[w] if isinstance(w, str) else int(w) for w in c] for c in contexts])
    proba = language_model.predict_proba(result.params, ids)
    n = len(ids)
    cols = min(cols, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(max(7.0, 4.6 * cols + 0.6), 4.3 * rows + 1.0), squeeze=False,
                             layout="constrained")
    fig.marked = []  # per panel: (the true word, its rank, its probability), or None
    read = []
    for j, ax in enumerate(axes.ravel()):
        if j >= n:
            ax.axis("off")
            continue
        p = proba[j]
        order = np.argsort(-p, kind="stable")
        candidates = [(words[i], float(p[i])) for i in order[:k]]
        actual = None if actuals is None else (actuals[j] if isinstance(actuals[j], str) else words[int(actuals[j])])
        title = f"“{' '.join(words[i] for i in ids[j])} ___”"
        if actual is not None:
            rank = int(np.flatnonzero(order == index[actual])[0]) + 1
            next_word_axes(ax, candidates, actual, rank, p[index[actual]], len(words))
            title += f"\ntrue 4th word “{actual}”: rank {rank}, probability {p[index[actual]]:.3f}"
            fig.marked.append((actual, rank, float(p[index[actual]])))
            true = f"; true word “{actual}” rank {rank}, {p[index[actual]]:.3f}"
        else:
            next_word_axes(ax, candidates)
            fig.marked.append(None)
            true = ""
        top3 = ", ".join(f"{_word_label(w)} {q:.3f}" for w, q in candidates[:3])
        read.append(f"“{' '.join(words[i] for i in ids[j])}”: {top3}{true}.")
        ax.set_title(title, fontsize=10)
        if j % cols:
            ax.set_ylabel("")
        else:
            ax.set_ylabel(f"candidate 4th word, the {k} most likely first")
    what = f"of {n} test 4-grams" if actuals is not None else (f"after {n} contexts" if n > 1 else "after this context")
    fig.suptitle(f"Next-word probabilities of the language model {label(result.config, seed=True)}:\n"
                 f"the {k} most likely 4th words {what}", fontsize=12)
    _next_word_legend(fig, actuals is not None, k, loc="outside lower center", ncol=2, frameon=False)
    true = f", and the rank (of {len(words)} words) and probability of the true 4th word" if actuals is not None else ""
    return describe(fig, f"Next-word probabilities of the language model {label(result.config, seed=True)}: "
                         f"{n} bar charts, one per context, of the {k} most likely 4th words on a 0 to 1 axis; below, "
                         f"for each context, the three most likely words with their probabilities{true}. "
                         + " ".join(read))


# -- Part 3: the sequence classifiers (notebook 3) -----------------------------------------------


def activity_windows(X: np.ndarray, y: np.ndarray, classes: list, per_class: int = 3, seed: int = 0,
                     ylabel: str = "acceleration", channels=None, title: str = ""):
    """A few windows (N, T, C) of each class, one panel per class, channels as colours and line
    styles (named by ``channels``, default "channel 0", ...), later windows thinner (not fainter:
    every line keeps its colour's 3:1 contrast with the background); ``ylabel`` should say the
    unit. The alt text gives, per class, each channel's mean and the windows' strongest rhythm
    (:func:`dominant_cycles`)."""
    rng = np.random.default_rng(seed)
    K = len(classes)
    cols = min(K, 3)
    rows = int(np.ceil(K / cols))
    names = list(channels) if channels is not None else [f"channel {c}" for c in range(X.shape[2])]
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 2.8 * rows + 0.4), sharey=True, squeeze=False)
    read = []
    for k, ax in enumerate(axes.ravel()):
        if k >= K:
            ax.axis("off")
            continue
        idx = np.flatnonzero(y == k)
        picked = rng.choice(idx, size=min(per_class, len(idx)), replace=False)
        for j, i in enumerate(picked):
            for c in range(X.shape[2]):
                ax.plot(X[i, :, c], color=colour(c), ls=LINE_STYLES[c % len(LINE_STYLES)], lw=max(1.2 - 0.35 * j, 0.4),
                        label=names[c] if j == 0 else None)
        ax.set_title(classes[k])
        ax.set_xlabel("time step")
        if len(picked):
            shown = np.asarray(X[picked], dtype=np.float64)
            means = ", ".join(_channel_mean(m) for m in shown.mean(axis=1).T)
            cycles = dominant_cycles(shown)
            span = f"{cycles.min()}" if cycles.min() == cycles.max() else f"{cycles.min()}–{cycles.max()}"
            read.append(f"{classes[k]} {means}, {span} {'cycle' if span == '1' else 'cycles'}")
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    axes[0, 0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    unit = ylabel[ylabel.rfind("(") + 1:ylabel.rfind(")")] if ylabel.endswith(")") and "(" in ylabel else ""
    gravity = "; a channel near ±1 g carries gravity and tells how the sensor is held" if unit == "g" else ""
    return describe(fig, (f"{_one_line(title)}: " if title else "")
                    + f"{K} panels, one per class, each with up to {per_class} raw windows of {X.shape[1]} time "
                      f"steps, the {X.shape[2]} channels ({_join(names)}) as lines; {ylabel} against time step. "
                      f"Per class, the mean of {_join(names)}{f' in {unit}' if unit else ''} over the windows shown "
                      f"(± where its sign differs between windows{gravity}) "
                      f"and the strongest "
                      f"rhythm, in cycles per window: " + "; ".join(read) + ".")


def _channel_mean(means: np.ndarray) -> str:
    """One channel's mean over windows, from each window's mean: signed when every window agrees
    on the sign (or it is near 0), else "±" the mean size (e.g. the left arm and the right)."""
    size = np.abs(means).mean()
    if size < 0.05:
        return "0.0"
    return f"{means.mean():+.1f}" if np.all(means > 0) or np.all(means < 0) else f"±{size:.1f}"


def dominant_cycles(windows: np.ndarray) -> np.ndarray:
    """The strongest rhythm of each window (N, T, C): the frequency, in whole cycles per window,
    of the largest peak of the power spectrum (each channel's mean removed, channels summed;
    frequency 0 left out): (N,) integers."""
    w = np.asarray(windows, dtype=np.float64)
    power = (np.abs(np.fft.rfft(w - w.mean(axis=1, keepdims=True), axis=1)) ** 2).sum(axis=2)
    return 1 + np.argmax(power[:, 1:], axis=1)


def confusion_axes(ax, cm, classes: list, title: str = "", fontsize: int = 10) -> str:
    """One confusion matrix on ``ax``: rows true class, columns prediction, every count written
    in its cell, in black or white, whichever contrasts more with the cell's colour (the map:
    :data:`COLOUR_MAP`). Plain matplotlib: ``seaborn.heatmap`` redraws the whole figure to check
    its tick labels, which doubled the sequence explorer's replot time (1.1 s -> 0.6 s measured).
    Returns the matrix's description (:func:`confusion_text`)."""
    cm = np.asarray(cm)
    image = ax.imshow(cm, cmap=COLOUR_MAP, vmin=0, vmax=max(int(cm.max()), 1))
    for (i, j), count in np.ndenumerate(cm):
        ax.text(j, i, str(count), ha="center", va="center", fontsize=fontsize,
                color=ink_on(image.cmap(image.norm(count))))
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    return confusion_text(cm, classes)


def confusion_text(cm, classes: list) -> str:
    """A confusion matrix (K, K; rows true) in words: its accuracy, each class's share recognised
    and the two largest confusions (off the diagonal), each out of its true class's count."""
    cm = np.asarray(cm)
    rows = cm.sum(axis=1)
    recall = ", ".join(f"{c} {cm[k, k]}/{rows[k]}" for k, c in enumerate(classes))
    off = cm - np.diag(np.diag(cm))
    text = f"accuracy {np.trace(cm) / max(cm.sum(), 1):.1%}, correct per true class {recall}"
    order = np.argsort(-off, axis=None, kind="stable")[:2]
    said = [f"{classes[i]} predicted as {classes[j]} ({off[i, j]} of {rows[i]})"
            for i, j in zip(*np.unravel_index(order, off.shape)) if off[i, j] > 0]
    if said:
        text += f"; {'largest confusions' if len(said) > 1 else 'largest confusion'} {_join(said)}"
    return text


def confusion_figure(confusions: dict, classes: list, title: str = ""):
    """``{label: (K, K) counts}`` side by side; rows true class, columns prediction."""
    fig, axes = plt.subplots(1, len(confusions), figsize=(5.5 * len(confusions), 4.8), squeeze=False)
    read = []
    for ax, (label, cm) in zip(axes[0], confusions.items()):
        cm = np.asarray(cm)
        read.append(f"{label}: " + confusion_axes(ax, cm, classes,
                                                  f"{label} (accuracy {np.trace(cm) / max(cm.sum(), 1):.1%})"))
    fig.suptitle(title)
    fig.tight_layout()
    return describe(fig, (f"{_one_line(title)}: " if title else "")
                    + ("a confusion matrix" if len(confusions) == 1 else f"{len(confusions)} confusion matrices")
                    + f" of counts (rows true class, columns predicted, classes {_join(classes)}). "
                    + ". ".join(read) + ".")


def _log_positive(v: np.ndarray) -> tuple[np.ndarray, int]:
    """``v`` with its values <= 0 as NaN (a log axis cannot draw them), and how many there were."""
    zeros = int(np.sum(v <= 0))
    return np.where(v > 0, v, np.nan), zeros


def gradient_norms_figure(norms: dict, title: str = "Gradient reaching each time step from the loss at t = T"):
    """``{label: (T,)}`` mean ‖∂L/∂h_t‖ per time step, log scale: vanishing gradients made visible.

    The y-axis spans every value; a value of exactly 0 cannot be drawn on a log axis and is
    reported in the legend instead of silently dropped."""
    fig, ax = plt.subplots(figsize=(7, 4))
    positive, read = [], []
    for k, (label, g) in enumerate(norms.items()):
        g = np.asarray(g, dtype=np.float64)
        drawn, zeros = _log_positive(g)
        note = f" ({zeros} steps exactly 0, not drawn)" if zeros else ""
        ax.semilogy(np.arange(1, len(g) + 1), drawn, label=label + note, **series_style(label, k))
        positive.append(g[g > 0])
        read.append(f"{label} {g[0]:.2g} at t = 1 and {g[-1]:.2g} at t = {len(g)}{note}")
    values = np.concatenate(positive) if positive else np.array([1.0])
    if values.size:
        ax.set_ylim(values.min() / 10, values.max() * 10)
    ax.set_xlabel("time step t")
    ax.set_ylabel("mean ‖∂L/∂h_t‖ (float64)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return describe(fig, f"{_one_line(title)}: the mean gradient norm ‖∂L/∂h_t‖ against the time step t, on a log "
                         f"scale, one line per model: " + "; ".join(read) + ".")


def gradient_profiles(panels: dict, ylabel: str, title: str = "", styles: dict | None = None,
                      quantity: str | None = None):
    """Per-window gradient profiles over time, one panel per condition, log scale, y shared.

    ``panels`` maps a panel title to ``{label: (N, T) values}`` (one row per window, e.g.
    ‖∂L_n/∂h_t‖ / ‖∂L_n/∂h_T‖): each label is drawn as the median over the windows with the
    10th-90th percentile band shaded -- the windows span many orders of magnitude, and a mean
    would follow the few largest. ``styles`` maps a label to plot keywords (colour, line style,
    marker; default :func:`series_style`); ``quantity`` names the y values in words for the alt
    text (default ``ylabel``). Values of exactly 0 cannot be drawn on a log axis:
    their count goes into the legend."""
    styles = styles or {}
    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 4.6), sharey=True, squeeze=False)
    drawn, read = [], []
    for ax, (panel, curves) in zip(axes[0], panels.items()):
        said = []
        for k, (label, v) in enumerate(curves.items()):
            v = np.asarray(v, dtype=np.float64)
            t = np.arange(1, v.shape[1] + 1)
            v, zeros = _log_positive(v)
            note = f" ({zeros} values exactly 0, not drawn)" if zeros else ""
            style = {**series_style(label, k), **styles.get(label, {})}
            lo, mid, hi = np.nanpercentile(v, [10, 50, 90], axis=0)
            ax.fill_between(t, lo, hi, color=style["color"], alpha=0.12, lw=0)
            ax.semilogy(t, mid, label=label + note, **style)
            drawn.append(v[np.isfinite(v)])
            said.append(f"{_spoken(label)} {mid[0]:.2g}{note}")
        ax.set_title(panel)
        ax.set_xlabel("time step t (the loss sits at t = T)")
        ax.grid(alpha=0.3, which="major")
        read.append(f"{panel.split(' (')[0]}: " + ", ".join(said))
    values = np.concatenate(drawn) if drawn else np.array([1.0])
    if values.size:
        ax.set_ylim(values.min() / 3, values.max() * 3)
    axes[0, 0].set_ylabel(ylabel)
    from matplotlib.patches import Patch

    legend = {}
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    legend = {f"{label}: median over windows": h for label, h in legend.items()}
    legend["shaded: 10th–90th percentile of windows"] = Patch(color="0.5", alpha=0.25, lw=0)
    fig.legend(list(legend.values()), list(legend), loc="lower center", ncol=min(len(legend), 3), fontsize=10,
               frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.04 + 0.045 * ((len(legend) - 1) // 3), 1, 1))
    return describe(fig, (f"{_one_line(title)}. " if title else "")
                    + f"{_count(len(panels), 'panel')} ({_join(p.split(' (')[0] for p in panels)}), log scale: "
                      f"{quantity or ylabel}, against "
                      f"the time step t, the median over windows as a line and the 10th–90th percentile shaded. "
                      f"Median at t = 1, " + "; ".join(read) + ".")


def _spoken(label: str) -> str:
    """A curve's label for the ear: "LSTM ‖∂L/∂c_t‖" -> "LSTM cell state", "RNN ‖∂L/∂h_t‖" -> "RNN"."""
    return label.replace(" ‖∂L/∂h_t‖", "").replace(" ‖∂L/∂c_t‖", " cell state")


def cell_styles(labels) -> dict:
    """One colour and marker per cell for labels that start with the cell's name ("RNN ...",
    "LSTM ...", :func:`series_style`); a cell state's curve (a label with "c_t") dashed, the others solid."""
    return {label: {**series_style(label, k), "ls": "--" if "c_t" in label else "-"}
            for k, label in enumerate(labels)}


def step_gradient_norms(norms: dict, clip: float | None = None, title: str = ""):
    """``{label: (steps,)}`` the global gradient norm of every SGD step, log scale, with the
    clipping threshold ``clip`` as a dashed black line."""
    fig, ax = plt.subplots(figsize=(8, 4))
    read = []
    for k, (label, g) in enumerate(norms.items()):
        g = np.asarray(g, dtype=np.float64)
        ax.semilogy(np.arange(1, len(g) + 1), g, lw=0.9, label=label, **series_style(label, k))
        said = f"{label} median {np.median(g):.3g}, largest {g.max():.3g}"
        if clip is not None:
            said += f", {np.mean(g > clip):.0%} of steps above the threshold"
        read.append(said)
    if clip is not None:
        ax.axhline(clip, color="k", ls="--", lw=1, label=f"clipping threshold ({clip:g})")
    ax.set_xlabel("SGD step (mini-batch of 32)")
    ax.set_ylabel("‖gradient‖ over all parameters")
    ax.grid(alpha=0.3)
    ax.set_title(title)
    ax.legend(fontsize=9)
    fig.tight_layout()
    steps = max(len(g) for g in norms.values())
    threshold = f", the clipping threshold {clip:g} dashed" if clip is not None else ""
    return describe(fig, (f"{_one_line(title)}: t" if title else "T")
                    + f"he norm of the whole gradient at each of {steps} SGD steps, log scale, one line per model"
                      f"{threshold}. " + "; ".join(read) + ".")


def training_curves(histories: dict, title: str = ""):
    """``{label: history}``, one column per model, every curve from the same weights: the
    **averaged** weights :math:`\bar W` that are validated and kept (``SGDConfig.average``).
    Top: validation cross-entropy per epoch; bottom: accuracy on 512 training windows (dashed)
    and on the validation windows (solid); the kept epoch marked. Axes shared by row. (The
    mean mini-batch loss of the SGD iterate W is another model's loss: :func:`iterate_loss`.)"""
    n = len(histories)
    fig, axes = plt.subplots(2, n, figsize=(4.2 * n, 6.4), sharey="row", squeeze=False)
    read = []
    for j, (label, h) in enumerate(histories.items()):
        ep = np.arange(1, len(h["val_loss"]) + 1)
        best = h["best_epoch"] + 1
        ax = axes[0, j]
        ax.plot(ep, h["val_loss"], "-", color=colour(1), label="validation")
        ax.axvline(best, color="0.5", lw=0.8, label="epoch kept")
        ax.set_title(label)
        ax = axes[1, j]
        said = ""
        if h.get("train_acc"):
            ax.plot(ep, h["train_acc"], "--", color=colour(0), label="training (512 windows)")
            said = f", training accuracy {h['train_acc'][best - 1]:.2f}"
        ax.plot(ep, h["val_acc"], "-", color=colour(1), label="validation")
        ax.axvline(best, color="0.5", lw=0.8, label="epoch kept")
        ax.set_xlabel("epoch")
        for ax in axes[:, j]:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
        if h.get("train_acc"):
            said += f" (last epoch {h['train_acc'][-1]:.2f})"
        read.append(f"{label}: kept epoch {best} of {len(ep)}, validation cross-entropy {h['val_loss'][best - 1]:.3f}"
                    f" (lowest {min(h['val_loss']):.3f}, last epoch {h['val_loss'][-1]:.3f}), validation accuracy "
                    f"{h['val_acc'][best - 1]:.2f}{said}")
    axes[0, 0].set_ylabel("validation cross-entropy (nats)")
    axes[1, 0].set_ylabel("accuracy")
    handles, labels = axes[1, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=10, frameon=False)
    fig.suptitle(title or "Averaged weights W̄ (the weights validated and kept)")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return describe(fig, f"{_one_line(title or 'Averaged weights W̄ (the weights validated and kept)')}: one column per "
                         f"model, validation cross-entropy per epoch on top, accuracy below (training windows "
                         f"dashed, validation solid), the kept epoch a grey vertical line. At the kept epoch, and at "
                         f"the last where it differs: "
                         + "; ".join(read) + ".")


def iterate_loss(histories: dict, title: str = ""):
    """``{label: history}``: the mean mini-batch cross-entropy of each epoch, one line per model.
    That loss belongs to the SGD iterate W while it moves through the epoch -- not to the
    averaged weights that are validated and kept -- so it is plotted on its own."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    read = []
    for k, (label, h) in enumerate(histories.items()):
        ep = np.arange(1, len(h["train_loss"]) + 1)
        ax.plot(ep, h["train_loss"], label=label, **series_style(label, k))
        read.append(f"{label} {_span(h['train_loss'], '.3f')} over {len(ep)} epochs")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("training cross-entropy (nats)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.set_title(title or "SGD iterate W: mean mini-batch loss over each epoch")
    ax.legend(fontsize=9)
    fig.tight_layout()
    return describe(fig, f"{_one_line(title or 'SGD iterate W: mean mini-batch loss over each epoch')}: the mean "
                         f"training cross-entropy of each epoch's mini-batches, one line per model: "
                         + "; ".join(read) + ".")


def lr_selection(val_acc: dict, chosen: dict, title: str = "Choosing η on validation accuracy"):
    """``{label: {lr: [validation accuracy per seed]}}``: every seed as a marker (its label's), the
    mean as a line over η (log axis); the chosen η circled. The labels' markers are set a little
    apart along η (on the log axis) so that none hides another; each label has its own colour,
    line style and marker."""
    from matplotlib.lines import Line2D

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    n = len(val_acc)
    for k, (label, accs) in enumerate(val_acc.items()):
        lrs = sorted(accs)
        shift = 10 ** (0.035 * (k - (n - 1) / 2))  # a few per cent of η, the same on every η
        style = series_style(label, k)
        ax.semilogx(lrs, [np.mean(accs[lr]) for lr in lrs], ls=style["ls"], color=style["color"],
                    label=f"{label}: mean over seeds")
        for lr in lrs:
            ax.plot(np.full(len(accs[lr]), lr * shift), accs[lr], style["marker"], ms=4, color=style["color"])
        ax.plot(chosen[label], np.mean(accs[chosen[label]]), "o", ms=14, mfc="none", color=style["color"])
    handles, labels = ax.get_legend_handles_labels()
    handles = [Line2D([], [], ls=h.get_linestyle(), color=h.get_color(), marker=series_style(label, k)["marker"],
                      ms=4) for k, (h, label) in enumerate(zip(handles, val_acc))]
    handles += [Line2D([], [], ls="", marker="o", ms=4, color="0.4"), Line2D([], [], ls="", marker="o", ms=12,
                                                                               mfc="none", color="0.4")]
    labels += ["one seed (the model's marker)", "the chosen η"]
    ax.set_xlabel("learning rate η (log scale)")
    ax.set_ylabel("validation accuracy (best epoch)")
    ax.set_title(title)
    ax.legend(handles, labels, fontsize=9)
    fig.tight_layout()
    grid = sorted({lr for accs in val_acc.values() for lr in accs})
    means = "; ".join(f"{label} " + ", ".join(f"{np.mean(accs[lr]):.2f}" if lr in accs else "none" for lr in grid)
                      for label, accs in val_acc.items())
    return describe(fig, f"{_one_line(title)}: validation accuracy (best epoch) against the learning rate η (log "
                         f"scale, η = {', '.join(f'{lr:g}' for lr in grid)}) for {_join(val_acc)}, each seed a marker "
                         f"in its model's shape, the mean over seeds a line and the chosen η circled. Mean over seeds "
                         f"at each η: {means}. Chosen η: "
                         + ", ".join(f"{label} {chosen[label]:g}" for label in val_acc) + ".")


#: How each seed is drawn in :func:`seed_spread`: a grey and a marker of its own (not a colour:
#: blue, vermillion and sky blue are the cells'), every grey at 3:1 or more on white.
SEED_STYLES = (("0.0", "o"), ("0.4", "s"), ("0.25", "D"), ("0.45", "^"), ("0.15", "v"), ("0.35", "P"))


def seed_spread(values: dict, ylabel: str = "test accuracy", title: str = "", seeds=None):
    """``{label: [value per seed]}``: the mean as a bar with ± 1 sd, and every seed as a marker.
    With ``seeds`` (one name per value, the same order for every label) each seed has its own
    grey and marker (:data:`SEED_STYLES`) and its own place beside the others, so no marker
    hides another and a seed can be followed across labels; a long title is wrapped to fit."""
    import textwrap

    fig, ax = plt.subplots(figsize=(6, 4.2), layout="constrained")
    read = []
    n = max(len(v) for v in values.values())
    offsets = np.linspace(0.0, 0.22, n) if n > 1 else np.zeros(1)  # right of the middle; the error bar left
    jitter = np.random.default_rng(0)
    for k, (label, v) in enumerate(values.items()):
        v = np.asarray(v, dtype=float)
        ax.bar(k, v.mean(), color="0.85", edgecolor="0.45", width=0.6, zorder=1)
        sd = f" ± {v.std(ddof=1):.3f}" if len(v) > 1 else ""
        if len(v) > 1:
            ax.errorbar(k - 0.15, v.mean(), yerr=v.std(ddof=1), color="0.2", capsize=5, zorder=2,
                        label="mean ± 1 sd over seeds" if k == 0 else None)
        ax.text(k, 0.02 * v.mean(), f"mean\n{v.mean():.3f}", ha="center", va="bottom", fontsize=9)
        for i, x in enumerate(v):
            if seeds is not None:
                grey, marker = SEED_STYLES[i % len(SEED_STYLES)]
                ax.plot(k + offsets[i], x, marker, color=grey, ms=7, zorder=3,
                        label=f"seed {seeds[i]}" if k == 0 else None)
            else:
                ax.plot(k + 0.1 + jitter.uniform(-0.08, 0.08), x, "o", color=colour(0), ms=6, alpha=0.8, zorder=3)
        read.append(f"{label} {v.mean():.3f}{sd} ({', '.join(f'{x:.3f}' for x in v)})")
    ax.set_xticks(range(len(values)), list(values))
    ax.set_ylabel(ylabel)
    ax.set_title(textwrap.fill(title, 52) if title else "")
    if seeds is not None:  # below the axes: inside, it would cover markers
        fig.legend(fontsize=9, loc="outside lower center", ncol=4, frameon=False)
    each = (f"each seed ({_join(seeds)}) a grey marker of its own shape, in its own place" if seeds is not None
            else "each run a dot")
    return describe(fig, (f"{_one_line(title)}: " if title else "")
                    + f"{ylabel} of {_join(values)}: a grey bar for the mean over seeds with ± 1 standard deviation, "
                      f"{each}. Mean ± sd (each seed): " + "; ".join(read) + ".")


def sequence_figure(result):
    """Loss curves and train/test confusion matrices of one sequence result. The training loss
    is the SGD iterate's (the mean over each epoch's mini-batches); the validation loss and the
    confusion matrices belong to the averaged weights that were kept (see :func:`training_curves`)."""
    from .experiments import label

    m = result.metrics
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    h = result.history
    ep = np.arange(1, len(h["train_loss"]) + 1)
    axes[0].plot(ep, h["train_loss"], "--", color=colour(0),
                 label="training: SGD iterate W\n(mean over the epoch's batches)")
    axes[0].plot(ep, h["val_loss"], "-", color=colour(1), label="validation: averaged weights W̄")
    axes[0].axvline(h["best_epoch"] + 1, color="0.5", lw=0.8, label="epoch kept (W̄)")
    axes[0].set_xlabel("epoch")
    axes[0].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].set_ylabel("cross-entropy (nats)")
    axes[0].legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    name = f"{label(result.config)}, {result.config.n_hidden} units"
    axes[0].set_title(name)
    read = []
    for ax, split in zip(axes[1:], ("train", "test")):
        read.append(f"{split}: " + confusion_axes(ax, m[f"{split}_confusion"], m["classes"],
                                                  f"{split}, kept weights (accuracy {m[f'{split}_accuracy']:.1%})",
                                                  fontsize=12))
    fig.tight_layout()
    best = h["best_epoch"]
    return describe(fig, f"{name}. Left: cross-entropy per epoch, training (the SGD iterate, dashed) "
                         f"{_span(h['train_loss'], '.3f')}, validation (averaged weights, solid) "
                         f"{_span(h['val_loss'], '.3f')}; epoch {best + 1} of {len(ep)} kept (validation "
                         f"{h['val_loss'][best]:.3f}). Middle and right: confusion matrices of the kept weights (rows "
                         f"true class, columns predicted). " + ". ".join(read) + ".")
