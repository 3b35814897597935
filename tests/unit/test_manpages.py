"""The committed man pages are what the argparse definitions generate: a new verb or option fails
here until `make man` has regenerated them."""

from __future__ import annotations

from pathlib import Path

from git_mlv.cli import manpage
from git_mlv.cli.main import COMMANDS

COMMITTED = Path(__file__).resolve().parents[2] / "git_mlv" / "man" / "man1"


def test_pages_are_current() -> None:
    want = manpage.pages()
    have = {p.name: p.read_text(encoding="utf-8") for p in COMMITTED.glob("*.1")}
    stale = sorted(n for n in set(want) | set(have) if want.get(n) != have.get(n))
    assert not stale, f"man pages out of date: {', '.join(stale)}; run `make man` and commit them"


def test_every_verb_has_a_page() -> None:
    pages = manpage.pages()
    for module in COMMANDS:
        assert f"git-mlv-{module.replace('_', '-')}.1" in pages, module
    main = pages["git-mlv.1"]
    assert ".SH COMMANDS" in main and "git mlv migrate" in main.replace("\\-", "-")
    migrate = pages["git-mlv-migrate.1"].replace("\\-", "-")
    for text in ("--everything", "--no-rewrite", "from-lfs", "from-dvc", ".SH MODES"):
        assert text in migrate, text


def test_roff_escapes() -> None:
    assert manpage._esc("a-b\\c") == "a\\-b\\ec"
    assert manpage._esc(".starts with a dot") == "\\&.starts with a dot"
