"""Shared fixtures: the command-line binary the Python results are compared with."""
import os
import pathlib
import shutil

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def vmsched_bin():
    """The `vmsched` binary: $VMSCHED_BIN, else the repository's release build."""
    cand = os.environ.get("VMSCHED_BIN") or str(REPO / "target" / "release" / "vmsched")
    if not (os.path.isfile(cand) and os.access(cand, os.X_OK)):
        cand = shutil.which("vmsched") or ""
    if not cand:
        if os.environ.get("VMSCHED_REQUIRE_BIN"):
            pytest.fail("VMSCHED_REQUIRE_BIN is set but no vmsched binary was found")
        pytest.skip("SKIPPED: no vmsched binary (cargo build --release, or set VMSCHED_BIN)")
    return cand
