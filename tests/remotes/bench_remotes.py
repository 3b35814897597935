"""Throughput of push and fetch on each backend (a benchmark, not a test; pytest does not collect it).

    .venv/bin/python -m tests.remotes.bench_remotes --mb 1024 --backends s3,ssh,folder,azure,gcs

Starts its own SeaweedFS, sshd, Azurite and fake-gcs-server like the test suite, builds a pool of
incompressible data (so the figures measure transfer, not zstd), pushes it to an empty remote and
fetches it into an empty pool. For SFTP it also times OpenSSH's ``sftp`` put/get of one file of the
same size: the target is paramiko >= 80 % of that. For Azure and GCS it times pyarrow alone moving
the same bytes to the same server right after (64 MB objects from memory, 4 at a time, 8 MiB
writes; whole-object reads): the target is git-mlv >= 80 % of that.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from git_mlv.core.pool import Pool
from git_mlv.core.settings import Settings
from git_mlv.remotes.cache import RemoteIndex
from git_mlv.remotes.fetch import fetch_files
from git_mlv.remotes.transfer import RetryPolicy, push_objects
from git_mlv.remotes.url import open_remote
from tests.remotes.servers import AzuriteServer, FakeGCSServer, SeaweedServer, SSHServer

MB = 1_000_000


def make_pool(root: Path, mb: int) -> tuple[Pool, list[str]]:
    """A pool of ``mb`` MB of random data in 64 MB files."""
    pool = Pool(str(root), Settings())
    w = pool.writer()
    oids = []
    left = mb * MB
    i = 0
    while left > 0:
        n = min(64 * MB, left)
        oids.append(w.add_bytes(os.urandom(n)).oid)
        left -= n
        i += 1
    w.commit()
    return pool, oids


def run(url: str, options: dict[str, str], pool: Pool, oids: list[str], work: Path, mb: int) -> None:
    """Push then fetch; print MB/s."""
    remote = open_remote(url, options)
    retry = RetryPolicy()
    t = time.perf_counter()
    stats = push_objects(pool, remote, RemoteIndex(remote, str(work / "cache-a")), oids,
                         Settings().pack_size, retry)
    push_s = time.perf_counter() - t
    dst = Pool(str(work / "dst"), Settings())
    t = time.perf_counter()
    got = fetch_files(dst, remote, RemoteIndex(remote, str(work / "cache-b")), oids, retry)
    dst.writer().commit()
    fetch_s = time.perf_counter() - t
    assert got.present == set(oids) and not got.damaged
    print(f"{url.split(':')[0]:6} push {stats.bytes_sent / MB / push_s:7.1f} MB/s ({push_s:.2f} s)   "
          f"fetch {got.bytes_received / MB / fetch_s:7.1f} MB/s ({fetch_s:.2f} s)   {mb} MB")
    dst.close()
    remote.close()


def sftp_cli(server: SSHServer, key: Path, known: Path, work: Path, mb: int) -> None:
    """OpenSSH sftp put and get of one file of ``mb`` MB."""
    src = work / "blob"
    with open(src, "wb") as f:
        for _ in range(mb):
            f.write(os.urandom(MB))
    batch_put = work / "put.txt"
    batch_put.write_text(f"put {src} {work}/blob.remote\n")
    batch_get = work / "get.txt"
    batch_get.write_text(f"get {work}/blob.remote {work}/blob.back\n")
    base = ["sftp", "-q", "-i", str(key), "-P", str(server.port), "-o", f"UserKnownHostsFile={known}",
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"]
    for label, batch in (("put", batch_put), ("get", batch_get)):
        t = time.perf_counter()
        subprocess.run([*base, "-b", str(batch), f"{server.user}@127.0.0.1"], check=True,
                       stdout=subprocess.DEVNULL)
        s = time.perf_counter() - t
        print(f"sftp CLI {label} {mb / s:7.1f} MB/s ({s:.2f} s)")


def pyarrow_alone(fs, base: str, mb: int) -> None:  # type: ignore[no-untyped-def]
    """The same bytes moved by pyarrow alone: 64 MB objects, 4 in flight, written in 8 MiB pieces."""
    from concurrent.futures import ThreadPoolExecutor

    sizes = [min(64 * MB, mb * MB - i) for i in range(0, mb * MB, 64 * MB)]
    blobs = [os.urandom(n) for n in sizes]

    def put(i: int) -> None:
        with fs.open_output_stream(f"{base}/obj-{i}") as out:
            view = memoryview(blobs[i])
            for j in range(0, len(view), 8 << 20):
                out.write(view[j:j + (8 << 20)])

    def get(i: int) -> int:
        with fs.open_input_stream(f"{base}/obj-{i}") as f:
            return len(f.read())

    t = time.perf_counter()
    with ThreadPoolExecutor(4) as ex:
        list(ex.map(put, range(len(blobs))))
    put_s = time.perf_counter() - t
    t = time.perf_counter()
    with ThreadPoolExecutor(4) as ex:
        got = sum(ex.map(get, range(len(blobs))))
    get_s = time.perf_counter() - t
    assert got == sum(sizes)
    print(f"pyarrow alone: put {sum(sizes) / MB / put_s:7.1f} MB/s ({put_s:.2f} s)   "
          f"get {got / MB / get_s:7.1f} MB/s ({get_s:.2f} s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mb", type=int, default=256)
    ap.add_argument("--backends", default="folder,s3,ssh")
    ap.add_argument("--rounds", type=int, default=1, help="Azure/GCS: rounds of (pyarrow alone, git-mlv)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mlv-bench-"))
    home = work / "home"
    (home / ".ssh").mkdir(parents=True)
    os.environ["HOME"] = str(home)
    os.environ.pop("SSH_AUTH_SOCK", None)
    try:
        pool, oids = make_pool(work / "pool", args.mb)
        for kind in args.backends.split(","):
            sub = work / kind
            sub.mkdir()
            if kind == "folder":
                run(str(sub / "store"), {}, pool, oids, sub, args.mb)
            elif kind == "s3":
                weed = SeaweedServer(sub / "weed")
                weed.start()
                try:
                    weed.make_bucket("bench")
                    os.environ.update(AWS_ACCESS_KEY_ID=weed.ACCESS, AWS_SECRET_ACCESS_KEY=weed.SECRET,
                                      AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
                    run("s3://bench/p", {"endpoint": weed.endpoint}, pool, oids, sub, args.mb)
                finally:
                    weed.stop()
            elif kind == "azure":
                az = AzuriteServer(sub / "azurite")
                az.start()
                try:
                    az.make_container("bench")
                    os.environ["AZURE_STORAGE_KEY"] = az.KEY
                    for r in range(args.rounds):  # interleaved: the machine's load drifts
                        pyarrow_alone(az.filesystem(), f"bench/alone{r}", args.mb)
                        run(f"az://bench@{az.ACCOUNT}/p{r}", {"endpoint": az.endpoint}, pool, oids,
                            sub / str(r), args.mb)
                finally:
                    az.stop()
            elif kind == "gcs":
                import datetime

                import pyarrow.fs as pafs

                gcs = FakeGCSServer(sub / "gcs")
                gcs.start()
                try:
                    gcs.make_bucket("bench")
                    opts = {"endpoint": gcs.endpoint, "anonymous": "true"}
                    gfs = pafs.GcsFileSystem(anonymous=True, scheme="http",
                                             endpoint_override=gcs.endpoint.split("://")[1],
                                             retry_time_limit=datetime.timedelta(seconds=1))
                    for r in range(args.rounds):
                        pyarrow_alone(gfs, f"bench/alone{r}", args.mb)
                        run(f"gs://bench/p{r}", opts, pool, oids, sub / str(r), args.mb)
                finally:
                    gcs.stop()
            elif kind == "ssh":
                ssh = SSHServer(sub / "sshd")
                shutil.copy(ssh.client_key, home / ".ssh" / "id_ed25519")
                (home / ".ssh" / "known_hosts").write_text(ssh.known_hosts_line())
                ssh.start()
                try:
                    run(f"ssh://{ssh.user}@127.0.0.1:{ssh.port}{sub}/store", {}, pool, oids, sub, args.mb)
                    sftp_cli(ssh, ssh.client_key, home / ".ssh" / "known_hosts", sub, args.mb)
                finally:
                    ssh.stop()
        pool.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
