"""Every chapter notebook keeps the structural parts of the chapter contract (shared/GUIDE.md §2)."""
import re

import nbformat
import pytest
import yaml

from dlcourse import book

ROOT = book.find_root()
CHAPTERS = book.chapter_notebooks(ROOT)


def cells(path):
    nb = nbformat.read(path, as_version=4)
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    return nb, md, code


def test_there_are_chapters():
    assert CHAPTERS, "no chapter notebooks found"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_contract(path):
    nb, md, code = cells(path)
    first = nb.cells[0].source
    assert first.startswith("# ") and re.search(r"[\u4e00-\u9fff]", first.splitlines()[0]), "title in English and 中文"
    assert "You will learn" in first and "Prerequisites" in first and "Time" in first
    assert len(re.findall(r"^\d\. ", first, re.M)) in range(3, 6), "3–5 learning objectives"
    first_code = next(c.source for c in nb.cells if c.cell_type == "code")
    assert "import dlcourse" in first_code and "git+" in first_code, "the first code cell installs dlcourse"
    assert "seed_everything" in code and "get_device" in code
    assert "SEED = dlcourse.chapter_seed()" in code, "the seed comes from $DLCOURSE_SEED, so the benchmark can vary it"
    assert not re.search(r"['\"]cuda['\"]|\.cuda\(\)", code), "nothing hard-coded to a device"
    assert re.search(r"^\$\$", md, re.M) and "{eq}" in md, "numbered equations"
    assert re.search(r"^assert ", code, re.M), "asserts on measured results"
    assert "glue(" in code and "{glue:text}" in md
    headline = nb.metadata["dlcourse"]["headline"]["name"]
    assert f'glue("{headline}"' in code, "the headline number is glued"
    # GUIDE §5: 180 s a chapter; chapters 8 and 9 hold two models each and get 240 s
    assert nb.metadata["dlcourse"]["budget_s"] <= (240 if path.stem[:2] in ("08", "09") else 180)
    assert re.search(r"widgets\.(interact|interactive|VBox|HBox)\(", code), "an ipywidgets exploration"
    assert re.search(r"\{admonition\} Pitfalls", md)
    assert "{cite}" in md and "## Summary" in md and "## References" in md
    assert not any(c.get("outputs") or c.get("execution_count") for c in nb.cells if c.cell_type == "code"), \
        "stored without outputs"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_exercises_have_levels_solutions_and_checks(path):
    _, md, code = cells(path)
    exercises = re.findall(r"^[`:]{3,}\{exercise\} (\S+)[^\n]*\n:label: (\S+)", md, re.M)
    assert 4 <= len(exercises) <= 6
    levels = {level.rstrip(":") for level, _ in exercises}
    assert levels == {"Warm-up", "Core", "Stretch"}, f"every level is used, and only those: {sorted(levels)}"
    for _, label in exercises:
        assert re.search(rf"\{{solution-start\}} {label}\n:class: dropdown", md), f"{label} has no solution"
    assert md.count("{solution-start}") == md.count("{solution-end}")
    assert not re.search(r"^`{3,}\{[\w-]+\}[^\n]*`", md, re.M), "a backtick fence's title cannot hold backticks"
    assert len(re.findall(r"^check\.\w+\(", code, re.M)) >= 2, "at least two auto-checks"


def test_toc_lists_exactly_the_pages_that_exist():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    for f in files + [toc["root"]]:
        assert any((ROOT / f"{f}{ext}").exists() for ext in (".md", ".ipynb")), f"{f} is in the toc but missing"
    listed = {f for f in files if f.startswith("chapters/")}
    assert listed == {f"chapters/{p.stem}" for p in CHAPTERS}, "every chapter is in the toc, and only those"


def test_labels_are_unique_across_the_book():
    """Equation and figure labels share one namespace in the built book: a second `eq-loss` is a warning, so -W fails."""
    seen: dict[str, str] = {}
    for path in CHAPTERS:
        _, md, _ = cells(path)
        labels = re.findall(r"^\$\$ *\(([\w-]+)\)", md, re.M) + re.findall(r"^:(?:label|name): (\S+)", md, re.M)
        for label in labels:
            assert label not in seen, f"{path.stem} reuses the label {label!r} of {seen[label]}"
            seen[label] = path.stem
