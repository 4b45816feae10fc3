#!/usr/bin/env python3
"""Executes every notebook under notebooks/ top to bottom (nbclient) and fails on any error,
and on any cell that draws (matplotlib, pandas `.plot`, `.gantt()`) without leaving an
image/png output: a notebook that runs but shows no figure fails too.

Usage: python3 scripts/run_notebooks.py [--out DIR] [NOTEBOOK ...]
The notebooks import the `vmsched` Python package: install it first into the interpreter
that runs this script (`pip install ./python`); the kernel is that interpreter. Notebook 4
also runs the binary ($VMSCHED, else ../target/release/vmsched) when VMSCHED_NB_KVM=1.
Outputs are not written back (the notebooks stay clean); --out DIR saves the executed
copies there.
"""
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"

# A code cell draws if it calls matplotlib or pandas plotting or a textbook Gantt chart.
DRAWS = re.compile(r"plt\.|\.plot[.(]|\.boxplot\(|\.gantt\(|\.hist\(")


def images(cell):
    """How many image/png outputs a code cell left."""
    return sum(1 for o in cell.get("outputs", []) if "image/png" in o.get("data", {}))


def check_figures(nb):
    """Problems: the drawing cells without an image output. Returns (problems, images)."""
    problems, total = [], 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        n = images(cell)
        total += n
        if DRAWS.search(cell.source) and n == 0:
            first = cell.source.strip().splitlines()[0]
            problems.append(f"cell {i} draws but shows no image: {first}")
    return problems, total


def main(args):
    out = None
    if args[:1] == ["--out"]:
        out, args = Path(args[1]), args[2:]
        out.mkdir(parents=True, exist_ok=True)
    paths = [Path(p) for p in args] or sorted(NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        print("no notebooks found", file=sys.stderr)
        return 1
    failed = 0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        start = time.monotonic()
        client = NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(NOTEBOOKS)}})
        try:
            client.execute()
        except CellExecutionError as e:
            failed += 1
            print(f"FAILED  {path.name}\n{e}", file=sys.stderr)
            continue
        if out is not None:
            nbformat.write(nb, out / path.name)
        problems, total = check_figures(nb)
        if problems:
            failed += 1
            print(f"FAILED  {path.name}: " + "; ".join(problems), file=sys.stderr)
        else:
            print(f"ok      {path.name} ({time.monotonic() - start:.1f} s, {total} figures)")
    print(f"{len(paths) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
