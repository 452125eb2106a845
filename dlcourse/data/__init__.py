"""Datasets: offline-first, verified by checksum, returned as tensors (and strings for text).

>>> from dlcourse import data
>>> train = data.load("fashion-mnist", "train")     # TensorData: x (60000, 1, 28, 28), y (60000,)
>>> train, val = data.train_val_split(train, 0.1)
>>> text = data.load("shakespeare", "train")        # str, about 5 M characters
>>> reviews = data.load("movie-reviews", "test")     # TextData: texts, labels (0 negative, 1 positive)
>>> sun = data.load("sunspots", "all")               # TimeSeries: times (years), values

From a shell: ``python -m dlcourse.data list`` and ``python -m dlcourse.data download NAME``.
"""
from . import fashion_mnist, movie_reviews, series, shakespeare  # noqa: F401  (each registers its datasets)
from .canvas import place
from .fetch import DataNotFoundError, data_dir
from .photos import PHOTOS, photo
from .registry import REGISTRY, Dataset, get, load
from .series import TimeSeries
from .tensors import TensorData, train_val_split
from .movie_reviews import TextData
from .toy import adding_problem, bos_id, gaussian_mixture, mixture_centres, sequence_task, spirals

__all__ = ["DataNotFoundError", "Dataset", "PHOTOS", "REGISTRY", "TensorData", "TextData", "TimeSeries", "adding_problem",
           "bos_id", "data_dir", "gaussian_mixture", "get", "load", "mixture_centres", "photo", "place", "sequence_task", "spirals", "train_val_split"]
