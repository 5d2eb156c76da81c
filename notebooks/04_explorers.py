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
# Every control is a labelled list: reach it with Tab and change it with the arrow keys (or
# type the first letters of a word). In JupyterLab, which keeps the arrow and letter keys for
# its own notebook commands, press Space to open the list first, then choose with the arrow
# keys and Enter. Each figure carries a text description of what it shows, its alt text, which
# a screen reader reads and announces again when a control changes it.
#
# ## 1. Sparse autoencoder: hidden features
#
# The L_hid × λ grid on whitened patches (notebook 1, §6), every panel on one grey scale. It
# opens at the main setting, L_hid = 64 and λ = 10⁻⁴. Move λ up to 3·10⁻⁴: the edges stay, a
# little smoother, and a few units switch off — their activation no longer depends on the patch.
# Their weights are mostly the uniform (all pixels equal) component, so most of them show as
# darker, flat or faint tiles: 3 of 64 (one flat, two faint); move L_hid to 100 and it is 29 of
# 100, most of them flat. Those λ = 3·10⁻⁴ runs start from the λ = 10⁻⁴ weights: from random
# weights, L-BFGS at that λ switches *every* unit off and stops at a higher cost (notebook 1,
# §6: the cost has more than one minimum). Back at L_hid = 64, move λ down to 3·10⁻⁵ and watch
# the features get noisier; at λ = 10⁻⁴, move L_hid to 16 and watch them grow broader.

# %% tags=["nbval-ignore-output"]
from mpcore import widgets
from mpcore.store import Store

store = Store()
widgets.autoencoder_explorer(store)

# %% [markdown]
# ## 2. Sparse autoencoder: the sparsity penalty
#
# The β × ρ grid at L_hid = 64 and λ = 10⁻⁴ (notebook 1, §7). It opens at ρ = 0.01 with a weak
# penalty, β = 0.3: the mean activation in the title is 0.020, twice the target ρ, and a few
# blobs appear among the edges (the third tile of the top row is one). Raise β to 3 and the mean
# activation falls to 0.011, within 10 % of ρ — the figure §1 opens on; raise it to 10 and little
# changes (0.010, selectivity 0.73 as at β = 3). No unit falls silent anywhere in this grid: none
# has a mean activation below a tenth of ρ. Raise ρ to 0.05 or 0.2 and watch the edges dissolve
# into texture and speckle.

# %% tags=["nbval-ignore-output"]
widgets.sparsity_explorer(store, beta=0.3)

# %% [markdown]
# ## 3. Language model: the ten most likely next words
#
# Keep the context *the united states* and step through the three model sizes: after it many
# continuations are possible, and no model gives any word more than 0.3. Then change the context
# to *of the united* (*states* gets 0.97 from the D=32 model) or *in order to* (verbs: *be*,
# *make*, *provide*) and watch the guesses follow it.

# %% tags=["nbval-ignore-output"]
widgets.language_model_explorer(store)

# %% [markdown]
# ## 4. Sequence classifiers: loss curves and confusion matrices
#
# Try the vanilla RNN at η = 0.1, then at η = 0.01; compare seeds; compare the cells.

# %% tags=["nbval-ignore-output"]
widgets.sequence_explorer(store)
