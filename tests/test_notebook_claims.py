"""The notebooks' prose, checked against the shipped results.

Numbers a notebook prints come from the results; the sentences next to the figures interpret
them (and some quote numbers only a figure shows). Each test here states one paragraph's claims
as assertions on the shipped store, so rebuilding the results cannot silently leave a sentence
untrue: when one fails, re-read the figure and rewrite the sentence.
"""

from __future__ import annotations

import numpy as np
import pytest

from mpcore import experiments as E
from mpcore.store import Store, shipped_dir


@pytest.fixture(scope="module")
def shipped():
    return Store(shipped_dir(), read_only_roots=[])


def _get(store, config):
    result = store.get(config)
    assert result is not None, f"not shipped: {config}"
    return result


def test_notebook_1_section_7_sparsity_grid(shipped):
    grid = {(b, r): _get(shipped, E.AutoencoderConfig(beta=b, rho=r)).metrics
            for b in E.AE_GRID_BETA for r in E.AE_GRID_RHO}
    low, mid, high = E.AE_GRID_RHO
    for b in E.AE_GRID_BETA:
        # "At ρ = 0.01 every β gives localised, oriented edges (selectivity above 0.7)"
        assert grid[(b, low)]["selectivity"] > 0.7
        # "at ρ = 0.2 they are speckle (selectivity about 0.15, a third of the power at high frequencies)"
        assert 0.12 < grid[(b, high)]["selectivity"] < 0.18 and 0.3 < grid[(b, high)]["high_frequency"] < 0.37
        assert grid[(b, mid)]["selectivity"] < 0.3  # "fine, mostly unoriented textures"
        # "the error relative to the mean patch roughly halves from ρ = 0.01 to 0.2"
        assert 0.4 < grid[(b, high)]["reconstruction_mse"] / grid[(b, low)]["reconstruction_mse"] < 0.65
        # "the redundancy measure falls towards 0"
        assert grid[(b, high)]["redundancy"] < 0.1 < grid[(b, low)]["redundancy"]
    # "With β = 0.3 the units fire twice as often as the target at ρ = 0.01 (mean activation 0.020)"
    assert round(grid[(0.3, low)]["mean_activation"], 3) == 0.020
    # "with β = 3 or 10 the mean activation is within 10 % of ρ ... (selectivity 0.73 at both)"
    for b in (3.0, 10.0):
        for r in E.AE_GRID_RHO:
            assert abs(grid[(b, r)]["mean_activation"] / r - 1) < 0.1
        assert round(grid[(b, low)]["selectivity"], 2) == 0.73


@pytest.fixture(scope="module")
def median(shipped):
    return {cell: s["median"] for cell, s in E.sequence_study(shipped).items()}


def _confusion(result, split):
    classes = result.metrics["classes"]
    cm = np.asarray(result.metrics[f"{split}_confusion"])
    return lambda true, pred: cm[classes.index(true), classes.index(pred)], cm


def test_notebook_3_section_6_mistakes(median):
    test = {c: _confusion(r, "test") for c, r in median.items()}
    train = {c: _confusion(r, "train") for c, r in median.items()}

    def share(table, true, pred):
        at, cm = table
        return at(true, pred) / cm[median["gru"].metrics["classes"].index(true)].sum()

    # "forward elevation taken for abduction (78, 95 and 60 of 124 windows for the RNN, LSTM and GRU)"
    assert [test[c][0]("forward elevation", "abduction") for c in E.SEQ_CELLS] == [78, 95, 60]
    assert all(share(test[c], "forward elevation", "abduction") == test[c][0]("forward elevation", "abduction") / 124
               for c in E.SEQ_CELLS)
    # "the RNN calls two fifths of the external rotations internal and as many of the internal ones external"
    assert share(test["rnn"], "external rotation", "internal rotation") == pytest.approx(0.4, abs=0.03)
    assert share(test["rnn"], "internal rotation", "external rotation") == pytest.approx(0.4, abs=0.03)
    # "the LSTM and the GRU take about a third of the internal rotations for external ones"
    for c in ("lstm", "gru"):
        assert share(test[c], "internal rotation", "external rotation") == pytest.approx(1 / 3, abs=0.03)
    # "The GRU separates both pairs almost perfectly on its training windows (3 of about 1,000 rotation windows wrong)"
    at, cm = train["gru"]
    assert at("forward elevation", "abduction") + at("abduction", "forward elevation") == 0
    assert at("internal rotation", "external rotation") + at("external rotation", "internal rotation") == 3
    # "the LSTM still mixes up a fifth of its training external rotations"
    assert share(train["lstm"], "external rotation", "internal rotation") == pytest.approx(0.2, abs=0.03)
    # "Pendulum and upright row are easy for the gated cells (every test window right)"
    for c in ("lstm", "gru"):
        for cls in ("pendulum", "upright row"):
            assert share(test[c], cls, cls) == 1
    # "the RNN gets fewer than half of the pendulum windows right"
    assert share(test["rnn"], "pendulum", "pendulum") < 0.5
    # "the RNN confuses both pairs on training windows too"
    assert share(train["rnn"], "forward elevation", "abduction") > 0.1
    assert share(train["rnn"], "external rotation", "internal rotation") > 0.1


def test_notebook_2_section_3_early_stopping(shipped):
    from mpcore import data

    # "on all the training 4-grams (the count printed in section 1)": the bundled data's count
    assert len(data.load_ngrams().train_x) == 242_304
    curves = {}
    for D, P in E.LM_SIZES:
        h = _get(shipped, E.language_model_config(D, P, 0)).history
        val, train = np.asarray(h["val_loss"]), np.asarray(h["train_loss"])
        curves[(D, P)] = train[-11] - train[-1]
        # "over the last ten epochs each flattens — it moves by 0.03 or less"
        assert abs(val[-11] - val[-1]) <= 0.03
        # "no validation curve turns clearly upwards ... never rises more than about 0.01 above its best"
        assert np.max(val - np.minimum.accumulate(val)) < 0.015
        # "while the training curves keep falling"
        assert train[-1] < train[-11]
    # "most steeply for the (32, 256) model (by 0.08)"
    assert max(curves, key=curves.get) == (32, 256) and round(curves[(32, 256)], 2) == 0.08


def test_notebook_2_section_5_word_groups(shipped):
    from mpcore import data, plots
    from mpcore.models import language_model as lm

    params = _get(shipped, E.language_model_config(32, 256, 0)).params
    ng = data.load_ngrams()
    words = ng.words
    counts = np.bincount(np.concatenate([ng.train_x.ravel(), ng.train_y]), minlength=ng.n_words)
    top = plots.most_frequent(counts, 100)
    # the map shows the 100 most frequent words of the training data, not the vocabulary's first 100
    assert len(set(top) & set(range(100))) == 83
    # "which hold only about a fifth of the variance"
    E_ = params["R"][top] - params["R"][top].mean(axis=0)
    S = np.linalg.svd(E_, compute_uv=False)
    assert 0.18 < np.sum(S[:2] ** 2) / np.sum(S**2) < 0.25
    near = lm.nearest_in_groups(params, words)
    word_class = {
        "modal verbs": {"will", "would", "should", "may", "must", "can", "might", "could", "shall"},
        "forms of have": {"has", "have", "had"},
        "forms of be": {"is", "was", "were", "are", "be", "been", "am"},
        "quantifiers": {"some", "many", "every", "each", "any", "no", "most", "all", "few"},
        "prepositions": {"in", "on", "at", "from", "by", "into", "upon", "under", "with", "within", "without",
                         "against", "of", "for", "to", "through"},
        "punctuation": {",", ".", ";", '"', "-", "—", ":"},
        "pronouns": {"i", "we", "they", "you", "my", "me", "them", "us", "our", "their"},
    }
    # "Every nearest word but one (from → use) belongs to the same word class as its word"
    assert [(w, v) for g, m in near.items() for w, v in m.items() if v not in word_class[g]] == [("from", "use")]
    # "often a word outside the lists: would → might, can → could, every → each, were → am, in → within"
    assert (near["modal verbs"]["would"], near["modal verbs"]["can"], near["quantifiers"]["every"],
            near["forms of be"]["were"], near["prepositions"]["in"]) == ("might", "could", "each", "am", "within")
    # "Among the pronouns only we → they keeps the case; i → my and they → them keep the person but
    # not the case, and you → me changes both"
    assert near["pronouns"] == {"i": "my", "we": "they", "they": "them", "you": "me"}
    # "The punctuation marks all have a dash or a colon as their nearest neighbour — neither is among
    # the 100 words of the picture"
    assert set(near["punctuation"].values()) <= {"—", ":"} and len(near["punctuation"]) == 5
    assert not {words.index("—"), words.index(":")} & set(top)

    # the map: where the groups sit on the two principal components (sign fixed as in plots.embedding_map)
    _, _, Vt = np.linalg.svd(E_, full_matrices=False)
    xy = E_ @ Vt[:2].T * np.sign(Vt[:2].sum(axis=1))
    at = {words[i]: xy[k] for k, i in enumerate(top)}
    modal = np.array([at[w] for w in ("will", "would", "should", "may", "must", "can")])
    preps = np.array([at[w] for w in ("of", "in", "on", "by", "from", "under", "with")])
    dets = np.array([at[w] for w in ("the", "a", "an", "our", "their", "its")])
    # "the modal verbs sit together near the bottom, the prepositions to the right ... determiners
    # and possessives along the bottom"
    assert np.all(modal[:, 1] < -1) and np.ptp(modal[:, 0]) < 1.5
    assert np.all(preps[:, 0] > 2) and np.all(dets[:, 1] < -2)
    # "with the forms of be and have among them"
    assert all(at[w][0] > 1 for w in ("is", "was", "are", "be", "been", "has", "have"))
    # "most nouns (government, congress, people, law, peace, war, ...) in one dense cluster above and
    # left of the centre"
    nouns = ("government congress people country states state nation nations law power peace war treasury "
             "department secretary citizens service act time year work world report subject part").split()
    assert sum(-2 < at[w][0] < 0 and 0 < at[w][1] < 1.5 for w in nouns) >= 20
    assert all(-2 < at[w][0] < 0 and 0 < at[w][1] < 1.5 for w in ("government", "congress", "people", "law",
                                                                   "peace", "war"))
    # "The subject pronouns i, we, they lie apart at the far left, while the object forms them, us sit
    # among the nouns"
    assert all(at[w][0] < -2 for w in ("i", "we", "they"))
    assert all(-2 < at[w][0] < 0 and -0.5 < at[w][1] < 1 for w in ("them", "us"))


def test_notebook_1_section_3_convergence(shipped):
    main = _get(shipped, E.AutoencoderConfig())
    # "Sixty iterations are not convergence: ... the converged run below reaches 0.73"
    assert main.history["stopped"].startswith("converged")
    assert main.metrics["iterations"] > 60
    assert round(main.metrics["selectivity"], 2) == 0.73


def test_notebook_4_section_2_sparsity_explorer(shipped):
    grid = {(b, r): _get(shipped, E.AutoencoderConfig(beta=b, rho=r)).metrics
            for b in E.AE_GRID_BETA for r in E.AE_GRID_RHO}
    # "lower β from 3 to 0.3 and watch the mean activation double (0.011 → 0.020)"
    assert [round(grid[(b, 0.01)]["mean_activation"], 3) for b in (3.0, 0.3, 10.0)] == [0.011, 0.020, 0.010]
    # "raise it to 10 and little changes (0.010, selectivity 0.73 as at β = 3)"
    assert round(grid[(10.0, 0.01)]["selectivity"], 2) == round(grid[(3.0, 0.01)]["selectivity"], 2) == 0.73
    # "No unit falls silent anywhere in this grid"
    assert all(m["dead_units"] == 0 for m in grid.values())
    # "Raise ρ to 0.05 or 0.2 and watch the edges dissolve into texture and speckle"
    assert all(grid[(b, r)]["selectivity"] < 0.3 for b in E.AE_GRID_BETA for r in E.AE_GRID_RHO[1:])


def test_notebook_3_median_seed_is_chosen_on_validation(shipped):
    study = E.sequence_study(shipped)
    for s in study.values():
        val = sorted(r.metrics["val_accuracy"] for r in s["seeds"])
        # "The median seed of each cell by *validation* accuracy"
        assert s["median"].metrics["val_accuracy"] == val[1]
    assert {c: s["median"].config.seed for c, s in study.items()} == {"rnn": 0, "lstm": 0, "gru": 1}


def test_notebook_3_section_5_rnn_fails_to_fit(median):
    h = median["rnn"].history
    # "improves for about ten epochs and then stalls: its validation loss stays near 0.8"
    assert all(0.75 < v < 0.95 for v in h["val_loss"][9:])
    # "its training accuracy (on 512 windows) never passes 0.72 — 0.65 on all training windows with the
    # weights kept"
    assert round(max(h["train_acc"]), 2) == 0.72 and round(median["rnn"].metrics["train_accuracy"], 2) == 0.65


def test_notebook_3_section_7_gradient_and_forget_gates(median):
    from mpcore import cells

    g = {c: np.asarray(r.metrics["hidden_gradient_norms"]) for c, r in median.items()}
    rate = {c: (v[0] / v[-1]) ** (1 / (len(v) - 1)) for c, v in g.items()}
    rnn, lstm, gru = g["rnn"], g["lstm"], g["gru"]
    # "falls by more than eight orders of magnitude ... from 0.52 at t = 150 to about 1e-9 at t = 1 (× 0.876)"
    assert rnn[0] / rnn[-1] < 1e-8 and round(rnn[-1], 2) == 0.52 and round(rate["rnn"], 3) == 0.876
    # "over the first 60 steps ... wanders between about 1e-9 and 3e-8 — most of the 36 steps on which it
    # grows going back lie there"; "it falls steeply over the last 90 steps"
    grows = np.flatnonzero(np.diff(rnn) < 0)
    assert len(grows) == 36 and np.sum(grows < 60) > 30
    assert 8e-10 < rnn[:60].min() and rnn[:60].max() < 3e-8 and rnn[-1] / rnn[59] > 1e7
    # "by the middle of the window it is below 1e-6 of its value at the end"
    assert rnn[74] / rnn[-1] < 1e-6
    # "from 2.1 to 0.10 over the last four steps, then only from 0.10 to 0.034 over the other 145 (× 0.973)"
    assert (round(lstm[-1], 1), round(lstm[-5], 2), round(lstm[0], 3)) == (2.1, 0.10, 0.034)
    assert round(rate["lstm"], 3) == 0.973
    # "The GRU's falls by less than one order of magnitude (1.1 to 0.19)"
    assert (round(gru[-1], 1), round(gru[0], 2)) == (1.1, 0.19)

    # the forget gates of the median LSTM on the same 256 test windows
    act = E.PARTS["sequence"].load(None)
    mu, sd = E.standardizer(act)
    p = {k: v.astype(np.float64) for k, v in median["lstm"].params.items()}
    X = ((act.test_x[:256] - mu) / sd).astype(np.float32).astype(np.float64)
    h = c = np.zeros((len(X), p["W_hf"].shape[0]))
    forget = []
    for t in range(X.shape[1]):
        (h, c), cache = cells.lstm.step_forward(X[:, t], (h, c), p)
        forget.append(cache[5])
    forget = np.array(forget)
    unit_rate = np.exp(np.log(forget).mean(axis=(0, 1)))
    # "average 0.77 — below the 0.876 that would reproduce the RNN's rate"; "a third of the gate values
    # exceed 0.9"; "8 of the 128 units ... a geometric mean above 0.95, up to 0.98"
    assert round(forget.mean(), 2) == 0.77 < rate["rnn"]
    assert np.mean(forget > 0.9) == pytest.approx(1 / 3, abs=0.03)
    assert np.sum(unit_rate > 0.95) == 8 and round(unit_rate.max(), 2) == 0.98
