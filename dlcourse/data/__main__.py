"""Command line: ``python -m dlcourse.data list`` and ``python -m dlcourse.data download [NAME ...]``."""
from __future__ import annotations

import argparse
import sys

from . import REGISTRY, DataNotFoundError, data_dir, get


def _list() -> int:
    print(f"data directory: {data_dir()}  (set DLCOURSE_DATA to change it)\n")
    for name, ds in sorted(REGISTRY.items()):
        status = ds.status()
        have = sum(p is not None for p in status.values())
        print(f"{name}  —  {ds.title}, {ds.license} license, cite {ds.citation}")
        print(f"  {ds.description}")
        print(f"  {have}/{len(status)} files available locally")
        for file, path in status.items():
            print(f"    {'✓' if path else '✗'} {file}" + (f"  ({path})" if path else "  (not cached)"))
    return 0


def _download(names: list[str]) -> int:
    failed = 0
    for name in names or sorted(REGISTRY):
        ds = get(name)
        try:
            paths = ds.fetch(progress=True)
        except DataNotFoundError as err:
            print(err, file=sys.stderr)
            failed += 1
            continue
        print(f"{name}: {len(paths)} files verified")
        for file, path in paths.items():
            print(f"  {file}: {path}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlcourse.data", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="show the datasets and which files are available locally")
    download = sub.add_parser("download", help="fetch and verify datasets (all when none is named)")
    download.add_argument("names", nargs="*", help="dataset names, e.g. fashion-mnist")
    args = parser.parse_args(argv)
    try:
        return _list() if args.command == "list" else _download(args.names)
    except ValueError as err:  # unknown dataset name
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
