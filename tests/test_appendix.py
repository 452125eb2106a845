"""The appendix pages: the glossary against the chapters, and the pages generated from YAML/JSON are current."""
import copy
import json
import re
from pathlib import Path

import nbformat
import pytest

from dlcourse import glossary, guide
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


# --- model-selection guide ----------------------------------------------------------------------------------

RESULTS = json.loads((ROOT / guide.RESULTS).read_text(encoding="utf-8"))


def test_every_value_the_guide_uses_is_in_the_benchmark_results():
    values = guide.Values(RESULTS)
    missing = [r for r in guide.used_names() if not values.has(r)]
    assert not missing, (f"the guide uses {missing}, which {guide.RESULTS} lacks: a chapter renamed or dropped "
                         "a glue; rename it in dlcourse/guide.py (or re-run the benchmark)")


def test_guide_page_is_generated_from_the_committed_results():
    page = (ROOT / guide.PAGE).read_text(encoding="utf-8")
    assert page == guide.render(RESULTS), "run `python -m dlcourse.bench --page-only` to regenerate the guide"


def test_guide_figures_exist_and_are_referenced():
    page = (ROOT / guide.PAGE).read_text(encoding="utf-8")
    for path in (guide.FIG_TASKS, guide.FIG_VISION, guide.FIG_SEQUENCE):
        assert (ROOT / path).stat().st_size > 10_000, path
        assert f"{{figure}} {path.name}" in page, path


def test_a_renamed_glue_fails_naming_it():
    results = copy.deepcopy(RESULTS)
    lm = next(r for r in results["chapters"] if r["chapter"] == "05_lstm")
    lm["values"]["val_bits_renamed"] = lm["values"].pop("val_bits")
    with pytest.raises(guide.MissingValue, match="05_lstm:val_bits"):
        guide.render(results)


def test_the_guide_shows_the_spread_over_seeds_where_the_benchmark_measured_one():
    results = copy.deepcopy(RESULTS)
    rnn = next(r for r in results["chapters"] if r["chapter"] == "04_rnn")
    rnn["spread"] = {"bow_acc": {"min": 0.7612, "median": 0.77, "max": 0.7801}}
    rnn["seeds"] = [{"seed": s} for s in (0, 1, 2)]
    assert "(76.12%–78.01% over 3 seeds)" in guide.render(results)


def test_compare_uses_two_standard_errors_of_the_difference():
    # n = 10,000 and p = 0.5 on both sides: two standard errors = 2 * sqrt(2 * 0.25 / 10,000) ≈ 0.01414
    assert guide.two_se(0.5, 0.5, 10_000) == pytest.approx(0.014142, rel=1e-4)
    assert guide.compare(0.515, 0.5, 10_000) == "beats"
    assert guide.compare(0.5, 0.515, 10_000) == "does worse than"
    assert guide.compare(0.51, 0.5, 10_000) == "is within the noise of"


# --- hand-written pages: FAQ and trends -------------------------------------------------------------------

SECTION_LINK = re.compile(r"\{doc\}`ch\. (\d+) § ([^<`]+?)\s*<\.\./chapters/(\w+)>`")


def _headings(stem: str) -> set[str]:
    prose = glossary.chapter_prose(ROOT / "chapters" / f"{stem}.ipynb")
    return {m.group(1).strip() for m in re.finditer(r"^#+ (.+)$", prose, flags=re.M)}


def test_section_links_name_sections_that_exist():
    broken = []
    for page in ("faq.md", "trends.md"):
        text = (ROOT / "appendix" / page).read_text(encoding="utf-8")
        links = SECTION_LINK.findall(text)
        assert links, f"{page} links to no chapter section"
        for number, section, stem in links:
            section = " ".join(section.split())
            if int(stem[:2]) != int(number) or not (ROOT / "chapters" / f"{stem}.ipynb").exists():
                broken.append(f"{page}: ch. {number} → {stem}")
            elif section not in _headings(stem):
                broken.append(f"{page}: {stem} has no section '{section}'")
    assert not broken, "\n".join(broken)


def test_appendix_pages_cite_only_known_keys():
    keys = set(re.findall(r"^@\w+\{([^,]+),", (ROOT / "references.bib").read_text(encoding="utf-8"), flags=re.M))
    for page in ("faq.md", "trends.md", "guide.md", "glossary.md"):
        text = (ROOT / "appendix" / page).read_text(encoding="utf-8")
        cited = {k.strip() for group in re.findall(r"\{cite\}`([^`]+)`", text) for k in group.split(",")}
        assert cited <= keys, f"{page} cites {sorted(cited - keys)}, not in references.bib"


def test_appendix_pages_are_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    for page in ("guide", "faq", "trends", "glossary", "results", "references"):
        assert f"file: appendix/{page}" in toc, page
