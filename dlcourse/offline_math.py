"""A Sphinx extension that serves MathJax from the built site instead of a CDN, so that the book's
equations render offline (a classroom behind a firewall, a laptop on a train).

MathJax 3 (Apache-2.0) comes from a Python package (``django-static-mathjax``, which ships MathJax's
own release files; nothing of Django is used), installed with the book's extra. At the start of a
build its ``es5`` bundle is copied next to the build and added to the static files, and
``mathjax_path`` points at it. ``_config.yml`` lists this module under ``sphinx.extra_extensions``.
"""
from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

ENTRY = "tex-mml-chtml.js"  # TeX and MathML input, HTML+CSS output: Sphinx's default bundle


def _not_needed(folder: str, names: list[str]) -> set[str]:
    """Skip what the bundle never loads here, 24 MB down to about 4: the other bundles, SVG output, and
    the speech-rule engine (loaded only for screen-reader speech, which needs the network's sre data)."""
    top = Path(folder).name == "es5"
    skip = {n for n in names if top and n.endswith(".js") and n != ENTRY}
    skip |= {n for n in names if (top and n == "sre") or (Path(folder).name == "output" and n == "svg")}
    return skip


def mathjax_bundle() -> Path:
    """The folder of MathJax's ``es5`` bundle in the installed package; a clear error without it."""
    try:
        root = Path(str(resources.files("mathjax"))) / "static" / "mathjax" / "es5"
    except ModuleNotFoundError as err:
        raise RuntimeError("MathJax for offline pages is missing: pip install -e \".[book]\" "
                           "(it installs django-static-mathjax, MathJax 3's release files)") from err
    if not (root / ENTRY).is_file():
        raise RuntimeError(f"no {ENTRY} under {root}: reinstall django-static-mathjax")
    return root


def _use_local_mathjax(app) -> None:
    if app.builder.format != "html":
        return
    staged = Path(app.outdir).parent / ".mathjax-static"  # beside the output, copied into _static/ by Sphinx
    target = staged / "mathjax"
    if not (target / ENTRY).is_file():
        shutil.rmtree(staged, ignore_errors=True)
        shutil.copytree(mathjax_bundle(), target, ignore=_not_needed)
    app.config.html_static_path = [*app.config.html_static_path, str(staged)]
    app.config.mathjax_path = f"mathjax/{ENTRY}"  # relative: resolved against each page's _static/


def setup(app) -> dict:
    app.connect("builder-inited", _use_local_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
