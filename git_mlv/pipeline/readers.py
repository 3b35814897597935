"""Parsing parameter and metric files: JSON, YAML, TOML, CSV and Python, flattened to ``{"a.b.c": value}``."""

from __future__ import annotations

import csv
import io
import json
import posixpath
from typing import Any

from ..core.pointer import MAX_SIZE, Pointer
from ..errors import MlvError


class FormatError(MlvError):
    """A parameter or metric file cannot be parsed."""


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


_DELIMITERS = (",", ";", "\t", "|")


def _delimiter(text: str) -> str:
    """The field delimiter of a ``.csv``, by the rule summaries use (inspect/dialect.py, written
    again here: pipeline does not import inspect): among the first 50 records, a candidate that
    splits every one into the same number of fields, more than one; the comma whenever it does,
    else the one giving the most fields, else the comma. A training log Excel saved in much of
    Europe is ``;``-separated, and read with commas its metric was named ``step;loss;acc``."""
    best, fields = ",", 1
    for sep in _DELIMITERS:
        counts = set()
        for n, row in enumerate(csv.reader(io.StringIO(text), delimiter=sep)):
            if n >= 50:
                break
            if any(c.strip() for c in row):
                counts.add(len(row))
        width = counts.pop() if len(counts) == 1 else 0
        if width > fields:
            if sep == ",":
                return sep
            best, fields = sep, width
    return best


def _csv(text: str, delimiter: str = ",") -> dict[str, Any]:
    # Column headers are the metric names; the last row holds their latest values (a training log).
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        return {}
    header, last = rows[0], rows[-1] if len(rows) > 1 else []
    return {h.strip(): _number(v.strip()) for h, v in zip(header, last) if h.strip()}


def _python(text: str, path: str) -> dict[str, Any]:
    """The constants of a Python parameter file, as DVC reads them (dvc/utils/serialize/_py.py):
    ``NAME = literal`` at the top and in class bodies (a class is a mapping of its attributes);
    anything that is not a literal is left out. The file is parsed, never run."""
    import ast

    def body(stmts: list[ast.stmt]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for st in stmts:
            if isinstance(st, ast.ClassDef):
                out[st.name] = body(st.body)
                continue
            if isinstance(st, ast.Assign):
                targets, value = st.targets, st.value
            elif isinstance(st, ast.AnnAssign) and st.value is not None:
                targets, value = [st.target], st.value
            else:
                continue
            for t in targets:
                if not isinstance(t, ast.Name):
                    continue
                try:
                    out[t.id] = ast.literal_eval(value)
                except (ValueError, TypeError):  # an expression (a call, a name): not a value
                    pass
        return out

    return body(ast.parse(text, filename=path).body)


def parse(path: str, data: bytes) -> Any:
    """The document in ``data``, by the extension of ``path``; FormatError when it does not parse."""
    ext = posixpath.splitext(path)[1].lower()
    if len(data) < MAX_SIZE and Pointer.try_parse(data) is not None:
        # a tracked file whose data is not in the pool: say so, not "Expecting value: line 1"
        raise FormatError(f"cannot read {path}: its data is not here (a git-mlv pointer); "
                          "`git mlv pull` or `git mlv fetch --all` gets it")
    try:
        text = data.decode("utf-8-sig")
        conflict = _conflict_line(text)
        if conflict:
            # a CSV (and some YAML) would parse the markers as values: ">>>>>>> exp" as a metric
            raise FormatError(f"cannot parse {path}: unresolved merge conflict (line {conflict}); "
                              "resolve it first")
        if ext == ".json":
            return json.loads(text)
        if ext == ".toml":
            try:
                import tomllib
            except ModuleNotFoundError:  # Python 3.10
                import tomli as tomllib  # type: ignore[no-redef]
            return tomllib.loads(text)
        if ext == ".py":
            return _python(text, path)
        if ext in (".csv", ".tsv"):
            # a TSV read as tab-separated: turning tabs into commas split a value holding a comma
            return _csv(text, _delimiter(text)) if ext == ".csv" else _csv(text, "\t")
        return _yaml(text)
    except FormatError:
        raise
    except Exception as e:  # every parser has its own error class; all mean "not parseable"
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise FormatError(f"cannot parse {path}: {first}") from None


_LOADER: Any = None


def _yaml(text: str) -> Any:
    """A YAML document (YAML is a superset of JSON: the reader for .yaml, .yml and anything else),
    with YAML 1.2's floats: PyYAML follows YAML 1.1, where a float needs a dot, so ``lr: 1e-3``
    was the string "1e-3": not a number to plot or subtract, and after `git mlv migrate from-dvc`
    (DVC reads YAML 1.2 and locked ``lr: 0.001``) every stage with such a parameter was stale
    ("param params.yaml:lr changed")."""
    global _LOADER
    import yaml

    if _LOADER is None:
        import re

        class Loader(yaml.SafeLoader):
            """SafeLoader, and ``1e-3``, ``6.02E23``, ``.5e1`` are floats."""

        Loader.add_implicit_resolver(
            "tag:yaml.org,2002:float",
            re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
            list("-+0123456789."))
        _LOADER = Loader
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a SafeLoader


def rows(path: str, data: bytes) -> list[dict[str, Any]]:
    """The records of a table file (plot data, a training log): a CSV or TSV with a header row, or
    a JSON or YAML list of mappings, or a mapping holding one such list (DVC's
    ``{"train": [{"step": 0, "loss": 1.2}, ...]}``); FormatError otherwise."""
    ext = posixpath.splitext(path)[1].lower()
    if ext not in (".csv", ".tsv"):
        doc = parse(path, data)
        if isinstance(doc, dict):
            lists = [(str(k), v) for k, v in doc.items() if isinstance(v, list)]
            doc = lists[0][1] if len(lists) == 1 else _merged(lists) if lists else doc
        if not (isinstance(doc, list) and all(isinstance(r, dict) for r in doc)):
            raise FormatError(f"cannot plot {path}: not a list of records (rows: a CSV or TSV with a "
                              "header, or a JSON or YAML list of mappings)")
        return [{str(k): v for k, v in r.items()} for r in doc]
    parse(path, data)  # the pointer, encoding and conflict checks; the values are read below
    text = data.decode("utf-8-sig")
    table = [r for r in csv.reader(io.StringIO(text), delimiter="\t" if ext == ".tsv" else _delimiter(text))
             if any(c.strip() for c in r)]
    if not table:
        return []
    header = [h.strip() for h in table[0]]
    return [{h: _number(v.strip()) for h, v in zip(header, r) if h} for r in table[1:]]


def _merged(lists: list[tuple[str, list[Any]]]) -> Any:
    """The records of several named lists (``{"train": [...], "val": [...]}``, a log of each
    split) as one list, each column named by its list (``train.loss``, ``val.loss``) but the
    first, when every list's records start with the same one (``step``, ``epoch``: the x axis).
    Such a file was "not a list of records"; the lists unchanged when they are not all records."""
    if not all(isinstance(r, dict) and r for _, rows in lists for r in rows):
        return dict(lists)
    firsts = {next(iter(rows[0])) for _, rows in lists if rows}
    shared = firsts.pop() if len(firsts) == 1 else None
    return [{(k if k == shared else f"{name}.{k}"): v for k, v in r.items()}
            for name, rows in lists for r in rows]


def _conflict_line(text: str) -> int:
    """The line number of git's first conflict marker when all three kinds are there, else 0."""
    first, seen = 0, set()
    for n, line in enumerate(text.splitlines(), start=1):
        for marker in ("<<<<<<< ", "=======", ">>>>>>> "):
            if line.startswith(marker) and (marker != "=======" or line.rstrip() == marker):
                seen.add(marker)
                first = first or n
    return first if len(seen) == 3 else 0


def flatten(doc: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as ``{"a.b.c": leaf}``; lists and scalars are leaves."""
    if not isinstance(doc, dict):
        return {prefix: doc} if prefix else {}
    out: dict[str, Any] = {}
    for k, v in doc.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict) and v:
            out.update(flatten(v, key))
        else:
            out[key] = v
    return out


def select(flat: dict[str, Any], key: str) -> dict[str, Any]:
    """Entries of ``flat`` named ``key`` or below it (``model`` selects ``model.lr``...); all for ''."""
    if not key:
        return dict(flat)
    return {k: v for k, v in flat.items() if k == key or k.startswith(key + ".")}


def is_number(v: Any) -> bool:
    """True for int and float, not bool."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)
