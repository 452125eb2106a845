"""Grading the exercises with nbgrader: the exercise catalogue, nbgrader course folders, and reports.

    python -m dlcourse.book assignment 05_lstm --out course/        # or: python -m dlcourse.grading assignment ...
    cd course && nbgrader generate_assignment 05_lstm               # release/05_lstm/: the student version
    # collect submissions into course/submitted/<student>/05_lstm/05_lstm.ipynb, then
    cd course && nbgrader autograde 05_lstm                          # autograded/<student>/05_lstm/
    python -m dlcourse.grading report course/                       # grades.csv and grades.md

Each exercise of a chapter is found from its ``{exercise}`` directive. Its points, expected minutes
and, for an open-ended exercise, its rubric live in the notebook's metadata under
``dlcourse.exercises.<label>`` (points and minutes default by level: warm-up 1 point / 10 min, core
2 / 20, stretch 3 / 45). An exercise is *auto-checked* when a ``check.<name>(...)`` cell follows it;
otherwise it is graded by hand against its rubric.

The assignment notebook is the chapter's setup cells (locked) and its exercise section: every
``### BEGIN SOLUTION`` cell becomes an nbgrader solution cell (its stub raises
``NotImplementedError`` inside a function, or leaves ``name = ...`` at top level, as in the student
edition), every check cell an autograded test cell worth the exercise's points (under nbgrader the
checks raise on a wrong or missing answer and run hidden cases), every open-ended exercise a
manually graded answer cell whose instructor version holds the rubric. Code that only illustrates a
solution, and solution prose, are left out. ``whole=True`` keeps the chapter's teaching cells too
(locked), at the cost of running the whole chapter for every submission.
"""
from __future__ import annotations

import argparse
import csv
import html
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import book

LEVELS = {"warm-up": (1, 10), "core": (2, 20), "stretch": (3, 45)}  # level: (default points, default minutes)
_EXERCISE = re.compile(r"^([`:]{3,})\{exercise\}[ \t]*(?P<title>[^\n]*)\n(?::[^\n]*\n)*?:label:[ \t]*(?P<label>\S+)",
                       re.M)
_OPEN = re.compile(r"^[`:]{3,}\{exercise\}", re.M)
_CHECK = re.compile(r"^check\.(\w+)\(", re.M)
_HEADING = re.compile(r"^## Exercises", re.M)
_NEXT_SECTION = re.compile(r"^## (?!Exercises)", re.M)
SCHEMA = 3


@dataclass
class Exercise:
    """One exercise of a chapter, as the catalogue and the grader see it."""

    chapter: str
    label: str
    title: str
    level: str
    points: int
    minutes: int
    check: str | None = None  # the dlcourse.checks function that grades it, if auto-checked
    rubric: list[str] = field(default_factory=list)

    @property
    def graded_by(self) -> str:
        return "auto-check" if self.check else "rubric"


def _level(title: str) -> str:
    head = title.split(":", 1)[0].strip().lower()
    if head not in LEVELS:
        raise ValueError(f"exercise '{title}' does not start with a level ({', '.join(LEVELS)}):")
    return head


def _exercise_section(nb: nbformat.NotebookNode, where: str) -> int:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and _HEADING.search(cell.source):
            return i
    raise ValueError(f"{where}: no '## Exercises' section")


def exercises(nb: nbformat.NotebookNode, chapter: str) -> list[Exercise]:
    """The exercises of a chapter notebook, in order, with their points, time, check and rubric."""
    meta = nb.metadata.get("dlcourse", {}).get("exercises", {})
    found: list[Exercise] = []
    for cell in nb.cells[_exercise_section(nb, chapter):]:
        if cell.cell_type == "markdown":
            for m in _EXERCISE.finditer(cell.source):
                title, label = m.group("title").strip(), m.group("label")
                level = _level(title)
                info = meta.get(label, {})
                found.append(Exercise(chapter, label, title.split(":", 1)[1].strip(), level,
                                      int(info.get("points", LEVELS[level][0])),
                                      int(info.get("minutes", LEVELS[level][1])), None, list(info.get("rubric", []))))
        elif cell.cell_type == "code" and found:
            m = _CHECK.search(cell.source)
            if m:
                found[-1].check = m.group(1)
    unknown = set(meta) - {e.label for e in found}
    if unknown:
        raise ValueError(f"{chapter}: metadata for exercises that do not exist: {sorted(unknown)}")
    return found


def catalogue(root: Path | None = None) -> list[Exercise]:
    """Every exercise of every chapter."""
    return [e for path in book.chapter_notebooks(root)
            for e in exercises(nbformat.read(path, as_version=4), path.stem)]


# --- the nbgrader source notebook --------------------------------------------------------------------------

def _meta(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
          points: int | None = None, cell_type: str = "code") -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA,
            "solution": solution, "task": False, "cell_type": cell_type}
    if grade:
        meta["points"] = points
    return meta


def solution_source(source: str, where: str = "") -> str:
    """A ``### BEGIN SOLUTION`` cell as nbgrader's source: the stub the student sees sits beside the solution.

    nbgrader replaces each solution region by ``# YOUR CODE HERE`` (see :data:`CONFIG`); the line kept
    after it (``raise NotImplementedError`` in a function) or before it (``name = ...`` at top level) is
    what makes the stub behave as in the student edition: reported as "not attempted", not a crash.
    """
    book.stub_code(source, where)  # validates the markers
    out, block = [], None
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == book.BEGIN:
            block, indent, start = [], line[: len(line) - len(line.lstrip())], len(out)
            out.append(line)
        elif stripped == book.END:
            out.append(line)
            if indent:
                out.append(f'{indent}raise NotImplementedError("your code here")')
            else:
                names = [m.group(1) for m in map(re.compile(r"^(\w+)\s*=").match, block) if m]
                out[start:start] = [f"{name} = ...  # your answer here" for name in dict.fromkeys(names)]
            block = None
        else:
            if block is not None:
                block.append(line)
            out.append(line)
    return "\n".join(out)


def _split_exercises(text: str) -> list[str]:
    starts = [m.start() for m in _OPEN.finditer(text)]
    if not starts:
        return [text]
    pieces = [text[:starts[0]]] + [text[a:b] for a, b in zip(starts, starts[1:] + [len(text)])]
    return [p.strip() for p in pieces if p.strip()]


def _rubric_source(ex: Exercise) -> str:
    rubric = "\n".join(f"- {item}" for item in ex.rubric) or "- (no rubric yet)"
    return (f"{book.BEGIN}\n**Rubric: what a full-marks answer ({ex.points} points) contains** "
            f"(instructor version only)\n\n{rubric}\n{book.END}")


def assignment_notebook(nb: nbformat.NotebookNode, chapter: str, whole: bool = False) -> nbformat.NotebookNode:
    """The nbgrader source (instructor) notebook of one chapter's exercises."""
    listed = {e.label: e for e in exercises(nb, chapter)}
    first = _exercise_section(nb, chapter)
    title = nb.metadata.get("dlcourse", {}).get("title", chapter)
    total = sum(e.points for e in listed.values())
    intro = (f"# {title}: exercises\n\nWork in this notebook and submit it. Fill in every cell that raises "
             "`NotImplementedError` or holds `...`, and write your answers where it says YOUR ANSWER HERE. "
             "Run the check under each exercise: it says what is wrong, never the answer. Grading runs the same "
             f"checks on hidden cases too. {len(listed)} exercises, {total} points.")
    cells = [nbformat.v4.new_markdown_cell(intro)]
    code_seen, in_solution, current, done = 0, False, None, False
    for i, cell in enumerate(nb.cells):
        if done:
            break
        where = f"{chapter} cell {i}"
        if cell.cell_type == "markdown":
            text, in_solution = book._strip_solutions(cell.source, in_solution)
            if i < first and not whole:
                continue
            if i == first:
                text = text[_HEADING.search(text).start():]
            nxt = _NEXT_SECTION.search(text) if i >= first else None
            if nxt:
                text, done = text[:nxt.start()].strip(), True
            for piece in _split_exercises(text) if text.strip() else []:
                cells.append(nbformat.v4.new_markdown_cell(piece))
                m = _EXERCISE.search(piece)
                if m:
                    current = listed[m.group("label")]
                    if current.check is None:
                        answer = nbformat.v4.new_markdown_cell(_rubric_source(current))
                        answer.metadata["nbgrader"] = _meta(f"{current.label}-answer", grade=True, solution=True,
                                                            points=current.points, cell_type="markdown")
                        cells.append(answer)
            continue
        if cell.cell_type != "code":
            continue
        code_seen += 1
        src = cell.source
        setup = code_seen <= 2 or "exercise-setup" in cell.metadata.get("tags", [])
        if i < first and not (whole or setup):
            continue
        new = nbformat.v4.new_code_cell(src)
        if book.BEGIN in src:
            new.source = solution_source(src, where)
            new.metadata["nbgrader"] = _meta(f"{current.label}-code-{i}", solution=True)
        elif i > first and _CHECK.search(src) and current is not None:
            if re.fullmatch(r"check\.\w+\(.*\)", src.strip()):
                new.source = f"print({src.strip()})"  # text feedback; a displayed value would read as partial credit
            new.metadata["nbgrader"] = _meta(f"{current.label}-check", grade=True, locked=True, points=current.points)
        elif in_solution:
            continue  # code that only illustrates a solution
        else:
            new.metadata["nbgrader"] = _meta(f"{chapter}-locked-{i}", locked=True)
        cells.append(new)
    out = nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)
    return out


CONFIG = '''"""nbgrader settings for this course folder (written by python -m dlcourse.book assignment)."""
c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.course_id = "dlcourse"
# a solution region becomes this; the line the source keeps beside it makes the stub a NotImplementedError
# inside a function and `name = ...` at top level, as in the course's student edition
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.Execute.timeout = 600  # seconds per cell
'''


def write_assignment(chapter: str, out: Path, root: Path | None = None, whole: bool = False) -> Path:
    """Write ``out/source/<chapter>/<chapter>.ipynb`` and ``out/nbgrader_config.py``; return the notebook."""
    matches = [p for p in book.chapter_notebooks(root) if p.stem == chapter or p.stem.startswith(f"{chapter}_")]
    if len(matches) != 1:
        names = ", ".join(p.stem for p in book.chapter_notebooks(root))
        raise SystemExit(f"no single chapter called {chapter!r}; the chapters are: {names}")
    path = matches[0]
    nb = assignment_notebook(nbformat.read(path, as_version=4), path.stem, whole)
    target = out / "source" / path.stem / f"{path.stem}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    config = out / "nbgrader_config.py"
    if not config.exists():
        config.write_text(CONFIG, encoding="utf-8")
    return target


# --- the report ---------------------------------------------------------------------------------------------

@dataclass
class Grade:
    student: str
    assignment: str
    exercise: str
    points: float
    max_points: float
    status: str  # "passed", "wrong", "not attempted", "to grade by hand", "graded by hand"
    message: str


def _feedback(cell: nbformat.NotebookNode) -> tuple[bool, str]:
    """Whether an autograded test cell failed, and the check's message (from its error or display)."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            text = out.get("evalue", "")
            return True, re.sub(r"\x1b\[[0-9;]*m", "", text).strip()
    for out in cell.get("outputs", []):
        plain = out.get("data", {}).get("text/plain", "") or out.get("text", "")
        if plain:
            return False, plain.strip().strip("'\"")
    return False, ""


def grade_notebook(nb: nbformat.NotebookNode, student: str, assignment: str) -> list[Grade]:
    """One row per graded cell of an autograded notebook."""
    grades = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade"):
            continue
        grade_id, max_points = meta["grade_id"], float(meta.get("points", 0))
        exercise = re.sub(r"-(check|answer)$", "", grade_id)
        if cell.cell_type == "code":
            failed, message = _feedback(cell)
            status = "passed" if not failed else "not attempted" if "not attempted" in message else "wrong"
            grades.append(Grade(student, assignment, exercise, 0.0 if failed else max_points, max_points, status,
                                message))
        else:
            answered = cell.source.strip() not in ("", "YOUR ANSWER HERE")
            grades.append(Grade(student, assignment, exercise, 0.0, max_points,
                                "to grade by hand" if answered else "not attempted",
                                "open-ended: grade with the rubric (nbgrader formgrader)" if answered else ""))
    return grades


def collect(course: Path) -> list[Grade]:
    """Every autograded notebook under ``course/autograded/<student>/<assignment>/``."""
    grades = []
    for path in sorted((course / "autograded").glob("*/*/*.ipynb")):
        grades += grade_notebook(nbformat.read(path, as_version=4), path.parent.parent.name, path.parent.name)
    return grades


def write_report(course: Path, out: Path | None = None) -> tuple[Path, Path]:
    """``grades.csv`` (one row per student and exercise) and ``grades.md`` (a summary) in ``out``."""
    grades, out = collect(course), out or course
    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out / "grades.csv", out / "grades.md"
    with csv_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "exercise", "points", "max_points", "status", "message"])
        for g in grades:
            writer.writerow([g.student, g.assignment, g.exercise, g.points, g.max_points, g.status, g.message])
    md_path.write_text(render_markdown(grades), encoding="utf-8")
    return csv_path, md_path


def render_markdown(grades: list[Grade]) -> str:
    """A summary an instructor can read: totals per student, then each student's exercises with feedback."""
    lines = ["# Grades", ""]
    if not grades:
        return "# Grades\n\nNo autograded submissions found (run `nbgrader autograde ASSIGNMENT` first).\n"
    students = sorted({g.student for g in grades})
    assignments = sorted({g.assignment for g in grades})
    lines += ["| student | " + " | ".join(assignments) + " | to grade by hand |",
              "|---|" + "---|" * (len(assignments) + 1)]
    for s in students:
        row = []
        for a in assignments:
            mine = [g for g in grades if g.student == s and g.assignment == a]
            row.append(f"{sum(g.points for g in mine):g} / {sum(g.max_points for g in mine):g}" if mine else "—")
        manual = sum(g.status == "to grade by hand" for g in grades if g.student == s)
        lines.append(f"| {s} | " + " | ".join(row) + f" | {manual} |")
    for s in students:
        lines += ["", f"## {s}", "", "| assignment | exercise | points | status | feedback |", "|---|---|---|---|---|"]
        for g in (g for g in grades if g.student == s):
            message = html.escape(g.message.replace("\n", " ")).replace("|", "\\|")
            lines.append(f"| {g.assignment} | {g.exercise} | {g.points:g} / {g.max_points:g} | {g.status} | {message} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlcourse.grading", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    assign = sub.add_parser("assignment", help="write an nbgrader course folder for a chapter's exercises")
    assign.add_argument("chapters", nargs="+", help="chapter names, e.g. 05_lstm (or 05)")
    assign.add_argument("--out", type=Path, required=True, help="the course folder")
    assign.add_argument("--whole", action="store_true", help="keep the chapter's teaching cells too")
    report = sub.add_parser("report", help="grades.csv and grades.md from course/autograded/")
    report.add_argument("course", type=Path)
    report.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.command == "assignment":
        for chapter in args.chapters:
            print(f"wrote {write_assignment(chapter, args.out, whole=args.whole)}")
        print(f"next: cd {args.out} && nbgrader generate_assignment <chapter>   (pip install -e \".[instructor]\")")
    else:
        for path in write_report(args.course, args.out):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


# --- the instructors' page ----------------------------------------------------------------------------------

PAGE = Path("appendix") / "instructors.md"


def render_instructors_page(items: list[Exercise]) -> str:
    """The book's page for instructors: how to assign, collect and grade, and the exercise catalogue."""
    lines = [
        "# For instructors",
        "",
        "<!-- generated by `python -m dlcourse.book instructors-page` from the chapters' exercises: do not edit -->",
        "",
        "Every exercise of the course can be handed out and graded with "
        "[nbgrader](https://nbgrader.readthedocs.io) (0.9). Auto-checked exercises are graded by the same checks "
        "students run in their notebooks, plus hidden cases drawn afresh at grading time; a check's message says "
        "what is wrong and why, never the expected answer. Open-ended exercises are graded by hand against a "
        "rubric that only the instructor version holds.",
        "",
        "## Assign",
        "",
        "```bash",
        'pip install -e ".[instructor]"                             # nbgrader, beside the course package',
        "python -m dlcourse.book assignment 05_lstm --out course/  # course/source/05_lstm/ + nbgrader_config.py",
        "cd course && nbgrader generate_assignment 05_lstm         # course/release/05_lstm/: the student version",
        "```",
        "",
        "The assignment is the chapter's exercise section with its setup cells (add `--whole` to keep the whole "
        "chapter, which every submission then reruns). The instructor version, `source/`, holds the solutions "
        "and rubrics; the student version, `release/`, holds stubs that report *not attempted* until filled in, "
        "and a wrong answer is shown under its exercise without stopping *Run all*. For self-study without "
        "nbgrader, `python -m dlcourse.book student-edition OUT [CHAPTER ...]` writes the student edition of "
        "some or all chapters, and `python -m dlcourse.book student-site OUT --build` builds this book without "
        "solutions (add `--outputs-from _build/jupyter_execute` after a build of the book to reuse its executed "
        "chapters: minutes instead of running every chapter again).",
        "",
        "## Collect and grade",
        "",
        "```bash",
        "# each submission goes to course/submitted/<student>/05_lstm/05_lstm.ipynb (nbgrader collect does it)",
        "cd course && nbgrader autograde 05_lstm     # runs every submission; a failed check costs its points only",
        "nbgrader formgrader                         # optional: grade the open-ended answers by their rubric",
        "python -m dlcourse.grading report course/   # grades.csv and grades.md: per student and exercise",
        "```",
        "",
        "`grades.csv` has one row per student and exercise: points, maximum, status (*passed*, *wrong*, "
        "*not attempted*, *to grade by hand*) and the check's message; `grades.md` adds a summary table. "
        "Set `DLCOURSE_CHECK_SEED` to replay the hidden cases a message names.",
        "",
        "## Catalogue of exercises",
        "",
        "| chapter | exercise | level | points | graded by | minutes |",
        "|---|---|---|---|---|---|",
    ]
    for e in items:
        lines.append(f"| {e.chapter} | {e.title} (`{e.label}`) | {e.level} | {e.points} | {e.graded_by} | {e.minutes} |")
    chapters = sorted({e.chapter for e in items})
    lines += ["", f"{len(items)} exercises in {len(chapters)} chapters, {sum(e.points for e in items)} points; "
                  f"{sum(e.check is not None for e in items)} auto-checked, {sum(e.check is None for e in items)} "
                  f"graded by rubric; about {round(sum(e.minutes for e in items) / 60)} hours of work in all.", ""]
    return "\n".join(lines)


def write_instructors_page(root: Path | None = None) -> Path:
    root = root or book.find_root()
    (root / PAGE).write_text(render_instructors_page(catalogue(root)), encoding="utf-8")
    return root / PAGE
