"""Fashion-MNIST: 70,000 grey 28×28 photos of clothing in 10 classes (Xiao et al., 2017)."""
from __future__ import annotations

import struct
from typing import Callable

import numpy as np
import torch

from .fetch import DataFile, Sources
from .registry import Dataset, register
from .tensors import TensorData

CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

_MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/")


def _file(name: str, sha256: str) -> DataFile:
    return DataFile(name, sha256, tuple(m + name for m in _MIRRORS))


# sha256 of the gunzipped content, identical for upstream's files and Debian's repackaged ones
FILES = (
    _file("train-images-idx3-ubyte.gz", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    _file("train-labels-idx1-ubyte.gz", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    _file("t10k-images-idx3-ubyte.gz", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    _file("t10k-labels-idx1-ubyte.gz", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
)


def parse_idx(content: bytes) -> np.ndarray:
    """Decode an IDX file (the MNIST format: magic, dimension sizes, then unsigned bytes)."""
    if len(content) < 4:
        raise ValueError("not an IDX file: too short")
    zero, dtype_code, ndim = struct.unpack(">HBB", content[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"not an unsigned-byte IDX file (magic {content[:4].hex()})")
    shape = struct.unpack(f">{ndim}I", content[4:4 + 4 * ndim])
    body = np.frombuffer(content, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise ValueError(f"IDX body has {body.size} bytes, header promises shape {shape}")
    return body.reshape(shape)


def _read(read: Callable[[str], bytes], split: str) -> TensorData:
    prefix = "train" if split == "train" else "t10k"
    images = parse_idx(read(f"{prefix}-images-idx3-ubyte.gz"))
    labels = parse_idx(read(f"{prefix}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(images.copy()).unsqueeze(1).float().div_(255.0)  # (N, 1, 28, 28) in [0, 1]
    y = torch.from_numpy(labels.astype(np.int64))  # (N,)
    return TensorData(x, y, CLASSES)


FASHION_MNIST = register(Dataset(
    name="fashion-mnist",
    title="Fashion-MNIST",
    description="70,000 grey 28×28 images of clothing in 10 classes: 60,000 to train, 10,000 to test.",
    license="MIT",
    citation="xiao2017fashion",
    homepage="https://github.com/zalandoresearch/fashion-mnist",
    splits=("train", "test"),
    sources=Sources(
        files=FILES,
        system_dirs=("/usr/share/datasets/fashion-mnist",),
        fix_commands=("sudo apt-get install dataset-fashion-mnist   # Debian/Ubuntu, works offline",),
    ),
    reader=_read,
))
