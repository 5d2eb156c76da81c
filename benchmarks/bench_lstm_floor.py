"""What one thread of numpy can reach for the study's LSTM batch: the time of its unavoidable parts.

    python benchmarks/bench_lstm_floor.py [--reps 15]

One mini-batch as the study trains it (32 windows x 150 steps x 3 channels, 128 units, float32,
flush-to-zero, one BLAS thread). Besides the whole ``sequence.loss_and_grads`` it times, each
alone and with preallocated outputs:

* the recurrent products: forward ``h_{t-1} W_h`` (32 x 128)(128 x 512) and backward
  ``da_t W_h^T`` (32 x 512)(512 x 128), 150 of each -- sequential, they cannot be batched;
* the weight gradient ``Σ_t h_{t-1}^T da_t``, one (512 x 4800)(4800 x 128) product;
* the transcendental functions: 3 sigmoids and 2 tanh per unit and step, numpy's ``exp`` and
  ``tanh`` on (N, H) blocks.

Their sum is a floor for any numpy implementation on one thread: whatever else the step does
(elementwise products, bookkeeping, the head) comes on top. Compare it with PyTorch's time per
batch in ``RESULTS.md`` (seconds per epoch / 90 batches).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import threadpoolctl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mpcore import (  # noqa: E402
    data,
    experiments,  # noqa: E402
    fpu,
)
from mpcore.models import sequence  # noqa: E402


def interleaved_medians(cases: dict, reps: int) -> dict:
    """Median ms of each callable, the cases called round-robin so that load slows all alike."""
    times = {name: [] for name in cases}
    for f in cases.values():
        f()
    for _ in range(reps):
        for name, f in cases.items():
            t = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - t)
    return {name: float(np.median(ts)) * 1e3 for name, ts in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    args = parser.parse_args(argv)
    cfg, act = experiments.SequenceConfig(), data.load_activity()
    N, H, G = cfg.sgd.batch_size, cfg.n_hidden, 4
    T = act.train_x.shape[1]
    mu, sd = act.train_x.mean(axis=(0, 1)), act.train_x.std(axis=(0, 1))
    X, y = ((act.train_x[:N] - mu) / sd).astype(np.float32), act.train_y[:N]
    rng = np.random.default_rng(0)
    p = sequence.init_params("lstm", X.shape[2], H, act.n_classes, rng, mlp=cfg.mlp, dtype=np.float32)
    f32 = np.float32
    Hs = rng.standard_normal((T + 1, N, H)).astype(f32)
    W_h = rng.standard_normal((H, G * H)).astype(f32)
    W_hT = np.ascontiguousarray(W_h.T)
    dA = rng.standard_normal((T, N, G * H)).astype(f32)
    pre, act_out, back = np.empty((N, G * H), f32), np.empty((N, G * H), f32), np.empty((N, H), f32)

    def forward_products():
        for t in range(T):
            np.matmul(Hs[t], W_h, out=pre)

    def backward_products():
        for t in range(T):
            np.matmul(dA[t], W_hT, out=back)

    def weight_gradient():
        np.matmul(Hs[:-1].reshape(T * N, H).T, dA.reshape(T * N, G * H))

    def transcendentals():
        for _ in range(T):
            np.exp(pre[:, : 3 * H], out=act_out[:, : 3 * H])  # the sigmoids' exp
            np.tanh(pre[:, 3 * H :], out=act_out[:, 3 * H :])  # c~
            np.tanh(pre[:, :H], out=back)  # tanh(c_t)

    with threadpoolctl.threadpool_limits(1), fpu.training_numerics(np.float32):
        parts = interleaved_medians({
            "forward products (150 x (32x128)(128x512))": forward_products,
            "backward products (150 x (32x512)(512x128))": backward_products,
            "weight gradient ((512x4800)(4800x128))": weight_gradient,
            "exp and tanh (5 per unit and step)": transcendentals,
            "whole": lambda: sequence.loss_and_grads(p, X, y, cell="lstm"),
        }, args.reps)
    whole = parts.pop("whole")
    print("| part of one LSTM batch, one thread | ms |\n|---|---|")
    for name, ms in parts.items():
        print(f"| {name} | {ms:.1f} |")
    floor = sum(parts.values())
    print(f"| **floor: the sum** | **{floor:.1f}** |\n| mpcore's whole loss_and_grads | {whole:.1f} |")
    print(f"\nmpcore spends {whole - floor:.1f} ms ({(whole - floor) / whole:.0%}) beyond the floor.")


if __name__ == "__main__":
    main()
