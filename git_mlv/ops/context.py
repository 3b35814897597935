"""The workspace a verb runs in: the git repository, its settings and its pool."""

from __future__ import annotations

import os
from functools import cached_property
from typing import TYPE_CHECKING

from ..core.fsutil import set_shared
from ..core.settings import Settings
from ..gitio.git import Repo

if TYPE_CHECKING:
    from ..core.pool import Pool


class Workspace:
    """A git repository and its git-mlv pool, opened lazily."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo

    @classmethod
    def discover(cls, cwd: str | None = None, with_config: bool = False) -> Workspace:
        """The workspace of the repository containing ``cwd`` (``with_config``: see Repo.discover)."""
        return cls(Repo.discover(cwd, with_config))

    @cached_property
    def settings(self) -> Settings:
        """Pool settings from ``mlv.*`` git config (and file modes from ``core.sharedRepository``)."""
        set_shared(self.repo.config.get("core.sharedrepository"))
        return Settings.from_config(self.repo.config)

    @cached_property
    def pool(self) -> Pool:
        """The object pool (created on first write); imported here so light verbs start fast."""
        from ..core.pool import Pool

        pool = Pool(self.repo.mlv_dir, self.settings)
        # shared (our mlv.pool, or another clone's naming our .git/mlv): say who uses it, for gc
        if self.repo.config.get("mlv.pool") or os.path.isdir(os.path.join(pool.root, "clones")):
            from .sharedpool import register

            register(self)
        return pool

    def close(self) -> None:
        """Commit pending writes and release the pool."""
        if "pool" in self.__dict__:
            self.pool.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
