import numpy as np
import pytest


@pytest.fixture
def rng():
    """A fresh seeded generator per test."""
    return np.random.default_rng(0)
