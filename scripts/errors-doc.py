#!/usr/bin/env python3
"""Rewrites the code table in docs/ERRORS.md from `deskshare errors --markdown`, so the
doc cannot drift from the code. Run after adding an ErrorCode: python3 scripts/errors-doc.py"""
import pathlib
import subprocess

root = pathlib.Path(__file__).resolve().parent.parent
table = subprocess.run(
    ["cargo", "run", "-q", "--", "errors", "--markdown"], cwd=root, capture_output=True, text=True, check=True
).stdout
doc_path = root / "docs" / "ERRORS.md"
doc = doc_path.read_text()
start = doc.index("## All codes")
end = doc.index("## Where users meet them")
doc_path.write_text(doc[:start] + "## All codes\n\n" + table + "\n" + doc[end:])
