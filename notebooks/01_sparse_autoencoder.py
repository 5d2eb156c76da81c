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
# hidden units become detectors of local structure — strokes and edges — much like the
# receptive fields of simple cells in the visual cortex (Olshausen & Field, 1996).
#
# The walkthrough follows the assignment: the course's preprocessing of the patches (§1), the
# cost and its gradient (§2), training (§3), the learned features (§4) and how the hidden size
# $L_{hid}$ and the weight decay λ change them (§5). Then two questions beyond it: what
# whitening the patches changes (§6) and what the sparsity penalty's weight β and target ρ do
# (§7). How the features are measured (orientation selectivity, normalised reconstruction
# error) is in Appendix A; the main text quotes one-line readings.
#
# Everything below runs on results that ship with `mpcore`, so the notebook executes in
# seconds. To use the course's own `data1.h5`, set `DATA_DIR` to its folder: each section then
# trains the runs it shows on that data where it first needs them (the course recipe first, a
# few minutes; the three grids after), two at a time on two cores, after saying how many and
# about how long, and caches each as it finishes (stop and rerun: it continues).

# %%
# %matplotlib inline
import inspect

import numpy as np

from mpcore import data, exercises, experiments, metrics, plots, runner, study, widgets
from mpcore.gradcheck import numerical_gradient, relative_error
from mpcore.models import autoencoder
from mpcore.store import Store
from mpcore.train import lbfgs

plots.notebook_style()
rng = np.random.default_rng(0)
DATA_DIR = None  # or the folder holding the course's data1.h5
store = Store()
COURSE = experiments.AutoencoderConfig(zca_epsilon=None, data_dir=DATA_DIR)  # the assignment's setting
WHITE = experiments.AutoencoderConfig(data_dir=DATA_DIR)  # the same on whitened patches (§6)
RUNS = study.autoencoder_groups(DATA_DIR)  # the runs each section shows: shipped, or trained where first needed


def train_section(name):
    """Section ``name``'s runs: loaded at once when stored; on your own files trained here, two at a
    time, after a line that says how many and about how long."""
    runner.run_all(RUNS[name], store, jobs=2, notebook=True)


def trained(config):
    """The run of ``config``, from the cache (its section trained it)."""
    return store.get_or_run(config, experiments.run)

# %% [markdown]
# ## 1. The data and the course's preprocessing
#
# `load_patches` returns RGB patches as an array `(N, 3, 16, 16)` with values in [0, 1]. The
# bundled patches are 10,240 random 16 × 16 crops, 2,560 from each of **four photographs**
# that ship with scikit-image (an astronaut, a cat, a cup of coffee, a rocket launch). That is
# a small sample of natural images: four scenes, a few kinds of texture, and crops of one
# photograph overlap. The features below are what these four scenes
# teach; the held-out patches of §3 come from the same four photographs, so they measure how
# well the network codes *new crops*, not new scenes. The course's `data1.h5` holds other
# images and may give other features.
#
# The course's preprocessing turns each patch into a grayscale patch the network can model:
#
# 1. luminosity $Y = 0.2126 R + 0.7152 G + 0.0722 B$;
# 2. remove each patch's own mean (we care about structure, not brightness);
# 3. clip at ±3 standard deviations of all mean-removed pixels (of every patch together);
# 4. map that range linearly to [0.1, 0.9]. The network's output is a sigmoid, whose range is
#    the open interval (0, 1): it reaches 0.1 and 0.9 with moderate inputs, but a target near 0
#    or 1 would push it onto its flat tails, where its slope σ(1 − σ) — 0.25 at the centre, 0.09
#    at 0.1 and 0.9 — is nearly zero and learning stalls. The margin keeps the outputs off them.
#
# ### Exercise 1 (2 points): the course's preprocessing
#
# Complete `course_preprocess`: given RGB patches `rgb` (N × 3 × P × P, values in [0, 1]),
# return the N × P × P patches of steps 1–4. Use only numpy. The check compares your result
# with `mpcore.data.preprocess_patches` on patches with a few pixels far out in the tails,
# so the clipping matters.

# %% tags=["solution:course_preprocess"]
def course_preprocess(rgb):
    """The course's recipe: RGB patches (N, 3, P, P) in [0, 1] -> gray patches (N, P, P) in [0.1, 0.9]."""
    ### BEGIN SOLUTION
    Y = 0.2126 * rgb[:, 0] + 0.7152 * rgb[:, 1] + 0.0722 * rgb[:, 2]
    Y = Y - Y.mean(axis=(1, 2), keepdims=True)
    s = 3 * Y.std()
    return 0.1 + 0.8 * (np.clip(Y, -s, s) + s) / (2 * s)
    ### END SOLUTION


# %% tags=["check:course_preprocess"]
course_preprocess_passed = exercises.check("course_preprocess", course_preprocess)

# %% [markdown]
# mpcore's version, `data.preprocess_patches`, is used from here on. Left, 200 random patches
# as they are; right, after the course recipe. Colour and brightness are gone; what is left
# is the structure of each patch: shading, strokes, edges.

# %%
rgb = experiments.PARTS["autoencoder"].load(DATA_DIR)
gray = data.preprocess_patches(rgb)
print(f"RGB patches: {rgb.shape} in [{rgb.min():.2f}, {rgb.max():.2f}]")
print(f"course recipe: {gray.shape} in [{gray.min():.2f}, {gray.max():.2f}], mean {gray.mean():.3f}")
fig = plots.patches_figure(rgb, gray)
plots.show(fig)

# %% [markdown]
# Note the mean: every patch's own mean was removed in step 2, so after step 4 every pixel
# averages 0.5 — the inputs are *not* centred at 0. Section 5 shows what that does.
#
# A tenth of the patches is held out: never trained on, never used for the clipping range.

# %% [markdown]
# ## 2. The cost and its derivation
#
# With the patches as rows of $X$ (N × 256), hidden activations
# $a = \sigma(X W_1 + b_1)$ and reconstruction $\hat X = \sigma(a W_2 + b_2)$, the cost is
#
# $$ J = \underbrace{\frac{1}{2N}\sum_n \lVert x_n - \hat x_n \rVert^2}_{\text{reconstruction}}
#      + \underbrace{\frac{\lambda}{2}\left(\lVert W_1\rVert^2 + \lVert W_2\rVert^2\right)}_{\text{weight decay}}
#      + \underbrace{\beta \sum_j \mathrm{KL}(\rho \,\Vert\, \hat\rho_j)}_{\text{sparsity}},
# \qquad \hat\rho_j = \frac1N \sum_n a_{nj}, $$
#
# $$ \mathrm{KL}(\rho \,\Vert\, \hat\rho_j) = \rho \log\frac{\rho}{\hat\rho_j}
#    + (1-\rho) \log\frac{1-\rho}{1-\hat\rho_j} . $$
#
# The KL term is zero when the mean activation $\hat\rho_j$ of hidden unit $j$ equals the
# target $\rho$, and grows fast as it moves away.
#
# **The backward pass.** Write $z_1 = X W_1 + b_1$ and $z_2 = a W_2 + b_2$. The reconstruction
# term gives, at the output, $\delta_2 = \partial J / \partial z_2 = (\hat X - X) \odot \hat X (1 - \hat X) / N$
# (the $1/N$ of the mean, and σ′ = σ(1 − σ)); then $\nabla_{W_2} J = a^\top \delta_2 + \lambda W_2$
# and $\nabla_{b_2} J = \sum_n \delta_{2,n}$. Going down to the hidden layer, the reconstruction
# term reaches $a_{nj}$ through $W_2$: $\partial / \partial a = \delta_2 W_2^\top$.
#
# The sparsity term reaches $a_{nj}$ in a different way: it depends on the activations only
# through the means $\hat\rho_j = \frac1N \sum_n a_{nj}$, and
#
# $$ \frac{\partial \hat\rho_j}{\partial a_{nj}} = \frac1N \quad\text{for every example } n, \qquad
#    \text{so}\qquad \frac{\partial}{\partial a_{nj}}\, \beta \sum_k \mathrm{KL}(\rho\,\Vert\,\hat\rho_k)
#    = \frac{\beta}{N}\, \frac{\partial\, \mathrm{KL}(\rho\,\Vert\,\hat\rho_j)}{\partial \hat\rho_j} . $$
#
# Every example gets the *same* sparsity term, $\beta/N$ times the derivative of unit $j$'s KL
# term, whatever its own activation: the penalty is on the mean, so it gives every example's
# activation of an over-active unit the same downward gradient (σ′ then scales it per example).
# With σ′ at the hidden layer,
#
# $$ \delta_1 = \Big(\delta_2 W_2^\top
#    + \frac{\beta}{N}\, \frac{\partial\, \mathrm{KL}(\rho\,\Vert\,\hat\rho)}{\partial \hat\rho}\Big) \odot a (1 - a),
#    \qquad \nabla_{W_1} J = X^\top \delta_1 + \lambda W_1, \qquad \nabla_{b_1} J = \sum_n \delta_{1,n} ,$$
#
# with the derivative taken for each unit and added to every row. UFLDL's notes write the same
# thing with examples in columns and the $1/m$ of the mean applied at the end, to the summed
# gradient: there the sparsity term inside $\delta$ carries β alone, here β/N.
#
# ### Exercise 2 (2 points): the sparsity penalty and its derivative
#
# Complete `kl_sparsity`: return the penalty $\sum_j \mathrm{KL}(\rho \,\Vert\, \hat\rho_j)$ (a
# float) and the vector of its derivatives $\partial\, \mathrm{KL}(\rho\,\Vert\,\hat\rho_j) / \partial \hat\rho_j$,
# the factor of $\delta_1$ above before β/N. Derive the derivative by hand from the definition of
# KL. The check compares both with mpcore and the derivative with finite differences of your
# own penalty.

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

# %% [markdown]
# The derivative is
# $\partial\, \mathrm{KL}(\rho\,\Vert\,\hat\rho_j)/\partial\hat\rho_j = -\rho/\hat\rho_j + (1-\rho)/(1-\hat\rho_j)$:
# zero at $\hat\rho_j = \rho$, positive (push the activations down) for a unit that is on
# more often than ρ, and large: a unit on half the time at ρ = 0.01 gets
# $-0.02 + 1.98 \approx 2$, a unit on 0.1 % of the time gets $-10 + 0.99 \approx -9$.
#
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

# %% [markdown]
# mpcore's own implementation of this cost, `autoencoder.loss_and_grads`, is printed at the end
# of the notebook (Appendix B), once the exercises are behind you; everything below calls it.
#
# ### Exercise 4 (2 points): a gradient checker
#
# A gradient you derived by hand needs a check that does not share your derivation. UFLDL's is
# `computeNumericalGradient`: perturb one entry $\theta_i$ at a time by $\pm h$ and take the
# central difference
#
# $$ \tilde g_i = \frac{J(\theta + h e_i) - J(\theta - h e_i)}{2h}, $$
#
# whose error shrinks like $h^2$ (a one-sided difference's only like $h$). Complete
# `compute_numerical_gradient`: `J` is a function of an array `theta` that returns a float;
# return $\tilde g$ with the shape of `theta`. Leave the caller's `theta` as it was (perturb
# copies, or restore each entry). The check compares your result with exact gradients of
# three functions, one of them curved enough that a one-sided difference shows.

# %% tags=["solution:compute_numerical_gradient"]
def compute_numerical_gradient(J, theta, h=1e-5):
    """Central-difference gradient of J (a function of the array theta returning a float)."""
    ### BEGIN SOLUTION
    theta = np.asarray(theta, dtype=float)
    grad = np.zeros(theta.shape)
    for i in np.ndindex(theta.shape):
        step = np.zeros(theta.shape)
        step[i] = h
        grad[i] = (J(theta + step) - J(theta - step)) / (2 * h)
    return grad
    ### END SOLUTION


# %% tags=["check:compute_numerical_gradient"]
compute_numerical_gradient_passed = exercises.check("compute_numerical_gradient", compute_numerical_gradient)

# %% [markdown]
# ### A live gradient check
#
# Now compare mpcore's analytic gradient with your checker (mpcore's own,
# `gradcheck.numerical_gradient`, if yours has not passed yet) on a small network, in float64,
# one term at a time: reconstruction only, then with λ, then with β. Printed is the relative
# error $\lVert g - \tilde g\rVert / (\lVert g\rVert + \lVert \tilde g\rVert)$ between the
# analytic gradient $g$ and the numerical one $\tilde g$, for each parameter array: with
# $h = 10^{-5}$ in float64, a correct gradient gives about $10^{-9}$ or less, while a wrong
# term typically gives $10^{-3}$ or more. Passing the check supports the implementation, on
# these inputs; it does not prove it.

# %%
def reference_numerical_gradient(J, theta, h=1e-5):
    t = np.array(theta, dtype=np.float64)
    return numerical_gradient(lambda: J(t), t, h)


checker = compute_numerical_gradient if compute_numerical_gradient_passed else reference_numerical_gradient
small = autoencoder.init_params(16, 5, rng)
X_small = gray[:20, :4, :4].reshape(20, 16)
for lam, beta in [(0.0, 0.0), (1e-2, 0.0), (1e-2, 3.0)]:
    print(f"λ = {lam:g}, β = {beta:g}")
    _, analytic = autoencoder.loss_and_grads(small, X_small, lam=lam, beta=beta, rho=0.05)
    for name in small:
        def J(theta, name=name, lam=lam, beta=beta):
            return autoencoder.loss_and_grads({**small, name: theta}, X_small, lam=lam, beta=beta, rho=0.05)[0]
        print(f"  {name}: relative error {relative_error(analytic[name], checker(J, small[name])):.1e}")

# %% [markdown]
# ## 3. Training
#
# The course trains with mini-batch gradient descent with momentum (batch 32, momentum 0.4);
# `mpcore` offers that (`solver="sgd"`). The study minimises the full-batch cost with L-BFGS
# instead (UFLDL's choice), **until it has converged**: training stops when the cost has
# fallen by less than `rel_tol` (relative) over the last 20 iterations, with an iteration cap
# as a safety net. The result records which of the two stopped it.
#
# First, a taste of the real thing: `mpcore.train.lbfgs` on the cost above, live, on 2000 of
# the training patches (course recipe) for 60 iterations — a few seconds:

# %%
X_train, X_held = experiments.autoencoder_inputs(DATA_DIR, COURSE.zca_epsilon, COURSE.seed)
hyper = dict(lam=COURSE.lam, beta=COURSE.beta, rho=COURSE.rho)
cost = lambda p: autoencoder.loss_and_grads(p, X_train[:2000], **hyper)  # noqa: E731
p_start = autoencoder.init_params(X_train.shape[1], COURSE.n_hidden, np.random.default_rng(COURSE.seed))
p_live, h_live = lbfgs(cost, p_start, maxiter=60, rel_tol=COURSE.rel_tol, progress=False)
print(f"cost {h_live.train_loss[0]:.3f} after the first iteration, {h_live.train_loss[-1]:.3f} after "
      f"{len(h_live.train_loss)} ({h_live.stopped})")

# %% [markdown]
# Sixty iterations are not convergence: the run stopped at its iteration cap. The study's run
# of this setting ($L_{hid}$ = 64; λ = 10⁻⁴, β = 3 and ρ = 0.01 as in UFLDL's exercise, which has
# 25 hidden units on 8 × 8 patches) is the
# same call on all 9216 training patches until convergence — about two minutes — so it is
# loaded from the shipped results instead, as is every figure below. Next to it, the course's
# own solver on the same cost: up to 300 epochs of mini-batch gradient descent, batch 32, momentum
# 0.4, learning rate η = 0.3 (the lowest full-batch cost after 100 epochs among η = 0.1, 0.3,
# 1 and 3, in one trial run each that is not shipped; at 1 and 3 the epoch cost did not
# settle).

# %%
train_section("course recipe")
course = trained(COURSE)
course_sgd = trained(study.autoencoder_course_sgd_config(data_dir=DATA_DIR))
mean_patch = X_train.mean(axis=0)
base_train, base_held = np.mean((X_train - mean_patch) ** 2), np.mean((X_held - mean_patch) ** 2)
for name, r in [("L-BFGS", course), ("course SGD", course_sgd)]:
    m, unit = r.metrics, "iterations" if r.config.solver == "lbfgs" else "epochs"
    print(f"{name:10s}: {m['iterations']} {unit}, {r.wall_time:.0f} s ({r.history['stopped']}); "
          f"cost J = {m['cost']:.4f}; "
          f"reconstruction error / mean patch's {m['reconstruction_mse'] / base_train:.3f} (training), "
          f"{m['held_out_mse'] / base_held:.3f} (held-out); mean activation {m['mean_activation']:.4f}")

# %% [markdown]
# The *reconstruction error / mean patch's* ratio divides the mean squared error by that of
# always answering the mean training patch: 1.0 means the hidden layer adds nothing
# (Appendix A). The course's solver stopped after 287 epochs — its mean mini-batch cost had not
# improved for 50 — and kept the weights of its best epoch, 237. They have a higher full-batch
# cost than L-BFGS's (1.093 against 0.874) and a worse reconstruction, reached in a fifth of the
# time. Two reasons, measured on the shipped run: at a fixed η the
# iterate keeps bouncing (over its last 100 epochs the mean mini-batch cost wanders between
# 1.219 and 1.241, never settling), and a mini-batch of 32 estimates each unit's mean activation
# $\hat\rho_j$ from 32 patches — at ρ = 0.01 that is a third of an active patch per unit and
# batch — so the sparsity term it follows is a noisy stand-in for the full-batch one. A smaller
# or decaying η and more epochs might come closer; we tried only the four values above.
#
# ### The cost during training
#
# Why train to convergence? The terms of the cost of the converged L-BFGS run, iteration by
# iteration (top left: all of them and the total, log scale; then each term on its own from
# iteration 10, where the early values would swamp it, the cost on a linear axis and the
# iterations on a log scale):

# %%
fig = plots.cost_terms_figure(course.history, "The cost during training: L-BFGS, L_hid=64, λ=1e-4, β=3, ρ=0.01, "
                              "course recipe", baseline=0.5 * np.sum((X_train - mean_patch) ** 2) / len(X_train))
plots.show(fig)
terms, J = course.history["monitor"], course.history["train_loss"]
# the plateau: from iteration 10 until the reconstruction term first falls 5% below its value there
plateau = next((i for i, v in enumerate(terms["reconstruction"]) if i > 10 and v < 0.95 * terms["reconstruction"][10]),
               len(J))
print(f"iteration 1: J = {J[0]:.1f}, of which sparsity {terms['sparsity'][0]:.1f}")
print(f"iterations 11-{plateau}: reconstruction {terms['reconstruction'][min(10, len(J) - 1)]:.3f} "
      f"(the mean patch's: {0.5 * np.sum((X_train - mean_patch) ** 2) / len(X_train):.3f})")
print(f"iteration {len(J)}: reconstruction {terms['reconstruction'][-1]:.3f}, weight decay "
      f"{terms['weight_decay'][-1]:.3f}, sparsity {terms['sparsity'][-1]:.3f}")

# %% [markdown]
# After the first iteration nearly all of the cost is the sparsity term (58 of 60): the random
# start makes every unit far more active than the target ρ = 0.01 (§6 prints the mean
# activations at this start: 0.18 to 0.77, on whitened patches). L-BFGS removes it within ten
# iterations (the dips on the log axis are the mean activations $\hat\rho_j$ passing close to
# ρ, where the KL term is 0). The reconstruction term then sits on the dotted line — the cost
# of answering every patch with the mean patch — until about iteration 20: the hidden layer is
# not used yet. From there it falls, fast at first and then slowly for a thousand iterations,
# from 1.77 to 0.66, while the weight decay grows about twentyfold (0.010 → 0.196): the weights
# grow to carry the patches' structure, and the sparsity term settles at 0.022. A run stopped
# after a few dozen iterations stops on the way down — or, with a cost that falls too slowly
# to pass the stopping rule, on the plateau itself: §6 shows a setting where a run stopped
# there, and where running on to a gradient criterion did not leave it.

# %% [markdown]
# ## 4. The learned features
#
# Each square is the input patch that excites one hidden unit most: the unit's incoming
# weights, normalised to unit length, each stretched to its own grey range. Left, the live
# 60-iteration run above; middle, the converged L-BFGS run; right, the course's SGD.

# %%
fig = plots.feature_grids({"live run: 60 L-BFGS iterations, 2000 patches": autoencoder.hidden_features(p_live),
                           f"L-BFGS, converged ({course.metrics['iterations']} iterations)":
                               autoencoder.hidden_features(course.params),
                           f"course SGD ({course_sgd.metrics['iterations']} epochs)":
                               autoencoder.hidden_features(course_sgd.params)},
                          "Hidden features, L_hid=64, λ=1e-4, β=3, ρ=0.01, course recipe")
plots.show(fig)
live_selectivity, _ = metrics.feature_spectrum(autoencoder.hidden_features(p_live))
print(f"mean orientation selectivity: live {live_selectivity.mean():.2f}, L-BFGS {course.metrics['selectivity']:.2f}, "
      f"SGD {course_sgd.metrics['selectivity']:.2f}")

# %% [markdown]
# The live run's features (left) are broad light–dark blobs and gradients: after 60 iterations
# the units have only started to leave the mean patch. The converged run's (middle) are
# strokes: light or dark bars a few pixels wide at every orientation, some curved, some
# ending inside the patch, a few still textured. The course's SGD (right) stops with
# blotchier, noisier features, a few broad strokes among them. The mean orientation
# selectivity printed below the figure (near 0.9 for an edge or a bar, 0.1 for noise, 0 for a
# round blob; Appendix A) puts the converged strokes (0.62) well above SGD's blotches (0.29), but
# gives the live run 0.52: a broad light–dark gradient has one orientation too, so the measure
# tells strokes from blotches, not strokes from gradients.
#
# ### Reconstructions
#
# Held-out patches (top) and what the converged network makes of them (bottom), on the data's
# grey scale (0 black, 1 white).

# %%
fig = plots.reconstructions(X_held, autoencoder.forward(course.params, X_held)[1],
                            title="Held-out patches (course recipe) and their reconstructions, L_hid=64, λ=1e-4")
plots.show(fig)

# %% [markdown]
# Patches with one strong edge (the fourth and the last) come back nearly whole; fine stripes
# and texture (the second, ninth and tenth) come back as nearly flat grey, and the shading of
# the first comes back fainter. 64
# sigmoid units that are off most of the time code a patch's strongest structure, not all of
# its 256 pixels: the error is 0.38 of the mean patch's on held-out patches (printed in §3).

# %% [markdown]
# ## 5. How the hidden size and the weight decay change the features
#
# The assignment's grid: rows $L_{hid}$ = 16, 64, 100 hidden units, columns λ = 3·10⁻⁵, 10⁻⁴,
# 3·10⁻⁴ (low, medium, high), on the course recipe, β = 3 and ρ = 0.01. Every run is trained to
# convergence; the λ = 3·10⁻⁴ column starts from the λ = 10⁻⁴ weights and stops when the
# gradient norm falls to 2·10⁻⁴ — §6 says why. Each
# panel uses **one grey scale for all its tiles** (0 is mid-grey; the features have unit
# length, so a faint tile is a feature whose weight is spread thinly over the patch) instead of
# stretching every tile to its own range.

# %%
def switched_off(params, X):
    """Units whose activation barely varies over the patches (sd below 0.001): they answer every patch alike."""
    a, _ = autoencoder.forward(params, X)
    return int(np.sum(a.std(axis=0) < 1e-3))


train_section("course recipe grid")
course_grid = {(h, lam): trained(study.autoencoder_grid_config(h, lam, zca_epsilon=None, data_dir=DATA_DIR))
               for h in study.AE_GRID_HIDDEN for lam in study.AE_GRID_LAMBDA}


def grid_figure(grid, title, X):
    """The L_hid × λ grid's features, one grey scale per panel, each panel's measures in its title."""
    return plots.feature_grid_matrix(
        {k: autoencoder.hidden_features(r.params) for k, r in grid.items()}, title,
        notes={k: plots.spectrum_note(r.metrics) for k, r in grid.items()}, scale="panel",
        measured={k: {"units_off": switched_off(r.params, X)} for k, r in grid.items()})


plots.show(grid_figure(course_grid, "Hidden features across L_hid and λ: course recipe, β=3, ρ=0.01 "
                                    "(λ=3e-4 started from λ=1e-4's weights)", X_train))


# %%
def print_runs(runs, settings, columns, X, base):
    """One row per run: its `settings` (config fields), then `columns` ({header: metric}), the
    reconstruction error divided by the mean-patch baseline `base`, the mean cosine of the features
    with the uniform patch, and the units switched off."""
    print(" ".join(f"{h:>11s}" for h in [*settings, *columns, "uniform cos", "units off"]))
    for r in runs.values():
        m = dict(r.metrics, reconstruction_mse=r.metrics["reconstruction_mse"] / base[0],
                 held_out_mse=r.metrics["held_out_mse"] / base[1])
        print(" ".join(f"{getattr(r.config, k):>11g}" for k in settings.values()) + " "
              + " ".join(f"{m[k]:>11.3f}" if isinstance(m[k], float) else f"{m[k]:>11d}" for k in columns.values())
              + f" {metrics.uniform_cosine(autoencoder.hidden_features(r.params)).mean():>11.3f}"
              + f" {switched_off(r.params, X):>11d}")


GRID_COLUMNS = {"cost J": "cost", "MSE/mean": "reconstruction_mse", "held-out": "held_out_mse",
                "‖W1 col‖": "weight_norm", "selectivity": "selectivity", "high-freq": "high_frequency",
                "iterations": "iterations"}
print_runs(course_grid, {"L_hid": "n_hidden", "λ": "lam"}, GRID_COLUMNS, X_train, (base_train, base_held))

# %% [markdown]
# *MSE/mean* and *held-out*: reconstruction error on training and held-out patches divided by
# the mean patch's; *‖W1 col‖*: the length of a unit's incoming weights, averaged; *uniform
# cos*: the mean cosine similarity of the features with the uniform patch (all pixels equal);
# *units off*: units whose activation barely varies over the patches. Selectivity is near 0.9
# for an edge and 0.1 for noise; *high-freq* is the share of a feature's power above 4 cycles
# per patch (Appendix A).
#
# What the grid and the table show, on the course's preprocessing:
#
# * **λ small** (3·10⁻⁵, left column): the features are noisier — more power at high
#   frequencies (0.26–0.66) — and with 16 units they are pixel noise (selectivity 0.23). The
#   reconstruction is the best of the row on training *and* held-out patches, but the gap
#   between the two (held-out minus training, 0.025–0.041) is two to three and a half times
#   that at λ = 10⁻⁴ (0.010–0.015): a mild overfit.
# * **λ large** (3·10⁻⁴, right column): smooth, broad strokes and curves (high-frequency
#   share 0.07–0.08), shorter weights, and a worse reconstruction (0.46–0.54 of the mean
#   patch's against 0.35–0.48 at λ = 10⁻⁴), with almost no train/held-out gap (0.003–0.005):
#   weight decay trades fit for smoothness. No unit switches off.
# * **$L_{hid}$**: with 16 units each must cover more of the patch — broad bars and corners —
#   and the reconstruction is the worst of each column; more units reconstruct better, on
#   held-out patches too, and tile positions and orientations more finely.
#
# The λ = 3·10⁻⁴ column here starts from the λ = 10⁻⁴ weights. On the course recipe that
# makes no difference: from random weights, the same runs reach the same cost (to 10⁻⁴) and
# the same kind of features:

# %%
def random_start(h, zca_epsilon):
    return trained(study.autoencoder_random_start_config(h, 3e-4, zca_epsilon=zca_epsilon, data_dir=DATA_DIR))


def print_starts(grid, zca_epsilon, X, base):
    """λ = 3e-4 from random weights and from the λ = 1e-4 weights, side by side."""
    print("L_hid   start            iterations   cost J   MSE/mean  ‖W1 col‖  selectivity  uniform cos  units off")
    for h in study.AE_GRID_HIDDEN:
        for start, r in [("random", random_start(h, zca_epsilon)), ("λ=1e-4 weights", grid[(h, 3e-4)])]:
            m = r.metrics
            print(f"{h:>5d}   {start:15s} {m['iterations']:>11d} {m['cost']:>8.4f} "
                  f"{m['reconstruction_mse'] / base:>9.3f} "
                  f"{m['weight_norm']:>9.3f} {m['selectivity']:>12.2f} "
                  f"{metrics.uniform_cosine(autoencoder.hidden_features(r.params)).mean():>12.3f} "
                  f"{switched_off(r.params, X):>10d}")


print_starts(course_grid, None, X_train, base_train)

# %% [markdown]
# ## 6. What whitening changes
#
# Neighbouring pixels of natural images are strongly correlated: most of the variance lies in
# a few smooth, low-frequency directions (the power spectrum falls roughly like $1/f^2$).
# **ZCA whitening**, applied between steps 2 and 3 of the course recipe, equalises the
# variance: with the covariance of the mean-removed patches
# $\Sigma = \frac1N Y^\top Y = U\,\mathrm{diag}(s)\,U^\top$,
#
# $$ Y \leftarrow Y Z, \qquad Z = U\,\mathrm{diag}\Big(\frac{1}{\sqrt{s + \varepsilon\,\bar s}}\Big)\,U^\top,
#    \qquad \bar s = \tfrac1D \textstyle\sum_d s_d . $$
#
# Directions with variance well above $\varepsilon \bar s$ come out with (nearly) unit variance;
# those below it — the finest, noise-dominated frequencies — are *damped* instead of blown up.
# That is what the regulariser ε is for: without it, whitening would amplify pixel noise by
# the inverse of tiny eigenvalues. ZCA (unlike PCA whitening) rotates back with $U$, so a
# whitened patch still looks like an image. UFLDL's version of this exercise uses whitened
# images. Whitening statistics (and the clipping range) are estimated on the training patches
# only.

# %%
white = data.preprocess_patches(rgb, zca_epsilon=WHITE.zca_epsilon)
print(f"whitened (ε = {WHITE.zca_epsilon:g} × mean variance): {white.shape} in [{white.min():.2f}, {white.max():.2f}]")
fig = plots.patches_figure(rgb, gray, white)
plots.show(fig)

# %% [markdown]
# In the whitened patches (right) smooth shading is gone and the edges stand out. The
# mechanism, measured: the variance along each principal direction of the patches, relative
# to the largest (log scale).

# %%
fig = plots.variance_spectrum({"course recipe": gray.reshape(len(gray), -1),
                               "whitened": white.reshape(len(white), -1)},
                              f"Variance along each principal direction, {len(gray)} patches of "
                              f"{gray.shape[1]} × {gray.shape[2]} pixels")
plots.show(fig)
for name, x in [("course recipe", gray), ("whitened", white)]:
    x = x.reshape(len(x), -1) - x.reshape(len(x), -1).mean(axis=0)
    s = np.linalg.eigvalsh(x.T @ x / len(x))[::-1]
    print(f"{name:13s} strongest / 10th direction: {s[0] / s[9]:7.1f}   strongest / weakest: {s[0] / s[-1]:8.1f}")

# %% [markdown]
# On the bundled patches, after the course recipe the variance falls by more than three orders
# of magnitude from the strongest to the weakest direction, and by a factor of about twenty
# within the first ten. Whitening leaves a gentle slope of less than two orders of magnitude:
# ε equalises the strong directions and damps the weak ones rather than amplifying them.
#
# ### Exercise 5 (2 points): ZCA whitening
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

# %% [markdown]
# ### The features on whitened patches
#
# The main setting ($L_{hid}$ = 64, λ = 10⁻⁴, β = 3, ρ = 0.01) trained on whitened patches, next
# to the same setting on the course recipe (§4), each tile stretched to its own range:

# %%
X_white, X_white_held = experiments.autoencoder_inputs(DATA_DIR, WHITE.zca_epsilon, WHITE.seed)
train_section("whitened grid")
white_grid = {(h, lam): trained(study.autoencoder_grid_config(h, lam, data_dir=DATA_DIR))
              for h in study.AE_GRID_HIDDEN for lam in study.AE_GRID_LAMBDA}
main = white_grid[(64, 1e-4)]
fig = plots.feature_grids({f"whitened patches\n{plots.spectrum_note(main.metrics)}":
                           autoencoder.hidden_features(main.params),
                           f"course recipe, not whitened\n{plots.spectrum_note(course.metrics)}":
                           autoencoder.hidden_features(course.params)},
                          "Hidden features, L_hid=64, λ=1e-4, β=3, ρ=0.01, L-BFGS to convergence")
plots.show(fig)

# %% [markdown]
# On whitened patches nearly every unit is a thin, **localised, oriented edge** — at many
# positions and angles — and a few are gratings: a compact, edge-based code for natural
# images. On the course recipe the features are strokes too, but wider and more curved, and
# some are texture. The mean orientation selectivity (in the titles) says the same: 0.73 against 0.62.
#
# The whitened grid, beside the course recipe's of §5 (same layout, one grey scale per panel):

# %%
plots.show(grid_figure(white_grid, "Hidden features across L_hid and λ: whitened patches, β=3, ρ=0.01 "
                                   "(λ=3e-4 started from λ=1e-4's weights)", X_white))
white_base = (np.mean((X_white - X_white.mean(axis=0)) ** 2), np.mean((X_white_held - X_white.mean(axis=0)) ** 2))
print_runs(white_grid, {"L_hid": "n_hidden", "λ": "lam"}, GRID_COLUMNS, X_white, white_base)

# %% [markdown]
# Beside the course recipe's grid:
#
# * At every point of the grid the whitened features are more oriented (selectivity higher by
#   0.06 to 0.22), and they reconstruct worse relative to the mean patch (0.54–0.92
#   against 0.26–0.54).
# * λ small: noisier features (high-frequency share 0.28–0.31; with 16 units mostly noise) and
#   the largest train/held-out gaps. λ = 10⁻⁴: edges (selectivity 0.70–0.74).
# * λ = 3·10⁻⁴ (from the λ = 10⁻⁴ weights, like the course recipe's column): still edges
#   (0.71–0.74), smoother with 16 and 64 units (high-frequency share 0.045 and 0.11, against 0.07
#   and 0.13 at λ = 10⁻⁴) but not with 100 (0.17 against 0.16), a worse reconstruction, and —
#   unlike the course recipe — switched-off units, the darker tiles: 3 of 64 (one flat, two
#   faint) and 29 of 100 (most of them flat).

# %% [markdown]
# ### λ = 3·10⁻⁴ on whitened patches: a stall, or the minimum?
#
# The first version of this study trained the whitened λ = 3·10⁻⁴ column like the others,
# from random weights, and stopped each run when the cost fell by less than 10⁻⁴ (relative)
# over 20 iterations: after 58–76 iterations, at J ≈ 1.645 — about the cost of answering every
# whitened patch with the mean patch (1.642, the dotted line in the cost figure below), the same
# kind of plateau as the one the cost curve of §3 (course recipe) sits on from about iteration
# 10 to 20. Every unit then had cosine −0.99 with the uniform patch (all pixels equal), and its
# tiles, each stretched to its own range, showed a different high-contrast pattern: whatever
# small weights the unit kept beside one large shared uniform weight, stretched to full
# contrast. Was that the minimum, or a run stopped on
# the plateau? Two measurements decide it, on both preprocessings (they ship with mpcore):
#
# * **from random weights, converged on the gradient**: the same runs, continued until the
#   gradient norm $\lVert\nabla J\rVert$ falls to 2·10⁻⁴ (`grad_tol`);
# * **warm-started**: the same cost, L-BFGS started from the converged λ = 10⁻⁴ weights, with
#   the same gradient criterion.

# %%
print_starts(white_grid, WHITE.zca_epsilon, X_white, white_base[0])

# %% [markdown]
# On whitened patches the two starts end in different places. From random weights, every run
# ends with every unit off: the reconstruction is exactly the mean patch's (1.000), the
# weights are short (‖W1 col‖ below 0.08 with 64 and 100 units; with 16, the run met the gradient
# criterion at 0.54, still with the shared uniform weight of the stopped run, cosine −0.995).
# From the λ = 10⁻⁴ weights, every run ends at a *lower* cost (by 0.038–0.046) with working
# features: edges (selectivity 0.71–0.74), a reconstruction at 0.84–0.92 of the mean patch's,
# and some units off — 3 of 64 and 29 of 100: at this λ, weight decay makes some units not
# worth their weights. So the collapsed state was neither a stall nor *the* minimum: it is a
# second place where the gradient vanishes, with a higher cost, and training from random
# weights ends there. It is not a narrow trap either: restarted from the collapsed weights plus
# random weights of column length 1 (a third of the working solution's 3.3), L-BFGS goes back
# to it, live:

# %%
cold = random_start(64, WHITE.zca_epsilon)
kick = {k: v.copy() for k, v in cold.params.items()}
kick_rng = np.random.default_rng(1)
for k, axis in (("W1", 0), ("W2", 1)):
    noise = kick_rng.standard_normal(kick[k].shape)
    kick[k] += noise / np.linalg.norm(noise, axis=axis, keepdims=True)
white_cost = lambda p: autoencoder.loss_and_grads(p, X_white, **dict(hyper, lam=3e-4))  # noqa: E731
p_kick, h_kick = lbfgs(white_cost, kick, maxiter=300, grad_tol=study.AE_GRAD_TOL, progress=False)
print(f"collapsed: J = {white_cost(cold.params)[0]:.4f}; plus random weights: J = {white_cost(kick)[0]:.4f}; "
      f"after {len(h_kick.train_loss)} L-BFGS iterations: J = {h_kick.train_loss[-1]:.4f}, "
      f"‖W1 col‖ {np.linalg.norm(p_kick['W1'], axis=0).mean():.3f}, units off {switched_off(p_kick, X_white)}")

# %% [markdown]
# The features of the two L_hid = 64 runs, with each feature's pixel mean (its uniform, DC
# component) removed and one grey scale per panel, then the three terms of the cost of the
# run from random weights:

# %%
two_starts = {"from random weights": cold, "from λ=1e-4's weights": white_grid[(64, 3e-4)]}
fig = plots.feature_grids({k: autoencoder.hidden_features(r.params) for k, r in two_starts.items()},
                          "Hidden features, λ=3e-4, L_hid=64, β=3, ρ=0.01, whitened patches", scale="panel",
                          remove_dc=True,
                          measured={k: {"units_off": switched_off(r.params, X_white),
                                        "mean_activation": r.metrics["mean_activation"],
                                        "weight_norm": r.metrics["weight_norm"]} for k, r in two_starts.items()})
plots.show(fig)
fig = plots.cost_terms_figure(cold.history, "The cost from random weights: λ=3e-4, L_hid=64, whitened patches",
                              baseline=0.5 * np.sum((X_white - X_white.mean(axis=0)) ** 2) / len(X_white))
plots.show(fig)
start = autoencoder.init_params(X_white.shape[1], cold.config.n_hidden, np.random.default_rng(cold.config.seed))
for name, p in (("the random start", start), ("the collapsed run", cold.params)):
    f = autoencoder.hidden_features(p)
    sel, high = metrics.feature_spectrum(f - f.mean(axis=1, keepdims=True))
    print(f"{name + ',':18s} uniform component removed: selectivity {sel.mean():.2f}, high-frequency share "
          f"{high.mean():.2f}, ‖W1 col‖ {np.linalg.norm(p['W1'], axis=0).mean():.2f}")

# %% [markdown]
# Left, the collapsed run's weights once the uniform component is taken out: grainy blotches
# and smooth gradients, no edges. They are not what is left of the random start (that was pixel
# noise; these are smooth): the little weight the units keep is what training left them, about
# 40 times shorter than on the right (‖W1 col‖ 0.08 against 3.3), too short for any patch to
# move a unit's activation. Right,
# edges and a few gratings; the faintest tiles are the switched-off units, whose weights were
# mostly the uniform component. In the cost curve, the reconstruction term stays within 0.006
# of the dotted mean-patch line from iteration 12 on, while the weight decay falls from 0.034
# to almost 0 as the weights shrink.
#
# **Why one uniform weight in every unit?** The inputs are not centred: after the course
# recipe — with or without whitening — every pixel averages 0.5 (§1). Write a patch as
# $x_n = 0.5\,\mathbf 1 + \tilde x_n$ with $\tilde x_n$ centred. The gradient of the reconstruction
# or the sparsity term with respect to unit $j$'s weights is
# $\sum_n \delta_{1,nj}\, x_n = 0.5\,\mathbf 1 \sum_n \delta_{1,nj} + \sum_n \delta_{1,nj}\,\tilde x_n$:
# whatever pushes the unit's *mean* input up or down — the same push for every example, like
# the sparsity term's β/N of §2 — moves its weights along the uniform patch $\mathbf 1$. Through
# them, the unit's mean input changes far more than through its bias: the bias's gradient is
# $\sum_n \delta_{1,nj}$, each of the 256 weights gets half of it, and each weight meets a pixel
# that is 0.5 on average — 256 × 0.5 × 0.5 = 64 times the bias's effect. At the random start
# every unit is on far more often than ρ = 0.01, and the sparsity term is nearly all of the
# cost (§3): every unit's weights are pushed down along $\mathbf 1$ (the step is minus the
# gradient, whose cosine with the uniform patch is printed below), all with the same sign —
# the cosine −0.99 of the stopped runs and −0.995 of the $L_{hid}$ = 16 run above (the 64- and
# 100-unit runs, continued to the gradient criterion, shrank that component with the rest of
# their weights: mean cosine +0.32 and −0.50 in the table). On centred inputs the same push
# would land on the biases alone. Measured at the random start of the runs above; the second
# line leaves the sparsity term out, and the gradient still lies along the uniform patch: it is
# the uncentred inputs, not the sparsity term, that make the push uniform.

# %%
p0 = autoencoder.init_params(X_white.shape[1], WHITE.n_hidden, np.random.default_rng(WHITE.seed))
a0, _ = autoencoder.forward(p0, X_white)
for name, beta in [("the whole cost", WHITE.beta), ("without the sparsity term", 0.0)]:
    _, g0 = autoencoder.loss_and_grads(p0, X_white, lam=3e-4, beta=beta, rho=WHITE.rho)
    cos0 = metrics.uniform_cosine(g0["W1"].T)  # one row per unit: its weight gradient as a patch
    print(f"{name:26s}: cosine of each unit's weight gradient with the uniform patch "
          f"{cos0.min():.4f} to {cos0.max():.4f}")
print(f"mean activation per unit at the start: {a0.mean(axis=0).min():.2f} to {a0.mean(axis=0).max():.2f} "
      f"(ρ = {WHITE.rho}); mean pixel value {X_white.mean():.3f}")

# %% [markdown]
# **Question A (1 point).** At λ = 3·10⁻⁴, L-BFGS from random weights and from the λ = 10⁻⁴
# weights reach the same cost on the course recipe (§5), but on whitened patches the run from
# random weights ends with every unit off, at a higher cost than the warm-started run, and
# returns there when its weights are kicked. (a) What does that say about $J$ as a function of
# the weights? (b) Using the gradients of §2, show that all-zero weights $W_1 = W_2 = 0$ (with the
# best biases) are a point where the gradient vanishes, and argue when a small step away from
# it lowers the cost — how that depends on λ and on the variance of the patches along their
# strongest direction. (c) Why can whitening then make a difference at a λ where the course
# recipe has none?

# %% [markdown] tags=["answer:question_lambda"]
# **Answer.** (a) $J$ is not convex: it has more than one minimum, and the one training ends
# in depends on where it starts.
#
# (b) With $W_1 = 0$ every hidden unit outputs the same constant $a_{nj} = \sigma(b_{1,j}) = \rho$
# (the best bias meets the target), so $\hat\rho = \rho$ and the KL derivative is 0; with $W_2 = 0$
# the best $b_2$ outputs the mean patch $m$. Then $\nabla_{W_2} J = a^\top\delta_2 = \rho\sum_n\delta_{2,n} = 0$
# (the output errors sum to zero at the best $b_2$) and $\delta_1 = (\delta_2 W_2^\top + 0)\odot a(1-a) = 0$,
# so $\nabla_{W_1} J = 0$. Step away along $W_1 = \varepsilon\, u v^\top$, $W_2 = \varepsilon\, v w^\top$ (unit
# vectors $u, w$ over pixels, $v$ over units): the hidden activations move by
# $\rho(1-\rho)\,\varepsilon\,(\tilde x_n \cdot u)\, v$ and the output by about
# $m(1-m)\,\rho(1-\rho)\,\varepsilon^2 (\tilde x_n\cdot u)\, w$, so the reconstruction term falls by
# about $\tfrac14\rho(1-\rho)\,\varepsilon^2\, u^\top \Sigma\, w$ ($\Sigma$ the patches' covariance,
# $m(1-m) \approx \tfrac14$), at most $\tfrac14\rho(1-\rho)\,\varepsilon^2 s_{max}$ with $s_{max}$ its largest
# eigenvalue — while the weight decay rises by $\tfrac\lambda2(\varepsilon^2 + \varepsilon^2) = \lambda\varepsilon^2$.
# Both are second order in ε: no small step helps when $\lambda > \lambda^* = \tfrac14\rho(1-\rho)\,s_{max}$.
# Above $\lambda^*$ the zero weights are a local minimum, and training that comes near them
# (the uniform push of the sparsity term shrinks every unit at the start) stays there. The
# sparse target makes $\lambda^*$ small: the hidden slope at activation ρ is $\rho(1-\rho) \approx 0.01$.
#
# (c) Whitening spreads the patches' variance evenly over the directions: about the same total
# variance, but a much smaller $s_{max}$ (§6's spectrum), hence a smaller $\lambda^*$. Measured
# below: on the course recipe $\lambda^*$ is far above 3·10⁻⁴, on whitened patches just below it.

# %%
for name, X in [("course recipe", X_train), ("whitened", X_white)]:
    s_max = np.linalg.eigvalsh(np.cov(X.T, bias=True))[-1]
    rho = COURSE.rho
    print(f"{name:13s}: total variance {np.trace(np.cov(X.T, bias=True)):.2f}, s_max {s_max:.3f}, "
          f"λ* = ρ(1-ρ)/4 · s_max = {rho * (1 - rho) / 4 * s_max:.1e}")

# %% [markdown]
# **Question B (1 point).** Whitening changes the patches, not the network or its cost. Why
# does equalising the variance of the principal directions change *which* features the
# sparse autoencoder learns — why smooth, broad features on the course recipe and localised
# edges on whitened patches?

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
# main setting is β = 3, ρ = 0.01 (middle row, left). Each tile is stretched to its own range.

# %%
train_section("sparsity grid")
sparsity = {(b, r): trained(experiments.AutoencoderConfig(beta=b, rho=r, data_dir=DATA_DIR))
            for b in study.AE_GRID_BETA for r in study.AE_GRID_RHO}
fig = plots.feature_grid_matrix(
    {k: autoencoder.hidden_features(r.params) for k, r in sparsity.items()},
    "Hidden features across β and ρ: whitened patches, L_hid=64, λ=1e-4",
    notes={k: plots.spectrum_note(r.metrics) for k, r in sparsity.items()},
    labels=("β", "ρ"))
plots.show(fig)

# %%
print_runs(sparsity, {"β": "beta", "ρ": "rho"},
           {"mean act.": "mean_activation", "dead units": "dead_units", "MSE/mean": "reconstruction_mse",
            "selectivity": "selectivity", "high-freq": "high_frequency", "redundancy": "redundancy",
            "iterations": "iterations"}, X_white, white_base)

# %% [markdown]
# What the grid and the table show (*redundancy*: each feature's largest |cosine| with another
# feature, averaged — Appendix A):
#
# * **ρ decides whether the features are edges.** At ρ = 0.01 (left column) every β gives
#   localised, oriented edges and gratings (selectivity above 0.7). At ρ = 0.05 the units answer
#   five times as often and the features turn into fine textures, many crossed by diagonal
#   streaks but with no single orientation (selectivity 0.22–0.24), and a few broad blobs; at
#   ρ = 0.2 they are speckle (selectivity about 0.15, a third of the power
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
# The explorer runs on the whitened grid of §6, one grey scale per panel. Move λ from 10⁻⁴ up to
# 3·10⁻⁴: at L_hid = 64 the edges stay, a little smoother, and 3 units switch off; with
# L_hid = 100, 29 units switch off (darker, mostly flat tiles). Move it down to 3·10⁻⁵ and watch
# the features get noisier; back at λ = 10⁻⁴, move
# $L_{hid}$ to 16 and watch them grow broader. Every grid point ships with the
# package, so each move replots at once. (With `DATA_DIR` set to the course's file, nothing is
# trained yet: a setting not in the store keeps the previous figure and offers a *Train this
# setting* button, with a progress bar and Cancel — moving a control never trains.)

# %% tags=["nbval-ignore-output"]
widgets.autoencoder_explorer(store, data_dir=DATA_DIR)

# %% [markdown]
# The same for the sparsity penalty. It opens at a weak penalty, β = 0.3 (ρ = 0.01): the mean
# activation in the features' title is twice ρ, and a few blobs sit among the edges. Raise β
# to 3 and watch the mean activation halve and the blobs go; then move ρ from 0.01 to 0.05 and
# watch the edges dissolve into texture.

# %% tags=["nbval-ignore-output"]
widgets.sparsity_explorer(store, data_dir=DATA_DIR, beta=0.3)

# %% [markdown]
# ## Summary
#
# * The course recipe — luminosity, each patch's mean removed, clipped at 3 standard deviations,
#   mapped to [0.1, 0.9] — leaves inputs that average 0.5, not 0.
# * The cost has three terms. The sparsity term acts through each unit's mean activation, so
#   its gradient puts the same β/N term into every example's δ₁; a finite-difference check
#   (relative errors of 10⁻⁹ or less) supports the implementation.
# * Trained to convergence with L-BFGS on the course recipe, the hidden units become strokes
#   (selectivity 0.62); 60 iterations leave broad blobs and gradients, and the course's
#   mini-batch gradient descent
#   at η = 0.3 stops at a higher cost with blotchier features.
# * On the course recipe, λ trades fit for smoothness: a small λ gives noisier features and a
#   larger train/held-out gap, a large one smooth, broad strokes and a worse reconstruction.
#   More hidden units reconstruct better.
# * Whitening makes the features more oriented at every point of the grid; from λ = 10⁻⁴ up
#   they are localised, oriented edges (at λ = 3·10⁻⁵ noisier, with 16 units mostly noise). On
#   whitened patches,
#   λ = 3·10⁻⁴ trained from random weights ends with every unit off: a second minimum of the
#   cost, higher than the one reached from the λ = 10⁻⁴ weights. Zero weights are a minimum
#   once λ exceeds ρ(1 − ρ)·s_max/4, which whitening lowers below 3·10⁻⁴ and the course recipe
#   does not.
# * With 64 hidden units and λ = 10⁻⁴ on whitened patches, edges needed a sparse code: with a
#   target activation ρ of 0.05 or more the features turn into texture and speckle, although
#   they reconstruct better; β sets how closely the units keep to ρ. Other settings move that
#   threshold (UFLDL's linear decoder learns edges at ρ = 0.035).
#
# **Not shown here**: other random initialisations (each setting is one seed; the measures
# are averages over all of a run's features, which makes them stable, but we did not measure
# their spread over seeds), other whitening strengths ε, other photographs, and the β × ρ grid
# at other hidden sizes or weight decays.

# %% [markdown]
# ## Appendix A: how the features are measured
#
# **Orientation selectivity and high-frequency share.** Take each feature's power spectrum
# $P(k)$ (the squared 2-D Fourier transform of the mean-removed 16 × 16 image) and compute
#
# * the **orientation selectivity** $\big|\sum_k P(k)\,e^{2i\theta(k)}\big| / \sum_k P(k)$ over
#   the nonzero frequencies $k$ at angle $\theta(k)$: near 1 when all the power lies along one
#   orientation (a grating or a Gabor-like edge scores about 0.9, a short bar 0.75–0.9), near 0
#   for a round blob and about 0.1 for pixel noise;
# * the **high-frequency share**: the fraction of power above 4 cycles per patch (pixel noise
#   puts about 80% of its power there, smooth features almost none).
#
# (`tests/test_study.py` checks them on synthetic images, within bounds: a grating above 0.9, a
# Gabor patch above 0.85, a short bar above 0.7, a round blob below 0.05, pixel noise below 0.35
# with 70–90% of its power above 4 cycles. One caveat: the Fourier transform
# treats the patch as periodic, so a long straight edge that crosses the whole patch at an
# oblique angle scores lower than it looks; the measure is strict with features that are
# *not* localised.) The tables print each run's mean over its features.
#
# **Normalised reconstruction error.** To compare reconstruction errors across settings and
# preprocessings, each is divided by the error of the simplest possible model — always output
# the mean training patch — on the same patches: 1.0 means the hidden layer adds nothing, lower
# is better. (The held-out patches happen to vary a little more than the training patches, so
# their raw errors are not comparable with the training errors; their ratios are.)
#
# **Redundancy**: each feature's largest |cosine similarity| with another feature, averaged;
# near 1 would mean units copy each other. **Uniform cosine**: a feature's cosine similarity
# with the uniform patch, $\sqrt{D}\,\bar f / \lVert f\rVert$ (`metrics.uniform_cosine`).

# %% [markdown]
# ## Appendix B: mpcore's implementation of the cost
#
# The code behind every figure above — Exercise 3's answer, so it comes after the exercises —
# read from `mpcore/models/autoencoder.py` itself (layers are forward/backward pairs from
# `mpcore/layers.py`). Note the line with `beta / N`: every example's activation moves
# $\hat\rho$ by $1/N$.

# %%
source = inspect.getsource(autoencoder.loss_and_grads)
print(source[source.index("    lam, beta, rho = check_hyper"):])
