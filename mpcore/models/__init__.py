"""The three models: ``autoencoder``, ``language_model`` and ``sequence`` (RNN/LSTM/GRU)."""

from . import autoencoder, language_model, sequence

__all__ = ["autoencoder", "language_model", "sequence"]
