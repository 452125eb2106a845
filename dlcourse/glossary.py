"""The English–中文 glossary: ``appendix/glossary.yml`` rendered to ``appendix/glossary.md``, and checked
against the chapters.

    python -m dlcourse.glossary            # rewrite appendix/glossary.md from the YAML
    python -m dlcourse.glossary --check    # list what is wrong (a term missing, a broken link, ...)

Each entry names the term, its Chinese, a one-line definition and the chapter section (a ``##`` heading)
that introduces it. The checks (``problems``) are what ``tests/test_appendix.py`` runs:

- every **bold** phrase in a chapter's prose that is a term (not a sentence, not a glued number) is in the
  glossary, as a term or one of its ``aka`` forms, or listed under ``not_terms``;
- every entry's term (or an ``aka``) occurs in the section it links to, and that section exists;
- ``src`` lists exactly the source articles whose text contains the Chinese term (when they are at hand).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
import yaml

from .book import chapter_notebooks, find_root

DATA = Path("appendix") / "glossary.yml"
PAGE = Path("appendix") / "glossary.md"
SOURCES = {1: "000_da4cf4aca7fe2c2a.txt", 2: "001_9f6f59d835338050.txt"}  # in ../shared/sources/


def load(root: Path) -> dict:
    """The glossary data: ``{"terms": [...], "not_terms": [...]}``."""
    return yaml.safe_load((root / DATA).read_text(encoding="utf-8"))


def chapter_prose(path: Path) -> str:
    """A chapter notebook's markdown cells, joined."""
    nb = nbformat.read(path, as_version=4)
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def sections(prose: str) -> dict[str, str]:
    """The text of each ``##`` section, heading and subsections included, keyed by heading text; the part
    before the first ``##`` (title, objectives) is keyed by the ``#`` title."""
    out: dict[str, str] = {}
    current = None
    for line in prose.splitlines():
        match = re.match(r"^(#{1,2}) (.+?)\s*$", line)
        if match and (match.group(1) == "##" or current is None):
            current = match.group(2)
            out.setdefault(current, "")
        if current is not None:
            out[current] += line + "\n"
    return out


def _norm(text: str) -> str:
    return " ".join(text.replace("`", "").split()).lower()


def bold_terms(prose: str) -> list[str]:
    """The bold phrases of a chapter that may be terms: sentences (ending in ``.``, ``:``, ``?``) and
    glued values are left out."""
    found = []
    for raw in re.findall(r"\*\*(.+?)\*\*", prose, flags=re.S):
        phrase = " ".join(raw.split())
        if "{glue" in phrase or "{doc}" in phrase or phrase.endswith((".", ":", "?")):
            continue
        found.append(phrase)
    return found


def _forms(entry: dict) -> list[str]:
    return [entry["term"], *entry.get("aka", [])]


def _contains(text: str, form: str) -> bool:
    """``form`` occurs in ``text`` as a whole word (case and backticks ignored)."""
    return re.search(r"(?<![\w-])" + re.escape(_norm(form)) + r"(?![\w])", _norm(text)) is not None


def problems(root: Path, sources: Path | None = None) -> list[str]:
    """Everything wrong with the glossary against the chapters (and the source articles, when
    ``sources`` is a folder that holds them)."""
    data = load(root)
    terms, not_terms = data["terms"], {_norm(t) for t in data.get("not_terms", [])}
    known = {_norm(f) for e in terms for f in _forms(e)}
    out = []
    names = [e["term"] for e in terms]
    out += [f"'{n}' is in the glossary twice" for n in sorted({n for n in names if names.count(n) > 1})]
    prose = {p.stem: chapter_prose(p) for p in chapter_notebooks(root)}
    for stem, text in prose.items():
        for phrase in bold_terms(text):
            if _norm(phrase) not in known and _norm(phrase) not in not_terms:
                out.append(f"{stem}: the bold term '{phrase}' is not in {DATA} (add it, or list it under not_terms)")
    for e in terms:
        for key in ("term", "zh", "def", "ch", "sec"):
            if not e.get(key):
                out.append(f"'{e.get('term')}': no {key}")
        if e.get("ch") not in prose:
            out.append(f"'{e['term']}' links to chapter '{e.get('ch')}', which does not exist")
            continue
        secs = sections(prose[e["ch"]])
        if e["sec"] not in secs:
            out.append(f"'{e['term']}' links to section '{e['sec']}', which {e['ch']} does not have")
        elif not any(_contains(secs[e["sec"]], f) for f in _forms(e)):
            out.append(f"'{e['term']}' (or an aka) does not occur in {e['ch']} § '{e['sec']}'")
    if sources is not None and all((sources / f).exists() for f in SOURCES.values()):
        texts = {k: (sources / f).read_text(encoding="utf-8") for k, f in SOURCES.items()}
        for e in terms:
            has = sorted(k for k, t in texts.items() if e["zh"] in t)
            if has != sorted(e.get("src", [])):
                out.append(f"'{e['term']}': src is {e.get('src', [])} but the articles that contain '{e['zh']}' "
                           f"are {has}")
    return out


def _chapter_number(stem: str) -> str:
    return str(int(stem.split("_")[0]))


def render(data: dict) -> str:
    """The appendix page "Glossary", as MyST markdown."""
    lines = [
        "# Glossary (English–中文)",
        "",
        "```{note}",
        "This page is written by `python -m dlcourse.glossary` from `appendix/glossary.yml`; do not edit it by",
        "hand. A test fails when a chapter uses a term in bold that is not here, or when a link below no",
        "longer points to a section that uses the term.",
        "```",
        "",
        "The Chinese column gives the term the two source articles use where they use one (the *articles*",
        "column says which: 1 = the ten algorithms, 2 = the overview); where they use none, it gives the",
        "usual Chinese term (—).",
        "",
        "| English | 中文 | articles | meaning | introduced in |",
        "|---|---|:---:|---|---|",
    ]
    for e in sorted(data["terms"], key=lambda e: e["term"].lower()):
        short = [a for a in e.get("aka", []) if " " not in a and sum(c.isupper() for c in a) >= 2]  # MLP, BPTT
        aka = f" ({', '.join(short)})" if short else ""
        src = ", ".join(str(s) for s in e.get("src", [])) or "—"
        where = f"{{doc}}`ch. {_chapter_number(e['ch'])}, {e['sec'].replace('`', '')} <../chapters/{e['ch']}>`"
        lines.append(f"| **{e['term']}**{aka} | {e['zh']} | {src} | {e['def']} | {where} |")
    return "\n".join(lines) + "\n"


def write(root: Path) -> Path:
    page = root / PAGE
    page.write_text(render(load(root)), encoding="utf-8")
    return page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlcourse.glossary", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only list the problems")
    parser.add_argument("--sources", type=Path, help="folder of the source articles (default: ../shared/sources)")
    args = parser.parse_args(argv)
    root = find_root()
    found = problems(root, args.sources or root.parent / "shared" / "sources")
    print("\n".join(found) or "no problems")
    if not args.check:
        print(f"wrote {write(root)}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
