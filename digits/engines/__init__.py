"""Engines that run a model file: `litert` (Keras models from their `.tflite` export, what the API
serves), `sklearn` (joblib pipelines) and `tensorflow` (training, export, and the fallback that
converts an `.h5` without its export). Only `tensorflow` imports TensorFlow."""
