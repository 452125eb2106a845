"""Trained models kept in the data directory with their training recipes, retrained when absent.

Chapter 2 trains its small ResNet by the recipe here and stores it; no later chapter depends on it
(chapter 3 distils from a CNN it trains itself), but anyone who wants the model can load or retrain it.
``"fashion-cnn"`` is chapter 1's small CNN with chapter 1's optimiser and schedule for 2 epochs instead of 5
(test accuracy 0.906 against 0.920, in 40% of the time): chapters 9 and 10 use it as the *judge* of generated
Fashion-MNIST images (:mod:`dlcourse.judge`), and a reader who opens either chapter alone trains it first.

>>> from dlcourse import zoo
>>> resnet = zoo.load_or_train("small-resnet-fashion")   # ~1 min on a laptop CPU the first time
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from . import data, metrics, train
from .data.fetch import data_dir
from .models.cnn import CNNConfig, SmallCNN
from .models.resnet import SMALL_RESNET, ResNet
from .utils import get_device, load_checkpoint, save_checkpoint, seed_everything


@dataclass(frozen=True)
class Recipe:
    """How a zoo model is built and trained (the same recipe the chapter that introduces it uses)."""

    build: Callable[[], nn.Module]
    dataset: str
    fit_options: dict


RECIPES = {
    "small-resnet-fashion": Recipe(
        build=lambda: ResNet(SMALL_RESNET), dataset="fashion-mnist",
        fit_options=dict(epochs=7, batch_size=128, lr=4e-3, weight_decay=5e-4, schedule="onecycle",
                         channels_last=True)),
    "fashion-cnn": Recipe(  # chapter 1's small CNN and training options, 2 epochs (the judge of chapters 9-10)
        build=lambda: SmallCNN(CNNConfig()), dataset="fashion-mnist",
        fit_options=dict(epochs=2, batch_size=128, lr=3e-3, optimizer="adamw", schedule="onecycle")),
}


def recipe(name: str) -> Recipe:
    """The recipe of a zoo model; a clear error for unknown names."""
    if name not in RECIPES:
        raise ValueError(f"unknown zoo model {name!r}; known: {', '.join(RECIPES)}")
    return RECIPES[name]


def checkpoint_path(name: str) -> Path:
    """Where the zoo keeps a model's weights."""
    return data_dir() / "models" / f"{name}.pt"


def train_model(name: str, device: torch.device | str | None = None, progress: bool = True,
                seed: int = 0) -> tuple[nn.Module, train.History, float]:
    """Train a zoo model by its recipe on the standard split; return it, its history and test accuracy."""
    how = recipe(name)
    full = data.load(how.dataset, "train")
    test = data.load(how.dataset, "test")
    train_set, val_set = data.train_val_split(full, val_fraction=0.1, seed=seed)
    seed_everything(seed)
    model = how.build()
    history = train.fit(model, train_set, val_data=val_set, metrics={"acc": metrics.accuracy}, device=device,
                        progress=progress, desc=name, seed=seed, **how.fit_options)
    device = next(model.parameters()).device
    test_acc = metrics.accuracy(model.predict(test.x.to(device)).cpu(), test.y)
    return model, history, test_acc


def save(name: str, model: nn.Module, **extra: float | int | str) -> Path:
    """Store a trained zoo model (with plain values such as its test accuracy)."""
    recipe(name)
    return save_checkpoint(model, checkpoint_path(name), **extra)


def load_or_train(name: str, device: torch.device | str | None = None, progress: bool = True) -> nn.Module:
    """The trained model: from the cache when a valid checkpoint is there, else trained and cached."""
    model = recipe(name).build()
    try:
        load_checkpoint(model, checkpoint_path(name))
    except (FileNotFoundError, ValueError):
        model, _, test_acc = train_model(name, device=device, progress=progress)
        save(name, model, test_acc=test_acc)
    return model.to(device if device is not None else get_device()).eval()
