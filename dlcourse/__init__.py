"""dlcourse: the small, tested PyTorch package behind the deep-learning course.

Modules: ``data`` (datasets), ``models``, ``train`` (the training loop), ``metrics``, ``plot``,
``checks`` (exercise auto-checks), ``utils`` (device, seeding, summaries), ``bench`` and ``book``
(course tooling).

Dimension letters used in shape comments throughout: B batch, C channels (or embedding size),
H height, W width, T time steps, K classes, N examples in a dataset, D input features.
"""
from .utils import (Timer, chapter_seed, count_parameters, evaluating, get_device, glue, load_checkpoint, save_checkpoint,
                    seed_everything, summary)

__version__ = "0.1.0"
__all__ = ["Timer", "chapter_seed", "count_parameters", "evaluating", "get_device", "glue", "load_checkpoint", "save_checkpoint", "seed_everything",
           "summary", "__version__"]
