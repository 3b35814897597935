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


def test_plots_writes_the_format_its_extension_names(two_tags: Path, tmp_path: Path) -> None:
    """Before, every --output got PNG bytes: out.svg and out.jpg were PNG files under those names."""
    for name, magic in (("p.svg", b"<?xml"), ("p.jpg", b"\xff\xd8\xff"), ("p.pdf", b"%PDF"),
                        ("p.png", b"\x89PNG"), ("p", b"\x89PNG")):
        mlv("plots", "-o", str(tmp_path / name), cwd=two_tags)
        assert (tmp_path / name).read_bytes().startswith(magic), name
    err = one_error_line(mlv("plots", "-o", str(tmp_path / "p.xyz"), cwd=two_tags, check=False), 2)
    assert ".xyz" in err and ".png" in err
    assert not (tmp_path / "p.xyz").exists()
