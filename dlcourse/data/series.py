"""Real time series: the yearly sunspot numbers that statsmodels ships (1700–2008)."""
from __future__ import annotations

import csv
import importlib.util
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import Tensor

from .fetch import DataFile, Package, Sources
from .registry import Dataset, register


@dataclass(frozen=True)
class TimeSeries:
    """One series: ``values[i]`` observed at ``times[i]``."""

    times: Tensor
    values: Tensor
    name: str
    unit: str

    def __post_init__(self) -> None:
        if self.times.shape != self.values.shape or self.values.dim() != 1:
            raise ValueError(f"times and values must be 1-D and equally long, got {tuple(self.times.shape)} "
                             f"and {tuple(self.values.shape)}")

    def __len__(self) -> int:
        return len(self.values)


def _installed_statsmodels_dir(dataset: str) -> tuple[str, ...]:
    """The folder of statsmodels' copy of a dataset when statsmodels is installed (found, not imported)."""
    spec = importlib.util.find_spec("statsmodels")
    if spec is None or not spec.submodule_search_locations:
        return ()
    return tuple(str(Path(p) / "datasets" / dataset) for p in spec.submodule_search_locations)


SUNSPOTS_FILE = DataFile(
    "sunspots.csv",
    "f67889b1d9002cd5227f0e0ef54e35b419cdd85a31279adef6f73fb41e5c0a9b",
    # one fixed wheel, whatever this machine is: the file inside is the same on every platform
    package=Package("statsmodels", "statsmodels-0.14.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                    "e332c2d9b806083d1797231280602340c5c913f90d4caa0213a6a54679ce9331",  # as published
                    member="statsmodels/datasets/sunspots/sunspots.csv"),
)


def _read_sunspots(read: Callable[[str], bytes], split: str) -> TimeSeries:
    rows = list(csv.DictReader(io.StringIO(read(SUNSPOTS_FILE.name).decode("ascii"))))
    times = torch.tensor([float(r["YEAR"]) for r in rows])
    values = torch.tensor([float(r["SUNACTIVITY"]) for r in rows])
    return TimeSeries(times, values, "yearly sunspot number", "sunspots")


SUNSPOTS = register(Dataset(
    name="sunspots",
    title="Yearly sunspot numbers, 1700–2008",
    description="309 yearly values of the (version 1) sunspot number, with its ~11-year cycle; "
                "one split, 'all': hold out the tail yourself.",
    license="BSD-3-Clause (statsmodels); the data are public domain (SIDC / NOAA)",
    citation="statsmodels2010",
    homepage="https://www.statsmodels.org/stable/datasets/generated/sunspots.html",
    splits=("all",),
    sources=Sources(files=(SUNSPOTS_FILE,), system_dirs=_installed_statsmodels_dir("sunspots"),
                    fix_commands=("pip install statsmodels   # its bundled copy is then used in place",)),
    reader=_read_sunspots,
))
