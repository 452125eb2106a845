"""The appendix pages: the glossary against the chapters, and the pages generated from YAML/JSON are current."""
from pathlib import Path

import nbformat

from dlcourse import glossary
from dlcourse.book import find_root

ROOT = find_root(Path(__file__).parent)
SOURCES = ROOT.parent / "shared" / "sources"  # the source articles, where the checkout has them


# --- glossary -----------------------------------------------------------------------------------------------

def test_glossary_covers_the_chapters_and_links_to_sections_that_use_each_term():
    found = glossary.problems(ROOT, SOURCES)
    assert not found, "\n".join(found)


def test_glossary_page_is_rendered_from_the_yaml():
    page = (ROOT / glossary.PAGE).read_text(encoding="utf-8")
    assert page == glossary.render(glossary.load(ROOT)), "run `python -m dlcourse.glossary` to regenerate the page"


def test_bold_terms_skips_sentences_and_glued_values():
    prose = ("**Prerequisites.** x. A **receptive\nfield** and **{glue:text}`acc:.2%`** and **Why?** "
             "and **one:** then **Adam**")
    assert glossary.bold_terms(prose) == ["receptive field", "Adam"]


def _course(tmp_path: Path, prose: str, terms: str) -> Path:
    (tmp_path / "_config.yml").write_text("title: t\n")
    (tmp_path / "chapters").mkdir()
    (tmp_path / "appendix").mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(prose)])
    nbformat.write(nb, tmp_path / "chapters" / "00_x.ipynb")
    (tmp_path / glossary.DATA).write_text(terms, encoding="utf-8")
    return tmp_path


def test_a_bold_term_missing_from_the_glossary_fails_naming_it(tmp_path):
    root = _course(tmp_path, "# T\n\n## 1. Intro\n\nA **gizmo** and a **widget**.\n",
                   "terms:\n  - {term: widget, zh: 小部件, def: d, ch: 00_x, sec: 1. Intro}\nnot_terms: []\n")
    found = glossary.problems(root)
    assert len(found) == 1 and "'gizmo'" in found[0], found


def test_a_link_to_a_section_that_does_not_use_the_term_fails(tmp_path):
    root = _course(tmp_path, "# T\n\n## 1. Intro\n\nA widget.\n\n## 2. Later\n\nNothing.\n",
                   "terms:\n  - {term: widget, zh: 小部件, def: d, ch: 00_x, sec: 2. Later}\n"
                   "  - {term: gadget, zh: 小工具, def: d, ch: 00_x, sec: 3. Gone}\n")
    found = glossary.problems(root)
    assert any("'widget'" in p and "2. Later" in p for p in found), found
    assert any("'gadget'" in p and "does not have" in p for p in found), found


def test_src_must_list_exactly_the_articles_that_use_the_chinese_term(tmp_path):
    root = _course(tmp_path, "# T\n\n## 1. Intro\n\nA widget.\n",
                   "terms:\n  - {term: widget, zh: 小部件, src: [2], def: d, ch: 00_x, sec: 1. Intro}\n")
    sources = tmp_path / "sources"
    sources.mkdir()
    for number, name in glossary.SOURCES.items():
        (sources / name).write_text("有小部件" if number == 1 else "没有", encoding="utf-8")
    found = glossary.problems(root, sources)
    assert len(found) == 1 and "[1]" in found[0], found
