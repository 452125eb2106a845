"""Movie-review sentences rated by people for the VADER paper (Hutto & Gilbert, 2014), for sentiment
classification (chapters 4 and 7). They come from a pinned source distribution on the package index pip
is configured to use: the file itself, checked against its sha256 before it is opened, never built."""
from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

from .fetch import DataFile, Package, Sources
from .registry import Dataset, register

@dataclass(frozen=True)
class TextData:
    """Labelled texts: ``texts[i]`` has class ``labels[i]``; ``scores`` keeps the raw rating."""

    texts: tuple[str, ...]
    labels: Tensor
    classes: tuple[str, ...]
    scores: Tensor

    def __post_init__(self) -> None:
        if not len(self.texts) == len(self.labels) == len(self.scores):
            raise ValueError(f"texts, labels and scores differ in length: "
                             f"{len(self.texts)}, {len(self.labels)}, {len(self.scores)}")

    def __len__(self) -> int:
        return len(self.texts)


# The archive of every sentence set rated for the VADER paper (movie reviews, tweets, product
# reviews, news): a later dataset that uses another set reads another member of this same file.
# Only the source distribution has it (the wheel lacks additional_resources/).
VADER_FILE = DataFile(
    "hutto_ICWSM_2014.tar.gz",
    "3c42a3c582708e3f895221d50d261f1aa36d4f7e6c20e63acc082c6bb1f6c28b",  # of the gunzipped tar
    package=Package("vaderSentiment", "vaderSentiment-3.3.2.tar.gz",
                    "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9",  # as published
                    member="vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"),
)
MOVIE_FILE = VADER_FILE
MOVIE_SPLIT_OF = {0: "test", 1: "val"}  # sentence id mod 10; every other remainder: train


def _rated_sentences(archive: tarfile.TarFile, name: str) -> list[tuple[str, str, str]]:
    """``(sentence id, mean rating, text)`` of every sentence in the archive's ``<name>_GroundTruth.txt``
    (tab-separated; blank lines skipped)."""
    raw = archive.extractfile(f"hutto_ICWSM_2014/{name}_GroundTruth.txt").read()
    rows = []
    for line in raw.decode("utf-8", "replace").splitlines():
        parts = line.split("\t", 2)
        if len(parts) == 3 and parts[2].strip():
            rows.append((parts[0], parts[1], parts[2].strip()))
    return rows


def _read_movie_reviews(read: Callable[[str], bytes], split: str) -> TextData:
    with tarfile.open(fileobj=io.BytesIO(read(MOVIE_FILE.name))) as archive:
        rows = _rated_sentences(archive, "movieReviewSnippets")
    texts, scores = [], []
    for sentence_id, rating, text in rows:
        if float(rating) == 0 or MOVIE_SPLIT_OF.get(int(sentence_id) % 10, "train") != split:
            continue  # neutral sentences (0.3%) have no polarity
        texts.append(text)
        scores.append(float(rating))
    scores_t = torch.tensor(scores)
    return TextData(tuple(texts), (scores_t > 0).long(), ("negative", "positive"), scores_t)


MOVIE_REVIEWS = register(Dataset(
    name="movie-reviews",
    title="Rated movie-review sentences (VADER)",
    description="10,568 sentences from movie reviews with a mean human rating in [−4, 4], labelled "
                "positive or negative (neutral ones dropped); test: id ≡ 0 mod 10, val: ≡ 1, train: the rest.",
    license="MIT (the vaderSentiment package); sentences from the reviews of Pang & Lee (2004)",
    citation="hutto2014vader",
    homepage="https://github.com/cjhutto/vaderSentiment",
    splits=("train", "val", "test"),
    sources=Sources(files=(MOVIE_FILE,)),
    reader=_read_movie_reviews,
))


VADER_OTHER_SETS = ("tweets", "amazonReviewSnippets", "nytEditorialSnippets")


def vader_sentences(sets: tuple[str, ...] = VADER_OTHER_SETS, *, download: bool = True) -> tuple[str, ...]:
    """The unlabelled sentences of the VADER archive's other rated sets (tweets: 4,200; product-review
    snippets: 3,708; New York Times editorial snippets: 5,190), from the same file as ``movie-reviews``:
    in-domain-ish text without labels for chapter 8's masked-language-model pre-training."""
    from .registry import get

    path = get("movie-reviews").fetch(download=download, progress=False)[MOVIE_FILE.name]
    with tarfile.open(path) as archive:
        return tuple(text for name in sets for _, _, text in _rated_sentences(archive, name))
