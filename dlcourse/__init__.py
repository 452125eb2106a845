"""dlcourse: the small, tested PyTorch package behind the deep-learning course.

Modules: ``data`` (datasets), ``models``, ``train`` (the training loop), ``metrics``, ``plot``,
``checks`` (exercise auto-checks), ``utils`` (device, seeding, summaries), ``bench`` and ``book``
(course tooling).

Dimension letters used in shape comments throughout (one meaning each):

- B batch, N examples in a dataset, K classes, V vocabulary size;
- images: C channels, H height, W width;
- sequences: T time steps (the queries' length), S the source's length (keys and values of
  cross-attention), D input features per step, U hidden units of a recurrent layer (PyTorch's
  docs write H; here H is height), G gate blocks stacked in a recurrent weight (4 for the LSTM),
  L stacked layers;
- Transformers: C the model width (embedding size), h heads, C/h the width of a head.
"""
from .utils import (Timer, chapter_seed, count_parameters, evaluating, get_device, glue, load_checkpoint, save_checkpoint,
                    seed_everything, summary)

__version__ = "0.1.0"
__all__ = ["Timer", "chapter_seed", "count_parameters", "evaluating", "get_device", "glue", "load_checkpoint", "save_checkpoint", "seed_everything",
           "summary", "__version__"]
