"""The course site's pages, described once: what each page holds, what it teaches, what it
assumes, how long it takes and how to open it live. The site's ``_toc.yml``, its index page and
the box at the top of every page are generated from :data:`PAGES`; nothing is hand-copied."""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The site's title (the left navigation bar and every page's ``<title>``).
TITLE = "mpcore: neural networks by hand, in numpy"

#: The index page's opening: what the course is.
INTRO = (
    "Three classic neural networks, written by hand in numpy — forward and backward passes, "
    "no autograd — each taught by a narrative notebook with exercises: a sparse autoencoder that "
    "learns edge detectors from natural-image patches, a neural language model that learns word "
    "embeddings, and recurrent classifiers (vanilla RNN, LSTM, GRU) of smartwatch motion. Every "
    "figure comes from runs that ship with the `mpcore` package: the notebooks run without "
    "retraining the study, and every number on these pages can be checked.")

#: Where a Binder session starts: the BinderHub that builds the repository.
BINDERHUB = "https://mybinder.org"


@dataclass(frozen=True)
class Page:
    """One page of the site, made from ``notebooks/<notebook>``."""

    notebook: str  #: file name in the repository's ``notebooks/`` folder
    summary: str  #: what the page holds, one sentence (the index page's list)
    objectives: tuple[str, ...] = ()  #: "After this page you can ..." (walkthroughs)
    prerequisites: tuple[str, ...] = ()  #: what the reader should know already
    read_minutes: int = 0  #: reading the page and its figures
    work_minutes: int = 0  #: with the exercises and questions done in the notebook
    interface: str = "lab"  #: how Binder opens it: "lab" (JupyterLab) or "voila" (the dashboard)

    @property
    def name(self) -> str:
        """The page's document name: its notebook's name without ``.ipynb`` (``<name>.html``)."""
        return self.notebook.removesuffix(".ipynb")

    @property
    def is_walkthrough(self) -> bool:
        return self.interface == "lab"

    def expected_time(self, exercises: str = "") -> str:
        """The expected time, in words; ``exercises`` names the notebook's exercises (e.g. "5 exercises (11
        points) and 2 questions", counted from the notebook by the site's build)."""
        if self.work_minutes:
            work = f"the {exercises}" if exercises else "the exercises"
            return (f"about {_duration(self.read_minutes)} to read, about {_duration(self.work_minutes)} with "
                    f"{work}; the notebook itself runs on the shipped results, training nothing for long")
        return f"about {_duration(self.read_minutes)}"

    def binder_url(self, repository: str, branch: str = "HEAD") -> str:
        """The Binder link that opens this page live: the notebook in JupyterLab, or the dashboard in Voilà."""
        path = f"notebooks/{self.notebook}"
        urlpath = f"lab/tree/{path}" if self.interface == "lab" else f"voila/render/{path}"
        return f"{BINDERHUB}/v2/gh/{repository}/{branch}?urlpath={urlpath}"


def _duration(minutes: int) -> str:
    if minutes < 90:
        return f"{minutes} minutes"
    hours = minutes / 60
    return f"{hours:g} hours"


PAGES: tuple[Page, ...] = (
    Page(
        "01_sparse_autoencoder.ipynb",
        "A sparse autoencoder on 16 × 16 natural-image patches: the course's preprocessing, the cost with weight "
        "decay and a KL sparsity penalty, its gradient derived and checked, training to convergence, the "
        "learned features as images, and what the hidden size, the weight decay, whitening and the sparsity "
        "target change.",
        objectives=(
            "preprocess natural-image patches with the course's recipe, and say why its inputs average 0.5, not 0;",
            "derive the sparse autoencoder's cost — reconstruction error, weight decay λ and the KL sparsity "
            "penalty β·KL(ρ ‖ ρ̂) — and its gradient, and check a gradient with central differences;",
            "train the network to convergence with L-BFGS, next to the course's mini-batch gradient descent, and "
            "read its hidden units' weights as images;",
            "explain how the hidden size L_hid, the weight decay λ, ZCA whitening and the sparsity weight β and "
            "target ρ change the learned features, and why a cost with two minima makes the start matter.",
        ),
        prerequisites=(
            "numpy arrays, broadcasting and matrix products;",
            "the chain rule and derivatives of vector functions (the backward pass of a one-hidden-layer network "
            "with sigmoid units);",
            "covariance and eigenvectors, for the whitening of section 6.",
        ),
        read_minutes=75, work_minutes=210,
    ),
    Page(
        "02_word_embeddings.ipynb",
        "A neural language model that predicts the fourth word of a 4-gram from the first three through one "
        "shared embedding matrix: its shapes, the backward pass next to the code, three model sizes, what it "
        "predicts and which words its embeddings put together.",
        objectives=(
            "build a language model that predicts the next word from three context words through one shared "
            "embedding matrix, and give the shape of every array in it;",
            "write its backward pass: softmax cross-entropy, and an embedding gradient that adds up every "
            "occurrence of a repeated word;",
            "train it with SGD with momentum and compare model sizes by cross-entropy on held-out 4-grams;",
            "read what the model predicts (the ten most likely next words) and which words its embeddings put "
            "close together.",
        ),
        prerequisites=(
            "numpy indexing with integer arrays;",
            "softmax, cross-entropy and backpropagation through a hidden layer (Part 1 covers the last);",
            "no linguistics: the data are 4-grams of English words and punctuation.",
        ),
        read_minutes=45, work_minutes=120,
    ),
    Page(
        "03_sequence_classification.ipynb",
        "Vanilla RNN, LSTM and GRU classifiers of smartwatch accelerometer windows, trained with full "
        "backpropagation through time: the three cells, the learning rate chosen on validation data, test "
        "accuracy over seeds, where the mistakes are, and the gradient that reaches each time step.",
        objectives=(
            "write the backward step of the vanilla RNN, LSTM and GRU cells and backpropagation through time over "
            "a 150-step window;",
            "sanity-check a classifier before a long run (an untrained loss near ln K; memorising a tiny training "
            "set), and choose the learning rate on validation data, never on the test set;",
            "compare the three cells over several seeds, and read their training curves and confusion matrices;",
            "explain why the vanilla RNN does worse from the gradient that reaches each time step, and what the "
            "LSTM's forget gate does to it.",
        ),
        prerequisites=(
            "backpropagation through a layer by hand (Parts 1 and 2);",
            "recurrent networks at the level of an introductory lecture: hidden state, gates;",
            "numpy arrays of sequences, (N, T, C).",
        ),
        read_minutes=75, work_minutes=210,
    ),
    Page(
        "04_explorers.ipynb",
        "The four explorers of the walkthroughs on one page — the autoencoder's features over the L_hid × λ and "
        "β × ρ grids, the language model's ten most likely next words, and the sequence classifiers' curves and "
        "confusion matrices — with the figure of every shipped setting.",
        read_minutes=20, interface="voila",
    ),
)

#: The walkthrough notebooks, in order.
WALKTHROUGHS = tuple(p for p in PAGES if p.is_walkthrough)

_GITHUB = re.compile(r"^(?:https?://github\.com/|git@github\.com:|ssh://git@github\.com/)?"
                     r"(?P<owner>[A-Za-z0-9_.-]+)/(?P<name>[A-Za-z0-9_.-]+?)(?:\.git)?/?$")


def github_repository(text: str) -> str | None:
    """``OWNER/NAME`` from ``OWNER/NAME`` or a GitHub URL (https or ssh), else None."""
    match = _GITHUB.match(text.strip())
    if match is None or match["owner"] in {".", ".."} or match["name"] in {".", ".."}:
        return None
    return f"{match['owner']}/{match['name']}"
