"""`git mlv status` names tracked files whose `text` attribute overrides the `-text` of git-mlv's
lines (a folder's `*.csv text`, a later `* text=auto`): with core.autocrlf=true (Git for Windows)
or eol=crlf git converts their pointers' line ends, and git diff, git archive and other tools see
altered pointers. Nothing said so before. Only the files status lists are asked, in one `git
check-attr --stdin`, and the hint names the line that sets `text`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import commit_all, mlv, out, random_bytes, write


@pytest.fixture
def tracked(repo: Path) -> Path:
    """`*.csv` tracked too; twenty files of each kind, committed with their data."""
    mlv("track", "*.csv", cwd=repo)
    for i in range(20):
        write(repo / "data" / "csv" / f"t{i}.csv", b"a,b\n%d,2\n" % i)
        write(repo / f"m{i}.bin", random_bytes(3000, i))
    commit_all(repo, "data")
    return repo


def test_a_folders_text_line_is_named_for_the_files_status_lists(tracked: Path) -> None:
    write(tracked / "data" / "csv" / ".gitattributes", b"# tables\n*.csv text\n")
    (tracked / "data" / "csv" / "t3.csv").write_bytes(b"a,b\n3,3\n")  # modified: listed
    (tracked / "m1.bin").write_bytes(b"changed\n")  # listed, and its -text holds
    text = out(mlv("status", "--no-remote", cwd=tracked))
    section = text.split("`text` attribute overrides git-mlv's `-text`")[1]
    assert "  data/csv/t3.csv\n" in section and "m1.bin" not in section, text
    assert "data/csv/.gitattributes:2 `*.csv text` sets it" in section, text
    assert "t4.csv" not in text  # not listed by status: not asked either
    st = json.loads(out(mlv("status", "--no-remote", "--json", cwd=tracked)))
    assert st["text_attribute"] == ["data/csv/t3.csv"]
    assert st["text_attribute_line"] == "data/csv/.gitattributes:2: *.csv text"


def test_a_later_text_auto_line_and_one_check_attr(tracked: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    with open(tracked / ".gitattributes", "ab") as f:
        f.write(b"* text=auto\n")
    for name in ("m2.bin", "m5.bin"):
        (tracked / name).write_bytes(b"changed\n")
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    st = json.loads(out(mlv("status", "--no-remote", "--json", cwd=tracked)))
    assert st["text_attribute"] == ["m2.bin", "m5.bin"]
    n = len((tracked / ".gitattributes").read_text().splitlines())
    assert st["text_attribute_line"] == f".gitattributes:{n}: * text=auto"
    calls = [ln for ln in trace.read_text().splitlines() if "check-attr" in ln and " text" in ln]
    assert len(calls) == 1, calls


def test_nothing_said_while_our_text_unset_holds(tracked: Path) -> None:
    (tracked / "m2.bin").write_bytes(b"changed\n")
    write(tracked / "data" / "csv" / ".gitattributes", b"*.csv text\n*.csv -text\n")
    st = json.loads(out(mlv("status", "--no-remote", "--json", cwd=tracked)))
    assert st["modified"] == ["m2.bin"] and st["text_attribute"] == []
    assert "text` attribute" not in out(mlv("status", "--no-remote", cwd=tracked))
