# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Part 1 — A sparse autoencoder learns edge detectors
#
# An autoencoder is trained to reproduce its input through a small hidden layer. Asked to do
# that for patches of natural images, while keeping most hidden units quiet (*sparsity*), its
# hidden units become detectors of local structure — edges and blobs, much like the receptive
# fields of simple cells in the visual cortex.
#
# Everything below runs on results that ship with `mpcore`, so the notebook executes in
# seconds. To use the course's own `data1.h5`, set `DATA_DIR` to its folder: anything not
# yet trained on that data is trained once (with a progress bar) and cached.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

from mpcore import data, plots, widgets
from mpcore import experiments as E
from mpcore.gradcheck import check_gradients
from mpcore.models import autoencoder
from mpcore.store import Store

plt.rcParams["figure.figsize"] = (8, 5)
np.set_printoptions(precision=4, suppress=True)
rng = np.random.default_rng(0)
DATA_DIR = None  # or the folder holding the course's data1.h5
store = Store()

# %% [markdown]
# ## 1. The data: natural image patches
#
# `load_patches` returns RGB patches as an array `(N, 3, 16, 16)` with values in [0, 1].
# The course's preprocessing turns each into a grayscale patch the network can model:
#
# 1. luminosity $Y = 0.2126 R + 0.7152 G + 0.0722 B$;
# 2. remove each patch's own mean (we care about structure, not brightness);
# 3. clip at ±3 standard deviations of all mean-removed pixels;
# 4. map that range linearly to [0.1, 0.9] — the range a sigmoid output can reach.

# %%
rgb = data.load_patches(None if DATA_DIR is None else f"{DATA_DIR}/data1.h5")
gray = data.preprocess_patches(rgb)
print(f"RGB patches: {rgb.shape} in [{rgb.min():.2f}, {rgb.max():.2f}]")
print(f"normalised:  {gray.shape} in [{gray.min():.2f}, {gray.max():.2f}]")

# %% [markdown]
# Left, 200 random patches as they are; right, the same patches after preprocessing. Colour
# and overall brightness are gone; what remains — edges, stripes, texture — is what the
# autoencoder will learn to encode.

# %%
fig = plots.patches_figure(rgb, gray)
plt.show()

# %% [markdown]
# ## 2. The cost and its gradient
#
# With the patches as rows of $X$ (N × 256), hidden activations
# $a = \sigma(X W_1 + b_1)$ and reconstruction $\hat X = \sigma(a W_2 + b_2)$, the cost is
#
# $$ J = \underbrace{\frac{1}{2N}\sum_n \lVert x_n - \hat x_n \rVert^2}_{\text{reconstruction}}
#      + \underbrace{\frac{\lambda}{2}\left(\lVert W_1\rVert^2 + \lVert W_2\rVert^2\right)}_{\text{weight decay}}
#      + \underbrace{\beta \sum_j \mathrm{KL}(\rho \,\Vert\, \hat\rho_j)}_{\text{sparsity}},
# \qquad \hat\rho_j = \frac1N \sum_n a_{nj}. $$
#
# The KL term is zero when the mean activation $\hat\rho_j$ of hidden unit $j$ equals the
# target $\rho$ (say 0.05), and grows fast as it moves away. Backpropagation gives, with
# $\delta_2 = (\hat X - X) \odot \hat X (1 - \hat X) / N$,
#
# $$ \nabla_{W_2} J = a^\top \delta_2 + \lambda W_2, \qquad
#    \delta_1 = \Big(\delta_2 W_2^\top + \tfrac{\beta}{N}\big(-\tfrac{\rho}{\hat\rho}
#    + \tfrac{1-\rho}{1-\hat\rho}\big)\Big) \odot a (1 - a), \qquad
#    \nabla_{W_1} J = X^\top \delta_1 + \lambda W_1 .$$
#
# This is the code in `mpcore/models/autoencoder.py` that implements it (layers are
# forward/backward pairs from `mpcore/layers.py`):
#
# ```python
# z1, aff1 = affine_forward(X, W1, params["b1"])
# a, sig1 = sigmoid_forward(z1)
# z2, aff2 = affine_forward(a, W2, params["b2"])
# X_hat, sig2 = sigmoid_forward(z2)
# rho_hat = a.mean(axis=0)
# ...
# dz2 = sigmoid_backward(err / N, sig2)
# da, dW2, db2 = affine_backward(dz2, aff2)
# da += (beta / N) * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))
# dz1 = sigmoid_backward(da, sig1)
# _, dW1, db1 = affine_backward(dz1, aff1)
# grads = {"W1": dW1 + lam * W1, "b1": db1, "W2": dW2 + lam * W2, "b2": db2}
# ```
#
# ### A live gradient check
#
# Before trusting any of it, compare the analytic gradient with central finite differences
# $\big(J(\theta + h e_i) - J(\theta - h e_i)\big) / 2h$ on a small network, in float64, one term
# at a time: reconstruction only, then with λ, then with β.

# %%
small = autoencoder.init_params(16, 5, rng)
X_small = gray[:20, :4, :4].reshape(20, 16)
for lam, beta in [(0.0, 0.0), (1e-2, 0.0), (1e-2, 3.0)]:
    cost = lambda p, lam=lam, beta=beta: autoencoder.loss_and_grads(p, X_small, lam=lam, beta=beta, rho=0.05)  # noqa: E731
    worst = max(check_gradients(cost, small).values())
    print(f"λ={lam:<5} β={beta:<4} largest relative error below 1e-6: {worst < 1e-6}")

# %% [markdown]
# ## 3. Training: 64 hidden units, λ = 5·10⁻⁴
#
# The course trains with mini-batch SGD and momentum; `mpcore` offers that
# (`solver="sgd"`), but the study uses L-BFGS on the full-batch cost (UFLDL's choice), which
# reaches far cleaner features in the same time. β = 3 and ρ = 0.05 were chosen so that the
# features are localised without starving units (mean activation ends close to ρ).

# %%
main = store.get_or_run(E.AutoencoderConfig(n_hidden=64, lam=5e-4, data_dir=DATA_DIR))
print(f"cost J = {main.metrics['cost']:.3f}, reconstruction MSE = {main.metrics['reconstruction_mse']:.4f}, "
      f"mean hidden activation = {main.metrics['mean_activation']:.3f} after {main.metrics['iterations']} iterations")

# %% [markdown]
# Each square is the input patch that excites one hidden unit most: the unit's incoming
# weights, normalised. Most are **oriented edges** at different positions and angles, some
# are **blobs** or gratings — a compact basis for natural images. The cost curve (right) shows
# L-BFGS converging.

# %%
fig = widgets.autoencoder_figure(main)
plt.show()

# %% [markdown]
# ## 4. How the hidden size and weight decay change the features
#
# Rows: $L_{hid}$ = 16, 49, 100 hidden units; columns: λ = 0, 10⁻⁵, 10⁻³. With few units each
# must cover more of the patch, and the features are broad; with more units they specialise
# into finer, more localised edges. Without weight decay the features are noisier; strong
# decay (10⁻³) smooths them into low-frequency blobs.

# %%
grid = {(h, lam): autoencoder.hidden_features(store.get_or_run(
            E.AutoencoderConfig(n_hidden=h, lam=lam, data_dir=DATA_DIR)).params)
        for h in E.AE_GRID_HIDDEN for lam in E.AE_GRID_LAMBDA}
fig = plots.feature_grid_matrix(grid, "Hidden features across L_hid and λ")
plt.show()

# %% [markdown]
# ## 5. Explore
#
# Move the sliders: λ and $L_{hid}$ switch between the shipped results instantly; β and ρ
# values other than β = 3, ρ = 0.05 train once (about a minute, with a progress bar) and are
# cached for next time.

# %% tags=["nbval-ignore-output"]
widgets.autoencoder_explorer(store, data_dir=DATA_DIR)

# %% [markdown]
# ## Summary
#
# * The sparse autoencoder's cost has three terms; each has a simple gradient, and a
#   finite-difference check proves the implementation.
# * Trained on natural image patches, its hidden units become edge and blob detectors.
# * More hidden units give finer, more specialised features; weight decay trades detail for
#   smoothness.
