"""The walkthroughs on a student's own course files: they run top to bottom without an error.

Each notebook is executed (as "Run All" would) with ``DATA_DIR`` set to a folder of small
course-schema files whose vocabulary and classes differ from the bundled data -- a vocabulary
without *the united states*, 4 classes instead of 6, windows of 12 steps -- and with a fresh
results cache, so everything the notebook shows is trained from those files.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import jupytext
import numpy as np
import pytest
from course_files import write_course_dir
from nbclient import NotebookClient

from mpcore import study

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory):
    return write_course_dir(tmp_path_factory.mktemp("course") / "files", np.random.default_rng(3))


def execute_with_data_dir(name: str, data_dir: Path, cache: Path, monkeypatch):
    """Run notebook ``name`` with its first cell's ``DATA_DIR = None`` set to ``data_dir``
    (given as a pathlib.Path, as most people write it); the cells' outputs."""
    nb = jupytext.read(NOTEBOOKS / f"{name}.py")
    first = next(c for c in nb.cells if c.cell_type == "code" and "DATA_DIR = None" in c.source)
    path = f"from pathlib import Path\nDATA_DIR = Path({str(data_dir)!r})"
    first.source = first.source.replace("DATA_DIR = None", path)
    monkeypatch.setenv("MPCORE_CACHE_DIR", str(cache))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the kernel's own start-up warnings are not the notebook's
        NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return nb


@pytest.mark.parametrize("name", ["01_sparse_autoencoder", "02_word_embeddings", "03_sequence_classification"])
def test_a_walkthrough_runs_on_course_files_unlike_the_bundled_data(name, course_dir, tmp_path, monkeypatch):
    nb = execute_with_data_dir(name, course_dir, tmp_path / "cache", monkeypatch)
    errors = [f"{o.ename}: {o.evalue}" for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors, errors
    printed = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    if name.startswith("03"):  # no recording ids: the leak is said where the split is made; checks that scale
        assert "overlap" in printed and "random" in printed
        assert "training accuracy on 20 windows of 4 classes" in printed
        # one run per cell first (the first look), then the rest of the 27, the first three from the cache
        assert re.search(r"3 runs to train on these files \(of 3; .*\), about \d+ min on this machine", printed)
        assert re.search(r"24 runs to train on these files \(of 27; .*\), about \d+ min on this machine", printed)
    if name.startswith("01"):  # each section trains its runs where first needed, two at a time, after saying so
        shown = [o.data.get("text/plain", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                 if o.output_type == "display_data"]
        for group in study.autoencoder_groups(course_dir).values():
            n = len(group)
            said = rf"{n} runs to train on these files \(of {n}; 0 in the cache\), about \d+ min on this machine"
            assert re.search(said, printed), said
            assert any(re.fullmatch(rf"run {n} of {n} \[#{{20}}\] done in [\d.]+ min", t) for t in shown), shown
    if name.startswith("02"):  # the default context is chosen from the data, and the notebook says so
        assert "the default context 'the united states' is not in this vocabulary" in printed
        assert "vocabulary: 20 words" in printed
        # one statement of the work before it starts, measured here, and one progress bar that stays
        assert re.search(r"5 runs to train on these files \(of 5; .*\), about \d+ min on this machine, 2 at a time",
                         printed)
        shown = [o.data.get("text/plain", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                 if o.output_type == "display_data"]
        assert any(re.fullmatch(r"run 5 of 5 \[#{20}\] done in [\d.]+ min", t) for t in shown), shown  # saved final


def test_data_dir_may_be_a_path_or_a_str_and_is_one_setting(tmp_path):
    from mpcore import experiments
    from mpcore.store import config_json, config_key

    for make in (experiments.AutoencoderConfig, experiments.LanguageModelConfig, experiments.SequenceConfig):
        as_path, as_str = make(data_dir=Path("course")), make(data_dir="course")
        assert as_path == as_str and as_path.data_dir == "course" and config_json(as_path)["data_dir"] == "course"
        assert config_key(as_path, "f") == config_key(as_str, "f")
        with pytest.raises(ValueError, match="data_dir must be a folder path"):
            make(data_dir=3)
