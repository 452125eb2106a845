"""Tools that maintain the book: the student edition, and the repository URL the notebooks install from.

    python -m dlcourse.book student-edition OUT_DIR   # notebooks without solutions, for handing out
    python -m dlcourse.book sync-repo                 # copy _config.yml's repository.url into notebooks
    python -m dlcourse.book student-edition OUT_DIR 04_rnn      # ... of some chapters only
    python -m dlcourse.book student-site OUT_DIR --build        # the whole book without solutions, built
    python -m dlcourse.book assignment 05_lstm --out course/   # an nbgrader course folder (dlcourse.grading)
    python -m dlcourse.book instructors-page                  # regenerate appendix/instructors.md

How solutions are marked in a chapter notebook (the teacher edition):

* the prose of a solution sits between a ``solution-start`` and a ``solution-end`` directive
  (sphinx-exercise's gated syntax), each in a markdown cell of its own;
* code the student must write sits between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
  lines. In the student edition those lines become ``raise NotImplementedError(...)`` inside a
  function, or ``name = ...`` for an answer assigned at top level.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml


def find_root(start: Path | None = None) -> Path:
    """The course checkout: the nearest folder holding ``_config.yml`` and ``chapters/``."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents, Path(__file__).resolve().parent.parent):
        if (folder / "_config.yml").exists() and (folder / "chapters").is_dir():
            return folder
    raise FileNotFoundError(f"no course checkout (a folder with _config.yml and chapters/) at or above {start}")

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
_START = re.compile(r"^[`:]{3,}\{solution-start\}", re.M)
_END = re.compile(r"^([`:]{3,})\{solution-end\}[^\n]*\n\1[ \t]*$", re.M)  # the directive and its closing fence
_WHOLE = re.compile(r"^([`:]{3,})\{solution\}.*?^\1[ \t]*$", re.M | re.S)
_INSTALL = re.compile(r"git\+https?://[^\s\"']+")
STUDENT_NOTE = ("```{note}\nStudent edition: the solutions are removed. Fill in the cells that raise "
                "`NotImplementedError` (or hold `...`), then run the check below each one.\n```")


def chapter_notebooks(root: Path | None = None) -> list[Path]:
    """The chapter notebooks, in teaching order."""
    return sorted(((root or find_root()) / "chapters").glob("[0-9][0-9]_*.ipynb"))


def stub_code(source: str, where: str = "") -> str:
    """Replace every BEGIN/END SOLUTION block in ``source`` by a stub."""
    lines, out, block = source.splitlines(), [], None
    for line in lines:
        stripped = line.strip()
        if stripped == BEGIN:
            if block is not None:
                raise ValueError(f"{where}: nested {BEGIN}")
            block, indent = [], line[: len(line) - len(line.lstrip())]
        elif stripped == END:
            if block is None:
                raise ValueError(f"{where}: {END} without {BEGIN}")
            if indent:
                out.append(f'{indent}raise NotImplementedError("your code here")')
            else:
                names = [m.group(1) for m in map(re.compile(r"^(\w+)\s*=").match, block) if m]
                out += [f"{name} = ...  # your answer here" for name in dict.fromkeys(names)] or ["# your code here"]
            block = None
        elif block is not None:
            block.append(line)
        else:
            out.append(line)
    if block is not None:
        raise ValueError(f"{where}: {BEGIN} without {END}")
    return "\n".join(out)


def _strip_solutions(text: str, in_solution: bool) -> tuple[str, bool]:
    """Markdown ``text`` without solution prose; also says whether a solution is still open at its end."""
    text = _WHOLE.sub("", text)
    kept, pos = [], 0
    while True:
        if not in_solution:
            start = _START.search(text, pos)
            if start is None:
                kept.append(text[pos:])
                break
            kept.append(text[pos:start.start()])
            in_solution, pos = True, start.end()
        else:
            end = _END.search(text, pos)
            if end is None:
                break  # the rest of this cell belongs to the open solution
            in_solution, pos = False, end.end()
    return "".join(kept).strip(), in_solution


def student_edition(nb: nbformat.NotebookNode, where: str = "", keep_outputs: bool = False) -> nbformat.NotebookNode:
    """A copy of a chapter notebook with solutions removed and stubs in place, without outputs.

    With ``keep_outputs`` (an executed chapter), the cells the student edition keeps as they are keep their
    outputs too, so the student site can be built without running the chapters again; stubs have none.
    """
    cells, in_solution = [], False
    for i, cell in enumerate(nb.cells):
        src = cell.source
        if cell.cell_type == "markdown":
            kept, in_solution = _strip_solutions(src, in_solution)
            if kept:
                cells.append(nbformat.from_dict({**cell, "source": kept}))
        elif cell.cell_type == "code":
            if BEGIN in src:
                cell = nbformat.from_dict({**cell, "source": stub_code(src, f"{where} cell {i}"),
                                           "outputs": [], "execution_count": None})
            elif in_solution:
                continue  # code that only illustrates a solution
            elif not keep_outputs:
                cell = nbformat.from_dict({**cell, "outputs": [], "execution_count": None})
            cells.append(cell)
        else:
            cells.append(cell)
    if in_solution:
        raise ValueError(f"{where}: a solution-start has no solution-end")
    first_md = next((i for i, c in enumerate(cells) if c.cell_type == "markdown"), 0)
    cells.insert(first_md + 1, nbformat.v4.new_markdown_cell(STUDENT_NOTE))
    return nbformat.from_dict({**nb, "cells": cells})


def select_chapters(names: list[str] | None, root: Path | None = None) -> list[Path]:
    """The chapter notebooks named (``04_rnn`` or just ``04``), or all of them."""
    every = chapter_notebooks(root)
    if not names:
        return every
    chosen = [p for p in every if any(p.stem == n or p.stem.startswith(f"{n}_") for n in names)]
    if len(chosen) != len(set(names)):
        raise SystemExit(f"unknown chapter in {names}; the chapters are: {', '.join(p.stem for p in every)}")
    return chosen


def executed_copy(path: Path, outputs_from: Path) -> nbformat.NotebookNode:
    """The executed copy of chapter ``path`` under ``outputs_from`` (e.g. ``_build/jupyter_execute``, where
    ``jupyter-book build`` leaves the notebooks it ran), checked to hold the same cells as the chapter."""
    candidates = [outputs_from / "chapters" / path.name, outputs_from / path.name]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        raise FileNotFoundError(f"no executed copy of {path.name} under {outputs_from} (looked for "
                                f"{', '.join(map(str, candidates))}); build the book first")
    executed = nbformat.read(found, as_version=4)
    source = nbformat.read(path, as_version=4)
    if [c.source for c in executed.cells] != [c.source for c in source.cells]:
        raise ValueError(f"{found} is not an executed copy of the current {path.name} (its cells differ): "
                         "build the book again")
    glued = found.with_name(f"{path.stem}.glue.json")  # myst-nb moves glued values out of the copy, into this file
    if glued.is_file():
        first_code = next(c for c in executed.cells if c.cell_type == "code")
        for record in json.loads(glued.read_text(encoding="utf-8")).values():
            prefix = record["metadata"]["scrapbook"]["mime_prefix"]  # back in the form glue() writes
            first_code.outputs.append(nbformat.from_dict({
                "output_type": "display_data", "metadata": record["metadata"],
                "data": {prefix + mime: value for mime, value in record["data"].items()}}))
    return executed


def write_student_edition(out_dir: Path, root: Path | None = None, chapters: list[str] | None = None,
                          outputs_from: Path | None = None) -> list[Path]:
    """Write the student edition of every chapter notebook (or of ``chapters``) into ``out_dir``; with
    ``outputs_from``, from the executed copies there, keeping the outputs of every cell that is not a stub."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in select_chapters(chapters, root):
        nb = nbformat.read(path, as_version=4) if outputs_from is None else executed_copy(path, outputs_from)
        target = out_dir / path.name
        nbformat.write(student_edition(nb, path.name, keep_outputs=outputs_from is not None), target)
        written.append(target)
    return written


_SITE_SKIP = {"_build", ".git", "chapters", ".benchmarks", ".gpu", ".ci", "dlcourse", "tests", "dlcourse.egg-info"}


def write_student_site(out_dir: Path, root: Path | None = None, outputs_from: Path | None = None) -> Path:
    """A copy of the book's sources whose chapters are the student edition and whose config hides solutions.

    Build it with ``jupyter-book build OUT_DIR -W -n --keep-going`` (or ``student-site OUT_DIR --build``).
    With ``outputs_from`` (the executed notebooks of a book build, ``_build/jupyter_execute``) the chapters
    keep those outputs and the site is built without executing them again (minutes instead of the course's
    run time); exercise stubs then show no output.
    """
    root = root or find_root()
    out_dir = out_dir.resolve()
    if out_dir == root or root in out_dir.parents and out_dir.parts[len(root.parts)] != "_build":
        raise SystemExit("write the student site outside the checkout, or under its _build/")
    out_dir.mkdir(parents=True, exist_ok=True)
    for item in root.iterdir():
        if item.name in _SITE_SKIP or item.name.startswith("."):
            continue
        target = out_dir / item.name
        if item.is_dir():
            shutil.copytree(item, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("_build", "__pycache__"))
        else:
            shutil.copy2(item, target)
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    config["title"] = f"{config.get('title', 'Deep learning')} (student edition)"
    config.setdefault("sphinx", {}).setdefault("config", {})["hide_solutions"] = True  # any {solution} left
    if outputs_from is not None:
        config.setdefault("execute", {})["execute_notebooks"] = "off"
    (out_dir / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    write_student_edition(out_dir / "chapters", root, outputs_from=outputs_from)
    return out_dir


def repository_url(root: Path | None = None) -> str:
    """The ``repository.url`` setting of ``_config.yml``: where the book and the package live."""
    config = yaml.safe_load(((root or find_root()) / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"]["url"].rstrip("/")


def install_urls(nb: nbformat.NotebookNode) -> list[str]:
    """The ``git+URL`` install targets named in a notebook's code cells."""
    return [m.group(0) for c in nb.cells if c.cell_type == "code" for m in _INSTALL.finditer(c.source)]


def sync_repo(root: Path | None = None) -> list[Path]:
    """Rewrite the install cell of every chapter notebook to install from ``repository_url``."""
    target = f"git+{repository_url(root)}"
    changed = []
    for path in chapter_notebooks(root):
        nb = nbformat.read(path, as_version=4)
        if install_urls(nb) == [target]:
            continue
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.source = _INSTALL.sub(target, cell.source)
        nbformat.write(nb, path)
        changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlcourse.book", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    student = sub.add_parser("student-edition", help="write the notebooks without solutions")
    student.add_argument("out_dir", type=Path)
    student.add_argument("chapters", nargs="*", help="only these chapters (e.g. 04_rnn or 04); default: all")
    site = sub.add_parser("student-site", help="the book's sources without solutions (and --build: the site)")
    site.add_argument("out_dir", type=Path, nargs="?", default=Path("_build/student"))
    site.add_argument("--build", action="store_true", help="then run jupyter-book build on it (-W -n --keep-going)")
    site.add_argument("--outputs-from", type=Path, default=None, metavar="DIR",
                      help="take the chapters' outputs from a book build's executed notebooks (e.g. "
                           "_build/jupyter_execute) instead of executing them again")
    sub.add_parser("instructors-page", help="regenerate appendix/instructors.md from the notebooks")
    sub.add_parser("sync-repo", help="make the notebooks install dlcourse from _config.yml's repository.url")
    assign = sub.add_parser("assignment", help="an nbgrader course folder for chapters' exercises (dlcourse.grading)")
    assign.add_argument("chapters", nargs="+", help="chapter names, e.g. 05_lstm (or 05)")
    assign.add_argument("--out", type=Path, required=True, help="the course folder")
    assign.add_argument("--whole", action="store_true", help="keep the chapter's teaching cells too")
    args = parser.parse_args(argv)
    if args.command == "assignment":
        from . import grading

        return grading.main(["assignment", *args.chapters, "--out", str(args.out), *(["--whole"] if args.whole else [])])
    if args.command == "student-edition":
        for path in write_student_edition(args.out_dir, chapters=args.chapters):
            print(f"wrote {path}")
    elif args.command == "student-site":
        out = write_student_site(args.out_dir, outputs_from=args.outputs_from)
        print(f"wrote the student edition's sources to {out}")
        if args.build:
            return subprocess.call(["jupyter-book", "build", str(out), "-W", "-n", "--keep-going"])
    elif args.command == "instructors-page":
        from . import grading

        print(f"wrote {grading.write_instructors_page()}")
    else:
        changed = sync_repo()
        print(f"{len(changed)} notebook(s) now install from git+{repository_url()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
