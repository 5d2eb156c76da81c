"""mpcore: three classic neural networks written by hand in numpy, for teaching.

Subpackages and modules
-----------------------
``mpcore.data``        course-file loaders, bundled default data, patch preprocessing
``mpcore.layers``      forward/backward pairs: affine, sigmoid, ReLU, softmax cross-entropy, embedding
``mpcore.recurrent``   RNN, LSTM and GRU cells: step and sequence forward/backward (BPTT)
``mpcore.models``      the three models: ``autoencoder``, ``language_model``, ``sequence``
``mpcore.train``       SGD with momentum, early stopping, the shared training loop
``mpcore.metrics``     accuracy, confusion matrix, cross-entropy, perplexity, top-k
``mpcore.gradcheck``   central finite differences
"""

__version__ = "0.1.0"
