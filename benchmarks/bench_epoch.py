"""One training epoch of each workload, mpcore vs PyTorch CPU eager, in the same process.

    python benchmarks/bench_epoch.py                 # all workloads, 3 repetitions, writes RESULTS.md
    python benchmarks/bench_epoch.py --only W3-gru --reps 5

mpcore runs exactly as the study trains: its dtype (float64 for the autoencoder, float32 with
flush-to-zero for the others) and one BLAS thread (``mpcore.train.sgd`` sets both). PyTorch runs
its built-in modules -- ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (``batch_first``) with
``nn.Linear`` layers for the recurrent workloads; the autoencoder and the language model are
written with torch ops (``torch_reference.py``: matmuls and an embedding lookup, the same work
as ``nn.Linear`` / ``nn.Embedding``) -- in float32 with ``torch.set_flush_denormal(True)``, at 1
and 2 threads; the faster is "PyTorch best". ``torch.nn.GRU`` puts the reset gate after the
recurrent matmul (the course's GRU puts it before): a different model, the same work. The MGU has
no built-in module: mpcore only.

Cases are interleaved round-robin (every case once per repetition), so a busy machine slows
all of them alike; the table reports the median and the spread (min-max) over repetitions and
the same-run ratio ``mpcore / PyTorch best`` (below 1.0 means mpcore is faster). torch is
optional (``pip install torch==2.13.0``); without it only mpcore's times are printed.

Workloads: W1 autoencoder 256-64-256, 10240 samples, batch 32; W2 language model V=250, D=32,
P=256, 372,500 samples, batch 200; W3 RNN / LSTM / GRU / MGU, 3 channels x 150 steps, 128
units, MLP 64-32, 6 classes, 2700 samples, batch 32. Inputs are the bundled datasets.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from results_file import RESULTS, append

from mpcore import cells, data
from mpcore.experiments import AutoencoderConfig
from mpcore.models import autoencoder, language_model, sequence
from mpcore.train import SGDConfig, sgd

try:
    import torch

    sys.path.insert(0, str(Path(__file__).parent))
    import torch_reference as tref
except ImportError:  # torch is optional
    torch = None

#: The cells PyTorch has a built-in layer for (torch.nn.<name>); its GRU is the other variant.
TORCH_LAYERS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def workloads():
    AE = AutoencoderConfig()  # the study's λ, β, ρ
    rng = np.random.default_rng(0)
    X1 = data.preprocess_patches(data.load_patches()).reshape(-1, 256)
    ng = data.load_ngrams()
    idx = rng.integers(0, len(ng.train_x), 372_500)
    act = data.load_activity()
    mu, sd = act.train_x.mean(axis=(0, 1)), act.train_x.std(axis=(0, 1))
    X3, y3 = (act.train_x[:2700] - mu) / sd, act.train_y[:2700]
    w = {
        "W1-autoencoder": dict(
            init=lambda dt: autoencoder.init_params(256, 64, np.random.default_rng(1), dtype=dt),
            loss=lambda p, X: autoencoder.loss_and_grads(p, X, lam=AE.lam, beta=AE.beta, rho=AE.rho),
            data=(X1,), batch=32, lr=0.1, dtype=np.float64, torch_module=None,
            torch_loss=lambda p, X: tref.autoencoder_loss(p, X, AE.lam, AE.beta, AE.rho),
        ),
        "W2-language-model": dict(
            init=lambda dt: language_model.init_params(250, 32, 256, np.random.default_rng(1), dtype=dt),
            loss=language_model.loss_and_grads,
            data=(ng.train_x[idx], ng.train_y[idx]), batch=200, lr=0.15, dtype=np.float32, torch_module=None,
            torch_loss=tref.language_model_loss if torch else None,
        ),
    }
    for cell in cells.CELLS:
        w[f"W3-{cell}"] = dict(
            init=lambda dt, c=cell: sequence.init_params(c, 3, 128, 6, np.random.default_rng(1), dtype=dt),
            loss=lambda p, X, y, c=cell: sequence.loss_and_grads(p, X, y, cell=c),
            data=(X3, y3), batch=32, lr=0.1, dtype=np.float32, torch_loss=None,
            torch_module=(lambda c=cell: _Recurrent(c)) if torch and cell in TORCH_LAYERS else None,
        )
    return w


def time_mpcore(w):
    dtype = w["dtype"]
    arrays = tuple(a.astype(dtype) if a.dtype.kind == "f" else a for a in w["data"])
    params = w["init"](dtype)
    cfg = SGDConfig(lr=w["lr"], momentum=0.85, batch_size=w["batch"], epochs=1, patience=1)
    t = time.perf_counter()
    sgd(w["loss"], params, arrays, cfg, progress=False)  # one BLAS thread, FTZ for float32: as the study
    return time.perf_counter() - t


class _Recurrent(torch.nn.Module if torch else object):
    """The sequence classifier with PyTorch's built-in recurrent layer: cell -> 64 -> 32 -> 6."""

    def __init__(self, cell):
        super().__init__()
        self.rnn = getattr(torch.nn, TORCH_LAYERS[cell])(3, 128, batch_first=True)
        self.head = torch.nn.Sequential(torch.nn.Linear(128, 64), torch.nn.ReLU(), torch.nn.Linear(64, 32),
                                        torch.nn.ReLU(), torch.nn.Linear(32, 6))

    def forward(self, X, y):
        out, _ = self.rnn(X)
        return torch.nn.functional.cross_entropy(self.head(out[:, -1]), y)


def time_torch(w, threads):
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    if w["torch_module"] is not None:
        module = w["torch_module"]()
        params, loss_fn = list(module.parameters()), module
    else:
        p = {k: torch.tensor(v, dtype=torch.float32, requires_grad=True) for k, v in w["init"](np.float32).items()}
        params, loss_fn = list(p.values()), (lambda *batch: w["torch_loss"](p, *batch))
    arrays = [torch.from_numpy(a.astype(np.float32) if a.dtype.kind == "f" else a) for a in w["data"]]
    opt = torch.optim.SGD(params, lr=w["lr"], momentum=0.85)
    g = torch.Generator().manual_seed(0)
    N = len(arrays[0])
    t = time.perf_counter()
    perm = torch.randperm(N, generator=g)
    for s in range(0, N, w["batch"]):
        idx = perm[s : s + w["batch"]]
        opt.zero_grad()
        loss = loss_fn(*(a[idx] for a in arrays))
        loss.backward()
        opt.step()
    return time.perf_counter() - t


def machine() -> str:
    import platform

    from threadpoolctl import threadpool_info

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    blas = ", ".join(f"{i['internal_api']} {i['version']} ({i.get('architecture', '')})" for i in threadpool_info()
                     if i["user_api"] == "blas")
    tv = f", torch {torch.__version__}" if torch else ""
    return (f"{cpu}; {os.cpu_count()} cores; Linux {platform.release()}; numpy {np.__version__}, BLAS {blas}{tv}; "
            f"load average {os.getloadavg()[0]:.1f} at the start")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="workload names (default: all)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of every case (default 3)")
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="markdown file for the table (default benchmarks/RESULTS.md)")
    parser.add_argument("--title", default="idle machine", help="heading of this run's table")
    args = parser.parse_args()
    chosen = {n: w for n, w in workloads().items() if not args.only or n in args.only}
    cases = [(n, "mpcore", None) for n in chosen]
    if torch is not None:
        cases += [(n, "torch", th) for n in chosen for th in (1, 2)
                  if chosen[n]["torch_module"] is not None or chosen[n]["torch_loss"] is not None]
    info = machine()
    times = {c: [] for c in cases}
    for rep in range(args.reps):  # round-robin: every case once per repetition
        for c in cases:
            name, side, th = c
            times[c].append(time_mpcore(chosen[name]) if side == "mpcore" else time_torch(chosen[name], th))
        print(f"repetition {rep + 1}/{args.reps} done", flush=True)
    med = {c: float(np.median(v)) for c, v in times.items()}
    spread = lambda c: f"{min(times[c]):.2f}-{max(times[c]):.2f}"  # noqa: E731
    lines = [f"### {args.title}", "", info, "",
             f"Median of {args.reps} interleaved repetitions, seconds per epoch (min-max).", "",
             "| workload | mpcore (as the study trains) | PyTorch 1 thread | PyTorch 2 threads "
             "| mpcore / PyTorch best |",
             "|---|---|---|---|---|"]
    for n, w in chosen.items():
        mp = (n, "mpcore", None)
        t1, t2 = (n, "torch", 1), (n, "torch", 2)
        tcol = [f"{med[t]:.2f} ({spread(t)})" if t in med else "n/a" for t in (t1, t2)]
        best = min((med[t] for t in (t1, t2) if t in med), default=None)
        ratio = f"{med[mp] / best:.2f}" if best else "n/a"
        lines.append(f"| {n} ({w['dtype'].__name__}) | {med[mp]:.2f} ({spread(mp)}) | {tcol[0]} | {tcol[1]} "
                     f"| {ratio} |")
    append(lines + [""], args.out)


if __name__ == "__main__":
    main()
