"""Re-execute the notebooks from their jupytext sources, in the mode nbval tests them.

    python scripts/execute_notebooks.py            # all of them
    python scripts/execute_notebooks.py 02         # those whose name contains "02"

For each ``notebooks/NN_*.py`` (the reviewable source): write the paired ``.ipynb``, execute it
top to bottom with the current environment's kernel, drop the saved widget state (widget
views are live objects; nbval never compares them and the state only bloats the file), and
save. Commit the ``.ipynb`` files afterwards: nbval compares against their outputs.
"""

import sys
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

NOTEBOOKS = Path(__file__).parents[1] / "notebooks"


def execute(source: Path) -> Path:
    for attempt in (1, 2):
        nb = jupytext.read(source)
        try:
            NotebookClient(nb, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
            break
        except DeadKernelError:  # seen here now and then while the kernel starts: try once more
            if attempt == 2:
                raise
            print(f"{source.name}: the kernel died; running it again", file=sys.stderr, flush=True)
    nb.metadata.pop("widgets", None)
    target = source.with_suffix(".ipynb")
    nbformat.write(nb, target)
    return target


if __name__ == "__main__":
    for src in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py")):
        if len(sys.argv) == 1 or any(a in src.name for a in sys.argv[1:]):
            print("executed", execute(src).name, flush=True)
