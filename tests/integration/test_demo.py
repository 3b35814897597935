"""`make demo` stays alive: run the walkthrough end to end on a small dataset.

The walkthrough checks itself (image counts, model.bin hashes at v1.0, byte equality of a fresh clone,
`repro` up to date in the clone) and exits 1 when a check fails; here we run it for real, with
DEMO_IMAGES small so that it takes seconds, and look at what it left behind in DEMO_DIR.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WALKTHROUGH = ROOT / "demo" / "walkthrough.py"


def run_demo(demo_dir: Path, images: str) -> subprocess.CompletedProcess[str]:
    """Run the walkthrough with this venv's python, as `make demo` does."""
    env = dict(os.environ, DEMO_DIR=str(demo_dir), DEMO_IMAGES=images)
    return subprocess.run([sys.executable, str(WALKTHROUGH)], env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    demo_dir = tmp_path / "demo"
    proc = run_demo(demo_dir, "60")
    assert proc.returncode == 0, f"demo failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    out = proc.stdout
    for step in range(1, 10):
        assert f"Step {step}/9" in out
    assert "$ git mlv run -n train -d train.py -d data -o model.bin -M metrics.json python train.py" in out
    assert "Every step ran for real and every check held" in out
    assert "\033[" not in out  # no colour when stdout is not a terminal
    # what it kept: two tags on origin, the clone holds real images, the user's HOME was never used
    tags = subprocess.run(["git", "ls-remote", "--tags", str(demo_dir / "origin.git")],
                          capture_output=True, text=True, check=True).stdout
    assert "refs/tags/v1.0" in tags and "refs/tags/v2.0" in tags
    images = list((demo_dir / "clone" / "data").rglob("*.png"))
    assert len(images) == 120
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in images)
    assert (demo_dir / "home" / ".gitconfig").read_text().count("filter \"mlv\"") == 1


def test_demo_refuses_bad_settings(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    proc = run_demo(tmp_path / "busy", "60")
    assert proc.returncode == 2 and "is not empty" in proc.stderr
    proc = run_demo(tmp_path / "fresh", "7")
    assert proc.returncode == 2 and "DEMO_IMAGES" in proc.stderr
    assert not (tmp_path / "fresh").exists()
