#!/usr/bin/env python3
"""Executes every notebook under notebooks/ top to bottom (nbclient) and fails on any error.

Usage: python3 scripts/run_notebooks.py [NOTEBOOK ...]
The notebooks find the binary through $VMSCHED, else ../target/release/vmsched: build it
first (cargo build --release). Outputs are not written back; the notebooks stay clean.
"""
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def main(paths):
    paths = [Path(p) for p in paths] or sorted(NOTEBOOKS.glob("*.ipynb"))
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
            print(f"ok      {path.name} ({time.monotonic() - start:.1f} s)")
        except CellExecutionError as e:
            failed += 1
            print(f"FAILED  {path.name}\n{e}", file=sys.stderr)
    print(f"{len(paths) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
