"""Every Python block in the README runs as written (course-file paths replaced by fixtures)."""

import re
from pathlib import Path

import numpy as np
from course_files import write_course_dir

README = Path(__file__).parents[1] / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_python_blocks_run(tmp_path, monkeypatch, capsys):
    blocks = python_blocks()
    assert len(blocks) >= 2
    write_course_dir(tmp_path, np.random.default_rng(0))  # data1.h5 / data2.h5 / data3.h5 of the course schema
    monkeypatch.chdir(tmp_path)
    for code in blocks:
        exec(compile(code, str(README), "exec"), {})
    out = capsys.readouterr().out
    before, after = map(float, re.search(r"initial loss ([\d.]+) .*after 3 epochs ([\d.]+)", out).groups())
    assert after < before  # the snippet really trains
