"""Real photographs for filter demonstrations, from the images scikit-image ships with its package."""
from __future__ import annotations

import torch
from torch import Tensor

# images bundled inside the scikit-image wheel (others are downloaded on first use, so not offline)
PHOTOS = ("camera", "astronaut", "coffee", "brick", "grass", "coins", "moon", "text")


def photo(name: str = "camera", grey: bool = True) -> Tensor:
    """A photo as a float tensor (C, H, W) in [0, 1]; ``grey`` turns colour photos to one channel.

    Args:
        name: one of :data:`PHOTOS`, e.g. ``"camera"`` (the cameraman, 512×512 grey).
        grey: return one channel (luminance, ITU-R BT.601 weights) instead of RGB.
    """
    if name not in PHOTOS:
        raise ValueError(f"unknown photo {name!r}; choose one of {', '.join(PHOTOS)}")
    try:
        import skimage.data
    except ImportError as err:
        raise ImportError("photos come from scikit-image: run `pip install scikit-image`") from err
    image = torch.from_numpy(getattr(skimage.data, name)().copy()).float() / 255.0
    if image.dim() == 2:
        return image.unsqueeze(0)  # (1, H, W)
    image = image.permute(2, 0, 1)[:3]  # (3, H, W), any alpha channel dropped
    if grey:
        weights = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)
        return (image * weights).sum(dim=0, keepdim=True)  # (1, H, W)
    return image
