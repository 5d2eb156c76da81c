"""Notebook 3 on course files of the course's real size: how long until its first figure of
trained results, and until the end (issue 21; targets: <= 10 min and <= 30 min on 2 idle cores).

    python benchmarks/bench_course_notebook3.py [--out FOLDER]

The course's ``data3.h5`` holds about 3,000 training windows of 150 steps x 3 channels and no
recording ids. The stand-in written here is the bundled activity data in exactly that schema
(3,319 training and 655 test windows, 150 x 3, 6 classes; ``trRec``/``tstRec``/``classes``
dropped), so training behaves as on real recordings -- random numbers would stop early and
flatter the timing. The notebook is executed top to bottom with ``DATA_DIR`` set to it and an
empty results cache, as a student's first "Run All"; every code cell's finish time is
recorded. Appends a table to ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import h5py
import jupytext
from nbclient import NotebookClient

from mpcore.data import ACTIVITY_FILE, default_path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "03_sequence_classification.py"


def write_course_sized(folder: Path) -> Path:
    """The bundled windows as a course ``data3.h5`` (no recording ids, no class names)."""
    folder.mkdir(parents=True, exist_ok=True)
    with h5py.File(default_path(ACTIVITY_FILE)) as src, h5py.File(folder / ACTIVITY_FILE, "w") as dst:
        for key in ("trX", "trY", "tstX", "tstY"):
            dst.create_dataset(key, data=src[key][:])
    return folder


def run(data_dir: Path, cache: Path) -> tuple[list[dict], list[str]]:
    """Execute notebook 3 on ``data_dir``; one row per code cell (seconds since the start at its
    end, whether it drew a figure, the first line it printed), and the errors raised, if any."""
    nb = jupytext.read(NOTEBOOK)
    first = next(c for c in nb.cells if c.cell_type == "code" and "DATA_DIR = None" in c.source)
    first.source = first.source.replace("DATA_DIR = None", f"DATA_DIR = {str(data_dir)!r}")
    os.environ["MPCORE_CACHE_DIR"] = str(cache)
    rows, t0 = [], time.perf_counter()

    def executed(cell, cell_index, execute_reply):
        if cell.cell_type != "code":
            return
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        rows.append({"cell": cell_index, "t": time.perf_counter() - t0,
                     "figure": any("image/png" in o.get("data", {}) for o in cell.outputs),
                     "said": next((line for line in text.splitlines() if line.strip()), "")[:110]})

    NotebookClient(nb, timeout=3600, kernel_name="python3", on_cell_executed=executed, allow_errors=True,
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    errors = [f"cell {i}: {o.ename}: {o.evalue}" for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    return rows, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = write_course_sized(Path(tmp) / "course")
        load = os.getloadavg()[0]
        rows, errors = run(data_dir, Path(tmp) / "cache")
    started = next(r for r in rows if "runs to train" in r["said"] or "protocol" in r["said"])
    figures = [r for r in rows if r["figure"] and r["cell"] >= started["cell"]]
    lines = [
        "", f"### Notebook 3 on a course-sized data3.h5 ({time.strftime('%Y-%m-%d')})", "",
        f"{platform.processor() or platform.machine()}; {os.cpu_count()} cores; load average {load:.1f} at the start. "
        "3,319 training and 655 test windows of 150 x 3 (the bundled data in the course's schema, no recording ids), "
        "empty cache, executed top to bottom.", "",
        "| code cell | finished after (min) | figure | first line printed |", "|---|---|---|---|",
        *[f"| {r['cell']} | {r['t'] / 60:.1f} | {'yes' if r['figure'] else ''} | {r['said']} |" for r in rows
          if r["t"] - (rows[rows.index(r) - 1]["t"] if rows.index(r) else 0) > 5 or r is figures[0]],
        "",
        f"First figure of trained results: {figures[0]['t'] / 60:.1f} min (target <= 10). "
        f"Whole notebook: {rows[-1]['t'] / 60:.1f} min (target <= 30).", "",
        *([f"Errors (the notebook did not run cleanly): {'; '.join(errors)}", ""] if errors else []),
    ]
    with open(args.out, "a") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
