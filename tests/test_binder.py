"""What Binder would build: a fresh environment from ``environment.yml`` (installed with pip, the
way this machine can), then ``postBuild``; in it the notebooks run top to bottom and Voilà serves
the explorers' dashboard on 127.0.0.1.

It catches a package that only the dev environment happens to provide, a ``postBuild`` that does
not work, and a dashboard that does not render. Takes a few minutes (the install dominates).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from test_packaging import conda_deps

ROOT = Path(__file__).parents[1]
NOTEBOOKS = ["01_sparse_autoencoder", "02_word_embeddings", "03_sequence_classification", "04_explorers"]


def environment_requirements() -> list[str]:
    """environment.yml's packages as pip requirements (conda-forge and PyPI names agree here)."""
    return [name + spec for name, spec in conda_deps().items() if name not in ("python", "pip")]


@pytest.fixture(scope="module")
def binder_env(tmp_path_factory):
    """A venv with environment.yml's packages and mpcore installed by postBuild, on a copy of the repository."""
    root = tmp_path_factory.mktemp("binder")
    repo = root / "repo"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    for f in files:
        if (ROOT / f).is_file():
            (repo / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, repo / f)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = dict(os.environ, PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", VIRTUAL_ENV=str(venv),
               JUPYTER_CONFIG_DIR=str(root / "jupyter-config"))  # postBuild writes there, not to ~/.jupyter
    env.pop("PYTHONPATH", None)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *environment_requirements()], env=env,
                         capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr[-3000:]
    post = subprocess.run(["bash", "postBuild"], cwd=repo, env=env, capture_output=True, text=True)
    assert post.returncode == 0, post.stderr[-3000:]
    return repo, venv, env


def test_postbuild_makes_jupyter_server_cull_kernels_of_closed_pages(binder_env):
    repo, venv, env = binder_env
    read = ("from jupyter_server.serverapp import ServerApp; import json; app = ServerApp(); app.load_config_file(); "
            "print(json.dumps(dict(app.config.MappingKernelManager)))")
    loaded = subprocess.run([str(venv / "bin" / "python"), "-c", read], cwd=repo, env=env, capture_output=True,
                            text=True)
    culling = json.loads((repo / "voila.json").read_text())["MappingKernelManager"]
    assert culling["cull_idle_timeout"] > 0 and culling["cull_connected"] is False
    # Jupyter Server itself reads what postBuild wrote
    assert json.loads(loaded.stdout.strip().splitlines()[-1]) == culling, loaded.stderr[-2000:]


def test_the_notebooks_run_in_the_binder_environment(binder_env):
    repo, venv, env = binder_env
    for name in NOTEBOOKS:
        run = subprocess.run([str(venv / "bin" / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                              "--output", f"{name}.executed.ipynb", f"notebooks/{name}.ipynb"],
                             cwd=repo, env=env, capture_output=True, text=True, timeout=900)
        assert run.returncode == 0, f"{name}: {run.stderr[-3000:]}"


def test_voila_serves_the_dashboard_in_the_binder_environment(binder_env):
    repo, venv, env = binder_env
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(repo / "voila.log", "w")
    server = subprocess.Popen([str(venv / "bin" / "voila"), "notebooks/04_explorers.ipynb", "--no-browser",
                               f"--port={port}", "--Voila.ip=127.0.0.1"], cwd=repo, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=300).read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, (repo / "voila.log").read_text()[-3000:]
                time.sleep(0.5)
        # Voilà executes the notebook for the request and sends every explorer's widget view
        assert page.count("application/vnd.jupyter.widget-view+json") == 4
        assert "Traceback" not in page and "widgets.autoencoder_explorer" not in page  # no error, no code
    finally:
        server.terminate()
        server.wait(timeout=30)
