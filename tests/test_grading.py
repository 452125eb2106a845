"""Grading with nbgrader: the catalogue, the assignment notebooks, and an end-to-end run.

The end-to-end test (skipped when nbgrader is not installed: `pip install -e ".[instructor]"`) builds
the course folder of two chapters, releases the student version with `nbgrader generate_assignment`,
and autogrades three submissions per chapter: the instructor's (full marks on every auto-checked
exercise), the untouched student version (zero, without crashing), and the instructor's with one
planted mistake (which loses exactly that exercise's points). The report must agree with
nbgrader's own gradebook.
"""
import csv
import importlib.util
import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from dlcourse import book, grading

ROOT = book.find_root()
CHAPTERS_0_5 = [p for p in book.chapter_notebooks(ROOT) if p.stem[:2] in {"00", "01", "02", "03", "04", "05"}]


@pytest.mark.parametrize("path", CHAPTERS_0_5, ids=lambda p: p.stem)
def test_every_exercise_is_gradable(path):
    nb = nbformat.read(path, as_version=4)
    found = grading.exercises(nb, path.stem)
    assert 4 <= len(found) <= 6
    source = grading.assignment_notebook(nb, path.stem)
    graded = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert [c.metadata.nbgrader.grade_id.rsplit("-", 1)[0] for c in graded] == [e.label for e in found]
    for ex, cell in zip(found, graded):
        assert cell.metadata.nbgrader.points == ex.points > 0 and ex.minutes > 0
        if ex.check:  # auto-checked: a locked test cell calling the chapter's check
            assert cell.cell_type == "code" and cell.metadata.nbgrader.locked
            assert f"check.{ex.check}(" in cell.source
        else:  # open-ended: a hand-graded answer whose instructor version is the rubric
            assert cell.cell_type == "markdown" and cell.metadata.nbgrader.solution
            assert ex.rubric, f"{path.stem} {ex.label}: an open-ended exercise needs a rubric"
            assert all(item in cell.source for item in ex.rubric)
    solutions = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
    assert len(solutions) == sum(book.BEGIN in c.source for c in nb.cells)
    text = "\n".join(c.source for c in source.cells)
    assert "solution-start" not in text and "## Summary" not in text


def test_solution_source_keeps_the_student_stub_beside_the_solution():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION"
    assert grading.solution_source(src).endswith('### END SOLUTION\n    raise NotImplementedError("your code here")')
    top = "### BEGIN SOLUTION\nanswer = 6 * 7\n### END SOLUTION"
    assert grading.solution_source(top).startswith("answer = ...  # your answer here\n### BEGIN SOLUTION")


def test_report_reads_feedback_from_autograded_notebooks(tmp_path):
    cells = [nbformat.v4.new_code_cell("print(check.a(f))"), nbformat.v4.new_code_cell("print(check.b(g))"),
             nbformat.v4.new_markdown_cell("My answer."), nbformat.v4.new_markdown_cell("YOUR ANSWER HERE")]
    for cell, (gid, points) in zip(cells, [("ex-a-check", 1), ("ex-b-check", 2), ("ex-c-answer", 3),
                                           ("ex-d-answer", 3)]):
        cell.metadata["nbgrader"] = grading._meta(gid, grade=True, points=points, solution=cell.cell_type == "markdown",
                                                  locked=cell.cell_type == "code", cell_type=cell.cell_type)
    cells[0].outputs = [nbformat.v4.new_output("stream", text="✅ passed — A: right\n")]
    cells[1].outputs = [nbformat.v4.new_output("error", ename="CheckFailed", evalue="B: a | wrong sign",
                                               traceback=[])]
    target = tmp_path / "autograded" / "ana" / "00_x" / "00_x.ipynb"
    target.parent.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), target)
    csv_path, md_path = grading.write_report(tmp_path)
    rows = list(csv.DictReader(csv_path.open()))
    assert [(r["exercise"], float(r["points"]), r["status"]) for r in rows] == [
        ("ex-a", 1.0, "passed"), ("ex-b", 0.0, "wrong"), ("ex-c", 0.0, "to grade by hand"),
        ("ex-d", 0.0, "not attempted")]
    assert rows[1]["message"] == "B: a | wrong sign"
    md = md_path.read_text()
    assert "| ana | 1 / 9 | 1 |" in md and "B: a \\| wrong sign" in md


# --- end to end, with nbgrader -------------------------------------------------------------------------------

E2E = {  # chapter: (the exercise to break, the solution line to break, what replaces it)
    "00_foundations": ("ex-softmax", "e = (z - z.max(dim=-1, keepdim=True).values).exp()", "e = z.exp()"),
    "04_rnn": ("ex-pad", None, None),  # a left-padding pad(): see _plant
}


def _plant(nb, chapter):
    label, old, new = E2E[chapter]
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith(f"{label}-code")]
    assert len(cells) == 1
    if old is None:  # pad on the left
        cells[0].source = ("def pad(sequences, pad_id):\n    width = max(map(len, sequences))\n"
                           "    ids = torch.tensor([[pad_id] * (width - len(s)) + list(s) for s in sequences])\n"
                           "    return ids, torch.tensor([len(s) for s in sequences])")
    else:
        assert old in cells[0].source
        cells[0].source = cells[0].source.replace(old, new)
    return label


@pytest.mark.skipif(importlib.util.find_spec("nbgrader") is None,
                    reason='nbgrader is not installed (pip install -e ".[instructor]")')
def test_nbgrader_end_to_end(tmp_path):
    course = tmp_path / "course"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])}  # nbgrader runs alembic
    env.pop("DLCOURSE_STRICT_CHECKS", None)  # what an instructor's machine has

    def nbgrader(*args):
        done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                              text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    subprocess.run([sys.executable, "-m", "dlcourse.book", "assignment", *E2E, "--out", str(course)], check=True,
                   cwd=ROOT, env=env, capture_output=True)
    planted = {}
    for chapter in E2E:
        nbgrader("generate_assignment", chapter, "--force")
        source = course / "source" / chapter / f"{chapter}.ipynb"
        release = course / "release" / chapter / f"{chapter}.ipynb"
        text = release.read_text()
        assert "BEGIN SOLUTION" not in text and "Rubric" not in text
        for student, origin in [("instructor", source), ("student", release), ("planted", source)]:
            folder = course / "submitted" / student / chapter
            folder.mkdir(parents=True)
            shutil.copy(origin, folder / origin.name)
        nb = nbformat.read(course / "submitted" / "planted" / chapter / f"{chapter}.ipynb", as_version=4)
        planted[chapter] = _plant(nb, chapter)
        nbformat.write(nb, course / "submitted" / "planted" / chapter / f"{chapter}.ipynb")
        nbgrader("autograde", chapter)

    grading.main(["report", str(course)])
    rows = list(csv.DictReader((course / "grades.csv").open(encoding="utf-8")))
    catalogue = {(e.chapter, e.label): e for e in grading.catalogue(ROOT)}
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for chapter in E2E:
            auto = [e for (c, _), e in catalogue.items() if c == chapter and e.check]
            manual = [e for (c, _), e in catalogue.items() if c == chapter and not e.check]
            full = sum(e.points for e in auto)
            got = {s: {r["exercise"]: r for r in rows if r["student"] == s and r["assignment"] == chapter}
                   for s in ("instructor", "student", "planted")}
            for student, marks in got.items():
                assert set(marks) == {e.label for e in auto + manual}
                score = gb.find_submission_notebook(chapter, chapter, student).score
                assert score == sum(float(r["points"]) for r in marks.values()), (student, chapter)
            assert all(got["instructor"][e.label]["status"] == "passed" for e in auto)
            assert all(got["instructor"][e.label]["status"] == "to grade by hand" for e in manual)
            assert sum(float(r["points"]) for r in got["instructor"].values()) == full
            assert all(r["status"] == "not attempted" and float(r["points"]) == 0 for r in got["student"].values())
            lost = catalogue[chapter, planted[chapter]].points
            assert sum(float(r["points"]) for r in got["planted"].values()) == full - lost
            wrong = got["planted"][planted[chapter]]
            assert wrong["status"] == "wrong" and wrong["message"] and float(wrong["points"]) == 0
    summary = (course / "grades.md").read_text(encoding="utf-8")
    assert "| instructor |" in summary and "| planted |" in summary


def test_instructors_page_is_generated_from_the_notebooks():
    page = (ROOT / grading.PAGE).read_text(encoding="utf-8")
    assert page == grading.render_instructors_page(grading.catalogue(ROOT)), (
        "appendix/instructors.md is stale: run `python -m dlcourse.book instructors-page`")
    for ex in grading.catalogue(ROOT):
        assert f"(`{ex.label}`) | {ex.level} | {ex.points} | {ex.graded_by} | {ex.minutes} |" in page
        for item in ex.rubric:  # rubrics are for the instructor version only
            assert item not in page


def test_student_site_has_no_solutions_and_hides_any_left(tmp_path):
    import yaml

    out = book.write_student_site(tmp_path / "site", ROOT)
    config = yaml.safe_load((out / "_config.yml").read_text())
    assert config["sphinx"]["config"]["hide_solutions"] is True and "student edition" in config["title"]
    assert (out / "_toc.yml").read_text() == (ROOT / "_toc.yml").read_text()
    assert (out / "references.bib").exists() and (out / "appendix").is_dir()
    names = sorted(p.name for p in (out / "chapters").glob("*.ipynb"))
    assert names == [p.name for p in book.chapter_notebooks(ROOT)]
    for path in (out / "chapters").glob("*.ipynb"):
        text = path.read_text()
        assert "solution-start" not in text and book.BEGIN not in text and "Rubric" not in text
    with pytest.raises(SystemExit):
        book.write_student_site(ROOT / "chapters", ROOT)  # never over the book's own sources


def test_student_edition_of_some_chapters(tmp_path):
    written = book.write_student_edition(tmp_path, ROOT, ["04", "00_foundations"])
    assert [p.name for p in written] == ["00_foundations.ipynb", "04_rnn.ipynb"]
    with pytest.raises(SystemExit):
        book.write_student_edition(tmp_path, ROOT, ["99"])
