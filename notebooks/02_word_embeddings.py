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
# # Part 2 — A neural language model learns word embeddings
#
# Given three words, predict the fourth. To do it well, a network has to learn which words
# behave alike — and it does so by giving every word a vector, an *embedding*, learned
# along with everything else. The data here are 4-grams from more than two centuries of State
# of the Union addresses (1790–2026) over a vocabulary of the 250 most frequent tokens
# (lower-cased words and punctuation marks); only 4-grams whose four tokens are all in the
# vocabulary are kept. Set `DATA_DIR` to use the course's `data2.h5` instead.

# %%
# %matplotlib inline
import inspect

import numpy as np

from mpcore import exercises, experiments, layers, metrics, plots, runner, study, widgets
from mpcore.gradcheck import check_gradients
from mpcore.models import language_model
from mpcore.store import Store
from mpcore.train import sgd

plots.notebook_style()
rng = np.random.default_rng(0)
DATA_DIR = None  # or the folder holding the course's data2.h5
store = Store()

# %% [markdown]
# ## 1. The data
#
# Each example is three context word indices and the index of the word that followed
# (0-based here; the course file is 1-based — `load_ngrams` converts, once). The 4-grams were
# split into training, validation and test sets at random, not by speech: a held-out 4-gram is
# an unseen *occurrence*, and a common phrase (*the united states ,*) occurs in all three sets.

# %%
ng = experiments.PARTS["language_model"].load(DATA_DIR)
print(f"vocabulary: {ng.n_words} words; 4-grams: {len(ng.train_x)} train, {len(ng.val_x)} validation, "
      f"{len(ng.test_x)} test")
seen = {tuple(row) for row in np.column_stack([ng.train_x, ng.train_y])}
seen_contexts = {tuple(row) for row in ng.train_x}
for name, x, y in (("validation", ng.val_x, ng.val_y), ("test", ng.test_x, ng.test_y)):
    again = np.mean([(*row, t) in seen for row, t in zip(map(tuple, x), y)])
    print(f"{name} 4-grams that also occur in training: {again:.1%}; "
          f"contexts seen in training: {np.mean([tuple(row) in seen_contexts for row in x]):.1%}")
for x, y in zip(ng.train_x[:5], ng.train_y[:5]):
    print("  ", " ".join(ng.words[i] for i in x), "→", ng.words[y])

# %% [markdown]
# ## 2. The model and its shapes
#
# $$ e_n = [R_{w_{n1}}, R_{w_{n2}}, R_{w_{n3}}] \in \mathbb{R}^{3D}, \qquad
#    h = \sigma(e W_1 + b_1) \in \mathbb{R}^{P}, \qquad
#    p = \mathrm{softmax}(h W_2 + b_2) \in \mathbb{R}^{V} $$
#
# **One embedding matrix $R$ is shared by all three positions.** A word means the same
# thing wherever it stands, so it should have one vector: sharing triples the training
# signal each embedding gets and keeps the parameter count at $VD$ instead of $3VD$.
# The price is in the gradient: when a word appears twice in a batch — or twice in one
# context — both contributions must be *added* into its row of $\nabla R$.

# %%
params = language_model.init_params(ng.n_words, 32, 256, rng)
for name, value in params.items():
    print(f"{name:3s} {str(value.shape):12s}")

# %% [markdown]
# The model is built from layers written as forward/backward pairs (as in cs231n): each
# `*_forward` returns its output *and a cache* — whatever its backward pass will need — and the
# matching `*_backward(dout, cache)` turns the gradient of the loss with respect to the output
# into gradients with respect to the inputs and parameters, without recomputing the forward
# pass. The affine layer $\mathrm{out} = xW + b$ has
#
# $$ \frac{\partial J}{\partial x} = \delta\, W^\top, \qquad \frac{\partial J}{\partial W} = x^\top \delta,
#    \qquad \frac{\partial J}{\partial b} = \textstyle\sum_n \delta_n
#    \qquad (\delta = \partial J / \partial \mathrm{out}). $$
#
# ### Exercise 1 (1 point): a forward pass that returns its cache
#
# Complete `affine_forward`: given x (N × D_in), W (D_in × D_out) and b (D_out,), return the
# output (N × D_out) and a cache from which `mpcore.layers.affine_backward` computes the three
# gradients above. Which arrays does it need — and which does it not? (`affine_backward` unpacks
# the cache as the tuple `(x, W)`.) The check runs mpcore's `affine_backward` on your cache and
# compares its gradients with finite differences of your forward pass.

# %% tags=["solution:affine_forward"]
def affine_forward(x, W, b):
    """out = x W + b (N, D_out), and the cache (x, W) that affine_backward needs."""
    ### BEGIN SOLUTION
    out = x @ W + b
    return out, (x, W)
    ### END SOLUTION


# %% tags=["check:affine_forward"]
affine_forward_passed = exercises.check("affine_forward", affine_forward)

# %% [markdown]
# ### The backward pass
#
# With $p$ the predicted distribution and $Y$ the one-hot targets (rows are examples),
# softmax and cross-entropy together have the simplest possible gradient, and the chain
# rule does the rest:
#
# $$ \delta_s = \frac{p - Y}{N}, \qquad \nabla_{W_2} J = h^\top \delta_s, \qquad
#    \delta_z = \delta_s W_2^\top \odot h(1 - h), \qquad \nabla_{W_1} J = e^\top \delta_z, \qquad
#    \delta_e = \delta_z W_1^\top, $$
#
# $$ \nabla_{R_v} J = \sum_{(n,k):\ w_{nk} = v} \delta_{e_{n,k}}
#    \qquad \text{(every occurrence of word } v \text{, at any position, in any example).} $$
#
# The code, read from `mpcore` itself: the model composes layer pairs, from the scores back to
# the embeddings. (The embedding layer's own backward pass is Exercise 3; its code is printed
# in the appendix at the end, once the exercises are behind you.)

# %%
print(inspect.getsource(language_model.loss_and_grads).split('    """\n')[-1])

# %% [markdown]
# A finite-difference check on a small model where a word repeats inside a context: the
# relative error $\lVert g - \tilde g\rVert / (\lVert g\rVert + \lVert \tilde g\rVert)$ between
# the analytic and the numerical gradient of each parameter array. In float64 a correct
# gradient gives about $10^{-9}$ or less. (The weights are scaled up by 30 so that the softmax is
# far from uniform and every term of the gradient matters; the exercise on `embedding_backward`
# below checks the classic mistake of dropping a repeated word's contribution.)

# %%
small = {k: v * 30 for k, v in language_model.init_params(8, 3, 5, rng).items()}
contexts = np.array([[1, 1, 2], [3, 1, 1], [0, 4, 7]])
targets = np.array([2, 5, 1])
errors = check_gradients(lambda p: language_model.loss_and_grads(p, contexts, targets), small)
for name, error in errors.items():
    print(f"{name:2s}: relative error {error:.1e}")

# %% [markdown]
# **Sanity check** (do this before training any classifier): at initialisation the weights are
# small, so the softmax is close to uniform and the loss should be close to $\ln V$. A loss far
# from it means a bug in the forward pass or a bad initialisation.

# %%
untrained_loss, _ = language_model.loss_and_grads(params, ng.train_x[:2000], ng.train_y[:2000])
print(f"untrained loss {untrained_loss:.2f}, ln V = ln {ng.n_words} = {np.log(ng.n_words):.2f}")

# %% [markdown]
# ### Exercise 2 (2 points): softmax cross-entropy
#
# Complete `softmax_cross_entropy`: given scores (N × V) and integer targets y (N,), return the
# mean cross-entropy $J = -\frac1N \sum_n \log p_{n, y_n}$ of $p = \mathrm{softmax}(s)$ and its
# gradient $\delta_s = (p - Y)/N$. Subtract each row's maximum before `np.exp`: the check also
# feeds scores near 800, where $e^{800}$ overflows.

# %% tags=["solution:softmax_cross_entropy"]
def softmax_cross_entropy(scores, y):
    """Mean cross-entropy (a float) and its gradient with respect to scores (N, V)."""
    N = len(y)
    ### BEGIN SOLUTION
    z = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(N), y]))
    p[np.arange(N), y] -= 1
    return loss, p / N
    ### END SOLUTION


# %% tags=["check:softmax_cross_entropy"]
softmax_cross_entropy_passed = exercises.check("softmax_cross_entropy", softmax_cross_entropy)

# %% [markdown]
# ### Exercise 3 (2 points): the embedding gradient
#
# Complete `embedding_backward`: given the gradient `dout` (N × K × D) with respect to the
# looked-up rows `R[idx]` and the word indices `idx` (N × K), return $\nabla R$ (V × D), adding
# the contributions of every occurrence of a word. The check uses contexts in which words repeat.

# %% tags=["solution:embedding_backward"]
def embedding_backward(dout, idx, V):
    """dR (V, D): row v is the sum of dout over every position where word v was looked up."""
    dR = np.zeros((V, dout.shape[-1]))
    ### BEGIN SOLUTION
    np.add.at(dR, idx, dout)
    ### END SOLUTION
    return dR


# %% tags=["check:embedding_backward"]
embedding_backward_passed = exercises.check("embedding_backward", embedding_backward)

# %% [markdown]
# **Question A (1 point).** Suppose a word of the vocabulary occurs in the training 4-grams only
# as the fourth word — the one to predict — and never among the three context words. After
# training, what is its row of $R$? Which of the model's parameters *do* carry what was learned
# about this word, and what would happen if it showed up in the context of a test trigram?

# %% [markdown] tags=["answer:question_target_only_word"]
# **Answer.** Its row of $R$ is never looked up in training, so its gradient $\nabla_{R_v} J$ is
# zero at every step (the sum above has no terms) and the row keeps its random initial value.
# What the model learned about the word sits in the output layer: its column of $W_2$ and its
# entry of $b_2$, which decide when it is *predicted*. In the context of a test trigram the model
# would feed that random vector into the hidden layer: it knows nothing about the word as
# context, however well it predicts it as a target.
#
# ## 3. Training three sizes
#
# SGD with momentum as the course defines it, $\Delta W(n) = -\eta \nabla J + \alpha \Delta W(n-1)$
# and $W \leftarrow W + \Delta W(n)$, with η = 0.15, α = 0.85, batches of 200, early stopping on
# validation cross-entropy (patience 3, best weights restored). The step ΔW(n) remembers the
# previous step: along a direction where the gradient keeps its sign the steps add up (up to
# $1/(1-\alpha)$ times a plain step), while across a narrow valley, where the sign flips from step
# to step, they cancel.
#
# ### Exercise 4 (1 point): one step of SGD with momentum
#
# Complete `momentum_step`: given the weights W, the previous step `dW_prev` (ΔW(n−1)), the
# gradient, η and α, return the new weights and the new step ΔW(n), as new arrays. The check
# runs five steps on a small least-squares problem with α = 0.4 (the course's momentum for
# Part 1's autoencoder; the language model below uses 0.85) and compares both
# with the course's rule (`mpcore.train.momentum_update`, which the training loop below uses).

# %% tags=["solution:momentum_step"]
def momentum_step(W, dW_prev, grad, lr, alpha):
    """(W + ΔW(n), ΔW(n)) with ΔW(n) = -lr grad + alpha ΔW(n-1)."""
    ### BEGIN SOLUTION
    dW = -lr * grad + alpha * dW_prev
    return W + dW, dW
    ### END SOLUTION


# %% tags=["check:momentum_step"]
momentum_step_passed = exercises.check("momentum_step", momentum_step)

# %% [markdown]
#
# Here is that training loop, `mpcore.train.sgd`, run live for four epochs on the first 100,000
# training 4-grams with a small model (D = 8, P = 64), validating on 5,000 — a few seconds.
# For comparison, the cross-entropy of guessing by word frequency alone, ignoring the context:

# %%
live = experiments.language_model_config(8, 64, epochs=4)
p_live = language_model.init_params(ng.n_words, live.D, live.P, np.random.default_rng(live.seed))


def validate(p):
    proba = language_model.predict_proba(p, ng.val_x[:5000])
    return {"loss": metrics.cross_entropy(proba, ng.val_y[:5000])}


p_live, h_live = sgd(language_model.loss_and_grads, p_live, (ng.train_x[:100_000], ng.train_y[:100_000]), live.sgd,
                     validate=validate, progress=False)
print(f"η = {live.sgd.lr}, α = {live.sgd.momentum}, batches of {live.sgd.batch_size}: validation cross-entropy "
      + " → ".join(f"{v:.2f}" for v in h_live.val_loss)
      + f" (chance level: ln {ng.n_words} = {np.log(ng.n_words):.2f})")
frequency = np.bincount(ng.train_y, minlength=ng.n_words) / len(ng.train_y)
print(f"word frequencies alone: {-np.mean(np.log(frequency[ng.val_y[:5000]])):.2f}")

# %% [markdown]
# The first epoch ends near the word-frequency level: the model has learned which words are
# common, not yet what the context says. Only then does the cross-entropy fall below it, as the
# embeddings and hidden units start to encode the three context words.

# %% [markdown]
# The study trains the three sizes the same way on all the training 4-grams (the count
# printed in section 1) until early stopping, at most 50 epochs (none reaches the cap: the
# table below prints the epochs run) — minutes each — so they are loaded from the
# shipped results. Curves: dashed
# training, solid validation; the dot marks the epoch whose weights are kept.

# %%
# every size and seed at once: stored results load at once; on your own files they train, two at a time
configs = study.language_model_configs(DATA_DIR)  # the three sizes (seed 0), then the first size's other seeds
trained = runner.run_all(configs, store, jobs=2, notebook=True)
results = {(c.D, c.P): r for c, r in zip(configs, trained) if c.seed == 0}
fig = plots.loss_curves({f"D={D}, P={P}": r.history for (D, P), r in results.items()},
                        "Language model, seed 0: cross-entropy per epoch of the three sizes")
plots.show(fig)

# %%
print(f"{'model':12s} {'test ppl':>10s} {'test top-1':>10s} {'test top-10':>11s} {'train CE':>8s} {'val CE':>7s} "
      f"{'gap':>6s} {'epochs':>6s}")
for (D, P), r in results.items():
    m = r.metrics
    top10 = m["test_top10"] if m["test_top10"] is not None else float("nan")  # None: 10 words or fewer
    print(f"D={D:2d}, P={P:3d} {m['test_perplexity']:10.2f} {m['test_top1']:10.3f} {top10:11.3f} "
          f"{m['train_cross_entropy']:8.3f} {m['val_cross_entropy']:7.3f} "
          f"{m['val_cross_entropy'] - m['train_cross_entropy']:6.3f} {m['epochs']:6d}")

# %% [markdown]
# The perplexity, top-1 and top-10 columns are measured on the test 4-grams. Perplexity is
# $e^{J_{\text{test}}}$, the exponential of the mean test cross-entropy; top-1 (top-10) is the share of
# test 4-grams whose true 4th word is the model's first guess (among its ten first guesses).
# The largest model reaches the lowest validation and test cross-entropy and the smallest (D =
# 8, P = 64) the highest. The *gap* between validation and training cross-entropy grows with
# size too: the (32, 256) model fits its training 4-grams clearly better than held-out ones, the
# smallest hardly does. In the figure, no validation curve turns clearly upwards: over the last
# ten epochs each flattens — it moves by 0.03 or less and never rises more than about 0.01 above
# its best so far (printed below) — while the training curves keep falling, most steeply for the
# (32, 256) model (by 0.08). So the gap grows, but the models are not yet getting worse on
# held-out 4-grams. Early stopping (patience 3) ends each run once its validation cross-entropy has
# stopped improving: here it saves epochs that would bring almost nothing, rather than rescuing
# a model from a rising validation loss. (The training cross-entropy in the table is measured on
# all training 4-grams with the kept weights; the dashed curves are the running mean over each
# epoch's mini-batches.) A perplexity of $k$ means the model gives the true word a probability
# of $1/k$ on (geometric) average — as unsure as a uniform choice among $k$ words — against 250,
# the vocabulary, for a model that knows nothing.

# %%
for (D, P), r in results.items():
    val, train = np.asarray(r.history["val_loss"]), np.asarray(r.history["train_loss"])
    above = np.max(val - np.minimum.accumulate(val))  # the largest rise above the best so far
    k = min(10, len(val) - 1)  # a short run (small course files) has fewer epochs
    print(f"D={D:2d}, P={P:3d}: over the last {k} epochs, validation {val[-k - 1]:.3f} → {val[-1]:.3f}, training "
          f"{train[-k - 1]:.3f} → {train[-1]:.3f}; validation never more than {above:.3f} above its best so far")

# %% [markdown]
# How much of that is the seed? The (32, 256) model trained with three seeds (initial
# weights and mini-batch order):

# %%
seeds = [r for c, r in zip(configs, trained) if (c.D, c.P) == study.LM_SIZES[0]]
ppl = np.array([r.metrics["test_perplexity"] for r in seeds])
top1 = np.array([r.metrics["test_top1"] for r in seeds])
print("test perplexity per seed:", ", ".join(f"{v:.2f}" for v in ppl), f"→ {ppl.mean():.2f} ± {ppl.std(ddof=1):.2f}")
print("test top-1 per seed:     ", ", ".join(f"{v:.3f}" for v in top1), f"→ {top1.mean():.3f} ± {top1.std(ddof=1):.3f}")

# %% [markdown]
# The seeds agree closely — far more closely than the three sizes differ — so the ranking
# of the sizes above is not an accident of one run (if the two smaller models vary as little
# with the seed: only the largest was trained three times). For this model, on about a quarter
# of a million training 4-grams, the random initialisation and batch order hardly matter.
#
# ## 4. What the model predicts
#
# Five test 4-grams picked with a fixed seed. For each, the bars are the ten words the (32, 256)
# model (seed 0) finds most likely to follow the first three, on one probability axis from 0 to
# 1, each with its probability; the true 4th word's bar is vermillion and hatched, its label
# vermillion too — with a bar of its own below the ten, labelled with its rank, when the model
# did not rank it among them. Printed below: where
# the true word ranks, and the model's first choice.

# %%
best = results[(32, 256)]
picks = np.random.default_rng(0).choice(len(ng.test_x), size=5, replace=False)
fig = plots.next_word_figure(best, ng.words, ng.test_x[picks], ng.test_y[picks])
plots.show(fig)
for j, proba, (word, rank, p) in zip(picks, language_model.predict_proba(best.params, ng.test_x[picks]), fig.marked):
    print(f"{' '.join(ng.words[i] for i in ng.test_x[j])!r} → {word!r}: rank {rank} of {ng.n_words}, "
          f"probability {p:.3f}; the model's first choice: {ng.words[proba.argmax()]!r} ({proba.max():.3f})")
    after = np.bincount(ng.train_y[(ng.train_x == ng.test_x[j]).all(axis=1)], minlength=ng.n_words)
    print(f"    in training, this context is followed {after.sum()} times: "
          + ", ".join(f"{ng.words[k]!r} {after[k]}" for k in np.argsort(-after, kind="stable")[:4] if after[k]))

# %% [markdown]
# Reading the five:
#
# * *good and not …* — the model bets on *only* (0.31: "good and not only …"), a common
#   pattern; the true *of* is not among its ten guesses: it ranks 32nd, with probability 0.003
#   — a rarer continuation.
# * *the secretary of …* — most probability goes to *the* (0.61, as in "the secretary of the
#   treasury", "… of the navy"), then to *state* and *war* (0.18 and 0.17), far ahead of
#   *commerce*, *health* and *labor* (under 0.01 each), which are in the vocabulary too: it has
#   learned which departments these speeches name most. The answer was *war* (a cabinet post
#   until 1947).
# * *for peace , …* — after a comma many continuations are possible and the model spreads
#   its bets (no word above 0.27) over conjunctions, pronouns, determiners and prepositions; the true *as*
#   is 4th, with 0.056.
# * *from the nations …* — *of* gets most of the probability (0.68), and it is right.
# * *we will continue …* — *to*, with most of the probability (0.86), and right again: when
#   the grammar leaves one choice the model is confident.
#
# %% [markdown]
# ### Exercise 5 (1 point): the k most likely words
#
# `language_model.top_k_words` (used in section 6 below, and by the explorer) ranks the
# vocabulary by predicted probability. Complete
# `top_k`: given probabilities (N × V), return the indices (N × k) of each row's k most probable
# words, most probable first.

# %% tags=["solution:top_k"]
def top_k(proba, k):
    """Indices (N, k) of the k largest entries of each row of proba, largest first."""
    ### BEGIN SOLUTION
    return np.argsort(-proba, axis=1)[:, :k]
    ### END SOLUTION


# %% tags=["check:top_k"]
top_k_passed = exercises.check("top_k", top_k)

# %% [markdown]
# **Question B (1 point).** In section 3, the live run's first epoch ends near the cross-entropy
# of guessing by word frequency alone. Which parameter of the model can produce those
# frequency guesses by itself, whatever the context — and why is it the first thing SGD gets
# right? (Think about the gradient it receives from every example.)

# %% [markdown] tags=["answer:question_output_bias"]
# **Answer.** The output bias $b_2$: with $s = hW_2 + b_2$, setting $b_{2,v} = \log f_v$ (the log
# frequency of word $v$, up to a constant) makes the softmax predict the word frequencies
# whatever the context, as long as $hW_2$ is small — as it is at initialisation (there $W_2$ can
# do the same, acting on hidden units that are all near 0.5 whatever the context). Its gradient,
# $\frac1N \sum_n (p_n - Y_n)$, does not depend on the context at all: it is the batch's mean
# predicted distribution minus the batch's word frequencies. Each example pushes $b_2$ towards its
# own target word, and over a batch these pushes add up to "predicted minus observed
# frequencies" — the same direction in every batch, so the steps add up batch after batch. The
# context-dependent part needs $R$, $W_1$ and $W_2$ to change *together*, and each example's push on
# them depends on its particular context, so it builds up more slowly.

# %% [markdown]
# ## 5. The embeddings
#
# Words the model treats alike end up close together. Nearest neighbours (Euclidean
# distance between embeddings):

# %%
counts = np.bincount(np.concatenate([ng.train_x.ravel(), ng.train_y]), minlength=ng.n_words)
probes, note = language_model.frequent_words(ng.words, counts, ["government", "war", "year", "congress", "we",
                                                                "should"], k=6)
if note:
    print(note)
for word in probes:
    near = language_model.nearest_words(best.params, ng.words, word, k=5)
    print(f"{word:>10s}: " + ", ".join(w for w, _ in near))

# %% [markdown]
# A 2-D projection of the embeddings of the 100 words that occur most often in the training
# 4-grams (counted at all four positions), on their first two principal components (PCA), which
# hold only about a fifth of the variance (the title and the axis labels say how much). Both
# axes have one scale, so distances on the map are distances in the projection. The words of
# the groups named below have a colour and a marker each (the legend counts them; the other
# words are grey dots). A
# word is labelled only where its label covers no other label and no dot, so in the dense
# middle of the map many words stay unlabelled: the right panel enlarges that part (the
# dashed box), and there nearly every word gets its label.
#
# Look for groups — the model was never told about grammar: the modal verbs (*will, would,
# should, may, must, can*) sit together below the centre; the prepositions (*of, in, on, by,
# from, under, with*, and *at* further out) to the right, with the forms of *be* and *have*
# beside them, mostly on their left; the determiners and possessives *the, a, an, our, their,
# its* along the bottom — but not the demonstratives *this, these*, which sit just below and left
# of the centre; and most nouns (*government, congress, people, law, peace, war*, ...) in one
# dense cluster above and left of the centre (left part of the enlarged panel). The subject
# pronouns *i, we, they* lie apart at the far left, low (the grey word among them is *united*),
# while the object forms *them, us* sit
# at the lower edge of the noun cluster. Below the figure, the coordinates of each coloured
# group: the numbers these sentences describe.

# %%
MAP_GROUPS = {  # the groups named above; words missing from a vocabulary are left out
    "modal verbs": ["will", "would", "should", "may", "must", "can"],
    "forms of be and have": ["is", "was", "were", "are", "be", "been", "has", "have", "had"],
    "prepositions": ["of", "in", "on", "by", "from", "under", "with", "at"],
    "determiners, possessives": ["the", "a", "an", "our", "their", "its", "this", "these"],
    "subject pronouns": ["i", "we", "they"],
    "object pronouns": ["them", "us"],
    "nouns": ["government", "congress", "people", "country", "states", "state", "nation", "nations", "law",
              "power", "peace", "war", "treasury", "department", "secretary", "citizens", "service", "act", "time",
              "year", "work", "world", "report", "subject", "part"],
}
fig = plots.embedding_map(best.params["R"], ng.words, n=100, counts=counts, groups=MAP_GROUPS,
                          P=best.config.P, seed=best.config.seed)
plots.show(fig)
shown = plots.most_frequent(counts, 100)
xy, share = plots.embedding_pca(best.params["R"], shown)
at = {ng.words[i]: point for i, point in zip(shown, xy)}
print(f"all 100 words: PC 1 from {xy[:, 0].min():.2f} to {xy[:, 0].max():.2f}, PC 2 from {xy[:, 1].min():.2f} "
      f"to {xy[:, 1].max():.2f}; the centre (their mean) is (0, 0)")
for group, members in MAP_GROUPS.items():
    inside = [w for w in members if w in at]
    if inside:
        pc = np.array([at[w] for w in inside])
        print(f"{group:>24s} ({len(inside):2d}): PC 1 {pc[:, 0].min():5.2f} … {pc[:, 0].max():5.2f}, "
              f"PC 2 {pc[:, 1].min():5.2f} … {pc[:, 1].max():5.2f}")
for group in ("determiners, possessives", "prepositions"):
    if any(w in at for w in MAP_GROUPS[group]):
        print(f"{group}: " + ", ".join(f"{w} ({at[w][0]:.2f}, {at[w][1]:.2f})" for w in MAP_GROUPS[group] if w in at))
nouns = [w for w in MAP_GROUPS["nouns"] if w in at]
cluster = [w for w in nouns if -2 < at[w][0] < 0 and 0 < at[w][1] < 1.5]
if nouns:
    print(f"nouns with -2 < PC 1 < 0 and 0 < PC 2 < 1.5: {len(cluster)} of {len(nouns)}; the others: "
          + ", ".join(f"{w} ({at[w][0]:.2f}, {at[w][1]:.2f})" for w in nouns if w not in cluster))

# %% [markdown]
# Two of 32 dimensions are a hint, not a measurement. In all 32, and over the whole vocabulary,
# here is the nearest neighbour of each word of a few grammatical groups
# (`language_model.nearest_in_groups`):

# %%
for group, nearest in language_model.nearest_in_groups(best.params, ng.words).items():
    print(f"{group:>14}: " + ", ".join(f"{w} → {v}" for w, v in nearest.items()))

# %% [markdown]
# Every nearest word but one (*from → use*) belongs to the same word class as its word (counting
# the possessive *my* with the pronouns), often
# a word outside the lists: *would → might*, *can → could*, *every → each*, *were → am*, *in →
# within*. The class is not the whole grammatical role, though. Among the pronouns only
# *we → they* keeps the case; *i → my* and *they → them* keep the person but not the case
# (subject → possessive, subject → object), and *you → me* changes the person (*you* is both
# the subject and the object form, so the case may be kept). The punctuation
# marks all have a dash or a colon as their nearest neighbour — neither is among the 100
# words of the picture: the 32 dimensions hold groups that a 2-D projection of some words
# cannot show. What this does not show: whether the
# groups reflect meaning beyond grammar (*war → trade, peace* above hints at topics), and how
# stable they are across seeds.

# %% [markdown]
# ## 6. Explore
#
# Pick a model size and three words; the bars show the ten most likely next words, on the
# same probability axis for every choice. Try it: keep the context *the united states* and step
# through the three sizes to see how sure each model is of the next word (after *the united
# states* many continuations are possible, so none is sure); then change the context to *of the
# united* or *in order to* and watch the guesses follow it. It opens on the (32, 256) model
# after *the united states* (or, when your vocabulary lacks one of those words, on the most
# frequent context of your data, and says so):

# %%
context, note = language_model.default_context(ng.words, ng.train_x)
if note:
    print(note)

# %% tags=["nbval-ignore-output"]
widgets.language_model_explorer(store, data_dir=DATA_DIR, trigram=context)

# %% [markdown]
# ## Summary
#
# * One shared embedding matrix, three context positions, a sigmoid hidden layer and a
#   softmax over the vocabulary; the embedding gradient must accumulate repeated words.
# * Bigger embeddings and hidden layers reach lower cross-entropy on held-out 4-grams.
# * The learned embeddings group words by word class (modal verbs, forms of *be*, prepositions,
#   pronouns, ...), though not always by finer role: the pronouns' neighbours cross case.

# %% [markdown]
# ## Appendix: mpcore's embedding gradient
#
# Exercise 3's answer, so it comes after the exercises: mpcore's `layers.embedding_backward`
# does the same sum with one `bincount` over the flat (word, dimension) positions. The classic
# bug, `dR[idx] += dout`, keeps only *one* of the repeated words' contributions: numpy's fancy
# indexing does not accumulate.

# %%
print(inspect.getsource(layers.embedding_backward))
