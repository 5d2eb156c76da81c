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
# # mpcore explorers
#
# The explorers of notebooks 01–03 on one page, on the shipped results.
# `voila notebooks/04_explorers.ipynb` serves it as a dashboard with the code hidden. Every
# control answers in under a second; the notebooks 01–03 explain what each figure shows.
#
# ## 1. Sparse autoencoder: hidden features
#
# The L_hid × λ grid on whitened patches (notebook 1, §6), every panel on one grey scale. Move
# λ from 10⁻⁴ up to 3·10⁻⁴: the edges stay, a little smoother, and a few units switch off —
# flat grey tiles whose activation no longer depends on the patch (3 of 64; move L_hid to 100
# and it is 29 of 100). Those λ = 3·10⁻⁴ runs start from the λ = 10⁻⁴ weights: from random
# weights, L-BFGS at that λ switches *every* unit off and stops at a higher cost (notebook 1,
# §5: the cost has more than one minimum). Move λ down to 3·10⁻⁵ and watch the features get
# noisier; move L_hid to 16 and watch them grow broader.

# %% tags=["nbval-ignore-output"]
from mpcore import widgets
from mpcore.store import Store

store = Store()
widgets.autoencoder_explorer(store)

# %% [markdown]
# ## 2. Sparse autoencoder: the sparsity penalty
#
# At ρ = 0.01, lower β from 3 to 0.3 and watch the mean activation in the title double
# (0.011 → 0.020) and a few blobs appear among the edges; raise it to 10 and little changes
# (0.010, selectivity 0.73 as at β = 3). No unit falls silent anywhere in this grid: none has a
# mean activation below a tenth of ρ. Raise ρ to 0.05 or 0.2 and watch the edges dissolve into
# texture and speckle.

# %% tags=["nbval-ignore-output"]
widgets.sparsity_explorer(store)

# %% [markdown]
# ## 3. Language model: the ten most likely next words
#
# Keep the context *the united states* and step through the three model sizes; then change
# *states* to *war* or *people* and watch the guesses follow the context.

# %% tags=["nbval-ignore-output"]
widgets.language_model_explorer(store)

# %% [markdown]
# ## 4. Sequence classifiers: loss curves and confusion matrices
#
# Try the vanilla RNN at η = 0.1, then at η = 0.01; compare seeds; compare the cells.

# %% tags=["nbval-ignore-output"]
widgets.sequence_explorer(store)
