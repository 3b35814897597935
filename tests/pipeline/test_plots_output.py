"""`git mlv plots -o` somewhere that cannot be written: one line naming the path the user gave and
what to do, exit 6 (a file-system error), as every other command reports such a failure."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import mlv, one_error_line


def test_plots_to_a_folder_that_does_not_exist(two_tags: Path, tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "plots.png"
    p = mlv("plots", "-o", str(target), cwd=two_tags, check=False)
    err = one_error_line(p, 6)
    assert str(target) in err and ".tmp" not in err  # the path the user gave, not our temporary file
    assert "create it" in err
    assert not (tmp_path / "no").exists()
    folder = tmp_path / "a-folder"
    folder.mkdir()
    err = one_error_line(mlv("plots", "-o", str(folder), cwd=two_tags, check=False), 6)
    assert str(folder) in err
    assert list(folder.iterdir()) == []  # no temporary file left behind
