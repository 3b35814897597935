"""git mlv repro in a real git repository: what runs, what is restored, what is left alone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from git_mlv.gitio.git import Repo
from tests.helpers import git, mlv, out, sha256_file, write
from tests.pipeline.conftest import Pipeline

ALL = ["featurize", "train", "evaluate"]


@pytest.mark.slow
def test_reruns_exactly_what_changed(pipeline: Pipeline) -> None:
    root = pipeline.path
    out = pipeline.mlv("repro")
    assert pipeline.runs() == ALL
    assert "Running stage 'featurize': python featurize.py" in out
    assert (root / ".gitattributes").read_text().count("model.bin") == 0  # *.bin already covers it

    assert "Everything is up to date." in pipeline.mlv("repro")
    assert pipeline.runs() == []

    # a new mtime on a dep with the same content: hashed again, found equal, nothing runs
    t = os.stat(root / "data" / "a.bin").st_mtime_ns + 5_000_000_000
    os.utime(root / "data" / "a.bin", ns=(t, t))
    pipeline.mlv("repro")
    assert pipeline.runs() == []

    write(root / "evaluate.py", (root / "evaluate.py").read_bytes() + b"# v2\n")
    pipeline.mlv("repro")
    assert pipeline.runs() == ["evaluate"]

    write(root / "data" / "sub" / "b.bin", b"gamma" * 700)
    dry = pipeline.mlv("repro", "--dry-run")
    assert pipeline.runs() == []
    assert "Would run stage 'featurize': data changed" in dry
    assert "Would run stage 'evaluate': upstream train would run" in dry
    pipeline.mlv("repro")
    assert pipeline.runs() == ALL

    write(root / "params.yaml", b"lr: 0.1\nother: 2\n")  # a key no stage uses
    pipeline.mlv("repro")
    assert pipeline.runs() == []
    write(root / "params.yaml", b"lr: 0.3\nother: 2\n")
    pipeline.mlv("repro")
    assert pipeline.runs() == ["train", "evaluate"]

    pipeline.mlv("stage", "add", "-f", "-n", "evaluate", "-d", "evaluate.py", "-d", "model.bin",
                 "-M", "eval.yaml", "python evaluate.py --again")
    pipeline.mlv("repro")
    assert pipeline.runs() == ["evaluate"]

    before = sha256_file(root / "model.bin")
    (root / "model.bin").unlink()
    out = pipeline.mlv("repro")
    assert pipeline.runs() == []
    assert "Restored 'train' from run-cache" in out
    assert sha256_file(root / "model.bin") == before
    assert "Everything is up to date." in pipeline.mlv("repro")

    pipeline.mlv("repro", "train", "--force")
    assert pipeline.runs() == ["featurize", "train"]
    pipeline.mlv("repro", "train", "--force", "--single-item")
    assert pipeline.runs() == ["train"]


@pytest.mark.slow
def test_checkout_old_tag_is_up_to_date_and_run_cache_hits_across_branches(pipeline: Pipeline) -> None:
    root = pipeline.path
    pipeline.mlv("repro")
    git("add", "-A", cwd=root)
    git("commit", "-qm", "v1", cwd=root)
    git("tag", "v1.0", cwd=root)
    write(root / "data" / "a.bin", b"more" * 3000)
    pipeline.mlv("repro")
    git("add", "-A", cwd=root)
    git("commit", "-qm", "v2", cwd=root)
    assert git("status", "--porcelain", cwd=root).stdout == b""
    pipeline.runs()

    git("checkout", "-q", "v1.0", cwd=root)
    assert "Everything is up to date." in pipeline.mlv("repro")
    assert pipeline.runs() == []
    git("checkout", "-q", "main", cwd=root)
    assert "Everything is up to date." in pipeline.mlv("repro")

    git("checkout", "-q", "-b", "exp", cwd=root)
    write(root / "params.yaml", b"lr: 0.5\nother: 1\n")
    pipeline.mlv("repro")
    assert pipeline.runs() == ["train", "evaluate"]
    exp_model = sha256_file(root / "model.bin")
    git("commit", "-qam", "lr 0.5", cwd=root)
    git("checkout", "-q", "main", cwd=root)
    assert "Everything is up to date." in pipeline.mlv("repro")
    write(root / "params.yaml", b"lr: 0.5\nother: 1\n")
    out = pipeline.mlv("repro")
    assert pipeline.runs() == []
    assert "Restored 'train' from run-cache" in out and "Restored 'evaluate' from run-cache" in out
    assert sha256_file(root / "model.bin") == exp_model
    assert (root / ".gitmlv.lock").read_bytes() == git("show", "exp:.gitmlv.lock", cwd=root).stdout


def test_failing_stage_stops_dependents_and_keeps_the_lock(pipeline: Pipeline) -> None:
    root = pipeline.path
    pipeline.mlv("repro")
    pipeline.runs()
    lock_before = (root / ".gitmlv.lock").read_bytes()
    keys_before = sorted(os.listdir(Path(Repo.discover(str(root)).mlv_dir) / "runcache"))
    write(root / "params.yaml", b"lr: 0.2\nfail: true\n")
    write(root / "data" / "new.bin", b"new")
    p = mlv("repro", cwd=root, check=False)
    err = p.stderr.decode()
    assert p.returncode == 1
    assert "git-mlv: error: stage 'train' failed: command exited with code 3: python train.py" in err
    assert "Stage 'evaluate' not run: upstream train failed" in err
    assert "Traceback" not in err
    assert pipeline.runs() == ["featurize", "train"]
    now = (root / ".gitmlv.lock").read_text()
    old = lock_before.decode()
    train_now = now[now.index('[stage "train"]'):]
    assert train_now == old[old.index('[stage "train"]'):]  # train and evaluate untouched
    assert now != old  # featurize did succeed
    keys = sorted(os.listdir(Path(Repo.discover(str(root)).mlv_dir) / "runcache"))
    assert len(keys) == len(keys_before) + 1  # featurize's run only


def test_parallel_jobs_overlap(repo: Path) -> None:
    script = ("import sys, time, pathlib; s = time.time(); time.sleep(1);"
              " pathlib.Path(sys.argv[1]).write_text(f'{s} {time.time()}')")
    write(repo / "slow.py", script.encode())
    for n in ("a", "b"):
        mlv("stage", "add", "-n", n, "-d", "slow.py", "-O", f"{n}.txt", "python", "slow.py", f"{n}.txt",
            cwd=repo)
    mlv("repro", "-j", "2", cwd=repo)
    (s1, e1), (s2, e2) = ([float(x) for x in (repo / f"{n}.txt").read_text().split()] for n in "ab")
    assert s1 < e2 and s2 < e1  # the two runs overlapped in time


def test_directory_outputs_wdir_and_no_cache_outputs(repo: Path, tmp_path: Path) -> None:
    src = repo / "src"
    write(src / "gen.py", b"import pathlib\n"
          b"d = pathlib.Path('../feats'); (d / 'deep').mkdir(parents=True)\n"
          b"(d / 'x.npy').write_bytes(b'x' * 5000); (d / 'deep' / 'y.npy').write_bytes(b'y' * 300)\n"
          b"pathlib.Path('../log.txt').write_text('done')\n")
    mlv("run", "-n", "gen", "-d", "gen.py", "-o", "../feats", "-O", "../log.txt", "python gen.py", cwd=src)
    mlv("stage", "add", "-n", "use", "-d", "feats", "-o", "count.bin",
        "python -c \"import os; open('count.bin','w').write(str(len(os.listdir('feats'))))\"", cwd=repo)
    text = (repo / ".gitmlv").read_text()
    assert "\twdir = src\n" in text and "\tout = feats\n" in text and "\toutnocache = log.txt\n" in text
    assert "/feats/** filter=mlv" in (repo / ".gitattributes").read_text()
    mlv("repro", cwd=repo)
    lk = (repo / ".gitmlv.lock").read_text()
    assert " feats/\n" in lk  # a directory record
    x = sha256_file(repo / "feats" / "x.npy")
    # gen's uncached output (-O) is kept in the pool for the run-cache: gen is restored, log and all
    import shutil

    shutil.rmtree(repo / "feats")
    (repo / "log.txt").unlink()
    assert "Restored 'gen' from " in mlv("repro", cwd=repo).stdout.decode()
    assert sha256_file(repo / "feats" / "x.npy") == x
    assert (repo / "log.txt").read_text() == "done"
    # use's output is restored
    (repo / "count.bin").unlink()
    assert "Restored 'use' from run-cache" in mlv("repro", cwd=repo).stdout.decode()
    assert (repo / "count.bin").read_text() == "2"


@pytest.mark.parametrize("setup, args, message", [
    ([["stage", "add", "-n", "a", "-d", "b.out", "-o", "a.out", "true"]],
     ["stage", "add", "-n", "b", "-d", "a.out", "-o", "b.out", "true"],
     "stages form a cycle: a -> b -> a"),
    ([["stage", "add", "-n", "a", "-o", "x.out", "true"]],
     ["stage", "add", "-n", "b", "-o", "x.out", "true"],
     "stage 'b': output 'x.out' is already an output of stage 'a'"),
    ([["stage", "add", "-n", "a", "-o", "x.out", "true"]], ["repro", "nope"],
     "unknown stage 'nope' (stages: a)"),
    ([["stage", "add", "-n", "a", "-o", "x.out", "true"]],
     ["stage", "add", "-n", "a", "-o", "y.out", "true"],
     "stage 'a' already exists; use --force to replace it"),
    ([["stage", "add", "-n", "a", "-d", "gone.csv", "-o", "x.out", "true"]], ["repro"],
     "stage 'a': dependency 'gone.csv' does not exist and no stage outputs it"),
    # a parameter file is not a dependency (docs/pipelines.md): the message said "dependency"
    ([["stage", "add", "-n", "a", "-p", "gone.toml:lr", "-o", "x.out", "true"]], ["repro"],
     "stage 'a': parameter file 'gone.toml' does not exist and no stage outputs it"),
    ([], ["run", "-n", "a", "-o", "x"], "no command given: git mlv run -n NAME [-d DEP]... CMD..."),
])
def test_spec_errors_are_one_clear_line(repo: Path, setup: list[list[str]], args: list[str],
                                        message: str) -> None:
    for s in setup:
        mlv(*s, cwd=repo)
    p = mlv(*args, cwd=repo, check=False)
    err = p.stderr.decode()
    assert p.returncode != 0
    assert err == f"git-mlv: error: {message}\n"


def test_malformed_gitmlv(repo: Path) -> None:
    write(repo / ".gitmlv", b'[stage "a"]\n\tcmd = x\n[stage "b\n')
    p = mlv("repro", cwd=repo, check=False)
    assert p.returncode == 1
    assert p.stderr.decode() == "git-mlv: error: .gitmlv is malformed: bad config line 3\n"


def test_independent_stages_go_on_after_a_failure(repo: Path) -> None:
    mlv("stage", "add", "-n", "a_bad", "-o", "a.out", "exit 7", cwd=repo)
    mlv("stage", "add", "-n", "b_lazy", "-o", "b.out", "true", cwd=repo)
    mlv("stage", "add", "-n", "c_good", "-o", "c.out", "echo hi > c.out", cwd=repo)
    mlv("stage", "add", "-n", "d_after", "-d", "a.out", "-o", "d.out", "touch d.out", cwd=repo)
    p = mlv("repro", cwd=repo, check=False)
    err = p.stderr.decode()
    assert p.returncode == 1
    assert "Stage 'b_lazy' failed: the command did not create output 'b.out'" in err
    assert err.endswith("git-mlv: error: stage 'a_bad' failed: command exited with code 7: exit 7"
                        " (2 more stage(s) failed or not run: b_lazy, d_after)\n")
    assert (repo / "c.out").read_text() == "hi\n"
    lock_text = (repo / ".gitmlv.lock").read_text()
    assert '[stage "c_good"]' in lock_text and "a_bad" not in lock_text and "b_lazy" not in lock_text


def test_dry_run_judges_stages_below_a_restore_on_what_it_brings_back(pipeline: Pipeline) -> None:
    """An output deleted by hand: the dry run said the stage would be restored, then failed on the
    next stage ("dependency is missing") where the real repro restores it and finds the rest up to
    date. The dry run must say what the repro then does."""
    root = pipeline.path
    pipeline.mlv("repro")
    pipeline.runs()
    (root / "features.bin").unlink()
    p = mlv("repro", "--dry-run", cwd=root, check=False)
    out = p.stdout.decode()
    assert p.returncode == 0, p.stderr.decode()
    assert "Would run stage 'featurize': features.bin missing; would restore from the run-cache" in out
    assert "Stage 'train' is up to date" in out and "Stage 'evaluate' is up to date" in out
    assert not (root / "features.bin").exists()
    out = pipeline.mlv("repro")
    assert "Restored 'featurize' from run-cache" in out
    assert "Stage 'train' is up to date" in out and "Stage 'evaluate' is up to date" in out
    assert pipeline.runs() == []
    # a restore that brings back other bytes than the next stage last ran on: that stage would run
    write(root / "params.yaml", b"lr: 0.1\nother: 1\n")
    lock = (root / ".gitmlv.lock").read_text()
    write(root / "data" / "a.bin", b"changed" * 900)
    pipeline.mlv("repro")
    assert pipeline.runs() == ["featurize", "train", "evaluate"]
    write(root / ".gitmlv.lock", lock.encode())  # the lock of the first data, its outputs gone
    write(root / "data" / "a.bin", b"alpha" * 1000)
    (root / "features.bin").unlink()
    dry = pipeline.mlv("repro", "--dry-run")
    assert "Would run stage 'featurize': features.bin missing; would restore from the run-cache" in dry
    assert "Would run stage 'train': model.bin modified; would restore from the run-cache" in dry


def test_json_report_keeps_stdout_for_the_report(pipeline: Pipeline) -> None:
    """`repro --json` for a CI script: stdout is one JSON document (the stages' own output, which
    featurize and train print here, goes to stderr), also for a dry run and a failing stage."""
    import json

    root = pipeline.path
    write(root / "featurize.py", (root / "featurize.py").read_bytes() + b"print('featurized')\n")
    p = mlv("repro", "--dry-run", "--json", cwd=root)
    assert [(e["stage"], e["event"]) for e in json.loads(p.stdout)] == [
        ("featurize", "would-run"), ("train", "would-run"), ("evaluate", "would-run")]
    assert pipeline.runs() == []
    p = mlv("repro", "--json", cwd=root)
    events = json.loads(p.stdout)
    assert [(e["stage"], e["event"]) for e in events if e["event"] == "ran"] == [
        ("featurize", "ran"), ("train", "ran"), ("evaluate", "ran")]
    assert events[0] == {"stage": "featurize", "event": "running", "detail": "python featurize.py"}
    assert b"featurized" in p.stderr
    assert pipeline.runs() == ALL
    write(root / "params.yaml", b"lr: 0.2\nfail: true\n")
    p = mlv("repro", "--json", cwd=root, check=False)
    assert p.returncode == 1
    assert [(e["stage"], e["event"]) for e in json.loads(p.stdout)][-2:] == [
        ("train", "failed"), ("evaluate", "skipped")]
    assert "git-mlv: error: stage 'train' failed" in p.stderr.decode()


def test_python_bytecode_in_a_dep_folder_is_not_a_change(repo: Path, tmp_path: Path) -> None:
    """A stage whose command imports a module of its dep folder: Python wrote src/__pycache__/
    there, the folder's listing counted it, and every clone (which has no __pycache__, git
    ignores it) found the stage stale ("src changed") though src was as locked."""
    write(repo / "src" / "lib.py", b"X = 41\n")
    write(repo / ".gitignore", b"__pycache__/\n.ipynb_checkpoints/\n.DS_Store\n")
    write(repo / "run.py", b"import sys\nsys.path.insert(0, 'src')\nimport lib\n"
                           b"open('o.txt', 'w').write(str(lib.X + 1))\n")
    mlv("run", "-n", "s", "-d", "src", "-o", "o.txt", "python run.py", cwd=repo)
    assert (repo / "src" / "__pycache__").is_dir()  # Python really wrote its cache there
    write(repo / "src" / ".ipynb_checkpoints" / "lib-checkpoint.py", b"X = 0\n")
    write(repo / "src" / ".DS_Store", b"\0\0\0\1Bud1")
    assert "Everything is up to date." in out(mlv("repro", "--dry-run", cwd=repo))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "stage", cwd=repo)
    git("clone", "-q", str(repo), "clone", cwd=tmp_path)
    assert "Everything is up to date." in out(mlv("repro", "--dry-run", cwd=tmp_path / "clone"))
    write(repo / "src" / "lib.py", b"X = 1\n")  # a real change still counts
    assert "Would run stage 's': src changed" in out(mlv("repro", "--dry-run", cwd=repo))


def test_uncached_outputs_restored_from_run_cache(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A DVC user's `--plots-no-cache train_log.csv` (or `-O`): switching a parameter back to a
    value already trained restores the model and the log from the run-cache, as DVC's run-cache
    does, instead of training again."""
    write(repo / "params.yaml", b"lr: 0.1\n")
    write(repo / "train.py", b"import os, yaml, pathlib\n"
          b"open(os.environ['RUNLOG'], 'a').write('train\\n')\n"
          b"lr = yaml.safe_load(open('params.yaml'))['lr']\n"
          b"pathlib.Path('model.bin').write_bytes(os.urandom(3000))\n"
          b"pathlib.Path('plots').mkdir(exist_ok=True)\n"
          b"pathlib.Path('plots/loss.csv').write_text(f'epoch,loss\\n0,{lr}\\n' + os.urandom(8).hex())\n"
          b"pathlib.Path('train.log').write_text(os.urandom(8).hex())\n")
    log = repo.parent / "runlog"
    monkeypatch.setenv("RUNLOG", str(log))
    mlv("run", "-n", "train", "-d", "train.py", "-p", "lr", "-o", "model.bin", "--plots-no-cache",
        "plots", "-O", "train.log", "python train.py", cwd=repo)
    first = {p: sha256_file(repo / p) for p in ("model.bin", "plots/loss.csv", "train.log")}
    write(repo / "params.yaml", b"lr: 0.01\n")
    mlv("repro", cwd=repo)
    second = {p: sha256_file(repo / p) for p in first}
    assert second != first and log.read_text() == "train\ntrain\n"
    write(repo / "params.yaml", b"lr: 0.1\n")
    stdout = mlv("repro", cwd=repo).stdout.decode()
    assert "Restored 'train' from run-cache" in stdout
    assert log.read_text() == "train\ntrain\n"  # not run a third time
    assert {p: sha256_file(repo / p) for p in first} == first
    assert "Everything is up to date." in mlv("repro", cwd=repo).stdout.decode()
