"""`remote modify NAME KEY VALUE` with a value the setting's reader does not take.

Regression: `acceptNewHostKey treu` was stored and answered "Updated data remote"; the SSH remote
read it as false and went on refusing the unknown host key while telling the user to set
acceptNewHostKey true (which they believed they had). `addressingStyle pathy` was stored and
refused only by the next push.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import git, mlv
from tests.remotes.test_faults import one_error


@pytest.mark.parametrize(("url", "key", "value", "words"), [
    ("ssh://me@host/srv/mlv", "acceptNewHostKey", "treu", ["acceptNewHostKey takes true or false", "treu"]),
    ("gs://bucket/p", "anonymous", "si", ["anonymous takes true or false"]),
    ("s3://bucket/p", "addressingStyle", "pathy", ["addressingStyle takes auto, path, virtual", "pathy"]),
])
def test_a_value_the_setting_does_not_take_is_refused(repo: Path, url: str, key: str, value: str,
                                                      words: list[str]) -> None:
    mlv("remote", "add", "r", url, cwd=repo)
    one_error(mlv("remote", "modify", "r", key, value, cwd=repo, check=False), *words)
    assert git("config", "--get", f"mlv-remote.r.{key}", cwd=repo, check=False).returncode == 1


@pytest.mark.parametrize(("url", "key", "value"), [
    ("ssh://me@host/srv/mlv", "acceptNewHostKey", "yes"),
    ("gs://bucket/p", "anonymous", "TRUE"),
    ("s3://bucket/p", "addressingStyle", "virtual"),
])
def test_the_values_the_readers_take_are_kept(repo: Path, url: str, key: str, value: str) -> None:
    mlv("remote", "add", "r", url, cwd=repo)
    mlv("remote", "modify", "r", key, value, cwd=repo)
    assert git("config", "--get", f"mlv-remote.r.{key}", cwd=repo).stdout.decode().strip() == value
