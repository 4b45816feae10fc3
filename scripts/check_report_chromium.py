#!/usr/bin/env python3
"""Opens a vmsched report.html in headless Chromium, takes a screenshot, and fails on a
console error or an image that did not load.

Usage: python3 scripts/check_report_chromium.py [--vmsched BIN] [--keep DIR]

It builds a small results folder with `vmsched compare --slices` and `vmsched report`, then:
1. loads a copy of report.html with a checking script appended (the report itself has no
   script) and reads back, from the DOM Chromium dumps, how many images decoded and any
   error the page raised;
2. reads Chromium's console log for errors;
3. screenshots the real report.html (report.png; kept with --keep DIR);
4. checks itself: the same check on a copy with one broken image must fail.
Needs Debian's `chromium` (apt-get install chromium). Exit status 0 only if all passed.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--disable-background-networking", "--no-first-run", "--disable-component-update",
    "--disable-sync", "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
]
CHECK = """
<script>
window.__errors = [];
window.addEventListener("error", e => window.__errors.push(String(e.message || e.type)), true);
window.addEventListener("load", () => {
  const imgs = Array.from(document.images);
  const bad = imgs.filter(i => !(i.complete && i.naturalWidth > 0));
  const out = document.createElement("pre");
  out.id = "vmsched-check";
  out.textContent = "IMAGES " + (imgs.length - bad.length) + "/" + imgs.length +
    " ERRORS " + window.__errors.length + " " + window.__errors.join(" | ");
  document.body.appendChild(out);
});
</script>
"""


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("chromium not found: apt-get install chromium")


def run_chromium(args, profile):
    cmd = [chromium(), *FLAGS, f"--user-data-dir={profile}", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return r


def check_page(html: Path, work: Path):
    """Returns (images ok, images, errors list) for a report page."""
    probe = work / ("probe-" + html.name)
    text = html.read_text(encoding="utf-8")
    probe.write_text(text.replace("</body>", CHECK + "</body>"), encoding="utf-8")
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=work)
    r = run_chromium(["--virtual-time-budget=10000", "--dump-dom", probe.as_uri()], profile)
    m = re.search(r"IMAGES (\d+)/(\d+) ERRORS (\d+) ?(.*?)</pre>", r.stdout, re.S)
    if not m:
        return 0, -1, [f"no check result in the dumped DOM (chromium exit {r.returncode}): {r.stderr[-2000:]}"]
    errors = [e for e in m.group(4).split(" | ") if e.strip()]
    # Console errors Chromium logged (e.g. "Failed to load resource").
    for line in r.stderr.splitlines():
        if "CONSOLE" in line and ("Uncaught" in line or "Failed to load" in line or ":ERROR:" in line):
            errors.append(line.strip())
    return int(m.group(1)), int(m.group(2)), errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmsched", default=os.environ.get("VMSCHED", str(ROOT / "target" / "release" / "vmsched")))
    ap.add_argument("--keep", help="folder to keep report.html and report.png in")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vmsched-chromium-"))
    try:
        res = work / "results"
        subprocess.run([a.vmsched, "compare", "--vms", "1500", "--replications", "2", "--slices",
                        "--out", str(res)], check=True, capture_output=True)
        subprocess.run([a.vmsched, "report", str(res)], check=True, capture_output=True)
        report = res / "report.html"
        expected = len(re.findall(r"<img ", report.read_text(encoding="utf-8")))
        failures = []

        ok, total, errors = check_page(report, work)
        print(f"report.html: {ok}/{total} images decoded, {len(errors)} error(s)")
        if expected < 5 or total != expected or ok != total:
            failures.append(f"images: {ok} of {total} decoded, {expected} in the file (want at least 5)")
        failures += [f"page error: {e}" for e in errors]

        shot = work / "report.png"
        profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=work)
        r = run_chromium(["--window-size=1100,2400", f"--screenshot={shot}", report.as_uri()], profile)
        if not shot.exists() or shot.stat().st_size < 20_000:
            failures.append(f"no screenshot (chromium exit {r.returncode}): {r.stderr[-1000:]}")
        else:
            print(f"screenshot: {shot.stat().st_size} bytes")

        # The check must be able to fail: break one image and expect it to be caught.
        broken = work / "broken.html"
        broken.write_text(report.read_text(encoding="utf-8").replace(
            "data:image/png;base64,iVBORw0KGgo", "data:image/png;base64,AAAA", 1), encoding="utf-8")
        bok, btotal, _ = check_page(broken, work)
        if not (btotal == total and bok == total - 1):
            failures.append(f"self-test: a broken image was not detected ({bok}/{btotal})")
        else:
            print(f"self-test: broken image detected ({bok}/{btotal})")

        if a.keep:
            keep = Path(a.keep)
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(report, keep / "report.html")
            if shot.exists():
                shutil.copy(shot, keep / "report.png")
        if failures:
            for f in failures:
                print("FAILED:", f, file=sys.stderr)
            return 1
        print("report.html in headless Chromium: ok")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
