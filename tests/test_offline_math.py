"""The site's equations render without the internet: MathJax is served from the build
(dlcourse.offline_math), checked in headless Chromium with the network cut off (dlcourse.browser)."""
import struct
import zlib

import pytest

from dlcourse import browser

sphinx = pytest.importorskip("sphinx.cmd.build", reason="the book's tools are not installed")

PAGE = """Equations
=========

Inline :math:`a^2 + b^2 = c^2` and displayed:

.. math:: e^{i\\pi} + 1 = 0

.. image:: red.png
"""


def _png() -> bytes:
    """A 4×4 red PNG: a figure for the page."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def build(tmp_path, offline: bool):
    src = tmp_path / ("offline" if offline else "cdn")
    src.mkdir()
    extensions = ["sphinx.ext.mathjax"] + (["dlcourse.offline_math"] if offline else [])
    (src / "conf.py").write_text(f"extensions = {extensions!r}\nhtml_theme = 'alabaster'\n")
    (src / "index.rst").write_text(PAGE)
    (src / "red.png").write_bytes(_png())
    assert sphinx.build_main(["-q", "-b", "html", str(src), str(src / "_build")]) == 0
    return src / "_build" / "index.html"


def test_mathjax_is_copied_into_the_build_and_linked_locally(tmp_path):
    page = build(tmp_path, offline=True)
    static = page.parent / "_static" / "mathjax"
    assert (static / "tex-mml-chtml.js").is_file() and (static / "output" / "chtml" / "fonts").is_dir()
    assert 'src="_static/mathjax/tex-mml-chtml.js' in page.read_text()
    assert sum(f.stat().st_size for f in static.rglob("*") if f.is_file()) < 8e6  # not the whole 24 MB release
    assert "cdn.jsdelivr.net" in build(tmp_path, offline=False).read_text()  # Sphinx's default, for contrast


def test_equations_render_offline_in_a_real_browser(tmp_path):
    try:
        browser.find_browser()
    except FileNotFoundError as err:
        pytest.skip(str(err))
    pytest.importorskip("websocket", reason="websocket-client is not installed")
    shot = tmp_path / "page.png"
    report = browser.check_page(build(tmp_path, offline=True), screenshot=shot)
    assert report.ok and report.rendered == report.equations == 2 and report.mathjax.startswith("3.")
    assert shot.read_bytes().startswith(b"\x89PNG")
    cdn = browser.check_page(build(tmp_path, offline=False))  # the same page with MathJax from a CDN, offline
    assert cdn.equations == 2 and cdn.rendered == 0 and not cdn.ok
