#!/usr/bin/env python3
"""The git-mlv walkthrough: the cats-vs-dogs data-versioning story, end to end, for real.

Every step prints the command a user would type and then that command's real output; checks after
each step (file counts, sha256 of model.bin, byte equality of a fresh clone) stop the demo with exit
status 1 and a clear message when something is wrong.

Everything happens in a throw-away folder with its own HOME (its own .gitconfig, no system config),
so the demo never reads or changes your git settings:

  project/      the repository we work in          origin.git/  a bare git remote ("GitHub")
  storage/      the folder data remote              clone/       a fresh clone of origin.git
  home/         HOME for every command of the demo

Environment:
  DEMO_DIR=PATH     work there and keep the result for a look around (must be empty or absent)
  DEMO_IMAGES=N     images per round (default 1000; the test suite uses fewer)
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE_SIDE = 32
SEED = 5  # chosen so that, at 1,000 images per round, v2's held-out accuracy beats v1's
MAX_SHOWN = 14  # lines of a command's output shown before the rest is elided
TOTAL_STEPS = 9


class DemoFailed(Exception):
    """A check of the walkthrough did not hold."""


@dataclass
class Outcome:
    """The figures the summary reports."""

    images: int
    acc_v1: float
    acc_v2: float
    loss_v1: float
    loss_v2: float
    data_bytes: int  # the images in the worktree at v2.0
    pool_bytes: int  # the project's .git/mlv
    remote_bytes: int  # the folder data remote


# ---------------------------------------------------------------------------------------------------
# the dataset: cats are blobs, dogs are stripes, both noisy
# ---------------------------------------------------------------------------------------------------
def png_gray(img: np.ndarray) -> bytes:
    """Encode a (height, width) uint8 array as an 8-bit greyscale PNG (filter 0, zlib level 9)."""
    height, width = img.shape
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def make_image(index: int, label: int) -> np.ndarray:
    """One image. A cat (label 0) has strong blobs and faint stripes, a dog the reverse.

    The strengths overlap a little and heavy pixel noise hides both, so a linear model on 1,000 images
    lands near 80 % and gains a few points from 2,000 (measured: 0.78 -> 0.83).
    """
    rng = np.random.default_rng([SEED, index, label])
    yy, xx = np.mgrid[0:IMAGE_SIDE, 0:IMAGE_SIDE].astype(np.float64)
    strong, weak = rng.uniform(0.3, 0.8), rng.uniform(0.0, 0.2)
    blobs, stripes = (strong, weak) if label == 0 else (weak, strong)
    img = np.full((IMAGE_SIDE, IMAGE_SIDE), rng.normal(120, 20))
    for _ in range(rng.integers(2, 5)):
        cx, cy, sigma = rng.uniform(0, IMAGE_SIDE), rng.uniform(0, IMAGE_SIDE), rng.uniform(3, 7)
        sign = rng.choice([-1.0, 1.0])
        img += sign * blobs * 70 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma * sigma))
    theta, freq, phase = rng.uniform(0, np.pi), rng.uniform(0.12, 0.3), rng.uniform(0, 2 * np.pi)
    img += stripes * 40 * np.sin(2 * np.pi * freq * (xx * np.cos(theta) + yy * np.sin(theta)) + phase)
    img += rng.normal(0, 60, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def write_images(project: str, start: int, count: int) -> None:
    """Write images start..start+count-1 (even: cat, odd: dog) into data/{cat,dog}/."""
    for cls in ("cat", "dog"):
        os.makedirs(os.path.join(project, "data", cls), exist_ok=True)
    for i in range(start, start + count):
        cls = ("cat", "dog")[i % 2]
        path = os.path.join(project, "data", cls, f"{cls}_{i:05d}.png")
        with open(path, "wb") as f:
            f.write(png_gray(make_image(i, i % 2)))


# ---------------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------------
def sha256_file(path: str) -> str:
    """Hex sha256 of a file."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def tree_digest(root: str, skip: Sequence[str] = (".git",)) -> dict[str, str]:
    """{relative path: sha256} of every file under root, except the top-level names in skip."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath == root:
            dirnames[:] = [d for d in dirnames if d not in skip]
        for name in filenames:
            full = os.path.join(dirpath, name)
            out[os.path.relpath(full, root)] = sha256_file(full)
    return out


def count_images(project: str) -> int:
    """How many PNG files (real ones, checked by their magic bytes) are under data/."""
    n = 0
    for dirpath, _, filenames in os.walk(os.path.join(project, "data")):
        for name in filenames:
            with open(os.path.join(dirpath, name), "rb") as f:
                if f.read(8) != b"\x89PNG\r\n\x1a\n":
                    raise DemoFailed(f"{os.path.join(dirpath, name)} is not an image "
                                     "(a pointer left in the worktree?)")
            n += 1
    return n


def folder_size(path: str) -> int:
    """Bytes in the regular files under path."""
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def human(n: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def hermetic_env(home: str) -> dict[str, str]:
    """Environment for every command: our HOME and .gitconfig, no system config, our venv first."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "MLV_")) and k != "XDG_CONFIG_HOME"}
    bindir = os.path.dirname(sys.executable)  # the venv's bin: git-mlv and a python with numpy
    env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"), GIT_CONFIG_NOSYSTEM="1",
               GIT_TERMINAL_PROMPT="0", PATH=bindir + os.pathsep + env.get("PATH", ""),
               LC_ALL="C.UTF-8", PYTHONDONTWRITEBYTECODE="1")
    with open(os.path.join(home, ".gitconfig"), "w") as f:
        f.write("[user]\n\tname = Demo User\n\temail = demo@example.invalid\n"
                "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n")
    return env


# ---------------------------------------------------------------------------------------------------
# the narrator: step headers, commands and their real output
# ---------------------------------------------------------------------------------------------------
class Narrator:
    """Prints steps and runs commands, streaming their output; raises DemoFailed on any failure."""

    def __init__(self, env: dict[str, str], colour: bool) -> None:
        self.env, self.colour = env, colour
        self.step_no = 0

    def _style(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.colour else text

    def step(self, title: str, story: str) -> None:
        """A numbered step header and a sentence or two of story."""
        self.step_no += 1
        print()
        print(self._style(f"== Step {self.step_no}/{TOTAL_STEPS}: {title} ==", "1;36"))
        print(story)

    def say(self, text: str) -> None:
        """A line of narration."""
        print(self._style(text, "2"))

    def ok(self, text: str) -> None:
        """A check that held."""
        print(self._style(f"  ok: {text}", "32"))

    def run(self, argv: Sequence[str] | str, cwd: str, max_lines: int = MAX_SHOWN) -> str:
        """Print `$ command`, run it, stream its output (long outputs elided); return the output.

        A string is run by sh (for pipes); a list is run directly. A non-zero exit raises DemoFailed.
        """
        shell = isinstance(argv, str)
        shown = argv if shell else shlex.join(argv)  # exactly what runs, nothing prettier
        print(self._style(f"$ {shown}", "1"), flush=True)
        proc = subprocess.Popen(argv, cwd=cwd, env=self.env, shell=shell, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        assert proc.stdout is not None
        lines: list[str] = []
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            lines.append(line)
            if len(lines) <= max_lines:
                print(line, flush=True)
        rc = proc.wait()
        if len(lines) > max_lines:
            hidden = len(lines) - max_lines - 2
            if hidden > 0:
                print(self._style(f"  ... {hidden} more lines ...", "2"))
            for line in lines[-2:] if hidden > 0 else lines[max_lines:]:
                print(line)
        if rc:
            raise DemoFailed(f"`{shown}` exited {rc}")
        return "\n".join(lines)

    def quiet(self, argv: Sequence[str], cwd: str) -> str:
        """Run a command for a check, without printing it; its stdout."""
        proc = subprocess.run(argv, cwd=cwd, env=self.env, capture_output=True)
        if proc.returncode:
            raise DemoFailed(f"{shlex.join(argv)} exited {proc.returncode}: "
                             f"{proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout.decode()


def check(cond: bool, message: str) -> None:
    """Raise DemoFailed(message) unless cond."""
    if not cond:
        raise DemoFailed(message)


# ---------------------------------------------------------------------------------------------------
# the story
# ---------------------------------------------------------------------------------------------------
def walkthrough(base: str, n_images: int, colour: bool) -> Outcome:
    """Run the nine steps in base/; return the figures for the summary."""
    home, project = os.path.join(base, "home"), os.path.join(base, "project")
    origin, storage, clone = (os.path.join(base, n) for n in ("origin.git", "storage", "clone"))
    os.makedirs(home)
    n = Narrator(hermetic_env(home), colour)
    git_mlv = shutil.which("git-mlv", path=n.env["PATH"])
    check(git_mlv is not None, "git-mlv is not on PATH: run `make demo` (it sets up .venv)")

    # 1 ------------------------------------------------------------------------------------------
    n.step("a project, a git remote and a data remote",
           "A new repository, a bare 'origin' standing in for GitHub and a plain folder as the data\n"
           "remote. `git mlv install` sets up git's filter and hooks; `track` says which files are data.")
    n.run(["git", "init", "--bare", "-q", "origin.git"], base)
    os.makedirs(storage)
    n.run(["git", "init", "-q", "project"], base)
    n.run(["git", "mlv", "install"], project)
    n.run(["git", "mlv", "track", "data/**", "model.bin"], project)
    n.run(["git", "mlv", "remote", "add", "storage", storage, "--default"], project)
    n.run(["git", "remote", "add", "origin", origin], project)
    attr = n.quiet(["git", "check-attr", "filter", "data/cat/x.png", "model.bin"], project)
    check(attr.count("filter: mlv") == 2, f"data/** and model.bin are not tracked by git-mlv:\n{attr}")
    n.ok("data/** and model.bin go through the mlv filter")
    shutil.copy(os.path.join(HERE, "train.py"), os.path.join(project, "train.py"))

    # 2 ------------------------------------------------------------------------------------------
    n.step(f"a dataset of {n_images:,} labelled images",
           f"The demo draws {n_images:,} small greyscale PNGs: cats are soft blobs, dogs are stripes,\n"
           "both under heavy noise, so that a simple model can learn them, but not perfectly.")
    t0 = time.perf_counter()
    write_images(project, 0, n_images)
    n.say(f"(wrote {n_images:,} images in {time.perf_counter() - t0:.1f} s)")
    n.run("ls data/cat | head -3; ls data/dog | wc -l", project)
    check(count_images(project) == n_images, f"expected {n_images} images in data/")
    n.ok(f"{n_images:,} PNG files in data/")

    # 3 ------------------------------------------------------------------------------------------
    n.step("train the first model as a pipeline stage",
           "`git mlv run` records the stage (command, dependencies, outputs) in .gitmlv, runs it and\n"
           "locks the hashes of what went in and came out in .gitmlv.lock.")
    train_cmd = ["git", "mlv", "run", "-n", "train", "-d", "train.py", "-d", "data", "-o", "model.bin",
                 "-M", "metrics.json", "python", "train.py"]
    n.run(train_cmd, project)
    n.run(["cat", "metrics.json"], project)
    metrics_v1 = json.loads(open(os.path.join(project, "metrics.json")).read())
    check({"accuracy", "loss"} <= set(metrics_v1), f"metrics.json lacks accuracy/loss: {metrics_v1}")
    model_v1 = sha256_file(os.path.join(project, "model.bin"))
    n.ok(f"model.bin sha256 {model_v1[:16]}..., accuracy {metrics_v1['accuracy']:.3f}")

    # 4 ------------------------------------------------------------------------------------------
    n.step("commit, tag and push v1.0",
           "Plain git. The filter stores the images and the model in the pool under .git/mlv and git\n"
           "keeps small pointers; the pre-push hook uploads the data along with the commits.")
    n.run(["git", "add", "."], project)
    n.run(["git", "commit", "-m", f"First model, trained with {n_images} images"], project, max_lines=4)
    n.run(["git", "tag", "v1.0"], project)
    n.run(["git", "cat-file", "-p", "v1.0:model.bin"], project)
    pointer = n.quiet(["git", "cat-file", "-p", "v1.0:data/cat/cat_00000.png"], project)
    check(pointer.startswith("version https://git-mlv.dev/spec/v1"),
          f"git stored the image itself, not a pointer:\n{pointer[:200]!r}")
    n.run(["git", "push", "-u", "origin", "main", "v1.0"], project)
    check("v1.0" in n.quiet(["git", "ls-remote", "--tags", origin], base), "origin has no tag v1.0")
    check(folder_size(storage) > 0, "the data remote is still empty after git push")
    n.run(["git", "mlv", "status"], project)
    n.ok(f"origin has v1.0; the data remote holds {human(folder_size(storage))}")

    # 5 ------------------------------------------------------------------------------------------
    n.step(f"{n_images:,} more images, retrain, v2.0",
           "New data arrives. `git mlv repro` sees that the stage's inputs changed and reruns it.")
    write_images(project, n_images, n_images)
    n.say(f"(wrote {n_images:,} more images)")
    n.run(["git", "mlv", "repro"], project)
    n.run(["cat", "metrics.json"], project)
    metrics_v2 = json.loads(open(os.path.join(project, "metrics.json")).read())
    model_v2 = sha256_file(os.path.join(project, "model.bin"))
    check(model_v2 != model_v1, "git mlv repro did not retrain: model.bin is unchanged")
    n.run(["git", "add", "."], project)
    n.run(["git", "commit", "-m", f"Second model, trained with {2 * n_images} images"], project,
          max_lines=4)
    n.run(["git", "tag", "v2.0"], project)
    n.run(["git", "push", "origin", "main", "v2.0"], project)
    check(count_images(project) == 2 * n_images, f"expected {2 * n_images} images")
    n.ok(f"{2 * n_images:,} images; new model.bin {model_v2[:16]}...")

    # 6 ------------------------------------------------------------------------------------------
    n.step("compare the two models",
           "Metrics are read from each revision's metrics.json, straight from git.")
    diff_out = n.run(["git", "mlv", "metrics", "diff", "v1.0", "v2.0"], project)
    check("accuracy" in diff_out, "metrics diff does not mention accuracy")
    show_out = n.run(["git", "mlv", "metrics", "show", "--all-tags"], project)
    check("v1.0" in show_out and "v2.0" in show_out, "metrics show --all-tags lacks v1.0 or v2.0")
    check(metrics_v1["accuracy"] != metrics_v2["accuracy"], "accuracy did not move between v1 and v2")
    moved = metrics_v2["accuracy"] - metrics_v1["accuracy"]
    n.ok(f"accuracy {metrics_v1['accuracy']:.3f} -> {metrics_v2['accuracy']:.3f} ({moved:+.3f})")
    n.say("From Python (a notebook, say), v1.0's model and metrics without a checkout (docs/api.md):")
    code = ('import hashlib, git_mlv.api as mlv; '
            'print(mlv.metrics_show(rev="v1.0")); '
            'data = mlv.read("model.bin", rev="v1.0", mode="rb"); '
            'print("model.bin at v1.0:", hashlib.sha256(data).hexdigest())')
    api_out = n.run([sys.executable, "-c", code], project)
    check(model_v1 in api_out, "git_mlv.api.read of model.bin at v1.0 is not v1's model")
    check(f"{metrics_v1['accuracy']}" in api_out, "git_mlv.api.metrics_show at v1.0 lacks v1's accuracy")
    n.ok("git_mlv.api read v1.0's model (sha256 as trained in step 3) and its metrics")

    # 7 ------------------------------------------------------------------------------------------
    n.step("travel back to v1.0",
           "One git command brings back v1's images and v1's model, byte for byte.")
    n.run(["git", "checkout", "v1.0"], project)
    check(count_images(project) == n_images, f"v1.0 should have {n_images} images")
    check(sha256_file(os.path.join(project, "model.bin")) == model_v1, "model.bin at v1.0 differs from v1")
    check(n.quiet(["git", "status", "--porcelain"], project).strip() == "",
          "git status is not clean after checking out v1.0")
    n.run("ls data/cat data/dog | grep -c png; sha256sum model.bin", project)
    n.ok(f"{n_images:,} images; model.bin sha256 equals the one trained in step 3; git status clean")
    n.run(["git", "checkout", "main"], project)
    check(count_images(project) == 2 * n_images, f"main should have {2 * n_images} images")
    check(sha256_file(os.path.join(project, "model.bin")) == model_v2, "model.bin on main is not v2's")
    n.ok(f"back on main (= v2.0): {2 * n_images:,} images, v2's model.bin")

    # 8 ------------------------------------------------------------------------------------------
    n.step("a fresh clone somewhere else",
           "A colleague clones origin. The data comes from the data remote named in .gitmlv, during\n"
           "the checkout; the pipeline is up to date, nothing to retrain.")
    n.run(["git", "clone", "origin.git", "clone"], base)
    theirs, ours = tree_digest(clone), tree_digest(project)
    differ = sorted(p for p in set(theirs) | set(ours) if theirs.get(p) != ours.get(p))
    check(not differ, f"the clone differs from the project in {len(differ)} files, e.g. {differ[:3]}")
    n.ok(f"all {len(ours):,} files of the clone are byte-identical to the project's")
    repro_out = n.run(["git", "mlv", "repro"], clone)
    check("up to date" in repro_out.lower(), "git mlv repro in the clone did not say 'up to date'")
    check(sha256_file(os.path.join(clone, "model.bin")) == model_v2, "repro changed model.bin in the clone")
    n.ok("the clone's pipeline is up to date")

    # 9 ------------------------------------------------------------------------------------------
    n.step("what it costs on disk",
           "Two versions of the dataset and the model, stored once, chunked and compressed.")
    n.run(["git", "mlv", "du"], project)
    return Outcome(images=n_images, acc_v1=metrics_v1["accuracy"], acc_v2=metrics_v2["accuracy"],
                   loss_v1=metrics_v1["loss"], loss_v2=metrics_v2["loss"],
                   data_bytes=folder_size(os.path.join(project, "data")),
                   pool_bytes=folder_size(os.path.join(project, ".git", "mlv")),
                   remote_bytes=folder_size(storage))


def main() -> int:
    """Run the walkthrough in DEMO_DIR or a temporary folder; exit 1 if any check fails."""
    try:
        n_images = int(os.environ.get("DEMO_IMAGES", "1000"))
    except ValueError:
        n_images = -1
    if n_images < 20 or n_images % 2:
        print("demo: error: DEMO_IMAGES must be an even number >= 20", file=sys.stderr)
        return 2
    keep = os.environ.get("DEMO_DIR")
    if keep:
        base = os.path.abspath(keep)
        if os.path.exists(base) and os.listdir(base):
            print(f"demo: error: DEMO_DIR {base} is not empty; pick a new folder", file=sys.stderr)
            return 2
        os.makedirs(base, exist_ok=True)
    else:
        base = tempfile.mkdtemp(prefix="mlv-demo-")
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    t0 = time.perf_counter()
    try:
        res = walkthrough(base, n_images, colour)
    except DemoFailed as e:
        print(f"\ndemo: FAILED: {e}\n(the demo's folders are kept in {base})", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - t0
    print("\n== Summary ==")
    print(f"v1.0: {res.images:,} images, held-out accuracy {res.acc_v1:.3f}, loss {res.loss_v1:.3f}")
    print(f"v2.0: {2 * res.images:,} images, held-out accuracy {res.acc_v2:.3f}, loss {res.loss_v2:.3f}")
    print(f"images in the worktree at v2.0: {human(res.data_bytes)}; .git/mlv (every version of the data "
          f"and the model): {human(res.pool_bytes)}; folder data remote: {human(res.remote_bytes)}")
    print(f"Every step ran for real and every check held ({elapsed:.0f} s).")
    if keep:
        bindir = os.path.dirname(sys.executable)
        print("Look around with the demo's git settings:")
        print(f"  export HOME={shlex.quote(os.path.join(base, 'home'))} GIT_CONFIG_NOSYSTEM=1 "
              f"PATH={shlex.quote(bindir)}:\"$PATH\"")
        print(f"  cd {shlex.quote(os.path.join(base, 'project'))} && git log --oneline")
    else:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
