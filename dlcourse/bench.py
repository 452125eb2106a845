"""The benchmark: execute every chapter notebook, time it, and collect the numbers it glues.

    python -m dlcourse.bench                 # all chapters; writes results/benchmark.json
    python -m dlcourse.bench 00_foundations  # some chapters (merged into the existing results)
    python -m dlcourse.bench 03_lightweight --seeds 0 1 2   # rerun under several seeds: the spread
    python -m dlcourse.bench --page-only     # only regenerate appendix/results.md (and the guide) from the JSON

Each chapter declares its budget and headline claim in its notebook metadata, e.g.
``"dlcourse": {"budget_s": 120, "headline": {"name": "test_acc", "target": 0.87, "at_least": true}}``,
and glues the headline number (myst-nb's ``glue``), so the page shows exactly what the run measured.
Each executed notebook is kept, with its outputs, in ``results/executed/`` (not committed).

With ``--seeds``, each chapter runs once per seed (``$DLCOURSE_SEED``, read by
``dlcourse.chapter_seed``); the first seed's run is the one the page quotes, and every numeric value
is reported with its min / median / max over the seeds, so a claim that holds by luck shows.
"""
from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from . import guide
from .book import chapter_notebooks, find_root
from .utils import SEED_ENV

RESULTS = Path("results") / "benchmark.json"  # relative to the course checkout
PAGE = Path("appendix") / "results.md"
EXECUTED = Path("results") / "executed"  # each run's executed notebook, outputs included (not committed)


def glued_values(nb: nbformat.NotebookNode) -> dict[str, object]:
    """Every value a notebook glued, read back from its outputs (numbers as numbers)."""
    values: dict[str, object] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            meta = out.get("metadata", {}).get("scrapbook")
            if out.get("output_type") != "display_data" or not meta:
                continue
            markdown = next((v for k, v in out["data"].items() if k.endswith("text/markdown")), None)
            if markdown is not None:  # a glued sentence, e.g. a verdict computed from the numbers
                values[meta["name"]] = markdown
                continue
            text = next((v for k, v in out["data"].items() if k.endswith("text/plain")), None)
            try:
                values[meta["name"]] = ast.literal_eval(text)
            except (ValueError, SyntaxError, TypeError):
                values[meta["name"]] = text
    return values


def run_chapter(path: Path, timeout: int = 900, seed: int | None = None, save_to: Path | None = None) -> dict:
    """Execute one notebook in its own folder (under ``seed`` when given); return its wall time,
    glued values and claim. With ``save_to``, the executed notebook is written there too (a failed
    run included, so its traceback can be read)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    error = None
    previous = os.environ.get(SEED_ENV)
    if seed is not None:
        os.environ[SEED_ENV] = str(seed)  # the kernel inherits this process's environment
    try:
        client.execute()
    except Exception as err:  # a failing chapter is reported, not hidden
        error = f"{type(err).__name__}: {str(err).strip().splitlines()[-1] if str(err).strip() else ''}"
    finally:
        if previous is None:
            os.environ.pop(SEED_ENV, None)
        else:
            os.environ[SEED_ENV] = previous
    seconds = time.perf_counter() - start
    if save_to is not None:
        save_to.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, save_to)
    meta = nb.metadata.get("dlcourse", {})
    values = glued_values(nb)
    headline = meta.get("headline")
    met = None
    if headline and isinstance(values.get(headline["name"]), (int, float)):
        value = values[headline["name"]]
        met = value >= headline["target"] if headline.get("at_least", True) else value <= headline["target"]
    return {"chapter": path.stem, "title": meta.get("title", path.stem), "seed": seed, "seconds": round(seconds, 1),
            "budget_s": meta.get("budget_s"), "headline": headline, "headline_met": met,
            "values": values, "error": error}


def merge_seeds(runs: list[dict]) -> dict:
    """One chapter's runs under several seeds as one record: the first run's numbers, plus ``spread``
    (min / median / max of every numeric value over the runs) and ``seeds`` (each run's seed, time,
    headline verdict and error). A chapter fails when any seed fails."""
    first = dict(runs[0])
    if len(runs) == 1:
        return first
    spread = {}
    for name, value in first["values"].items():
        found = [r["values"].get(name) for r in runs]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in found):
            spread[name] = {"min": min(found), "median": statistics.median(found), "max": max(found)}
    verdicts = [r["headline_met"] for r in runs]
    first["headline_met"] = None if None in verdicts else all(verdicts)
    first["error"] = next((f"seed {r['seed']}: {r['error']}" for r in runs if r["error"]), None)
    first["spread"] = spread
    first["seeds"] = [{k: r[k] for k in ("seed", "seconds", "headline_met", "error")} for r in runs]
    return first


def machine() -> dict:
    import torch

    return {"platform": platform.platform(), "python": platform.python_version(), "torch": torch.__version__,
            "cpus": os.cpu_count(), "threads": torch.get_num_threads()}


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def render_page(results: dict) -> str:
    """The appendix page "Results", as MyST markdown, from the benchmark's JSON."""
    m = results["machine"]
    lines = [
        "# Results",
        "",
        "```{note}",
        "This page is written by `python -m dlcourse.bench` from `results/benchmark.json`; do not edit it by hand.",
        "Run the benchmark again to measure your own machine.",
        "```",
        "",
        f"Measured on {results['date']}: {m['cpus']} CPU cores ({m['threads']} torch threads), "
        f"Python {m['python']}, PyTorch {m['torch']}, {m['platform']}.",
        "",
        "| chapter | wall time (s) | budget (s) | headline | target | measured | met |",
        "|---|---:|---:|---|---:|---:|:---:|",
    ]
    for r in results["chapters"]:
        h = r["headline"] or {}
        value = r["values"].get(h.get("name"), "—")
        target = f"{'≥' if h.get('at_least', True) else '≤'} {_fmt(h['target'])}" if h else "—"
        met = {True: "yes", False: "**no**", None: "—"}[r["headline_met"]]
        if r["error"]:
            met = "**failed**"
        lines.append(f"| {r['title']} | {r['seconds']} | {r['budget_s'] or '—'} | {h.get('name', '—')} "
                     f"| {target} | {_fmt(value)} | {met} |")
    total = sum(r["seconds"] for r in results["chapters"])
    lines += ["", f"Whole course: {total:.0f} s.", "", "## Every number the chapters glue", ""]
    for r in results["chapters"]:
        lines += [f"### {r['title']}", ""]
        spread = r.get("spread")
        if spread:
            seeds = ", ".join(str(s["seed"]) for s in r["seeds"])
            times = ", ".join(f"{s['seconds']} s" for s in r["seeds"])
            lines += [f"Run under seeds {seeds} ({times}); *value* is seed {r['seeds'][0]['seed']}'s, the page's.", "",
                      "| name | value | min | median | max |", "|---|---:|---:|---:|---:|"]
            lines += [f"| `{k}` | {_fmt(v)} | " + (" | ".join(_fmt(spread[k][s]) for s in ("min", "median", "max"))
                                                   if k in spread else "— | — | —") + " |"
                      for k, v in sorted(r["values"].items())]
        else:
            lines += ["| name | value |", "|---|---:|"]
            lines += [f"| `{k}` | {_fmt(v)} |" for k, v in sorted(r["values"].items())]
        if r["error"]:
            lines += ["", f"The run failed: `{r['error']}`"]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlcourse.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapters", nargs="*", help="notebook stems, e.g. 00_foundations (default: all)")
    parser.add_argument("--page-only", action="store_true", help="only regenerate the Results page")
    parser.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell")
    parser.add_argument("--seeds", type=int, nargs="+", metavar="SEED",
                        help="run each chapter once per seed and report the spread (default: the chapter's own seed)")
    args = parser.parse_args(argv)
    root = find_root()
    results_file, page = root / RESULTS, root / PAGE
    results = json.loads(results_file.read_text()) if results_file.exists() else {"chapters": []}
    if not args.page_only:
        paths = chapter_notebooks(root)
        unknown = set(args.chapters) - {p.stem for p in paths}
        if unknown:
            parser.error(f"no such chapter(s): {', '.join(sorted(unknown))}; have {[p.stem for p in paths]}")
        by_name = {r["chapter"]: r for r in results["chapters"]}
        for path in paths:
            if args.chapters and path.stem not in args.chapters:
                continue
            runs = []
            for seed in args.seeds or [None]:
                print(f"running {path.name}" + (f" under seed {seed}" if seed is not None else "") + " …", flush=True)
                saved = root / EXECUTED / (path.stem + (f".seed{seed}" if seed is not None else "") + ".ipynb")
                runs.append(run_chapter(path, args.timeout, seed, save_to=saved))
                status = "FAILED: " + runs[-1]["error"] if runs[-1]["error"] else f"headline met: {runs[-1]['headline_met']}"
                print(f"  {runs[-1]['seconds']} s (budget {runs[-1]['budget_s']} s), {status}", flush=True)
            r = by_name[path.stem] = merge_seeds(runs)
            for k, v in sorted(r["values"].items()):
                spread = r.get("spread", {}).get(k)
                extra = f"   (min {_fmt(spread['min'])}, median {_fmt(spread['median'])}, max {_fmt(spread['max'])})" if spread else ""
                print(f"  {k} = {_fmt(v)}{extra}")
        existing = {p.stem for p in paths}
        results = {"date": dt.date.today().isoformat(), "machine": machine(),
                   "chapters": [by_name[k] for k in sorted(by_name) if k in existing]}
        results_file.parent.mkdir(parents=True, exist_ok=True)
        results_file.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    if "machine" not in results:
        parser.error(f"{results_file} does not exist yet: run the benchmark first")
    page.write_text(render_page(results))
    print(f"wrote {results_file}, {page} and {guide.write(root, results)}")
    failed = [r["chapter"] for r in results["chapters"] if r["error"] or r["headline_met"] is False]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
