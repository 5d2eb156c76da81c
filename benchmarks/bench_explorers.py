"""How long each explorer control takes to answer, on the shipped results.

    python benchmarks/bench_explorers.py

For every control of the notebooks' explorers, and every value it can take, the time from
setting the value to a finished PNG of the new figure (the explorer's render: loading the stored
result, drawing, and encoding the PNG the notebook sends to the browser). Reports the median and
the worst per control; the target is under 1 s on an idle 2-core machine. The browser's own
drawing is not included (tests/test_browser.py checks that it happens).
"""

from __future__ import annotations

import io
import time

import matplotlib

matplotlib.use("Agg")  # a script: no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mpcore import widgets  # noqa: E402
from mpcore.store import Store  # noqa: E402


def _timed_render(explorer) -> float:
    t = time.perf_counter()
    fig = explorer.render(**explorer.values())
    fig.savefig(io.BytesIO(), format="png")  # what display() sends to the browser
    plt.close(fig)
    return time.perf_counter() - t


def main():
    store = Store()
    explorers = {"autoencoder": widgets.autoencoder_explorer(store),
                 "sparsity": widgets.sparsity_explorer(store),
                 "language model": widgets.language_model_explorer(store),
                 "sequence": widgets.sequence_explorer(store)}
    print("| explorer | control | values tried | median (s) | worst (s) |")
    print("|---|---|---|---|---|")
    worst_all = 0.0
    for name, ex in explorers.items():
        for key, control in ex.controls.items():
            start = control.value
            options = [o[1] if isinstance(o, tuple) else o for o in control.options]
            if len(options) > 6:  # the word dropdowns: a sample of the vocabulary
                options = options[:: max(1, len(options) // 6)][:6]
            times = []
            for value in options:
                control.unobserve_all()  # time the render alone, once per value
                control.value = value
                times.append(_timed_render(ex))
            control.value = start
            worst_all = max(worst_all, max(times))
            print(f"| {name} | {key} | {len(options)} | {np.median(times):.2f} | {max(times):.2f} |", flush=True)
    print(f"\nworst: {worst_all:.2f} s (target < 1 s)")


if __name__ == "__main__":
    main()
