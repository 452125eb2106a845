"""Datasets: offline-first, verified by checksum, returned as tensors.

>>> from dlcourse import data
>>> train = data.load("fashion-mnist", "train")     # TensorData: x (60000, 1, 28, 28), y (60000,)
>>> train, val = data.train_val_split(train, 0.1)

From a shell: ``python -m dlcourse.data list`` and ``python -m dlcourse.data download NAME``.
"""
from . import fashion_mnist  # noqa: F401  (registers the dataset)
from .fetch import DataNotFoundError, data_dir
from .photos import PHOTOS, photo
from .registry import REGISTRY, Dataset, get, load
from .tensors import TensorData, train_val_split
from .toy import spirals

__all__ = ["DataNotFoundError", "Dataset", "PHOTOS", "REGISTRY", "TensorData", "data_dir", "get", "load", "photo",
           "spirals", "train_val_split"]
