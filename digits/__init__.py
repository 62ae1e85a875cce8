"""Digit recognition library: MNIST data, the shared preprocessing, the model zoo and its runtimes.

Plain Python (no Django) so that training, notebooks and both services share one implementation.
TensorFlow is imported lazily, only by the modules that need it.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter hides real output
