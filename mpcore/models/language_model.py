"""Neural language model: predict the 4th word of a 4-gram from the first three.

One embedding matrix ``R`` (V, D) is **shared** by the three context words (a word means the
same thing wherever it stands), the three embeddings are concatenated, a sigmoid hidden layer
of P units follows, then a softmax over the V words.

Shapes: ``contexts`` (N, 3) int in [0, V), ``targets`` (N,), ``R`` (V, D), ``W1`` (3D, P),
``b1`` (P,), ``W2`` (P, V), ``b2`` (V,). Rows are examples (the course uses columns).

.. math::
    e_n = [R_{w_{n1}}, R_{w_{n2}}, R_{w_{n3}}] \\in \\mathbb{R}^{3D}, \\quad
    h = \\sigma(e W_1 + b_1), \\quad p = \\mathrm{softmax}(h W_2 + b_2), \\quad
    L = -\\frac1N \\sum_n \\log p_{n, y_n}
"""

from __future__ import annotations

import numpy as np

from .. import _checks
from ..layers import (
    affine_backward,
    affine_forward,
    embedding_backward,
    embedding_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax,
    softmax_cross_entropy,
)

PARAM_NAMES = ("R", "W1", "b1", "W2", "b2")
CONTEXT = 3
#: Grammatical groups among the most frequent words of the bundled vocabulary: what to check the
#: learned embeddings against (:func:`nearest_in_groups`; notebook 2, section 5).
WORD_GROUPS = {
    "modal verbs": ("will", "would", "should", "may", "must", "can"),
    "forms of have": ("has", "have", "had"),
    "forms of be": ("is", "was", "were", "are", "be", "been"),
    "quantifiers": ("some", "every", "any", "most", "no"),
    "prepositions": ("in", "on", "at", "from", "by", "into", "upon", "under", "with"),
    "punctuation": (",", ".", ";", '"', "-"),
    "pronouns": ("i", "we", "they", "you"),
}


#: The context the notebook and the explorer open on (bundled data); :func:`default_context`
#: falls back to the data's most frequent context when a vocabulary lacks one of its words.
DEFAULT_CONTEXT = ("the", "united", "states")


def default_context(words: list[str], contexts: np.ndarray, preferred=DEFAULT_CONTEXT) -> tuple[list[str], str | None]:
    """Three context words to open on: ``preferred`` if all are in ``words``, else the most
    frequent row of ``contexts`` (N, 3) -- with a note saying so (None when nothing changed)."""
    if all(w in words for w in preferred):
        return list(preferred), None
    rows, counts = np.unique(np.asarray(contexts), axis=0, return_counts=True)
    chosen = [words[i] for i in rows[np.argmax(counts)]]
    missing = [w for w in preferred if w not in words]
    return chosen, (f"the default context {' '.join(preferred)!r} is not in this vocabulary (no {', '.join(missing)}): "
                    f"using its most frequent context, {' '.join(chosen)!r}")


def frequent_words(words: list[str], counts: np.ndarray, preferred, k: int) -> tuple[list[str], str | None]:
    """The ``preferred`` words that are in ``words``, or -- when none is -- the ``k`` most frequent
    (``counts`` per word), with a note saying so."""
    present = [w for w in preferred if w in words]
    if present:
        return present, None
    chosen = [words[i] for i in np.argsort(-np.asarray(counts), kind="stable")[:k]]
    return chosen, f"none of {', '.join(preferred)} is in this vocabulary: using its {k} most frequent words"


def init_params(n_words: int, D: int, P: int, rng: np.random.Generator, dtype=np.float64) -> dict:
    """Gaussian weights with std 0.01 (course), zero biases.

    Returns ``{"R": (V, D), "W1": (3D, P), "b1": (P,), "W2": (P, V), "b2": (V,)}``.
    """
    V = _checks.positive_int("n_words", n_words)
    D = _checks.positive_int("D", D)
    P = _checks.positive_int("P", P)
    rng = _checks.rng(rng)
    return {
        "R": (0.01 * rng.standard_normal((V, D))).astype(dtype),
        "W1": (0.01 * rng.standard_normal((CONTEXT * D, P))).astype(dtype),
        "b1": np.zeros(P, dtype=dtype),
        "W2": (0.01 * rng.standard_normal((P, V))).astype(dtype),
        "b2": np.zeros(V, dtype=dtype),
    }


def _check(params, contexts):
    if "R" not in params:
        raise ValueError(f"params lack ['R'] (have {sorted(params)})")
    V, D = np.shape(params["R"])
    P = np.shape(params.get("b1", ()))[0] if np.ndim(params.get("b1", ())) == 1 else -1
    _checks.params_match(params, {"R": (V, D), "W1": (CONTEXT * D, P), "b1": (P,), "W2": (P, V), "b2": (V,)},
                         "language_model")
    contexts = _checks.index_array("contexts", contexts, 2, "(N, 3)", V)
    if contexts.shape[1] != CONTEXT:
        raise ValueError(f"contexts must have shape (N, 3), got {contexts.shape}")
    return contexts, V


def _forward(params, contexts):
    N = contexts.shape[0]
    E, emb = embedding_forward(contexts, params["R"])  # (N, 3, D)
    z1, aff1 = affine_forward(E.reshape(N, -1), params["W1"], params["b1"])
    h, sig1 = sigmoid_forward(z1)
    scores, aff2 = affine_forward(h, params["W2"], params["b2"])
    return scores, (emb, aff1, sig1, aff2, E.shape)


def loss_and_grads(params: dict, contexts: np.ndarray, targets: np.ndarray):
    """Mean cross-entropy of the 4th word and its gradient with respect to R, W1, b1, W2, b2.

    Notes
    -----
    Backward, with ``Y`` the one-hot targets (N, V):

    .. math::
        \\delta_s = \\frac{p - Y}{N}, \\quad
        \\nabla_{W_2} = h^\\top \\delta_s, \\quad
        \\delta_z = \\delta_s W_2^\\top \\odot h (1 - h), \\quad
        \\nabla_{W_1} = e^\\top \\delta_z, \\quad
        \\delta_e = \\delta_z W_1^\\top, \\quad
        \\nabla_{R_v} = \\sum_{(n, k):\\, w_{nk} = v} \\delta_{e_{n,k}}

    The embedding gradient sums the gradients of every occurrence of a word in the batch (one
    ``bincount`` per embedding column, :func:`mpcore.layers.embedding_backward`): a word that
    appears twice gets both contributions.
    """
    contexts, V = _check(params, contexts)
    targets = _checks.index_array("targets", targets, 1, "(N,)", V)
    _checks.same_length("contexts", contexts, "targets", targets)
    scores, (emb, aff1, sig1, aff2, e_shape) = _forward(params, contexts)
    loss, dscores = softmax_cross_entropy(scores, targets)
    dh, dW2, db2 = affine_backward(dscores, aff2)
    de, dW1, db1 = affine_backward(sigmoid_backward(dh, sig1), aff1)
    dR = embedding_backward(de.reshape(e_shape), emb)
    return loss, {"R": dR, "W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def predict_proba(params: dict, contexts: np.ndarray, batch_size: int = 8192) -> np.ndarray:
    """Next-word distribution for each context: (N, V), rows sum to 1 (computed in batches)."""
    contexts, _ = _check(params, contexts)
    out = [softmax(_forward(params, contexts[s : s + batch_size])[0]) for s in range(0, len(contexts), batch_size)]
    return np.concatenate(out)


def top_k_words(params: dict, words: list[str], trigram, k: int = 10) -> list[tuple[str, float]]:
    """The k most likely 4th words after ``trigram`` (3 words or 3 indices), with probabilities."""
    k = _checks.positive_int("k", k)
    index = {w: i for i, w in enumerate(words)}
    if len(trigram) != CONTEXT:
        raise ValueError(f"trigram must have 3 words, got {len(trigram)}: {trigram!r}")
    ids = []
    for w in trigram:
        if isinstance(w, str):
            if w not in index:
                raise ValueError(f"word {w!r} is not in the vocabulary of {len(words)} words")
            ids.append(index[w])
        else:
            ids.append(int(w))
    p = predict_proba(params, np.array([ids]))[0]
    order = np.argsort(-p, kind="stable")[:k]
    return [(words[j], float(p[j])) for j in order]


def nearest_in_groups(params: dict, words: list[str], groups: dict = WORD_GROUPS) -> dict:
    """For each group, ``{word: its nearest neighbour}`` over the whole vocabulary (Euclidean
    distance between embeddings), for the group's words that are in ``words``. A group whose
    words are each other's neighbours is one the model has learned without being told."""
    return {name: {w: nearest_words(params, words, w, k=1)[0][0] for w in group if w in words}
            for name, group in groups.items()}


def nearest_words(params: dict, words: list[str], word: str, k: int = 5) -> list[tuple[str, float]]:
    """The k words whose embeddings are closest (Euclidean) to ``word``'s, with distances."""
    k = _checks.positive_int("k", k)
    if word not in words:
        raise ValueError(f"word {word!r} is not in the vocabulary of {len(words)} words")
    R = params["R"]
    j = words.index(word)
    dist = np.linalg.norm(R - R[j], axis=1)
    order = [i for i in np.argsort(dist, kind="stable") if i != j][:k]
    return [(words[i], float(dist[i])) for i in order]
