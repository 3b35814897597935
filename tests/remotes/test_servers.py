"""The suite's own servers: two pytest-xdist workers never hand out the same port, and SeaweedFS
started on a port another process has just bound starts again on fresh ports (CI, 2026-12-04: every
S3 test of one worker failed with "bind: address already in use")."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.remotes import servers
from tests.remotes.servers import SeaweedServer, free_port


def test_each_worker_draws_ports_from_its_own_share(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(servers, "_GIVEN", set())
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    drawn = {}
    for worker in ("gw0", "gw1"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        drawn[worker] = [free_port(with_grpc=True) for _ in range(40)] + [free_port() for _ in range(40)]
    assert {p % 10000 % 2 for p in drawn["gw0"]} == {0}
    assert {p % 10000 % 2 for p in drawn["gw1"]} == {1}
    every = drawn["gw0"] + drawn["gw1"]
    assert len(set(every)) == len(every)  # never one port twice in a process either


def test_seaweed_started_on_a_port_just_taken_moves_to_fresh_ports(tmp_path: Path) -> None:
    server = SeaweedServer(tmp_path / "weed")
    taken = server.ports["filer"]
    with socket.socket() as squatter:  # another process binding it after our check, before weed's
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", taken))
        squatter.listen()
        server.start()
        try:
            assert server.ports["filer"] != taken
            bucket = server.make_bucket("moved")
            server.client().put_object(Bucket=bucket, Key="k", Body=b"bytes")
            assert server.client().get_object(Bucket=bucket, Key="k")["Body"].read() == b"bytes"
        finally:
            server.stop()
