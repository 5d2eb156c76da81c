"""One training epoch of each workload, mpcore vs PyTorch CPU eager, in the same process.

    python benchmarks/bench_epoch.py                 # all workloads
    python benchmarks/bench_epoch.py --only W3-gru   # one

Each side is timed at every setting we know (BLAS / torch threads 1 and 2, float32 and float64
for mpcore, float32 with flush-denormal for torch) and the table prints the best of each and
the same-run ratio ``mpcore / torch`` (below 1.0 means mpcore is faster). torch is optional
(``pip install torch==2.13.0``); without it only mpcore's times are printed.

Workloads: W1 autoencoder 256-64-256, 10240 samples, batch 32; W2 language model V=250, D=32,
P=256, 372,500 samples, batch 200; W3 RNN / LSTM / GRU, 3 channels x 150 steps, 128 units,
MLP 64-32, 6 classes, 2700 samples, batch 32. Inputs are the bundled datasets.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from mpcore import cells, data, fpu
from mpcore.models import autoencoder, language_model, sequence
from mpcore.train import SGDConfig, sgd

try:
    import torch

    sys.path.insert(0, str(Path(__file__).parent))
    import torch_reference as tref
except ImportError:  # torch is optional
    torch = None


def workloads():
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
            loss=lambda p, X: autoencoder.loss_and_grads(p, X, lam=5e-4, beta=3.0, rho=0.05),
            data=(X1,), batch=32, lr=0.1,
            torch_loss=lambda p, X: tref.autoencoder_loss(p, X, 5e-4, 3.0, 0.05),
        ),
        "W2-language-model": dict(
            init=lambda dt: language_model.init_params(250, 32, 256, np.random.default_rng(1), dtype=dt),
            loss=language_model.loss_and_grads,
            data=(ng.train_x[idx], ng.train_y[idx]), batch=200, lr=0.15,
            torch_loss=tref.language_model_loss if torch else None,
        ),
    }
    for cell in cells.CELLS:
        w[f"W3-{cell}"] = dict(
            init=lambda dt, c=cell: sequence.init_params(c, 3, 128, 6, np.random.default_rng(1), dtype=dt),
            loss=lambda p, X, y, c=cell: sequence.loss_and_grads(p, X, y, cell=c),
            data=(X3, y3), batch=32, lr=0.1,
            torch_loss=(lambda p, X, y, c=cell: tref.sequence_loss(p, X, y, c)) if torch else None,
        )
    return w


def time_mpcore(w, dtype, threads):
    arrays = tuple(a.astype(dtype) if a.dtype.kind == "f" else a for a in w["data"])
    params = w["init"](dtype)
    cfg = SGDConfig(lr=w["lr"], momentum=0.85, batch_size=w["batch"], epochs=1, patience=1)
    with threadpool_limits(threads), fpu.flush_denormals(dtype == np.float32):
        t = time.perf_counter()
        sgd(w["loss"], params, arrays, cfg, progress=False)
        return time.perf_counter() - t


def time_torch(w, threads):
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    p = {k: torch.tensor(v, dtype=torch.float32, requires_grad=True) for k, v in w["init"](np.float32).items()}
    arrays = [torch.from_numpy(a.astype(np.float32) if a.dtype.kind == "f" else a) for a in w["data"]]
    opt = torch.optim.SGD(p.values(), lr=w["lr"], momentum=0.85)
    g = torch.Generator().manual_seed(0)
    N = len(arrays[0])
    t = time.perf_counter()
    perm = torch.randperm(N, generator=g)
    for s in range(0, N, w["batch"]):
        idx = perm[s : s + w["batch"]]
        opt.zero_grad()
        loss = w["torch_loss"](p, *(a[idx] for a in arrays))
        loss.backward()
        opt.step()
    return time.perf_counter() - t


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="workload names (default: all)")
    args = parser.parse_args()
    rows = []
    for name, w in workloads().items():
        if args.only and name not in args.only:
            continue
        mp = {(np.dtype(dt).name, th): time_mpcore(w, dt, th) for dt in (np.float32, np.float64) for th in (1, 2)}
        best_mp = min(mp, key=mp.get)
        line = f"{name:18s} mpcore " + "  ".join(f"{d}/{t}t {s:6.2f}s" for (d, t), s in mp.items())
        if torch is not None:
            tt = {th: time_torch(w, th) for th in (1, 2)}
            best_t = min(tt, key=tt.get)
            line += "  | torch f32+ftz " + "  ".join(f"{t}t {s:6.2f}s" for t, s in tt.items())
            rows.append((name, mp[best_mp], f"{best_mp[0]}/{best_mp[1]}t", tt[best_t], f"{best_t}t"))
        else:
            rows.append((name, mp[best_mp], f"{best_mp[0]}/{best_mp[1]}t", None, ""))
        print(line, flush=True)
    print("\n| workload | mpcore best (s/epoch) | setting | torch best (s/epoch) | setting | ratio mpcore/torch |")
    print("|---|---|---|---|---|---|")
    for name, m, ms, t, ts in rows:
        ratio = f"{m / t:.2f}" if t else "n/a"
        tstr = f"{t:.2f}" if t else "n/a"
        print(f"| {name} | {m:.2f} | {ms} | {tstr} | {ts} | {ratio} |")


if __name__ == "__main__":
    main()
