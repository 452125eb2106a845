"""The registry of datasets the course uses, each with its license, citation and sources."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .fetch import Sources, locate, read_file


@dataclass(frozen=True)
class Dataset:
    """A registered dataset.

    Args:
        name: the registry key, e.g. ``"fashion-mnist"``.
        title: the name people know it by.
        description: one sentence: what it contains.
        license: its license, as its authors state it.
        citation: the ``references.bib`` key of the paper to cite.
        homepage: where it comes from.
        splits: the splits ``load`` accepts.
        sources: where its files are found.
        reader: turns a split into data (``TensorData`` for images, a string for a corpus,
            ``TextData`` for labelled sentences, ``TimeSeries``), given a function that returns the
            verified content of a file by name (so only the files a split needs are read).
    """

    name: str
    title: str
    description: str
    license: str
    citation: str
    homepage: str
    splits: tuple[str, ...]
    sources: Sources
    reader: Callable[[Callable[[str], bytes], str], Any]

    def status(self) -> dict[str, Path | None]:
        """For each file, where a verified local copy is (None when it would need a download)."""
        return {f.name: locate(self.name, self.sources, f) for f in self.sources.files}

    def fetch(self, *, download: bool = True, progress: bool = True) -> dict[str, Path]:
        """Make sure every file is available locally (downloading what is missing)."""
        return {f.name: read_file(self.name, self.sources, f, download=download, progress=progress)[1]
                for f in self.sources.files}

    def load(self, split: str, *, download: bool = True, progress: bool = True) -> Any:
        """The verified data of one split."""
        if split not in self.splits:
            raise ValueError(f"{self.name} has splits {self.splits}, not {split!r}")
        by_name = {f.name: f for f in self.sources.files}

        def read(file_name: str) -> bytes:
            return read_file(self.name, self.sources, by_name[file_name], download=download, progress=progress)[0]

        return self.reader(read, split)


REGISTRY: dict[str, Dataset] = {}


def register(dataset: Dataset) -> Dataset:
    """Add a dataset to the registry (its name must be new)."""
    if dataset.name in REGISTRY:
        raise ValueError(f"dataset {dataset.name!r} is already registered")
    REGISTRY[dataset.name] = dataset
    return dataset


def get(name: str) -> Dataset:
    """The registered dataset called ``name``; a clear error, with suggestions, otherwise."""
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a string, got {type(name).__name__}")
    key = name.strip().lower().replace("_", "-")
    if key in REGISTRY:
        return REGISTRY[key]
    close = difflib.get_close_matches(key, REGISTRY, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown dataset {name!r}.{hint} Known datasets: {', '.join(sorted(REGISTRY))}")


def load(name: str, split: str = "train", *, download: bool = True, progress: bool = True) -> Any:
    """Load a registered dataset's split, e.g. ``load("fashion-mnist", "test")``.

    Files are looked for offline first (data directory, system copies), downloaded only when
    missing, and always verified by checksum.
    """
    return get(name).load(split, download=download, progress=progress)
