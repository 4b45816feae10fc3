#!/usr/bin/env python3
"""Checks every relative link of the built user guide (mdBook's HTML under docs/book).

    python3 scripts/check_book_links.py [BOOK_DIR]      (default: docs/book)

For each `href` and `src` in each page: a link inside the book must name a file that
exists and, with `#anchor`, an element with that id in it; a link leaving the book (the
guide links to files of the repository, e.g. `../../workloads/examples/convoy.toml`) must
name a file or folder of the repository (a `.md` file counts for the `.html` that mdBook
writes in its place). External links (http:, https:, mailto:) are not followed: this runs
offline. Prints each broken link with its page and exits with status 1 if there is any.
"""
import os
import sys
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.links = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)
            if name in ("href", "src"):
                self.links.append(value)


def parse(path, cache):
    if path not in cache:
        page = Page()
        with open(path, encoding="utf-8") as f:
            page.feed(f.read())
        cache[path] = page
    return cache[path]


def main():
    book = os.path.realpath(sys.argv[1] if len(sys.argv) > 1 else "docs/book")
    if not os.path.isfile(os.path.join(book, "index.html")):
        sys.exit(f"{book}: no index.html; build the book first (mdbook build docs)")
    cache = {}
    pages = sorted(
        os.path.join(d, f) for d, _, fs in os.walk(book) for f in fs if f.endswith(".html")
    )
    broken = []
    checked = 0
    for page_path in pages:
        page = parse(page_path, cache)
        rel_page = os.path.relpath(page_path, book)
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith("//"):
                continue  # external: not checked offline
            path, anchor = unquote(parts.path), unquote(parts.fragment)
            if not path and not anchor:
                continue  # "#": the theme's buttons
            checked += 1
            target = os.path.normpath(os.path.join(os.path.dirname(page_path), path)) if path else page_path
            inside = target == book or target.startswith(book + os.sep)
            if not os.path.exists(target):
                md = target[: -len(".html")] + ".md" if target.endswith(".html") else None
                if inside or not (md and os.path.exists(md)):
                    broken.append(f"{rel_page}: {link}: no such file")
                    continue
            if anchor and inside and target.endswith(".html"):
                if anchor not in parse(target, cache).ids:
                    broken.append(f"{rel_page}: {link}: no element with id `{anchor}`")
    for b in broken:
        print(f"broken link: {b}")
    print(f"{len(pages)} pages, {checked} relative links checked, {len(broken)} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
