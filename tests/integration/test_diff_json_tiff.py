"""`git diff` of JSON documents and TIFF images shows what a data scientist reads, not two sha256s
(docs/inspect.md): a metrics file's structure and every value that moved; a big annotations file's
structure (counts of images and annotations), scanned in bounded memory; a TIFF stack's pages,
size, mode, sample type and compression. Each drives the real git binary and compares the hunks
byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from tests.helpers import commit_all, git, out, run, write


def _diff(repo: Path, path: str) -> str:
    return out(git("diff", "HEAD~1", "HEAD", "--", path, cwd=repo)).split("\n", 4)[4]  # from "+++"


def _sha(data: bytes) -> str:
    """The file's sha256, the summary's last line."""
    return hashlib.sha256(data).hexdigest()


def test_a_metrics_document_shows_its_structure_and_the_values_that_moved(repo: Path) -> None:
    doc = {"model": "resnet50", "epochs": 10,
           "metrics": {"accuracy": 0.9132, "loss": 0.2871, "per_class": [0.95, 0.88]},
           "tags": ["baseline"], "odd key": "tab\there"}
    v1 = json.dumps(doc, indent=2).encode()
    write(repo / "data" / "metrics.json", v1)
    commit_all(repo, "v1")
    doc.update(epochs=12, seed=7)
    doc["metrics"] = {"accuracy": 0.9204, "loss": 0.2871, "per_class": [0.95, 0.9, 0.7]}
    v2 = json.dumps(doc, indent=2).encode()
    write(repo / "data" / "metrics.json", v2)
    commit_all(repo, "v2")
    assert _diff(repo, "data/metrics.json") == f"""\
@@ -1,17 +1,20 @@
 format json
-size 211 (211 B)
-structure . object 5 keys
+size 234 (234 B)
+structure . object 6 keys
 structure .model string
 structure .epochs number
 structure .metrics object 3 keys
 structure .tags array 1
 structure .["odd key"] string
+structure .seed number
 .model "resnet50"
-.epochs 10
-.metrics.accuracy 0.9132
+.epochs 12
+.metrics.accuracy 0.9204
 .metrics.loss 0.2871
 .metrics.per_class[0] 0.95
-.metrics.per_class[1] 0.88
+.metrics.per_class[1] 0.9
+.metrics.per_class[2] 0.7
 .tags[0] "baseline"
 .["odd key"] "tab\\there"
-sha256 {_sha(v1)}
+.seed 7
+sha256 {_sha(v2)}
"""


def _coco(images: int) -> bytes:
    doc = {"info": {"year": 2017, "description": "a \"val\" split \\ 2017"},
           "images": [{"id": i, "file_name": f"{i:012d}.jpg", "width": 640, "height": 480}
                      for i in range(images)],
           "annotations": [{"id": i, "image_id": i // 2, "bbox": [1.5, 2.5, 30, 40], "caption": "a [b] {c}"}
                           for i in range(2 * images)],
           "categories": [], "licenses": {}}
    return json.dumps(doc).encode()


def test_a_big_annotations_document_shows_its_structure(repo: Path) -> None:
    write(repo / "data" / "coco.json", _coco(20_000))  # > 4 MiB: scanned, not parsed
    commit_all(repo, "v1")
    write(repo / "data" / "coco.json", _coco(20_001))
    commit_all(repo, "v2")
    old, new = len(_coco(20_000)), len(_coco(20_001))
    assert old > 4 << 20
    assert _diff(repo, "data/coco.json") == f"""\
@@ -1,9 +1,9 @@
 format json
-size {old} ({old / (1 << 20):.1f} MiB)
+size {new} ({new / (1 << 20):.1f} MiB)
 structure . object 5 keys
 structure .info object 2 keys
-structure .images array 20000
-structure .annotations array 40000
+structure .images array 20001
+structure .annotations array 40002
 structure .categories array 0
 structure .licenses object 0 keys
-sha256 {_sha(_coco(20_000))}
+sha256 {_sha(_coco(20_001))}
"""
    kept = [p for p in (repo / ".git" / "mlv" / "summaries").rglob("*-json") if p.is_file()]
    assert len(kept) == 2  # a scan costs more than a hash: kept in the summary cache


def test_a_json_file_that_does_not_parse_is_a_note(repo: Path) -> None:
    write(repo / "data" / "m.json", b'{"a": 1}')
    commit_all(repo, "v1")
    write(repo / "data" / "m.json", b'{"a": 1,')
    commit_all(repo, "v2")
    d = _diff(repo, "data/m.json")
    assert "-format json\n" in d and "+format binary\n" in d, d
    assert "+note not a readable json file: Expecting property name enclosed in double quotes: " \
           "line 1 column 9 (char 8)\n" in d, d


def test_json_lines_named_json_show_as_a_table(repo: Path) -> None:
    v1 = b'{"text": "a", "label": 1}\n{"text": "b", "label": 0}\n'
    v2 = b'{"text": "a", "label": 1}\n{"text": "c", "label": 1}\n'
    write(repo / "data" / "train.json", v1)
    commit_all(repo, "v1")
    write(repo / "data" / "train.json", v2)
    commit_all(repo, "v2")
    assert _diff(repo, "data/train.json") == f"""\
@@ -7,9 +7,9 @@ column label int64
 text nulls 0
 text distinct 2
 text top "a" 1
-text top "b" 1
+text top "c" 1
 label nulls 0
-label min 0
+label min 1
 label max 1
-label mean 0.5
-sha256 {_sha(v1)}
+label mean 1
+sha256 {_sha(v2)}
"""


def test_a_long_array_shows_its_first_values_in_bounded_memory(repo: Path) -> None:
    """1.39 million numbers in 4 MB: every path was built (2.5 s and 230 MB in textconv) to show
    1,000 of them; the rest are now only counted."""
    write(repo / "data" / "flat.json", json.dumps([0] * 1_390_000).encode())
    commit_all(repo, "v1")
    write(repo / "data" / "flat.json", json.dumps([0, 1] + [0] * 1_389_998).encode())
    commit_all(repo, "v2")
    probe = ("import resource, subprocess, sys\n"
             "p = subprocess.run(sys.argv[1:], capture_output=True, check=True)\n"
             "sys.stdout.write(p.stdout.decode())\n"
             "print('maxrss', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    text = out(run([sys.executable, "-c", probe, "git", "diff", "HEAD~1", "HEAD"], cwd=repo))
    assert text.split("\n", 4)[4].startswith("""\
@@ -2,7 +2,7 @@ format json
 size 4170000 (4.0 MiB)
 structure . array 1390000
 .[0] 0
-.[1] 0
+.[1] 1
 .[2] 0
"""), text[:500]
    rss_mb = int(text.rsplit("maxrss ", 1)[1]) / 1024  # the largest of git, the filter, textconv
    assert rss_mb <= 120, f"peak RSS {rss_mb:.0f} MB"


def test_a_tiff_stack_shows_its_pages(repo: Path) -> None:
    import numpy as np
    from PIL import Image

    tif = repo / "data" / "stack.tif"
    tif.parent.mkdir()
    frame = np.arange(64 * 32, dtype=np.uint16).reshape(32, 64)
    pages = [Image.fromarray(frame) for _ in range(3)]
    pages[0].save(tif, save_all=True, append_images=pages[1:])
    old_size, old_sha = tif.stat().st_size, hashlib.sha256(tif.read_bytes()).hexdigest()
    commit_all(repo, "v1")
    pages.append(Image.fromarray(np.zeros((16, 8, 3), np.uint8)))
    pages[0].save(tif, save_all=True, append_images=pages[1:], compression="tiff_lzw")
    new_size, new_sha = tif.stat().st_size, hashlib.sha256(tif.read_bytes()).hexdigest()
    commit_all(repo, "v2")
    assert _diff(repo, "data/stack.tif") == f"""\
@@ -1,9 +1,10 @@
 format tiff
-size {old_size} ({old_size / 1024:.1f} KiB)
-pages 3
+size {new_size} ({new_size / 1024:.1f} KiB)
+pages 4
 width 64
 height 32
 mode L 16-bit
 dtype uint16
-compression none
-sha256 {old_sha}
+compression lzw
+page 3 width 8 height 16 mode RGB dtype uint8 compression lzw
+sha256 {new_sha}
"""
