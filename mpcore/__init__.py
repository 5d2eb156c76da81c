"""mpcore: three classic neural networks written by hand in numpy, for teaching.

Subpackages and modules
-----------------------
``mpcore.data``        course-file loaders, bundled default data, patch preprocessing
``mpcore.layers``      forward/backward pairs: affine, sigmoid, ReLU, softmax cross-entropy, embedding
``mpcore.cells``       the recurrent cells (RNN, LSTM, GRU, MGU), one module each, and their table
``mpcore.recurrent``   a recurrent layer over whole sequences: forward and BPTT shared by all cells
``mpcore.models``      the three models: ``autoencoder``, ``language_model``, ``sequence``
``mpcore.train``       SGD with momentum, early stopping, the shared training loop
``mpcore.metrics``     accuracy, confusion matrix, cross-entropy, perplexity, top-k
``mpcore.gradcheck``   central finite differences
``mpcore.fpu``         flush-to-zero for float32 recurrent training
``mpcore.experiments`` experiment configs -> results (the only place that trains)
``mpcore.store``       results on disk, keyed by config + dataset; shipped results in ``mpcore/results``
``mpcore.plots``       figures from results; ``mpcore.widgets`` ipywidgets explorers for the notebooks
``mpcore.cli``         ``python -m mpcore reproduce``
"""

__version__ = "0.1.0"
