"""The useful-alt rule of the accessibility audit (tests/a11y.py) on the cases it must tell apart."""

import pytest
from a11y import is_useful_alt


@pytest.mark.parametrize("alt", [None, "", "   ", "figure", "Image", "a1b2c3d4e5f6a7b8c9d0.png",
                                 "sequence_lr_selection.png", "3f9a0c1d2e4b5a6978c0d1e2f3a4b5c6", "plot"])
def test_missing_file_names_hashes_and_generic_words_are_not_alt_text(alt):
    assert not is_useful_alt(alt)


@pytest.mark.parametrize("alt", ["8 × 8 grid of the 64 hidden units' input weights; mean orientation selectivity 0.73",
                                 "mpcore logo"])
def test_a_description_is_alt_text(alt):
    assert is_useful_alt(alt)
