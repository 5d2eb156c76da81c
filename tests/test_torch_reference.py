"""Loss and every gradient against torch autograd on identical float64 weights (skipped without torch)."""

import sys
from pathlib import Path

import numpy as np
import pytest

from mpcore import cells
from mpcore.models import autoencoder, language_model, sequence

torch = pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
import torch_reference as tref  # noqa: E402


def _compare(params, ours, torch_loss_fn):
    loss, grads = ours
    tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    tl = torch_loss_fn(tp)
    tl.backward()
    assert loss == pytest.approx(tl.item(), rel=1e-12)
    for k in params:
        np.testing.assert_allclose(grads[k], tp[k].grad.numpy(), rtol=1e-9, atol=1e-14, err_msg=k)


def test_autoencoder_vs_torch():
    rng = np.random.default_rng(0)
    p = autoencoder.init_params(12, 5, rng)
    X = rng.uniform(size=(9, 12))
    ours = autoencoder.loss_and_grads(p, X, lam=1e-3, beta=0.5, rho=0.05)
    _compare(p, ours, lambda tp: tref.autoencoder_loss(tp, torch.tensor(X), 1e-3, 0.5, 0.05))


def test_language_model_vs_torch():
    rng = np.random.default_rng(1)
    p = {k: v * 20 for k, v in language_model.init_params(11, 4, 7, rng).items()}
    c = rng.integers(0, 11, size=(13, 3))
    t = rng.integers(0, 11, size=13)
    ours = language_model.loss_and_grads(p, c, t)
    _compare(p, ours, lambda tp: tref.language_model_loss(tp, torch.tensor(c), torch.tensor(t)))


@pytest.mark.parametrize("cell", cells.CELLS)
def test_sequence_vs_torch(cell):
    rng = np.random.default_rng(2)
    p = {k: v + 0.1 * rng.normal(size=v.shape) for k, v in sequence.init_params(cell, 3, 6, 4, rng).items()}
    X = rng.normal(size=(5, 20, 3))
    y = rng.integers(0, 4, size=5)
    ours = sequence.loss_and_grads(p, X, y, cell=cell)
    _compare(p, ours, lambda tp: tref.sequence_loss(tp, torch.tensor(X), torch.tensor(y), cell))
