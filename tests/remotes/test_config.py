"""Remote URLs and configuration (`git mlv remote ...`), and run-cache sync. No servers needed."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from git_mlv.errors import UsageError
from git_mlv.remotes.url import RemoteURL, parse
from tests.helpers import git, mlv, out, random_bytes, write


@pytest.mark.parametrize("url, want", [
    ("/srv/data", RemoteURL("folder", "/srv/data")),
    ("rel/store", RemoteURL("folder", "/base/rel/store")),
    ("../up", RemoteURL("folder", "/up")),
    ("file:///srv/x%20y", RemoteURL("folder", "/srv/x y")),
    ("s3://bucket", RemoteURL("s3", "", host="bucket")),
    ("s3://my.bucket-1/a/b/", RemoteURL("s3", "a/b", host="my.bucket-1")),
    ("ssh://host/srv/mlv", RemoteURL("ssh", "/srv/mlv", host="host")),
    ("ssh://me@host:2222/srv/mlv", RemoteURL("ssh", "/srv/mlv", host="host", user="me", port=2222)),
    ("ssh://me@host/~/mlv", RemoteURL("ssh", "mlv", host="host", user="me")),
    ("me@host:mlv/store", RemoteURL("ssh", "mlv/store", host="host", user="me")),
    ("host:/abs", RemoteURL("ssh", "/abs", host="host")),
])
def test_parse_urls(url: str, want: RemoteURL) -> None:
    assert parse(url, base_dir="/base") == want


@pytest.mark.parametrize("url", ["", "http://x/y", "s3://UPPER/x", "s3://ab", "ssh:///path",
                                 "ssh://host:port/x", "file://otherhost/x"])
def test_bad_urls(url: str) -> None:
    with pytest.raises(UsageError):
        parse(url)


@pytest.mark.parametrize("url, hint", [("s3:/bucket/x", "s3://bucket/x"), ("gs:bucket", "gs://bucket"),
                                       ("AZ:/box", "az://box"), ("file:/srv/x", "file:///srv/x"),
                                       ("ssh:/srv/x", r"ssh://\[USER@\]HOST/PATH")])
def test_a_scheme_without_its_slashes_is_not_an_ssh_host(url: str, hint: str) -> None:
    # scp-like `host:path` would take "s3" for an SSH host: a typo that pushed over SSH to "s3"
    with pytest.raises(UsageError, match=f"write {hint} "):
        parse(url)
    assert parse("me@s3:data") == RemoteURL("ssh", "data", host="s3", user="me")  # a user says SSH


@pytest.mark.parametrize("url, hint", [("s3//bucket/x", "s3://bucket/x"), ("gs//bkt", "gs://bkt"),
                                       ("ssh//host/srv", "ssh://host/srv"), ("S3://bucket", "s3://bucket"),
                                       ("Az://box/p", "az://box/p")])
def test_a_scheme_without_its_colon_is_not_a_folder(repo: Path, url: str, hint: str) -> None:
    """`s3//bucket` (a colon missed) was a relative folder: `remote add` created s3/bucket inside
    the work tree, recorded it in .gitmlv and only warned; `S3://bucket` was "unsupported". Both
    now name the URL meant, and nothing is written."""
    with pytest.raises(UsageError, match=f"write {hint}"):
        parse(url)
    proc = mlv("remote", "add", "box", url, cwd=repo, check=False)
    assert proc.returncode == 2 and proc.stderr.decode().count("\n") == 1, proc.stderr
    assert f"write {hint}" in proc.stderr.decode()
    assert not (repo / ".gitmlv").exists() and sorted(p.name for p in repo.iterdir()) == [
        ".git", ".gitattributes"]
    if "://" not in url:  # the folder, for one who means it
        assert parse(f"./{url}", base_dir="/base") == RemoteURL("folder", "/base/" + os.path.normpath(url))


def gitmlv(repo: Path, *args: str) -> str:
    return out(git("config", "-f", ".gitmlv", *args, cwd=repo, check=False)).strip()


def test_add_list_modify_remove(repo: Path, tmp_path: Path) -> None:
    mlv("remote", "add", "store", "s3://bucket/prefix", "--default", cwd=repo)
    assert gitmlv(repo, "remote.store.url") == "s3://bucket/prefix"
    assert gitmlv(repo, "core.remote") == "store"
    mlv("remote", "add", "box", "ssh://me@host:2222/srv/mlv", cwd=repo)
    mlv("remote", "add", "mine", str(tmp_path / "store"), "--local", cwd=repo)
    assert out(git("config", "mlv-remote.mine.url", cwd=repo)).strip() == str(tmp_path / "store")
    assert "mine" not in (repo / ".gitmlv").read_text()

    # settings that must not be shared go to .git/config, never to the tracked file
    mlv("remote", "modify", "store", "endpoint", "http://127.0.0.1:9", cwd=repo)
    mlv("remote", "modify", "store", "profile", "team", cwd=repo)
    assert out(git("config", "mlv-remote.store.endpoint", cwd=repo)).strip() == "http://127.0.0.1:9"
    assert "endpoint" not in (repo / ".gitmlv").read_text()
    mlv("remote", "modify", "box", "url", "ssh://me@host:2223/srv/mlv", cwd=repo)
    assert gitmlv(repo, "remote.box.url") == "ssh://me@host:2223/srv/mlv"

    rows = {r["name"]: r for r in json.loads(out(mlv("remote", "list", "--json", cwd=repo)))}
    assert rows["store"]["default"] and rows["store"]["scope"] == "tracked"
    assert rows["store"]["options"] == {"endpoint": "http://127.0.0.1:9", "profile": "team"}
    assert rows["mine"]["scope"] == "local" and not rows["mine"]["default"]
    assert "* store" in out(mlv("remote", "list", cwd=repo))

    # .git/config's mlv.remote overrides the tracked default
    git("config", "mlv.remote", "mine", cwd=repo)
    rows = {r["name"]: r for r in json.loads(out(mlv("remote", "list", "--json", cwd=repo)))}
    assert rows["mine"]["default"] and not rows["store"]["default"]
    git("config", "--unset", "mlv.remote", cwd=repo)

    (repo / ".git" / "mlv" / "remotes" / "store").mkdir(parents=True)
    mlv("remote", "remove", "store", cwd=repo)
    assert gitmlv(repo, "remote.store.url") == "" and gitmlv(repo, "core.remote") == ""
    assert out(git("config", "--get-regexp", "mlv-remote.store", cwd=repo, check=False)) == ""
    assert not (repo / ".git" / "mlv" / "remotes" / "store").exists()
    names = [r["name"] for r in json.loads(out(mlv("remote", "list", "--json", cwd=repo)))]
    assert names == ["box", "mine"]


@pytest.mark.parametrize("args, words", [
    (["add", "store", "/x", "--default"], ["already exists"]),
    (["add", "bad/name", "/x"], ["invalid remote name"]),
    (["add", "x", "ftp://h/p"], ["unsupported remote url"]),
    (["modify", "store", "colour", "red"], ["unknown remote setting", "endpoint"]),
    # a setting another kind of remote reads: stored, it did nothing ('store' is a folder)
    (["modify", "store", "region", "eu"], ["region means nothing", "folder remote", "takes url, default"]),
    (["modify", "s3", "identityfile", "k"], ["identityFile means nothing", "S3 remote",
                                            "endpoint, region, profile, addressingStyle"]),
    (["modify", "box", "region", "eu"], ["SSH remote", "identityFile, acceptNewHostKey"]),
    (["remove", "nope"], ["no data remote named 'nope'"]),
])
def test_config_errors_are_one_line(repo: Path, args: list[str], words: list[str]) -> None:
    mlv("remote", "add", "store", "/x", cwd=repo)
    mlv("remote", "add", "s3", "s3://bucket/prefix", cwd=repo)
    mlv("remote", "add", "box", "ssh://me@host/srv/mlv", cwd=repo)
    proc = mlv("remote", *args, cwd=repo, check=False)
    lines = proc.stderr.decode().strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("git-mlv: error:")
    for w in words:
        assert w.lower() in lines[0].lower()


def test_push_without_a_remote_says_how_to_add_one(repo: Path) -> None:
    git("add", "-A", cwd=repo)  # a commit to push (before one, push says "no commit yet": 55edb6a)
    git("commit", "-q", "-m", "first", cwd=repo)
    proc = mlv("push", cwd=repo, check=False)
    assert proc.returncode == 2
    assert "git mlv remote add" in proc.stderr.decode()


def test_an_unreadable_gitmlv_is_named_not_taken_for_no_remote(repo: Path, tmp_path: Path) -> None:
    """A merge conflict left in .gitmlv: commands said "no default data remote", and a push
    would have gone on without the data. Now one line names the file and git's reason; a
    push is stopped; a checkout still works (the data is here)."""
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    data = random_bytes(5000, seed=3)
    write(repo / "a.bin", data)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "a", cwd=repo)
    git("init", "-q", "--bare", str(tmp_path / "origin.git"), cwd=tmp_path)
    git("remote", "add", "origin", str(tmp_path / "origin.git"), cwd=repo)
    with open(repo / ".gitmlv", "a") as f:
        f.write('<<<<<<< HEAD\n[remote "other"]\n\turl = /elsewhere\n=======\n')
    for args in (["push"], ["remote", "list"], ["pull"]):
        proc = mlv(*args, cwd=repo, check=False)
        lines = proc.stderr.decode().strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1, (args, lines)
        assert ".gitmlv cannot be read (bad config line" in lines[0]
        assert "git checkout HEAD -- .gitmlv" in lines[0]
    st = mlv("status", cwd=repo)  # the local state is still said, with why the remote is not
    assert "The data remote could not be asked: .gitmlv cannot be read" in out(st)
    assert "1 file(s) tracked" in out(st)
    proc = git("push", "-q", "origin", "HEAD", cwd=repo, check=False)
    assert proc.returncode != 0 and ".gitmlv cannot be read" in proc.stderr.decode()
    assert out(git("for-each-ref", cwd=tmp_path / "origin.git")) == ""  # the push was stopped
    (repo / "a.bin").unlink()
    proc = git("checkout", "-q", "--", "a.bin", cwd=repo, check=False)
    assert proc.returncode == 0 and (repo / "a.bin").read_bytes() == data


def test_remote_name_or_revision(repo: Path, tmp_path: Path) -> None:
    """`push [REMOTE] [REV...]`: the first word is a remote only if one has that name."""
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    write(repo / "a.bin", random_bytes(5000, seed=1))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "a", cwd=repo)
    git("tag", "v1", cwd=repo)
    res = json.loads(out(mlv("push", "--json", "store", "v1", cwd=repo)))
    assert res["remote"] == "store" and res["files"] == 1
    res = json.loads(out(mlv("push", "--json", "v1", cwd=repo)))
    assert res["remote"] == "store" and res["bytes_sent"] == 0
    proc = mlv("push", "no-such-rev", cwd=repo, check=False)
    assert proc.returncode != 0 and proc.stderr.decode().count("\n") == 1


def test_runcache_entries_travel_with_push_and_fetch(repo: Path, tmp_path: Path) -> None:
    """Push sends local run-cache entries and their outputs; fetch brings keys and entries back,
    and the outputs' data with --all."""
    from git_mlv.core.pool import Pool

    store = tmp_path / "store"
    mlv("remote", "add", "store", str(store), "--default", cwd=repo)
    git("add", ".gitmlv", cwd=repo)
    git("commit", "-q", "-m", "remote", cwd=repo)
    output = random_bytes(30_000, seed=9)
    pool = Pool(str(repo / ".git" / "mlv"))
    out_oid = pool.writer().add_bytes(output).oid
    entry = {"cmd": "python train.py", "deps": {}, "params": {},
             "outs": {"model.bin": {"oid": out_oid, "size": len(output)}}}
    entry_oid = pool.writer().add_bytes(json.dumps(entry, sort_keys=True).encode()).oid
    pool.close()
    key = "f" * 64
    write(repo / ".git" / "mlv" / "runcache" / key, f"{entry_oid}\n".encode())

    res = json.loads(out(mlv("push", "--json", cwd=repo)))
    assert res["runcache_entries"] == 1
    assert (store / "runcache" / key).read_text() == f"{entry_oid}\n"
    assert json.loads(out(mlv("push", "--json", cwd=repo)))["runcache_entries"] == 0

    clone = tmp_path / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)
    res = json.loads(out(mlv("fetch", "--json", cwd=clone)))
    assert res["runcache_entries"] == 1
    assert (clone / ".git" / "mlv" / "runcache" / key).read_text() == f"{entry_oid}\n"
    pool = Pool(str(clone / ".git" / "mlv"))
    assert pool.has_file(entry_oid) and not pool.has_file(out_oid)
    pool.close()
    mlv("fetch", "--all", cwd=clone)
    pool = Pool(str(clone / ".git" / "mlv"))
    assert b"".join(pool.iter_file(out_oid)) == output
    pool.close()
    assert os.listdir(clone / ".git" / "mlv" / "runcache") == [key]


def test_a_file_url_with_two_slashes_says_what_it_means() -> None:
    """`file://data/store` reads "data" as a host: the error said "file:// URLs must be local" to a
    user who had typed a local (relative) path; it now says how each is written."""
    with pytest.raises(UsageError, match=r"names the host 'data'.*file:///abs/path.*as it is \(data/store\)"):
        parse("file://data/store")


@pytest.mark.parametrize("url, read_as", [("s3://bkt?region=eu-west-1", "s3://bkt"),
                                          ("s3://bkt/run#3", "s3://bkt/run"), ("gs://bkt/p?x", "gs://bkt/p"),
                                          ("az://box/p?sv=1&sig=2", "az://box/p")])
def test_a_bucket_url_with_a_query_is_refused(url: str, read_as: str) -> None:
    """urlsplit dropped a query or fragment silently: `s3://bkt?region=eu-west-1` put the data at
    s3://bkt with the setting unread, `s3://bkt/run#3` at the prefix "run"."""
    with pytest.raises(UsageError, match=rf"would read as {re.escape(read_as)};.*remote modify"):
        parse(url)


@pytest.mark.parametrize("url, meant", [("s3://bkt/a/../b", "write s3://bkt/b"),
                                        ("s3://bkt/a//c", "write s3://bkt/a/c"),
                                        ("gs://bkt/./p/", "write gs://bkt/p"),
                                        ("az://box@acct/../p", "'..' climbs out of the bucket")])
def test_a_bucket_prefix_with_dot_segments_is_refused(url: str, meant: str) -> None:
    """`s3://b/a/../b` was kept as typed: S3 stored the data under the literal key `a/..`, where
    no one (nor GCS's or Azure's libraries, which read such names their own way) would look."""
    with pytest.raises(UsageError, match=rf"taken literally.*{re.escape(meant)}"):
        parse(url)
    assert parse("s3://bkt//a/").path == "a"  # outer slashes: ignored, as before
