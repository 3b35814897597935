"""from-lfs on git-lfs pointers written in the other forms git-lfs reads: CRLF line ends, no final
newline, the pre-release (hawser) and alpha (git-media) version headers.

Regression: the migration's parser took only the form git-lfs's clean writes today, so these stayed
git-lfs pointer text under ``filter=mlv``: after the migration (git-lfs's store gone) each checked
out as pointer text, not the file `git lfs smudge` gave before. Now each is converted like any
pointer and checks out as its file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from git_mlv.core.pointer import Pointer
from tests.helpers import git, mlv, out, random_bytes, write
from tests.integration.test_migrate_lfs import lfs

FORMS = {
    "crlf.bin": "version https://git-lfs.github.com/spec/v1\r\noid sha256:{oid}\r\nsize {size}\r\n",
    "no-newline.bin": "version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}",
    "hawser.bin": "version https://hawser.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n",
    "alpha.bin": "version http://git-media.io/v/2\n\noid sha256:{oid}\nsize {size}\n",
}


def test_every_pointer_form_git_lfs_reads_is_converted(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    lfs("install", "--local", cwd=repo)
    lfs("track", "*.bin", cwd=repo)
    data = random_bytes(5000, seed=7)
    write(repo / "a.bin", data)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "a", cwd=repo)
    canonical = git("cat-file", "blob", "HEAD:a.bin", cwd=repo).stdout.decode()
    oid, size = canonical.split("oid sha256:")[1][:64], len(data)
    for name, form in FORMS.items():
        text = form.format(oid=oid, size=size).encode()
        assert git("lfs", "smudge", "--", name, cwd=repo, input=text).stdout == data, name  # git-lfs reads it
        blob = out(git("hash-object", "-w", "--stdin", cwd=repo, input=text)).strip()
        git("update-index", "--add", "--cacheinfo", f"100644,{blob},{name}", cwd=repo)
    git("commit", "-q", "-m", "other forms", cwd=repo)
    git("tag", "v1", cwd=repo)
    out(mlv("migrate", "from-lfs", "--everything", "-q", cwd=repo))
    shutil.rmtree(repo / ".git" / "lfs")  # only git-mlv's pool can give the bytes now
    (repo / ".git" / "index").unlink()
    git("checkout", "-q", "-f", "v1", cwd=repo)
    for name in ["a.bin", *FORMS]:
        assert Pointer.parse(git("cat-file", "blob", f"v1:{name}", cwd=repo).stdout).oid == oid, name
        assert (repo / name).read_bytes() == data, name


def test_import_refuses_a_crlf_git_lfs_pointer(tmp_path: Path) -> None:
    """`migrate import` stops on git-lfs pointer text (test_migrate_trial_import_lfs); it tested a
    prefix with LF only, so a CRLF pointer went into the pool as the file's data."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    text = FORMS["crlf.bin"].format(oid="a" * 64, size=12).encode()
    blob = out(git("hash-object", "-w", "--stdin", cwd=repo, input=text)).strip()
    git("update-index", "--add", "--cacheinfo", f"100644,{blob},crlf.bin", cwd=repo)
    git("commit", "-q", "-m", "a pointer with CRLFs", cwd=repo)
    git("checkout", "-q", "-f", cwd=repo)
    before = out(git("for-each-ref", cwd=repo))
    proc = mlv("migrate", "import", "--include=*.bin", "--everything", "-q", cwd=repo, check=False)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and "crlf.bin is a git-lfs pointer" in err, err
    assert out(git("for-each-ref", cwd=repo)) == before
