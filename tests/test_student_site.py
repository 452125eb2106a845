"""The student site can reuse a book build's executed notebooks instead of running the chapters again."""
import json

import nbformat
import pytest
import yaml

from dlcourse import book

ROOT = book.find_root()
CHAPTER = book.chapter_notebooks(ROOT)[0]


def _executed(tmp_path, nb):
    """A stand-in for jupyter-book's _build/jupyter_execute: every code cell gets an output naming its index."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"cell {i}\n")]
    folder = tmp_path / "jupyter_execute"
    (folder / "chapters").mkdir(parents=True)
    nbformat.write(nb, folder / "chapters" / CHAPTER.name)
    return folder


def test_student_edition_keeps_outputs_of_kept_cells_and_none_on_stubs(tmp_path):
    folder = _executed(tmp_path, nbformat.read(CHAPTER, as_version=4))
    [written] = book.write_student_edition(tmp_path / "out", ROOT, [CHAPTER.stem], outputs_from=folder)
    student = nbformat.read(written, as_version=4)
    code = [c for c in student.cells if c.cell_type == "code"]
    stubs = [c for c in code if "NotImplementedError" in c.source or "# your answer here" in c.source]
    kept = [c for c in code if c not in stubs]
    assert stubs and kept
    assert all(not c.outputs for c in stubs)
    assert all(len(c.outputs) == 1 and c.outputs[0].text.startswith("cell ") for c in kept)
    assert book.BEGIN not in "\n".join(c.source for c in student.cells)


def test_a_stale_or_missing_executed_copy_is_refused(tmp_path):
    nb = nbformat.read(CHAPTER, as_version=4)
    nb.cells[-1].source += "\n(an edit made after the build)"
    folder = _executed(tmp_path, nb)
    with pytest.raises(ValueError, match="build the book again"):
        book.write_student_edition(tmp_path / "out", ROOT, [CHAPTER.stem], outputs_from=folder)
    with pytest.raises(FileNotFoundError, match="build the book first"):
        book.write_student_edition(tmp_path / "out", ROOT, [CHAPTER.stem], outputs_from=tmp_path / "nothing")


def test_student_site_from_outputs_does_not_execute(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(book, "write_student_edition", lambda out, root, outputs_from=None: calls.append(outputs_from))
    out = book.write_student_site(tmp_path / "site", ROOT, outputs_from=tmp_path / "executed")
    config = yaml.safe_load((out / "_config.yml").read_text(encoding="utf-8"))
    assert config["execute"]["execute_notebooks"] == "off" and config["sphinx"]["config"]["hide_solutions"] is True
    assert calls == [tmp_path / "executed"]


def test_glued_values_that_myst_nb_moved_out_are_put_back(tmp_path):
    """jupyter-book's executed copies hold no glue outputs: myst-nb keeps them in <chapter>.glue.json."""
    folder = _executed(tmp_path, nbformat.read(CHAPTER, as_version=4))
    record = {"data": {"text/plain": "0.875"}, "output_type": "display_data",
              "metadata": {"scrapbook": {"mime_prefix": "application/papermill.record/", "name": "some_acc"}}}
    (folder / "chapters" / f"{CHAPTER.stem}.glue.json").write_text(json.dumps({"some_acc": record}))
    [written] = book.write_student_edition(tmp_path / "out", ROOT, [CHAPTER.stem], outputs_from=folder)
    outputs = [o for c in nbformat.read(written, as_version=4).cells if c.cell_type == "code" for o in c.outputs]
    glued = [o for o in outputs if o.get("metadata", {}).get("scrapbook", {}).get("name") == "some_acc"]
    assert len(glued) == 1 and glued[0]["data"] == {"application/papermill.record/text/plain": "0.875"}
