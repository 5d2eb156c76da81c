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
# hidden units become detectors of local, oriented structure — edges — much like the
# receptive fields of simple cells in the visual cortex (Olshausen & Field, 1996). That
# result needs two ingredients this notebook makes visible: *whitened* patches and a training
# run that has actually converged.
#
# Everything below runs on results that ship with `mpcore`, so the notebook executes in
# seconds. To use the course's own `data1.h5`, set `DATA_DIR` to its folder: anything not
# yet trained on that data is trained once (with a progress bar) and cached.

# %%
# %matplotlib inline
import inspect

import matplotlib.pyplot as plt
import numpy as np

from mpcore import data, exercises, metrics, plots, widgets
from mpcore import experiments as E
from mpcore.gradcheck import check_gradients
from mpcore.models import autoencoder
from mpcore.store import Store
from mpcore.train import lbfgs

plots.notebook_style()
rng = np.random.default_rng(0)
DATA_DIR = None  # or the folder holding the course's data1.h5
store = Store()
MAIN = E.AutoencoderConfig(data_dir=DATA_DIR)  # the study's main setting

# %% [markdown]
# ## 1. The data: natural image patches
#
# `load_patches` returns RGB patches as an array `(N, 3, 16, 16)` with values in [0, 1].
# The course's preprocessing turns each into a grayscale patch the network can model:
#
# 1. luminosity $Y = 0.2126 R + 0.7152 G + 0.0722 B$;
# 2. remove each patch's own mean (we care about structure, not brightness);
# 3. clip at ±3 standard deviations of all mean-removed pixels;
# 4. map that range linearly to [0.1, 0.9]. The network's output is a sigmoid, whose range is
#    the open interval (0, 1): it reaches 0.1 and 0.9 with moderate inputs, but a target near 0
#    or 1 would push it onto its flat tails, where its slope σ(1 − σ) — 0.25 at the centre, 0.09
#    at 0.1 and 0.9 — is nearly zero and learning stalls. The margin keeps the outputs off them.
#
# ### Whitening
#
# Neighbouring pixels of natural images are strongly correlated: most of the variance lies in
# a few smooth, low-frequency directions (the power spectrum falls roughly like $1/f^2$). An
# autoencoder trained on such patches spends its capacity on those smooth directions.
# **ZCA whitening**, applied between steps 2 and 3, equalises the variance: with the
# covariance of the mean-removed patches $\Sigma = \frac1N Y^\top Y = U\,\mathrm{diag}(s)\,U^\top$,
#
# $$ Y \leftarrow Y Z, \qquad Z = U\,\mathrm{diag}\Big(\frac{1}{\sqrt{s + \varepsilon\,\bar s}}\Big)\,U^\top,
#    \qquad \bar s = \tfrac1D \textstyle\sum_d s_d . $$
#
# Directions with variance well above $\varepsilon \bar s$ come out with (nearly) unit variance;
# those below it — the finest, noise-dominated frequencies — are *damped* instead of blown up.
# That is what the regulariser ε is for: without it, whitening would amplify pixel noise by
# the inverse of tiny eigenvalues. ZCA (unlike PCA whitening) rotates back with $U$, so a
# whitened patch still looks like an image: its edges, sharpened. UFLDL's version of this
# exercise uses whitened images for the same reason. Whitening statistics (and the clipping
# range) are estimated on the training patches only; a tenth of the patches is held out.

# %%
rgb = E.PARTS["autoencoder"].load(DATA_DIR)
gray = data.preprocess_patches(rgb)
white = data.preprocess_patches(rgb, zca_epsilon=MAIN.zca_epsilon)
print(f"RGB patches: {rgb.shape} in [{rgb.min():.2f}, {rgb.max():.2f}]")
print(f"course recipe: {gray.shape} in [{gray.min():.2f}, {gray.max():.2f}]")
print(f"whitened (ε = {MAIN.zca_epsilon:g} × mean variance): {white.shape} in [{white.min():.2f}, {white.max():.2f}]")

# %% [markdown]
# Left, 200 random patches as they are; middle, after the course recipe; right, whitened.
# Colour and brightness are gone; in the whitened patches smooth shading is gone too and the
# edges stand out.

# %%
fig = plots.patches_figure(rgb, gray, white)
plt.show()

# %% [markdown]
# The mechanism, measured: the variance along each principal direction of the patches,
# relative to the largest (log scale).

# %%
fig = plots.variance_spectrum({"course recipe": gray.reshape(len(gray), -1),
                               "whitened": white.reshape(len(white), -1)})
plt.show()
for name, x in [("course recipe", gray), ("whitened", white)]:
    x = x.reshape(len(x), -1) - x.reshape(len(x), -1).mean(axis=0)
    s = np.linalg.eigvalsh(x.T @ x / len(x))[::-1]
    print(f"{name:13s} strongest / 10th direction: {s[0] / s[9]:7.1f}   strongest / weakest: {s[0] / s[-1]:8.1f}")

# %% [markdown]
# On the bundled patches, after the course recipe the variance falls by more than three orders
# of magnitude from the strongest to the weakest direction, and by a factor of about twenty
# within the first ten. Whitening leaves a gentle slope of less than two orders of magnitude:
# ε equalises the strong directions and damps the weak ones rather than amplifying them.

# %% [markdown]
# ### Exercise 1 (2 points): ZCA whitening
#
# Complete `zca_whiten`: given mean-removed patches `Y` (N × D, one patch per row) and ε, return
# the whitened patches $YZ$ with $Z$ as defined above (`np.linalg.eigh` gives $s$ and $U$ of the
# symmetric matrix Σ; clip tiny negative eigenvalues at 0). The check compares your result with
# `mpcore.data.zca_matrix` for two values of ε.

# %% tags=["solution:zca_whiten"]
def zca_whiten(Y, epsilon):
    """ZCA-whitened rows of Y (N, D): Y Z with Z = U diag(1 / sqrt(s + ε s̄)) U^T."""
    ### BEGIN SOLUTION
    sigma = Y.T @ Y / len(Y)
    s, U = np.linalg.eigh(sigma)
    s = np.clip(s, 0, None)
    Z = (U / np.sqrt(s + epsilon * s.mean())) @ U.T
    return Y @ Z
    ### END SOLUTION


# %% tags=["check:zca_whiten"]
zca_whiten_passed = exercises.check("zca_whiten", zca_whiten)
### BEGIN HIDDEN TESTS
assert zca_whiten_passed, "zca_whiten: see the lines marked ✗ above"
### END HIDDEN TESTS

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
# target $\rho$, and grows fast as it moves away. Backpropagation gives, with
# $\delta_2 = (\hat X - X) \odot \hat X (1 - \hat X) / N$,
#
# $$ \nabla_{W_2} J = a^\top \delta_2 + \lambda W_2, \qquad
#    \delta_1 = \Big(\delta_2 W_2^\top + \tfrac{\beta}{N}\big(-\tfrac{\rho}{\hat\rho}
#    + \tfrac{1-\rho}{1-\hat\rho}\big)\Big) \odot a (1 - a), \qquad
#    \nabla_{W_1} J = X^\top \delta_1 + \lambda W_1 .$$
#
# ### Exercise 2 (2 points): the sparsity penalty
#
# Complete `kl_sparsity`: return $\sum_j \mathrm{KL}(\rho \,\Vert\, \hat\rho_j)$ and its gradient
# with respect to the vector $\hat\rho$ — the term $-\rho/\hat\rho + (1-\rho)/(1-\hat\rho)$ of
# $\delta_1$ above, before the factor β/N. The check compares both with mpcore and the
# gradient with finite differences of your own penalty.

# %% tags=["solution:kl_sparsity"]
def kl_sparsity(rho, rho_hat):
    """Σ_j KL(ρ ‖ ρ̂_j) (a float) and its gradient with respect to rho_hat (H,)."""
    ### BEGIN SOLUTION
    kl = np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
    dkl = -rho / rho_hat + (1 - rho) / (1 - rho_hat)
    return kl, dkl
    ### END SOLUTION


# %% tags=["check:kl_sparsity"]
kl_sparsity_passed = exercises.check("kl_sparsity", kl_sparsity)
### BEGIN HIDDEN TESTS
assert kl_sparsity_passed, "kl_sparsity: see the lines marked ✗ above"
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3 (3 points): the cost and its backward pass
#
# Complete `autoencoder_cost`: the forward pass, the cost $J$ and the gradients of $J$ with
# respect to `W1`, `b1`, `W2`, `b2` (same shapes as the parameters), from the equations above.
# Weights are `(in, out)`: $W_1$ is 256 × $L_{hid}$. Use mpcore's `autoencoder.sparsity_penalty`
# (the same as Exercise 2) so that this exercise stands on its own. The check compares with
# mpcore and with finite differences on a network of 6 inputs and 4 hidden units.

# %% tags=["solution:autoencoder_cost"]
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def autoencoder_cost(params, X, lam, beta, rho):
    """Cost J (a float) and {"W1", "b1", "W2", "b2": gradient}, for patches X (N, D)."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    N = len(X)
    ### BEGIN SOLUTION
    a = sigmoid(X @ W1 + b1)
    X_hat = sigmoid(a @ W2 + b2)
    rho_hat = a.mean(axis=0)
    kl, dkl = autoencoder.sparsity_penalty(rho, rho_hat)
    J = 0.5 * np.sum((X_hat - X) ** 2) / N + 0.5 * lam * (np.sum(W1**2) + np.sum(W2**2)) + beta * kl
    delta2 = (X_hat - X) * X_hat * (1 - X_hat) / N
    delta1 = (delta2 @ W2.T + beta / N * dkl) * a * (1 - a)
    return J, {"W1": X.T @ delta1 + lam * W1, "b1": delta1.sum(axis=0),
               "W2": a.T @ delta2 + lam * W2, "b2": delta2.sum(axis=0)}
    ### END SOLUTION


# %% tags=["check:autoencoder_cost"]
autoencoder_cost_passed = exercises.check("autoencoder_cost", autoencoder_cost)
### BEGIN HIDDEN TESTS
assert autoencoder_cost_passed, "autoencoder_cost: see the lines marked ✗ above"
### END HIDDEN TESTS

# %% [markdown]
# mpcore's own implementation of this cost, `autoencoder.loss_and_grads`, is printed at the end
# of the notebook, once the exercises are behind you; everything below calls it.

# %% [markdown]
# ### A live gradient check
#
# Before trusting any of it, compare the analytic gradient with central finite differences
# $\big(J(\theta + h e_i) - J(\theta - h e_i)\big) / 2h$ on a small network, in float64, one term
# at a time: reconstruction only, then with λ, then with β. Printed is the relative error
# $\lVert g - \tilde g\rVert / (\lVert g\rVert + \lVert \tilde g\rVert)$ between the analytic gradient
# $g$ and the numerical one $\tilde g$, for each parameter array: with $h = 10^{-5}$ in float64,
# a correct gradient gives about $10^{-9}$ or less, while a wrong term typically gives
# $10^{-3}$ or more. Passing the check supports the implementation, on these inputs; it does
# not prove it.

# %%
small = autoencoder.init_params(16, 5, rng)
X_small = gray[:20, :4, :4].reshape(20, 16)
for lam, beta in [(0.0, 0.0), (1e-2, 0.0), (1e-2, 3.0)]:
    cost = lambda p, lam=lam, beta=beta: autoencoder.loss_and_grads(p, X_small, lam=lam, beta=beta, rho=0.05)  # noqa: E731
    print(f"λ = {lam:g}, β = {beta:g}")
    for name, error in check_gradients(cost, small).items():
        print(f"  {name}: relative error {error:.1e}")

# %% [markdown]
# ## 3. Training to convergence
#
# The course trains with mini-batch SGD and momentum; `mpcore` offers that
# (`solver="sgd"`), but the study minimises the full-batch cost with L-BFGS (UFLDL's choice)
# and runs it **until it has converged**: training stops when the cost has fallen by less than
# `rel_tol` (relative) over the last 20 iterations, with an iteration cap as a safety net. The
# result records which of the two stopped it.
#
# First, a taste of the real thing: `mpcore.train.lbfgs` on the cost above, live, on 2000 of
# the whitened training patches for 60 iterations (a few seconds):

# %%
X_train, X_held = E.autoencoder_inputs(DATA_DIR, MAIN.zca_epsilon, MAIN.seed)
cost = lambda p: autoencoder.loss_and_grads(p, X_train[:2000], lam=MAIN.lam, beta=MAIN.beta, rho=MAIN.rho)  # noqa: E731
p_live, h_live = lbfgs(cost, autoencoder.init_params(256, MAIN.n_hidden, np.random.default_rng(MAIN.seed)),
                       maxiter=60, rel_tol=MAIN.rel_tol, progress=False)
print(f"cost {h_live.train_loss[0]:.3f} after the first iteration, {h_live.train_loss[-1]:.3f} after "
      f"{len(h_live.train_loss)} ({h_live.stopped})")
live_selectivity, _ = metrics.feature_spectrum(autoencoder.hidden_features(p_live))
print(f"mean orientation selectivity of its features: {live_selectivity.mean():.2f}")

# %% [markdown]
# Sixty iterations are not convergence: the run stopped at its iteration cap, and its features
# are not edges yet. Their mean *orientation selectivity* — section 4 defines it: about 0.9 for
# an edge or a grating, 0.1 for pixel noise — is printed above; the converged run below
# reaches 0.73 (section 4).
#
# The study's run of the main setting (β = 3 and ρ = 0.01 as in UFLDL's exercise; λ and
# $L_{hid}$ from the grid in section 6) is the same call on all 9216 training patches until
# convergence — about a minute — so it is loaded from the shipped results instead, as is every
# figure below:

# %%
main = store.get_or_run(MAIN, E.run)
print({k: getattr(main.config, k) for k in ("n_hidden", "lam", "beta", "rho", "zca_epsilon", "rel_tol", "maxiter")})
m = main.metrics
print(f"{m['iterations']} iterations, {main.history['stopped']}")
print(f"cost J = {m['cost']:.4f}; reconstruction MSE {m['reconstruction_mse']:.5f} (training patches), "
      f"{m['held_out_mse']:.5f} (held-out); mean hidden activation {m['mean_activation']:.4f} for ρ = {MAIN.rho}")

# %% [markdown]
# ## 4. The learned features
#
# Each square is the input patch that excites one hidden unit most: the unit's incoming
# weights, normalised to unit length. Left, trained on whitened patches; right, the same
# setting trained on the course recipe without whitening.

# %%
plain = store.get_or_run(E.AutoencoderConfig(zca_epsilon=None, data_dir=DATA_DIR), E.run)
fig = plots.feature_grids({"whitened patches": autoencoder.hidden_features(main.params),
                           "course recipe, not whitened": autoencoder.hidden_features(plain.params)})
plt.show()

# %% [markdown]
# On whitened patches nearly every unit is a thin, **localised, oriented edge** — at many
# positions and angles — and a few are gratings: a compact, edge-based code for natural
# images. Without whitening the features are still stroke-like but broader, smoother and
# more curved: the network spends units on the smooth, high-variance directions.
#
# ### Measuring "edge-like"
#
# To check this by numbers rather than by eye, take each feature's power spectrum $P(k)$ (the
# squared 2-D Fourier transform of the mean-removed 16 × 16 image) and compute
#
# * the **orientation selectivity** $\big|\sum_k P(k)\,e^{2i\theta(k)}\big| / \sum_k P(k)$ over
#   the nonzero frequencies $k$ at angle $\theta(k)$: near 1 when all the power lies along one
#   orientation (a grating or a Gabor-like edge scores about 0.9, a short bar 0.75–0.9), near 0
#   for a round blob and about 0.1 for pixel noise;
# * the **high-frequency share**: the fraction of power above 4 cycles per patch (pixel noise
#   puts about 80% of its power there, smooth features almost none).
#
# (`tests/test_study.py` checks these reference values. One caveat: the Fourier transform
# treats the patch as periodic, so a long straight edge that crosses the whole patch at an
# oblique angle scores lower than it looks; the measure is strict with features that are
# *not* localised.)

# %%
for name, r in [("whitened", main), ("not whitened", plain)]:
    sel, hf = r.metrics["selectivity"], r.metrics["high_frequency"]
    print(f"{name:13s} mean selectivity {sel:.3f}, mean high-frequency share {hf:.3f}, "
          f"redundancy {r.metrics['redundancy']:.3f}")

# %% [markdown]
# (*Redundancy*: each feature's largest |cosine similarity| with another feature, averaged;
# near 1 would mean units copy each other.)
#
# ### Reconstructions
#
# Held-out whitened patches (top) and what the network makes of them (bottom). Most whitened
# patches are low-contrast texture, which comes back as nearly flat grey; where a patch has a
# strong edge, the reconstruction keeps a fainter copy of it, in the right place and at the
# right angle. 64 sigmoid units that are off most of the time cannot code all 256 pixels;
# the table in section 6 says how much of the patches' variance they do explain.

# %%
fig = plots.reconstructions(X_held, autoencoder.forward(main.params, X_held)[1])
plt.show()

# %% [markdown]
# ## 5. The cost during training
#
# The cost curve (right, log scale) drops by more than an order of magnitude in the first
# few iterations — at the start nearly all of the cost is the sparsity term, because every
# unit is on about half the time instead of a fraction ρ — then
# flattens near the cost of reconstructing every patch as the mean patch, and then keeps
# falling slowly for hundreds of iterations as the units find edges. The title gives the final
# cost and the iteration count. A run stopped after a few dozen iterations would have stopped
# on that plateau: that is why the study trains to convergence.

# %%
fig = plots.autoencoder_figure(main)
plt.show()

# %% [markdown]
# ## 6. How the hidden size and weight decay change the features
#
# Rows: $L_{hid}$ hidden units; columns: weight decay λ. Every run is trained to convergence
# on whitened patches, with β = 3 and ρ = 0.01; each panel's title gives its measured
# selectivity and high-frequency share. The table below lists every run's numbers.

# %%
grid = {(h, lam): store.get_or_run(E.AutoencoderConfig(n_hidden=h, lam=lam, data_dir=DATA_DIR), E.run)
        for h in E.AE_GRID_HIDDEN for lam in E.AE_GRID_LAMBDA}
fig = plots.feature_grid_matrix(
    {k: autoencoder.hidden_features(r.params) for k, r in grid.items()}, "Hidden features across L_hid and λ",
    notes={k: plots.spectrum_note(r.metrics) for k, r in grid.items()})
plt.show()

# %% [markdown]
# To compare reconstruction errors fairly, divide each by the error of the simplest possible
# model — always output the mean training patch — on the same patches: 1.0 means the hidden
# layer adds nothing, lower is better. (The held-out patches happen to vary a little more than
# the training patches, so their raw errors are not comparable with the training errors.)

# %%
mean_patch = X_train.mean(axis=0)
base_train, base_held = np.mean((X_train - mean_patch) ** 2), np.mean((X_held - mean_patch) ** 2)


def print_runs(runs, settings, columns):
    """One row per run: its `settings` (config fields), then `columns` ({header: metric}), with the
    reconstruction errors divided by the mean-patch baselines."""
    print(" ".join(f"{h:>11s}" for h in [*settings, *columns]))
    for r in runs.values():
        m = dict(r.metrics, reconstruction_mse=r.metrics["reconstruction_mse"] / base_train,
                 held_out_mse=r.metrics["held_out_mse"] / base_held)
        print(" ".join(f"{getattr(r.config, k):>11g}" for k in settings.values()) + " "
              + " ".join(f"{m[k]:>11.3f}" if isinstance(m[k], float) else f"{m[k]:>11d}" for k in columns.values()))


print_runs(grid, {"L_hid": "n_hidden", "λ": "lam"},
           {"MSE/mean": "reconstruction_mse", "held-out": "held_out_mse", "‖W1 col‖": "weight_norm",
            "selectivity": "selectivity", "high-freq": "high_frequency", "redundancy": "redundancy",
            "iterations": "iterations"})

# %% [markdown]
# What the grid and the table show:
#
# * **λ too large** (right column): weight decay wins. Every unit shows the same faint pattern
#   (redundancy ≈ 1), the weights are an order of magnitude smaller than at λ = 10⁻⁴, and the
#   reconstruction error equals that of outputting the mean patch (ratio 1.000): the hidden
#   layer has been switched off. Between λ = 10⁻⁴ and 3·10⁻⁴ the balance tips.
# * **λ small** (left column): the features are noisier — lower selectivity, more power at high
#   frequencies — and with 16 units most of them are noise. The reconstruction fits the
#   training patches better than held-out ones, and that gap is larger than at λ = 10⁻⁴: a mild
#   overfit, which weight decay reins in.
# * **$L_{hid}$**: with few units (16) each must cover more of the patch — broad edges and bars —
#   and the reconstruction stays close to the mean patch: underfitting. More units reconstruct
#   better, on held-out patches too, and tile positions and orientations more finely; they
#   are also more alike (redundancy grows with $L_{hid}$), and the train/held-out gap grows a
#   little.
#
# **Question A (1 point).** In the grid, the right-hand column (the largest λ) shows almost the
# same faint pattern in every unit and reconstructs no better than the mean patch. Using the
# cost $J$, explain why a large enough λ switches the hidden layer off.

# %% [markdown] tags=["answer:question_lambda"]
# **Answer.** Weight decay adds $\frac{\lambda}{2}\lVert W\rVert^2$ to $J$. Using the hidden layer costs
# weights: reconstruction improves only if the units' weights are large enough to carry the
# patch's structure. When λ is so large that the decay term grows faster than the
# reconstruction error falls, the minimum of $J$ has tiny weights; then every unit's input is
# close to its bias, all units respond almost alike (redundancy ≈ 1), and the output is close
# to the mean patch, which the biases alone can produce.

# %% [markdown]
# **Question B (1 point).** Without whitening (the figure in section 4) the features are broader
# and smoother than with it. Why does equalising the variance of the principal directions
# lead to localised edges?

# %% [markdown] tags=["answer:question_whitening"]
# **Answer.** The reconstruction error is dominated by the directions with the most variance.
# In raw patches those are the smooth, low-frequency directions (the spectrum falls like
# $1/f^2$), so the units spend themselves on broad brightness gradients. After whitening every
# direction up to ε carries about the same variance, so the units must also explain the
# high-frequency structure; with few active units per patch (sparsity), the cheapest such
# code is a set of localised, oriented edges, which natural images are made of.

# %% [markdown]
# ## 7. How the sparsity penalty changes the features
#
# Rows: the weight β of the sparsity term; columns: the target mean activation ρ. Every run has
# the main $L_{hid}$ = 64 and λ = 10⁻⁴ and is trained to convergence on whitened patches; the
# main setting is β = 3, ρ = 0.01 (middle row, left).

# %%
sparsity = {(b, r): store.get_or_run(E.AutoencoderConfig(beta=b, rho=r, data_dir=DATA_DIR), E.run)
            for b in E.AE_GRID_BETA for r in E.AE_GRID_RHO}
fig = plots.feature_grid_matrix(
    {k: autoencoder.hidden_features(r.params) for k, r in sparsity.items()}, "Hidden features across β and ρ",
    notes={k: plots.spectrum_note(r.metrics) for k, r in sparsity.items()},
    labels=("β", "ρ"))
plt.show()

# %%
print_runs(sparsity, {"β": "beta", "ρ": "rho"},
           {"mean act.": "mean_activation", "dead units": "dead_units", "MSE/mean": "reconstruction_mse",
            "selectivity": "selectivity", "high-freq": "high_frequency", "redundancy": "redundancy",
            "iterations": "iterations"})

# %% [markdown]
# What the grid and the table show:
#
# * **ρ decides whether the features are edges.** At ρ = 0.01 (left column) every β gives
#   localised, oriented edges and gratings (selectivity above 0.7). At ρ = 0.05 the units answer
#   five times as often and the features turn into fine, mostly unoriented textures with a
#   few broad blobs; at ρ = 0.2 they are speckle (selectivity about 0.15, a third of the power
#   at high frequencies). A dense code reconstructs *better* — the error relative to the mean
#   patch roughly halves from ρ = 0.01 to 0.2 — but no single unit means anything on its own:
#   the redundancy measure falls towards 0, the units are unlike each other, yet none is an edge.
#   In this setting — 64 hidden units, λ = 10⁻⁴, whitening with ε = 1 (× the mean variance), a
#   sigmoid output, one seed per run — edges come only with the sparsest target. That is a
#   finding about this setting, not a law: UFLDL's linear-decoder exercise (400 hidden units,
#   a linear output layer, λ = 3·10⁻³, β = 5, whitened 8 × 8 colour patches) learns edges at
#   ρ = 0.035, between our 0.01 and 0.05. We did not try other hidden sizes, weight decays or
#   output layers here.
# * **β decides how closely the mean activation follows ρ.** With β = 0.3 the units fire twice
#   as often as the target at ρ = 0.01 (mean activation 0.020) and a few blobs appear among the
#   edges; with β = 3 or 10 the mean activation is within 10 % of ρ and the features look
#   alike (selectivity 0.73 at both). Once the constraint holds, a larger β changes little.

# %% [markdown]
# ## 8. Explore
#
# Move λ from 10⁻⁴ up to 3·10⁻⁴ and watch the features vanish, or down to 3·10⁻⁵ and watch
# them get noisier; move $L_{hid}$ to 16 and watch them grow broader. Every grid point ships
# with the package, so each move replots at once. (With `DATA_DIR` set to the course's file,
# nothing is trained yet: a setting not in the store keeps the previous figure and offers a
# *Train this setting* button, with a progress bar and Cancel — moving a slider never trains.)

# %% tags=["nbval-ignore-output"]
widgets.autoencoder_explorer(store, data_dir=DATA_DIR)

# %% [markdown]
# The same for the sparsity penalty: move ρ from 0.01 to 0.05 and watch the edges dissolve
# into texture; at ρ = 0.01, move β from 3 down to 0.3 and watch the mean activation (in the
# features' title) double and a few blobs appear.

# %% tags=["nbval-ignore-output"]
widgets.sparsity_explorer(store, data_dir=DATA_DIR)

# %% [markdown]
# ## Summary
#
# * The sparse autoencoder's cost has three terms; each has a simple gradient, and a
#   finite-difference check (relative errors between 10⁻¹¹ and 10⁻⁹) supports the
#   implementation.
# * Trained to convergence on whitened natural image patches, its hidden units become
#   localised, oriented edge detectors — measured, not only seen. Without whitening the
#   features are broader and smoother.
# * Too little weight decay leaves noisy, slightly overfitted features; too much switches them
#   off. Few hidden units underfit; more units reconstruct better and grow partly redundant.
# * With 64 hidden units and λ = 10⁻⁴, edges needed a sparse code: with a target activation ρ of
#   0.05 or more the features turn into texture and speckle, although they reconstruct better;
#   β sets how closely the units keep to ρ. Other settings move that threshold (UFLDL's linear
#   decoder learns edges at ρ = 0.035).
#
# **Not shown here**: the β × ρ grid at other hidden sizes or weight decays, other whitening
# strengths ε, and the random initialisation (each setting is one seed; the
# measures are averages over all of a run's features, which makes them stable, but we did not
# measure their spread over seeds).

# %% [markdown]
# ## Appendix: mpcore's implementation of the cost
#
# The code behind every figure above — Exercise 3's answer, so it comes after the exercises —
# read from `mpcore/models/autoencoder.py` itself (layers are forward/backward pairs from
# `mpcore/layers.py`). Note the line with `beta / N`: every example's activation moves
# $\hat\rho$ by $1/N$.

# %%
source = inspect.getsource(autoencoder.loss_and_grads)
print(source[source.index("    lam, beta, rho = check_hyper"):])
