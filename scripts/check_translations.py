#!/usr/bin/env python
"""Fail when the German or Russian catalogue misses a string, or the compiled catalogue is stale.

Runs `makemessages` in a scratch tree (links to the sources, a copy of the catalogues), so the
working tree is left alone: makemessages writes into the `locale` directory it finds while walking
the sources, whatever LOCALE_PATHS says. Then checks that every message has a translation, that no
entry is fuzzy and that the committed catalogue holds every message the sources use.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
LANGS = ["de", "ru"]


def entries(po_path: Path) -> dict[str, polib.POEntry]:
    return {entry.msgid: entry for entry in polib.pofile(str(po_path)) if not entry.obsolete}


def main() -> int:
    problems = []
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "tree"
        tree.mkdir()
        for entry in ROOT.iterdir():
            if entry.name not in ("locale", ".git", ".venv", "node_modules", "var"):
                (tree / entry.name).symlink_to(entry)
        work = tree / "locale"
        shutil.copytree(ROOT / "locale", work)
        env = dict(os.environ, PORTAL_LOCALE_DIR=str(work), DEBUG="true")
        cmd = [
            sys.executable,
            str(ROOT / "manage.py"),
            "makemessages",
            "--symlinks",
            "--no-obsolete",
            "--no-location",
            "--ignore=node_modules",
            "--ignore=.venv",
            "--ignore=var",
            "--ignore=tests",
            "--ignore=benchmarks",
        ]
        for lang in LANGS:
            cmd += ["-l", lang]
        subprocess.run(cmd, cwd=tree, env=env, check=True, capture_output=True)
        for lang in LANGS:
            po = work / lang / "LC_MESSAGES" / "django.po"
            fresh_entries = entries(po)
            for msgid, entry in fresh_entries.items():
                if entry.fuzzy:
                    problems.append(f"{lang}: fuzzy: {msgid!r}")
                elif not entry.translated():
                    problems.append(f"{lang}: untranslated: {msgid!r}")
            committed = ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"
            new_ids = set(fresh_entries)
            old_ids = set(entries(committed)) if committed.exists() else set()
            for missing in sorted(new_ids - old_ids):
                problems.append(f"{lang}: not in the committed catalogue (run `make messages`): {missing!r}")
            mo = committed.with_suffix(".mo")
            fresh = Path(scratch) / f"{lang}.mo"
            subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(committed)], check=True)
            if not mo.exists() or mo.read_bytes() != fresh.read_bytes():
                problems.append(f"{lang}: compiled catalogue differs from django.po (run `make messages`)")
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} translation problem(s).")
        return 1
    print("Translation catalogues are complete.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
