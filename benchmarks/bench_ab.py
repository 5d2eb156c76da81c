"""A/B: the working tree's training step against another git revision, in one process.

    python benchmarks/bench_ab.py                          # against HEAD, every workload, 21 repetitions
    python benchmarks/bench_ab.py --against 614056a --workloads lstm gru --reps 31

Each workload is one call of a model's ``loss_and_grads`` exactly as the study trains it (one
BLAS thread; float32 with flush-to-zero except the float64 autoencoder):

* ``autoencoder``: the full-batch cost L-BFGS evaluates (9216 whitened 16x16 patches, 64 units);
* ``language_model``: one mini-batch of 200 4-grams, D 32, P 256;
* a cell name (``rnn``, ``lstm``, ``gru``, ``mgu``): one mini-batch of the sequence model, 32
  windows of 150 steps x 3 channels, 128 units.

The revision's package (``git archive`` into a temporary folder, imported as ``mpcore_ref``)
and the working tree's are called alternately so that a busy machine slows both alike; it
prints the median time of each, the speed-up (reference / working tree) and the largest
relative difference of any gradient (float rounding only, if the change kept the math). This is
how a speed change is judged: same run, ratios, not absolute times.

A policy that holds for a whole process -- what ``fpu.training_numerics`` sets: BLAS threads,
flush-to-zero, how freed memory is kept -- cannot differ between two sides in one process. With
``--processes R`` each side runs instead in its own fresh process under its own revision's
``training_numerics``, alternately, R times per side; it prints the median over those processes
of each one's median time, and the minor page faults per call.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import threadpoolctl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mpcore import (  # noqa: E402
    cells,
    data,
    experiments,  # noqa: E402
    fpu,
)

MODELS = ("autoencoder", "language_model", "sequence")


def reference_models(rev: str, where: Path) -> dict:
    """``mpcore.models.<name>`` of git revision ``rev`` for every model, imported from package
    ``mpcore_ref``."""
    archive = where / "ref.tar"
    with open(archive, "wb") as f:
        subprocess.run(["git", "archive", rev, "mpcore"], cwd=ROOT, stdout=f, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(where, filter="data")
    (where / "mpcore").rename(where / "mpcore_ref")  # the package imports itself relatively
    sys.path.insert(0, str(where))
    return {m: importlib.import_module(f"mpcore_ref.models.{m}") for m in MODELS}


def workloads(names) -> dict:
    """name -> (model name, dtype, params, the arguments of loss_and_grads after params, keywords)."""
    from mpcore.models import autoencoder, language_model, sequence

    rng = np.random.default_rng(1)
    out = {}
    for name in names:
        if name == "autoencoder":
            cfg = experiments.AutoencoderConfig()
            X, _ = experiments.autoencoder_inputs(zca_epsilon=cfg.zca_epsilon)
            p = autoencoder.init_params(X.shape[1], cfg.n_hidden, rng)
            out[name] = ("autoencoder", np.float64, p, (X,), dict(lam=cfg.lam, beta=cfg.beta, rho=cfg.rho))
        elif name == "language_model":
            cfg, ng = experiments.LanguageModelConfig(), data.load_ngrams()
            p = language_model.init_params(ng.n_words, cfg.D, cfg.P, rng, dtype=np.float32)
            n = cfg.sgd.batch_size
            out[name] = ("language_model", np.float32, p, (ng.train_x[:n], ng.train_y[:n]), {})
        else:
            act, cfg = data.load_activity(), experiments.SequenceConfig()
            mu, sd = act.train_x.mean(axis=(0, 1)), act.train_x.std(axis=(0, 1))
            n = cfg.sgd.batch_size
            X, y = ((act.train_x[:n] - mu) / sd).astype(np.float32), act.train_y[:n]
            p = sequence.init_params(name, X.shape[2], cfg.n_hidden, act.n_classes, rng, mlp=cfg.mlp,
                                     dtype=np.float32)
            out[name] = ("sequence", np.float32, p, (X, y), dict(cell=name))
    return out


def time_in_process(package: str, name: str, reps: int) -> dict:
    """In this (fresh) process: median ms per call of workload ``name`` with ``package``'s model
    and ``package``'s ``training_numerics``, and minor page faults per call."""
    import resource

    model, dtype, p, inputs, kw = workloads([name])[name]
    module = importlib.import_module(f"{package}.models.{model}")
    numerics = importlib.import_module(f"{package}.fpu").training_numerics
    times = []
    with numerics(dtype):
        module.loss_and_grads(p, *inputs, **kw)
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(reps):
            t = time.perf_counter()
            module.loss_and_grads(p, *inputs, **kw)
            times.append(time.perf_counter() - t)
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    return {"ms": float(np.median(times)) * 1e3, "faults": faults / reps}


def compare_processes(against: str, ref_dir: Path, names, rounds: int, reps: int):
    import json

    print(f"| workload | {against} (ms) | working tree (ms) | speed-up | page faults per call ({against} / "
          "working tree) |\n|---|---|---|---|---|")
    for name in names:
        results = {"mpcore_ref": [], "mpcore": []}
        for r in range(rounds):
            for package in ("mpcore_ref", "mpcore")[:: 1 if r % 2 else -1]:
                code = (f"import sys, json; sys.path[:0] = [{str(ref_dir)!r}, {str(ROOT / 'benchmarks')!r}]; "
                        f"import bench_ab; print(json.dumps(bench_ab.time_in_process({package!r}, {name!r}, {reps})))")
                out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True)
                results[package].append(json.loads(out.stdout.splitlines()[-1]))
        ref_ms, new_ms = (float(np.median([x["ms"] for x in results[k]])) for k in ("mpcore_ref", "mpcore"))
        ref_pf, new_pf = (float(np.median([x["faults"] for x in results[k]])) for k in ("mpcore_ref", "mpcore"))
        print(f"| {name} | {ref_ms:.1f} | {new_ms:.1f} | {ref_ms / new_ms:.2f}x | {ref_pf:.0f} / {new_pf:.0f} |",
              flush=True)


def main(argv=None):
    from mpcore import models

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="HEAD", help="git revision to compare with (default HEAD)")
    choices = ["autoencoder", "language_model", *cells.CELLS]
    parser.add_argument("--workloads", nargs="+", default=choices, choices=choices)
    parser.add_argument("--reps", type=int, default=21, help="calls of each side (default 21)")
    parser.add_argument("--processes", type=int, metavar="R",
                        help="each side in its own fresh process, R processes per side (see the docstring)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        ref = reference_models(args.against, Path(tmp))
        if args.processes:
            return compare_processes(args.against, Path(tmp), args.workloads, args.processes, args.reps)
        print(f"| workload | {args.against} (ms) | working tree (ms) | speed-up | largest gradient difference |")
        print("|---|---|---|---|---|")
        for name, (model, dtype, p, inputs, kw) in workloads(args.workloads).items():
            new = importlib.import_module(f"{models.__name__}.{model}")
            with threadpoolctl.threadpool_limits(1), fpu.training_numerics(dtype):
                _, g_ref = ref[model].loss_and_grads(p, *inputs, **kw)
                _, g_new = new.loss_and_grads(p, *inputs, **kw)
                diff = max(float(np.max(np.abs(g_ref[k] - g_new[k])) / (np.max(np.abs(g_ref[k])) + 1e-30))
                           for k in g_ref)
                times = {"ref": [], "new": []}
                for r in range(args.reps):  # alternate which side goes first
                    for side, module in (("ref", ref[model]), ("new", new))[:: 1 if r % 2 else -1]:
                        t = time.perf_counter()
                        module.loss_and_grads(p, *inputs, **kw)
                        times[side].append(time.perf_counter() - t)
            t_ref, t_new = np.median(times["ref"]) * 1e3, np.median(times["new"]) * 1e3
            print(f"| {name} | {t_ref:.1f} | {t_new:.1f} | {t_ref / t_new:.2f}x | {diff:.1e} |", flush=True)


if __name__ == "__main__":
    main()
