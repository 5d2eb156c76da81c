"""Packaging: runtime dependencies agree between pyproject.toml and environment.yml; Binder
installs mpcore itself; the README names the commands CI runs."""

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


#: conda-forge packages whose PyPI name differs: matplotlib-base is matplotlib without the GUI
#: toolkits (Qt) that the full conda package pulls in; a notebook server needs none.
CONDA_TO_PIP = {"matplotlib-base": "matplotlib"}


def conda_deps() -> dict:
    """environment.yml's dependencies as {PyPI name: version spec}."""
    deps, inside = {}, False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            inside = True
        elif inside and line.startswith("  - "):
            spec = line[4:].split("#")[0].strip()
            deps[CONDA_TO_PIP.get(_name(spec), _name(spec))] = spec[len(_name(spec)):]
        elif inside and line and not line.startswith(" "):
            inside = False
    return deps


def test_runtime_dependencies_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip = {_name(r): r[len(_name(r)):] for r in project["dependencies"]}
    conda = conda_deps()
    conda_only = {"python", "pip"}
    assert set(pip) == set(conda) - conda_only
    for name, spec in pip.items():
        assert conda[name] == spec, f"{name}: pyproject says {spec!r}, environment.yml says {conda[name]!r}"


def test_binder_installs_the_package():
    post = (ROOT / "postBuild").read_text()
    assert "pip install" in post and " -e ." in post


def test_readme_commands_match_ci():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'pip install -e ".[dev]"' in readme and 'pip install -q -e ".[dev]"' in ci
    assert "pytest" in readme and "pytest" in ci
    assert "python -m mpcore reproduce" in readme


IMPORT_TO_DIST = {"IPython": "ipython", "dask": "dask", "distributed": "dask", "myst_nb": "myst-nb"}


def test_every_third_party_import_is_declared():
    """A module imported by mpcore but missing from the dependencies installs fine in a dev
    venv (something else pulls it in) and breaks a user's plain `pip install -e .`."""
    import ast
    import sys

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    optional = {_name(r) for extra in ("dask", "classroom", "site") for r in project["optional-dependencies"][extra]}
    for path in (ROOT / "mpcore").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "mpcore" or (path.parent / f"{top}.py").is_file():
                    continue  # the standard library, mpcore, or a sibling module (the sandbox's child.py runs alone)
                dist = IMPORT_TO_DIST.get(top, top.lower())
                assert dist in runtime or dist in optional, f"{path.name} imports {top}, not in pyproject dependencies"
