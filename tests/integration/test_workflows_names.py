"""Odd file names in what git-mlv prints (real git): one path is one line, and a name's bytes never
reach the terminal raw. git C-quotes such names in its listings, and so do `git mlv ls-files` and
`git mlv status` (cli/render.quote_path); `git mlv diff` printed them as they are (found by helper
Q: a name with a newline broke its table row in two, a tab shifted the columns, and an ESC in a
name, which any repository one clones can hold, went to the terminal as an escape code)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, random_bytes, write

NAMES = {"new\nline.bin": '"new\\nline.bin"', "t\tab.bin": '"t\\tab.bin"',
         "esc\x1b[31mred.bin": '"esc\\033[31mred.bin"', 'q"uote.bin': '"q\\"uote.bin"'}


def test_git_mlv_diff_quotes_names_as_git_does(repo: Path) -> None:
    write(repo / "keep.bin", random_bytes(3000, seed=1))
    commit_all(repo, "v1")
    for n, name in enumerate(NAMES):
        write(repo / name, random_bytes(3000, seed=10 + n))
    git("mv", "keep.bin", "re\tnamed.bin", cwd=repo)
    commit_all(repo, "odd names")
    text = out(mlv("diff", "HEAD~1", "HEAD", cwd=repo))
    assert "\x1b" not in text and "\t" not in text
    rows = [line for line in text.splitlines() if line.startswith(("added", "renamed"))]
    assert len(rows) == len(NAMES) + 1, text  # one line each: no name split a row
    for quoted in NAMES.values():
        assert any(row.split()[1] == quoted for row in rows), (quoted, text)
    assert any('keep.bin -> "re\\tnamed.bin"' in row for row in rows), text
    md = out(mlv("diff", "HEAD~1", "HEAD", "--md", cwd=repo))
    assert "\x1b" not in md and '`"new\\nline.bin"`' in md


def test_checkout_warnings_quote_names(repo: Path, tmp_path: Path) -> None:
    """A clone where the data is not here (no data remote): one warning line per file, the name
    C-quoted; a plain name keeps its single quotes."""
    names = {**NAMES, "plain.bin": "'plain.bin'"}
    for n, name in enumerate(names):
        write(repo / name, random_bytes(3000, seed=20 + n))
    commit_all(repo, "odd names")
    proc = git("clone", str(repo), str(tmp_path / "clone"), cwd=tmp_path)
    err = proc.stderr.decode()
    assert "\x1b" not in err and "\t" not in err
    warned = [line for line in err.splitlines() if line.startswith("git-mlv: warning: data of ")]
    assert len(warned) == len(names), err  # one line each: no name split a line
    for shown in names.values():
        assert any(line.startswith(f"git-mlv: warning: data of {shown} is not here;")
                   for line in warned), (shown, err)
