"""Folder ``.gitattributes`` lines that keep git-mlv's filter off paths ``migrate import`` chooses.

``migrate import`` writes its ``PATTERN filter=mlv ...`` lines in the root ``.gitattributes``, but a
folder's ``.gitattributes`` wins over the root's for the files below it: ``*.bin -filter`` in
``data/.gitattributes`` keeps ``data/*.bin`` out of every filter. Converted all the same, such a file
became a pointer git never smudges: ``git status`` showed it modified right after the migration,
and every checkout (of each rewritten commit too) wrote pointer text where the data had been.
Such paths are left in git, as the folder's line says, and named in a warning.

Rules are gathered from every folder ``.gitattributes`` seen (the checked-out tree's, then each
rewritten commit's): leaving a file in git never changes its bytes, converting one git will not
smudge does.
"""

from __future__ import annotations

import posixpath

from ..gitio.pathmatch import matches

_SHOWN = 5


class FilterOverrides:
    """``(folder, pattern)`` of the folder lines that unset or replace the filter."""

    def __init__(self) -> None:
        self.rules: list[tuple[str, str]] = []
        self._seen: set[str] = set()  # blob ids already read
        self._cache: dict[str, bool] = {}
        self.left: list[str] = []  # paths left in git, first few
        self.left_count = 0
        self._left_seen: set[str] = set()

    def learn(self, path: str, blob: str, text: bytes | None) -> None:
        """Read the lines of the ``.gitattributes`` at ``path`` (root's are ours to write: skipped)."""
        folder = posixpath.dirname(path)
        if not folder or blob in self._seen:
            return
        self._seen.add(blob)
        for line in (text or b"").decode("utf-8", "replace").splitlines():
            parts = line.split()
            if len(parts) < 2 or parts[0].startswith("#"):
                continue
            # filter=lfs is left to the converter, which stops on a git-lfs pointer with what to do
            if any(a in ("-filter", "!filter") or (a.startswith("filter=") and a not in ("filter=mlv",
                                                                                    "filter=lfs"))
                   for a in parts[1:]):
                self.rules.append((folder, parts[0]))
                self._cache.clear()

    def keeps_in_git(self, path: str) -> bool:
        """True when a folder line takes the filter away from ``path``; remembered for the warning."""
        got = self._cache.get(path)
        if got is None:
            got = self._cache[path] = any(
                path.startswith(folder + "/") and matches(pattern, path[len(folder) + 1:])
                for folder, pattern in self.rules)
        if got and path not in self._left_seen:
            self._left_seen.add(path)
            self.left_count += 1
            if len(self.left) < _SHOWN:
                self.left.append(path)
        return got

    def warning(self) -> str | None:
        """The summary's line, or None when no chosen path was left in git."""
        if not self.left_count:
            return None
        more = f" and {self.left_count - len(self.left)} more" if self.left_count > len(self.left) else ""
        return (f"{', '.join(self.left)}{more}: left in git, not converted: a folder's .gitattributes "
                "takes the filter away there (a `-filter` or `filter=...` line), which wins over the root's "
                "lines; remove that line and migrate again to convert them")
