"""git mlv migrate from-dvc on projects made by the real DVC: `dvc add` of a folder and a file, a
3-stage dvc.yaml with params, metrics and plots, a local DVC remote, two versions.

DVC lives in its own virtualenv (`.venv-dvc`, made by `make venv`) so that its many dependencies
never meet ours; a missing DVC fails these tests, it does not skip them.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from git_mlv.core.pointer import Pointer
from tests.helpers import git, mlv, out, random_bytes, run, sha256_file, write

ROOT = Path(__file__).resolve().parents[2]

PREPARE = """\
import pathlib, yaml
seed = yaml.safe_load(open("params.yaml"))["prepare"]["seed"]
out = pathlib.Path("features"); out.mkdir(exist_ok=True)
for p in sorted(pathlib.Path("data").rglob("*")):
    if p.is_file():
        (out / (p.name + ".f")).write_bytes(p.read_bytes()[::-1] * seed)
"""
TRAIN = """\
import json, pathlib, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
feats = b"".join(f.read_bytes() for f in sorted(pathlib.Path("features").iterdir()))
pathlib.Path("model.bin").write_bytes(feats[: 5000] + str(p).encode())
json.dump({"acc": round(0.5 + p["lr"], 4), "loss": {"train": 1.0 / p["epochs"]}}, open("metrics.json", "w"))
"""
EVALUATE = """\
import json, pathlib
m = pathlib.Path("model.bin").read_bytes()
json.dump({"auc": len(m) % 97 / 100}, open("eval.json", "w"))
pathlib.Path("plot.csv").write_text("step,loss\\n1,0.5\\n2,0.25\\n")
"""


def dvc_bin() -> str:
    for cand in (os.environ.get("MLV_DVC"), str(ROOT / ".venv-dvc" / "bin" / "dvc"), shutil.which("dvc")):
        if cand and os.path.exists(cand):
            return cand
    pytest.fail("DVC is not installed: run `make venv` (it makes .venv-dvc), or set MLV_DVC=/path/to/dvc")


@pytest.fixture
def dvc_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """DVC's config, site cache and analytics kept inside the test's folder."""
    monkeypatch.setenv("DVC_GLOBAL_CONFIG_DIR", str(tmp_path / "dvc-global"))
    monkeypatch.setenv("DVC_SYSTEM_CONFIG_DIR", str(tmp_path / "dvc-system"))
    monkeypatch.setenv("DVC_SITE_CACHE_DIR", str(tmp_path / "dvc-site"))
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    return tmp_path


def dvc(*args: str, cwd: Path) -> str:
    return out(run([dvc_bin(), *args], cwd=cwd))


def dvc_repo(tmp_path: Path) -> Path:
    """A new git repository with `dvc init` committed."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    dvc("init", "-q", cwd=repo)
    git("commit", "-q", "-m", "dvc init", cwd=repo)
    return repo


def files_under(repo: Path, *roots: str) -> dict[str, str]:
    """relpath -> sha256 of every file below ``roots`` (folders or files)."""
    found = {}
    for r in roots:
        base = repo / r
        paths = [base] if base.is_file() else [p for p in base.rglob("*") if p.is_file()]
        for p in paths:
            found[p.relative_to(repo).as_posix()] = sha256_file(p)
    return found


OUTPUTS = ("data", "model.pkl", "features", "model.bin", "eval.json", "plot.csv", "metrics.json")


DVC_YAML = """\
stages:
  prepare:
    cmd: python prepare.py
    deps: [prepare.py, data]
    params: [prepare.seed]
    outs: [features]
  train:
    cmd: python train.py
    deps: [train.py, features]
    params: [train.lr, train.epochs]
    outs: [model.bin]
    metrics:
    - metrics.json:
        cache: false
  evaluate:
    cmd: python evaluate.py
    deps: [evaluate.py, model.bin]
    metrics: [eval.json]
    plots: [plot.csv]
"""


def make_project(repo: Path, remote: Path) -> dict[str, object]:
    """Two versions (tags v1, v2) of a DVC project; each version's output files and DVC's metrics."""
    git("init", "-q", "-b", "main", cwd=repo)
    dvc("init", "-q", cwd=repo)
    write(repo / ".dvc" / "config", f"[core]\n    remote = store\n['remote \"store\"']\n    url = {remote}\n"
          .encode())
    write(repo / "prepare.py", PREPARE.encode())
    write(repo / "train.py", TRAIN.encode())
    write(repo / "evaluate.py", EVALUATE.encode())
    write(repo / "dvc.yaml", DVC_YAML.encode())
    made: dict[str, object] = {}
    for v in (1, 2):
        for i in range(4 + v):
            write(repo / "data" / "images" / f"img{i}.jpg", random_bytes(9000 + i, seed=i * v))
        write(repo / "data" / "table.csv", b"".join(b"%d,%d\n" % (k, k * v) for k in range(3000)))
        write(repo / "model.pkl", random_bytes(20000, seed=100 + v))
        params = f"prepare:\n  seed: {v}\ntrain:\n  lr: {0.1 * v}\n  epochs: {3 + v}\n"
        write(repo / "params.yaml", params.encode())
        dvc("add", "-q", "data", "model.pkl", cwd=repo)
        dvc("repro", "-q", cwd=repo)
        git("add", "-A", cwd=repo)
        git("commit", "-q", "-m", f"v{v}", cwd=repo)
        git("tag", f"v{v}", cwd=repo)
        made[f"v{v}"] = files_under(repo, *OUTPUTS)
    assert "Data and pipelines are up to date" in dvc("status", cwd=repo)
    made["metrics"] = json.loads(dvc("metrics", "show", "--json", cwd=repo))
    return made


_TEMPLATE: dict[str, tuple[Path, dict[str, object]]] = {}


@pytest.fixture
def project(tmp_path: Path, dvc_env: Path, tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[Path, dict[str, object]]:
    """A copy of the DVC project (made once per session: DVC's commands take seconds each)."""
    if "p" not in _TEMPLATE:
        base = tmp_path_factory.mktemp("dvc-template")
        (base / "repo").mkdir()
        _TEMPLATE["p"] = (base / "repo", make_project(base / "repo", base / "dvc-remote"))
    src, made = _TEMPLATE["p"]
    repo = tmp_path / "repo"
    shutil.copytree(src, repo, symlinks=True)
    return repo, made


def numbers(doc: object, prefix: str = "") -> dict[str, float]:
    """Every number in a nested JSON document, by its dotted path."""
    if isinstance(doc, dict):
        found: dict[str, float] = {}
        for k, v in doc.items():
            found.update(numbers(v, f"{prefix}.{k}" if prefix else str(k)))
        return found
    return {prefix: float(doc)} if isinstance(doc, (int, float)) and not isinstance(doc, bool) else {}


def check_converted(repo: Path, want: dict[str, str]) -> None:
    """The converted state: outputs in git (pointers; metrics as plain files), bytes as before,
    `git mlv repro` finds everything up to date, no DVC file left in the tree."""
    assert files_under(repo, *OUTPUTS) == want
    tree = out(git("ls-tree", "-r", "--name-only", "HEAD", cwd=repo)).split()
    assert not [p for p in tree if p.endswith(".dvc") or p in ("dvc.yaml", "dvc.lock")]
    for path in want:
        blob = git("cat-file", "blob", f"HEAD:{path}", cwd=repo).stdout
        if path in ("eval.json", "metrics.json"):
            assert Pointer.try_parse(blob) is None  # git keeps metrics as they are
        else:
            assert Pointer.parse(blob).oid == want[path], path
    assert out(git("status", "--porcelain", cwd=repo)) == ""
    rep = out(mlv("repro", cwd=repo))
    assert "Everything is up to date." in rep and "Running" not in rep
    assert out(git("status", "--porcelain", cwd=repo)) == ""


@pytest.mark.slow
def test_from_dvc_head(project: tuple[Path, dict]) -> None:
    repo, versions = project
    dvc_metrics = versions["metrics"]
    res = out(mlv("migrate", "from-dvc", cwd=repo))
    assert "git mlv remote add store " in res and "dvc-remote --default" in res
    check_converted(repo, versions["v2"])
    # stages as DVC had them
    spec = out(git("config", "-f", ".gitmlv", "--list", cwd=repo)).splitlines()
    for line in ("stage.prepare.cmd=python prepare.py", "stage.prepare.dep=data",
                 "stage.prepare.out=features", "stage.prepare.param=params.yaml:prepare.seed",
                 "stage.train.param=params.yaml:train.lr", "stage.train.param=params.yaml:train.epochs",
                 "stage.train.metric=metrics.json", "stage.train.out=model.bin",
                 "stage.evaluate.metric=eval.json", "stage.evaluate.out=plot.csv"):
        assert line in spec, line
    # metrics as DVC shows them
    ours = numbers(json.loads(out(mlv("metrics", "show", "--json", cwd=repo))))
    theirs = numbers(dvc_metrics)
    for key, value in theirs.items():
        metric = key.split(".data.", 1)[1].replace(".data.", ":", 1)  # "metrics.json:acc"
        assert any(k.endswith(metric) and v == pytest.approx(value) for k, v in ours.items()), (metric, ours)
    assert len(ours) == len(theirs)
    # the data is in git-mlv's pool: DVC's cache and the files can go
    shutil.rmtree(repo / ".dvc" / "cache")
    shutil.rmtree(repo / "data")
    (repo / "model.bin").unlink()
    git("checkout", "--", ".", cwd=repo)
    assert files_under(repo, *OUTPUTS) == versions["v2"]
    # a params change makes the stages that read it run again, as in DVC
    write(repo / "params.yaml", b"prepare:\n  seed: 2\ntrain:\n  lr: 0.5\n  epochs: 5\n")
    dry = out(mlv("repro", "--dry-run", cwd=repo))
    assert "Stage 'prepare' is up to date" in dry and "Would run stage 'train'" in dry


@pytest.mark.slow
def test_from_dvc_everything(project: tuple[Path, dict]) -> None:
    repo, versions = project
    res = out(mlv("migrate", "from-dvc", "--everything", cwd=repo))
    assert "refs/tags/v1" in res
    check_converted(repo, versions["v2"])
    shutil.rmtree(repo / ".dvc" / "cache")  # from here on only git-mlv's pool has the bytes
    git("checkout", "-q", "v1", cwd=repo)
    check_converted(repo, versions["v1"])
    git("checkout", "-q", "main", cwd=repo)
    assert "Nothing to change" in out(mlv("migrate", "from-dvc", "--everything", cwd=repo))


def test_from_dvc_missing_cache(tmp_path: Path, dvc_env: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    dvc("init", "-q", cwd=repo)
    write(repo / "data" / "a.bin", random_bytes(5000))
    dvc("add", "-q", "data", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "one", cwd=repo)
    shutil.copytree(repo / ".dvc" / "cache", tmp_path / "elsewhere")
    for obj in (repo / ".dvc" / "cache").rglob("*"):
        if obj.is_file() and not obj.name.endswith(".dir"):
            obj.chmod(0o644)
            obj.unlink()  # the file's object, not the folder's listing
    shutil.rmtree(repo / "data")
    before = out(git("rev-parse", "HEAD", cwd=repo))
    proc = mlv("migrate", "from-dvc", cwd=repo, check=False)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and "dvc fetch" in err and "data/a.bin" in err and "Traceback" not in err
    assert out(git("rev-parse", "HEAD", cwd=repo)) == before
    proc = mlv("migrate", "from-dvc", cwd=tmp_path, check=False)
    assert proc.returncode != 0 and b"Traceback" not in proc.stderr
    # a cache kept elsewhere (`dvc cache dir`): found there; the missing work-tree file is written
    write(repo / ".dvc" / "config.local", f"[cache]\n    dir = {tmp_path / 'elsewhere'}\n".encode())
    mlv("migrate", "from-dvc", cwd=repo)
    assert (repo / "data" / "a.bin").read_bytes() == random_bytes(5000)
    assert out(git("status", "--porcelain", cwd=repo)) == ""
