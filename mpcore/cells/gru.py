"""GRU cell in the course's form (Cho et al. 2014): the reset gate multiplies h_{t-1} *before*
the recurrent matmul.

.. math::
    z = \\sigma(x_t W_{xz} + h_{t-1} W_{hz} + b_z), \\quad
    r = \\sigma(x_t W_{xr} + h_{t-1} W_{hr} + b_r),

    \\tilde h = \\tanh(x_t W_{xh} + (r \\odot h_{t-1}) W_{hh} + b_h), \\quad
    h_t = z \\odot h_{t-1} + (1 - z) \\odot \\tilde h

``torch.nn.GRU`` instead applies r after the matmul, ``r * (h W_hh + b)``: a different model.
Parameters ``W_x{z,r,h}`` (C, H), ``W_h{z,r,h}`` (H, H), ``b_{z,r,h}`` (H,). State: ``(h,)``.
"""

from __future__ import annotations

import numpy as np

from ..layers import sigmoid
from ._bptt import forward_buffers, step_grads, steps_back

GATES = ("z", "r", "h")
STATE = ("h",)
FORGET_GATE = None


def step_forward(x_t, state, p):
    """One step: x_t (N, C), state (h_{t-1},) -> ((h_t,), cache)."""
    (h_prev,) = state
    z = sigmoid(x_t @ p["W_xz"] + h_prev @ p["W_hz"] + p["b_z"])
    r = sigmoid(x_t @ p["W_xr"] + h_prev @ p["W_hr"] + p["b_r"])
    rh = r * h_prev
    h_tilde = np.tanh(x_t @ p["W_xh"] + rh @ p["W_hh"] + p["b_h"])
    h_t = z * h_prev + (1.0 - z) * h_tilde
    return (h_t,), (x_t, h_prev, p, z, r, rh, h_tilde)


def step_backward(dstate, cache):
    """Backward of one step: (dh_t,) -> (dx_t, (dh_{t-1},), grads). Note ``dW_hh = (r h_{t-1})^T da_h``."""
    (dh_t,) = dstate
    x_t, h_prev, p, z, r, rh, h_tilde = cache
    da_h = dh_t * (1.0 - z) * (1.0 - h_tilde**2)
    drh = da_h @ p["W_hh"].T
    da_z = dh_t * (h_prev - h_tilde) * z * (1.0 - z)
    da_r = drh * h_prev * r * (1.0 - r)
    dh_prev = dh_t * z + drh * r + da_z @ p["W_hz"].T + da_r @ p["W_hr"].T
    dx, grads = step_grads(p, x_t, {"z": (h_prev, da_z), "r": (h_prev, da_r), "h": (rh, da_h)})
    return dx, (dh_prev,), grads


# -- fast loops over all T steps (layout: see mpcore.recurrent) ---------------------------------


def forward(XW, W_h, Hs):
    """XW (3, T, N, H): input projections of z, r, h~; W_h (3, H, H). Fills Hs[1:]; returns
    (acts (T, 3, N, H) the activated gates, RH (T, N, H) = r_t h_{t-1}, what W_hh multiplied).

    Per step:
    ``[z, r] = σ(XW[:2] + h_{t-1} W_h[:2])``, ``h~ = tanh(XW[2] + (r h_{t-1}) W_hh)``,
    ``h_t = z (h_{t-1} - h~) + h~``.
    """
    acts, RH = forward_buffers(XW, Hs.dtype, 1)
    for t in range(XW.shape[1]):
        h_prev, h_t = Hs[t], Hs[t + 1]
        z_r, z, r, h_tilde = acts[t, :2], acts[t, 0], acts[t, 1], acts[t, 2]
        sigmoid(XW[:2, t] + np.matmul(h_prev, W_h[:2]), out=z_r)
        np.multiply(r, h_prev, out=RH[t])
        np.tanh(XW[2, t] + RH[t] @ W_h[2], out=h_tilde)
        np.subtract(h_prev, h_tilde, out=h_t)
        h_t *= z
        h_t += h_tilde
    return acts, RH


def backward(dH, W_h, Hs, aux, dA, dh_total):
    """Fill dA (3, T, N, H) with the pre-activation gradients, from step T back to 1.

    Factors independent of the incoming gradient are computed for all steps before the loop:
    ``da_z = dh K_z``, ``da_h = dh K_h``, ``da_r = (da_h W_hh^T) K_r``. Returns what each
    gate's W_h multiplied: (h_{t-1}, h_{t-1}, r_t h_{t-1}), (3, T, N, H).
    """
    acts, RH = aux
    z, r, h_tilde = (acts[:, k] for k in range(3))
    H_prev = Hs[:-1]
    K_z = (H_prev - h_tilde) * (z * (1.0 - z))
    K_r = H_prev * (r * (1.0 - r))
    K_h = (1.0 - z) * (1.0 - h_tilde * h_tilde)
    W_hT = W_h.transpose(0, 2, 1)
    _, T, N, H = dA.shape
    dh = np.zeros((N, H), dtype=dA.dtype)
    drh = np.empty((N, H), dtype=dA.dtype)
    back = np.empty((2, N, H), dtype=dA.dtype)
    for t in steps_back(dH, dh, dh_total):
        np.multiply(dh, K_h[t], out=dA[2, t])
        np.matmul(dA[2, t], W_hT[2], out=drh)  # gradient of r h_{t-1}
        np.multiply(dh, K_z[t], out=dA[0, t])
        np.multiply(drh, K_r[t], out=dA[1, t])
        np.matmul(dA[:2, t], W_hT[:2], out=back)
        dh *= z[t]
        drh *= r[t]
        dh += drh
        dh += back[0]
        dh += back[1]  # dh_{t-1} = dh z + drh r + da_z W_hz^T + da_r W_hr^T
    return np.stack([H_prev, H_prev, RH])
