"""A root ``.gitattributes`` that starts with a UTF-8 byte order mark (Notepad, PowerShell's
``Out-File -Encoding utf8``): git skips the mark and applies the first line, but git-mlv read it as
part of the first pattern: `git mlv track` listed "\\ufeff*.h5", `untrack '*.h5'` answered that
it was not tracked (the files stayed data), and `track '*.h5'` wrote a second line for it."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, out

BOM = "\ufeff".encode()


def _filter(repo: Path, path: str) -> str:
    return out(git("check-attr", "filter", "--", path, cwd=repo)).rsplit(": ", 1)[1].strip()


def test_track_and_untrack_read_the_first_line_as_git_does(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    git("init", "-q", str(repo), cwd=tmp_path)
    attrs = repo / ".gitattributes"
    attrs.write_bytes(BOM + b"*.h5 filter=mlv diff=mlv merge=mlv -text\n*.txt text\n")
    assert _filter(repo, "m.h5") == "mlv"  # git's reading
    assert out(mlv("track", cwd=repo)).splitlines() == ["*.h5"]

    mlv("track", "*.h5", "*.bin", cwd=repo)
    text = attrs.read_bytes()
    assert text.startswith(BOM) and text.count(b"*.h5") == 1 and b"\n*.bin filter=mlv" in text, text
    assert _filter(repo, "m.bin") == "mlv"

    mlv("untrack", "*.h5", cwd=repo)
    text = attrs.read_bytes()
    assert text.startswith(BOM + b"*.txt text\n") and b"*.h5" not in text, text
    assert _filter(repo, "m.h5") == "unspecified" and _filter(repo, "m.bin") == "mlv"
