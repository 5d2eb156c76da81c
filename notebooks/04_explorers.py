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
# Move λ from 10⁻⁴ to 3·10⁻⁴ and watch the features vanish, or down to 3·10⁻⁵ and watch them
# get noisier; move L_hid to 16 and watch them grow broader.

# %% tags=["nbval-ignore-output"]
from mpcore import widgets
from mpcore.store import Store

store = Store()
widgets.autoencoder_explorer(store)

# %% [markdown]
# ## 2. Sparse autoencoder: the sparsity penalty
#
# Raise β from 3 to 10 at ρ = 0.01 and watch more units fall silent; raise ρ to 0.2 and watch
# the features spread out.

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
