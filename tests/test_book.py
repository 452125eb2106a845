"""Course tooling: the student edition, the repository URL setting, the benchmark's Results page."""
import json
import re
import shutil

import nbformat
import pytest
import yaml

from dlcourse import bench, book
from dlcourse.checks import foundations as check

ROOT = book.find_root()


def test_stub_code_replaces_solution_blocks():
    src = "def f(x):\n    '''doc'''\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n"
    assert book.stub_code(src) == "def f(x):\n    '''doc'''\n    raise NotImplementedError(\"your code here\")"
    top = "### BEGIN SOLUTION\nanswer = 6 * 7\nanswer = answer\n### END SOLUTION\nprint(answer)"
    assert book.stub_code(top) == "answer = ...  # your answer here\nprint(answer)"
    with pytest.raises(ValueError, match="without"):
        book.stub_code("### BEGIN SOLUTION\nx = 1\n")
    with pytest.raises(ValueError, match="without"):
        book.stub_code("### END SOLUTION\n")


@pytest.mark.parametrize("path", book.chapter_notebooks(ROOT), ids=lambda p: p.stem)
def test_student_edition_has_no_solutions_and_its_stubs_are_not_attempted(path, tmp_path):
    teacher = nbformat.read(path, as_version=4)
    student = book.student_edition(teacher, path.name)
    text = "\n".join(c.source for c in student.cells)
    assert "solution-start" not in text and "solution-end" not in text and "{solution}" not in text
    assert book.BEGIN not in text and book.END not in text
    assert "Student edition" in text
    assert not any(c.get("outputs") for c in student.cells if c.cell_type == "code")
    # every exercise is still there, and every auto-check call survives
    assert text.count("{exercise}") == "\n".join(c.source for c in teacher.cells).count("{exercise}")
    stubs = [c.source for c in student.cells if c.cell_type == "code"
             and ("NotImplementedError" in c.source or "= ...  # your answer" in c.source)]
    assert len(stubs) == sum(book.BEGIN in c.source for c in teacher.cells) > 0
    for source in stubs:  # a stub runs, and what it defines is reported as not attempted
        namespace = {"torch": __import__("torch"), "F": __import__("torch.nn.functional").nn.functional}
        exec(source, namespace)
        answers = [v for k, v in namespace.items() if k not in ("torch", "F", "__builtins__")]
        assert answers, source
        if callable(answers[0]):
            with pytest.raises(NotImplementedError):
                answers[0](*[None] * answers[0].__code__.co_argcount)
        else:
            assert answers[0] is ...
    written = book.write_student_edition(tmp_path, ROOT)
    assert [p.name for p in written] == [p.name for p in book.chapter_notebooks(ROOT)]


def test_stub_reports_not_attempted_rather_than_crashing():
    src = book.stub_code("def softmax(z):\n    ### BEGIN SOLUTION\n    return z\n    ### END SOLUTION")
    namespace = {}
    exec(src, namespace)
    assert "not attempted" in str(check.softmax(namespace["softmax"]))


def test_notebooks_install_from_the_configured_repository():
    url = book.repository_url(ROOT)
    for path in book.chapter_notebooks(ROOT):
        assert book.install_urls(nbformat.read(path, as_version=4)) == [f"git+{url}"], (
            f"{path.name} installs from elsewhere: run `python -m dlcourse.book sync-repo`")


def test_sync_repo_rewrites_install_cells(tmp_path):
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    shutil.copytree(ROOT / "chapters", tmp_path / "chapters", ignore=shutil.ignore_patterns("_build"))
    config = yaml.safe_load((tmp_path / "_config.yml").read_text())
    config["repository"]["url"] = "https://github.com/someone/their-fork/"
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    changed = book.sync_repo(tmp_path)
    assert changed
    for path in book.chapter_notebooks(tmp_path):
        assert book.install_urls(nbformat.read(path, as_version=4)) == ["git+https://github.com/someone/their-fork"]
    assert book.sync_repo(tmp_path) == []  # idempotent


def test_results_page_is_generated_from_the_benchmark():
    results = json.loads((ROOT / bench.RESULTS).read_text())
    assert (ROOT / bench.PAGE).read_text() == bench.render_page(results), (
        "appendix/results.md is stale: run `python -m dlcourse.bench --page-only`")
    assert {r["chapter"] for r in results["chapters"]} == {p.stem for p in book.chapter_notebooks(ROOT)}, (
        "some chapters have not been benchmarked: run `python -m dlcourse.bench`")


def test_glued_values_are_read_back_from_outputs():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("glue")])
    nb.cells[0].outputs = [
        nbformat.v4.new_output("display_data", data={"application/papermill.record/text/plain": "0.8912"},
                               metadata={"scrapbook": {"name": "acc", "mime_prefix": "application/papermill.record/"}}),
        nbformat.v4.new_output("display_data", data={"text/plain": "'Shirt'"},
                               metadata={"scrapbook": {"name": "worst", "mime_prefix": ""}}),
        nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>"}),
    ]
    assert bench.glued_values(nb) == {"acc": 0.8912, "worst": "Shirt"}


def test_render_page_marks_failures():
    results = {"date": "2026-01-01", "machine": {"cpus": 2, "threads": 2, "python": "3.11", "torch": "2",
                                                 "platform": "x"},
               "chapters": [{"chapter": "00_x", "title": "Zero", "seconds": 10.0, "budget_s": 120,
                             "headline": {"name": "acc", "target": 0.9, "at_least": True},
                             "headline_met": False, "values": {"acc": 0.5}, "error": None}]}
    page = bench.render_page(results)
    assert "| Zero | 10.0 | 120 | acc | ≥ 0.9 | 0.5 | **no** |" in page


@pytest.mark.parametrize("path", book.chapter_notebooks(ROOT), ids=lambda p: p.stem)
def test_student_exercises_run_and_report_not_attempted(path):
    """The student edition's exercise section runs without error, each check saying "not attempted".

    It runs the setup cells, any cell tagged ``exercise-setup`` (what exercises need from the
    chapter), then every code cell after the "## Exercises" heading.
    """
    from nbclient import NotebookClient

    student = book.student_edition(nbformat.read(path, as_version=4), path.name)
    code = [c for c in student.cells if c.cell_type == "code"]
    start = next(i for i, c in enumerate(student.cells) if re.search(r"^## Exercises", c.source, re.M))
    chosen = code[:2] + [c for c in code[2:] if "exercise-setup" in c.metadata.get("tags", [])]
    chosen += [c for c in student.cells[start:] if c.cell_type == "code"]
    nb = nbformat.v4.new_notebook(cells=chosen, metadata=student.metadata)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()  # raises on any error
    shown = [out.get("data", {}).get("text/plain", "") for c in nb.cells for out in c.outputs]
    checks = sum(c.source.startswith("check.") for c in chosen)
    assert checks >= 2 and sum("not attempted" in s for s in shown) == checks


def test_merge_seeds_reports_the_spread_and_fails_when_any_seed_fails():
    def run(seed, acc, met, error=None):
        return {"chapter": "00_x", "title": "Zero", "seed": seed, "seconds": 10.0 + seed, "budget_s": 120,
                "headline": {"name": "acc", "target": 0.9, "at_least": True}, "headline_met": met,
                "values": {"acc": acc, "worst": "Shirt"}, "error": error}

    merged = bench.merge_seeds([run(0, 0.93, True), run(1, 0.91, True), run(2, 0.95, True)])
    assert merged["values"]["acc"] == 0.93  # the first seed's run is the one the page quotes
    assert merged["spread"] == {"acc": {"min": 0.91, "median": 0.93, "max": 0.95}}  # strings have no spread
    assert merged["headline_met"] is True and merged["error"] is None
    assert [s["seed"] for s in merged["seeds"]] == [0, 1, 2]
    assert bench.merge_seeds([run(0, 0.93, True), run(1, 0.85, False)])["headline_met"] is False
    failed = bench.merge_seeds([run(0, 0.93, True), run(1, 0.93, None, error="AssertionError: x")])
    assert failed["error"] == "seed 1: AssertionError: x" and failed["headline_met"] is None
    page = bench.render_page({"date": "d", "machine": {"cpus": 2, "threads": 2, "python": "3", "torch": "2",
                                                      "platform": "x"}, "chapters": [merged]})
    assert "| `acc` | 0.93 | 0.91 | 0.93 | 0.95 |" in page and "| `worst` | Shirt | — | — | — |" in page


def test_chapter_seed_reads_the_environment(monkeypatch):
    import dlcourse

    monkeypatch.delenv("DLCOURSE_SEED", raising=False)
    assert dlcourse.chapter_seed() == 0 and dlcourse.chapter_seed(7) == 7
    monkeypatch.setenv("DLCOURSE_SEED", "3")
    assert dlcourse.chapter_seed() == 3
    monkeypatch.setenv("DLCOURSE_SEED", "three")
    with pytest.raises(ValueError, match="DLCOURSE_SEED must be an integer"):
        dlcourse.chapter_seed()
