"""A walkthrough on course files of the course's real size: how long until its first figure of
trained results, and until the end (issue 21; notebook 3's targets: <= 10 min and <= 30 min on
2 idle cores).

    python benchmarks/bench_course_notebooks.py [--notebook 03] [--out FILE]

The stand-ins are the bundled datasets written in the course's schemas, so training behaves as
on real data -- random numbers would stop early and flatter the timing: ``data1.h5`` (10,240
patches of 16 x 16, the course's size) and ``data2.h5`` (250 words, 242,304 training 4-grams; the
course's file has about 372,500) as they are, ``data3.h5`` (3,319 training and 655 test windows
of 150 x 3, 6 classes; the course has about 3,000) without ``trRec``/``tstRec``/``classes``,
which course files lack. The notebook is executed top to bottom with ``DATA_DIR`` set to them
and an empty results cache, as a student's first "Run All"; every code cell's finish time is
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
from results_file import RESULTS, append

from mpcore.data import ACTIVITY_FILE, NGRAM_FILE, PATCH_FILE, default_path

ROOT = Path(__file__).resolve().parents[1]


def write_course_sized(folder: Path) -> Path:
    """The bundled datasets as course files (``data3.h5`` without recording ids or class names),
    rewritten uncompressed: the store knows a dataset by its bytes, so a byte-identical copy
    would find the shipped results and train nothing."""
    folder.mkdir(parents=True, exist_ok=True)
    keep = {PATCH_FILE: None, NGRAM_FILE: None, ACTIVITY_FILE: ("trX", "trY", "tstX", "tstY")}
    for name, keys in keep.items():
        with h5py.File(default_path(name)) as src, h5py.File(folder / name, "w") as dst:
            for key in keys or list(src):
                dst.create_dataset(key, data=src[key][()])
    return folder


def run(notebook: Path, data_dir: Path, cache: Path) -> tuple[list[dict], list[str]]:
    """Execute ``notebook`` on ``data_dir``; one row per code cell (seconds since the start at its
    end, whether it drew a figure, the first line it printed), and the errors raised, if any."""
    nb = jupytext.read(notebook)
    first = next(c for c in nb.cells if c.cell_type == "code" and "DATA_DIR = None" in c.source)
    first.source = first.source.replace("DATA_DIR = None", f"DATA_DIR = {str(data_dir)!r}")
    os.environ["MPCORE_CACHE_DIR"] = str(cache)
    rows, t0 = [], time.perf_counter()

    def executed(cell, cell_index, execute_reply):
        if cell.cell_type != "code":
            return
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        lines = [line for line in text.splitlines() if line.strip()]
        trains = next((line for line in lines if "runs to train" in line or "protocol" in line), None)
        rows.append({"cell": cell_index, "t": time.perf_counter() - t0, "trains": trains is not None,
                     "figure": any("image/png" in o.get("data", {}) for o in cell.outputs),
                     "said": (trains or (lines[0] if lines else ""))[:110]})

    NotebookClient(nb, timeout=3600, kernel_name="python3", on_cell_executed=executed, allow_errors=True,
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    errors = [f"cell {i}: {o.ename}: {o.evalue}" for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    return rows, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", default="03", choices=("01", "02", "03"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    notebook = next((ROOT / "notebooks").glob(f"{args.notebook}_*.py"))
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = write_course_sized(Path(tmp) / "course")
        load = os.getloadavg()[0]
        rows, errors = run(notebook, data_dir, Path(tmp) / "cache")
    started = next((r for r in rows if r["trains"]), rows[0])  # the first cell that trains
    figures = [r for r in rows if r["figure"] and r["cell"] >= started["cell"]]
    lines = [
        "", f"### {notebook.stem} on course-sized files ({time.strftime('%Y-%m-%d')})", "",
        f"{platform.processor() or platform.machine()}; {os.cpu_count()} cores; load average {load:.1f} at the start. "
        "The bundled data in the course's schemas (no recording ids), empty cache, executed top to bottom.", "",
        "| code cell | finished after (min) | figure | first line printed |", "|---|---|---|---|",
        *[f"| {r['cell']} | {r['t'] / 60:.1f} | {'yes' if r['figure'] else ''} | {r['said']} |" for r in rows
          if r["t"] - (rows[rows.index(r) - 1]["t"] if rows.index(r) else 0) > 5 or r is figures[0]],
        "",
        f"First figure of trained results: {figures[0]['t'] / 60:.1f} min. Whole notebook: {rows[-1]['t'] / 60:.1f} "
        "min (notebook 3's targets: <= 10 and <= 30).", "",
        *([f"Errors (the notebook did not run cleanly): {'; '.join(errors)}", ""] if errors else []),
    ]
    append(lines, args.out)


if __name__ == "__main__":
    main()
