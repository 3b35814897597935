"""A clone's background fetch (ops/delayed.Fetcher) that ends by an error nothing expected must not
leave git waiting for ever: the filter's ``list_available_blobs`` answer waited on a condition
that only the fetch thread would signal, and a clone under load once hung there with the thread
gone. The fault is injected (an exception from the step after a batch, which no real server can
be made to raise on demand); the files it held come back as ready, to stay pointers, warned."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from git_mlv.core.pointer import Pointer
from git_mlv.gitio.git import Repo
from git_mlv.ops import delayed, sync_fetch
from git_mlv.ops.context import Workspace


def _rec(i: int) -> bytes:
    p = Pointer(f"{i:02x}" * 32, 1000 + i)
    return delayed.record(f"data/f{i}.bin", p, p.encode())


@pytest.mark.parametrize("fault", [RuntimeError("injected"), SystemExit(3)])
def test_a_fetch_thread_that_dies_leaves_its_files_ready(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        fault: BaseException) -> None:
    fetched: list[list[str]] = []

    def fetch_oids(ws: Workspace, oids: list[str], **kw: object) -> None:
        fetched.append(oids)

    def drop_fetch_pages(ws: Workspace) -> None:
        raise fault

    monkeypatch.setattr(sync_fetch, "fetch_oids", fetch_oids)
    monkeypatch.setattr(sync_fetch, "drop_fetch_pages", drop_fetch_pages)
    ws = Workspace(Repo.discover(str(repo)))
    fetcher = delayed.Fetcher(ws)
    recs = [_rec(i) for i in range(3)]
    for r in recs:
        fetcher.add(r)
    got: list[bytes] = []
    waiter = threading.Thread(target=lambda: got.extend(fetcher.wait_ready(100)), daemon=True)
    waiter.start()
    waiter.join(20)
    assert not waiter.is_alive(), "git would wait for ever for files nobody fetches"
    assert sorted(got) == sorted(recs) and fetched  # the batch was tried, then every file listed
    assert fetcher.failed
    late = _rec(7)
    fetcher.add(late)  # git may still be delaying files: they are listed at once, not queued
    assert fetcher.wait_ready(100) == [late]
    assert fetcher.stop()
    err = capsys.readouterr().err
    assert err.count("the background fetch stopped") == 1, err
    ws.close()
