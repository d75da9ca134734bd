#!/usr/bin/env python3
"""make_corpus.py — writes the seed corpus of the fuzz harnesses into
tests/fuzz/corpus/<reader>/ (small valid files and edge cases, each a few
hundred bytes at most).  Run it again only to change the corpus; the files
are committed.  Needs numpy (Debian's /usr/bin/python3)."""
import gzip
import io
import os
import struct
import sys

import numpy as np

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(reader, name, data):
    d = os.path.join(root, reader)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- CSV ------------------------------------------------------------------
put("csv", "plain.csv", "1,2,3\n4,5,6\n")
put("csv", "header.csv", "x1,x2,y\n0.5,-1e-3,2\n1.25,3e10,-4\n")
put("csv", "column.csv", "1\n2\n3\n")
put("csv", "crlf.csv", "1,2\r\n3,4\r\n")
put("csv", "blank_lines.csv", "\n1,2\n\n3,4\n\n")
put("csv", "no_newline.csv", "1.5,2.5")
put("csv", "exp.csv", "1e308,-1e-308,4.9e-324\n0x1p3,+7,.5\n")
put("csv", "spaces.csv", " 1 , 2 \n3,\t4\n")
put("csv", "ragged.csv", "1,2,3\n4,5\n")
put("csv", "empty_cell.csv", "1,,3\n")
put("csv", "nan.csv", "1,nan\ninf,2\n")
put("csv", "overflow.csv", "1e999,1\n")
put("csv", "text.csv", "a,b\nc,d\n")
put("csv", "empty.csv", "")
put("csv", "quoted.csv", '"a","b"\n1,2\n')
put("csv", "long_line.csv", ",".join(str(i) for i in range(200)) + "\n")

# ---- NPY ------------------------------------------------------------------
def npy(a, version=None, fortran=False):
    b = io.BytesIO()
    if fortran:
        a = np.asfortranarray(a)
    if version is None:
        np.save(b, a)
    else:
        np.lib.format.write_array(b, a, version=version)
    return b.getvalue()


rng = np.random.default_rng(1)
put("npy", "f8_2d.npy", npy(rng.standard_normal((3, 4))))
put("npy", "f8_1d.npy", npy(np.arange(5.0)))
put("npy", "f4.npy", npy(rng.standard_normal((2, 3)).astype("<f4")))
put("npy", "i4.npy", npy(np.arange(6, dtype="<i4").reshape(2, 3)))
put("npy", "i8.npy", npy(np.arange(6, dtype="<i8").reshape(3, 2)))
put("npy", "u1.npy", npy(np.arange(4, dtype="u1")))
put("npy", "b1.npy", npy(np.array([[True, False], [False, True]])))
put("npy", "fortran.npy", npy(np.arange(6.0).reshape(2, 3), fortran=True))
put("npy", "v2.npy", npy(np.arange(4.0).reshape(2, 2), version=(2, 0)))
put("npy", "v3.npy", npy(np.arange(4.0).reshape(2, 2), version=(3, 0)))
put("npy", "scalar.npy", npy(np.float64(3.0)))
put("npy", "empty.npy", npy(np.zeros((0, 3))))
put("npy", "f8_3d.npy", npy(np.zeros((2, 2, 2))))
put("npy", "big_endian.npy", npy(np.arange(3.0).astype(">f8")))
put("npy", "nan.npy", npy(np.array([1.0, np.nan])))
put("npy", "truncated.npy", npy(np.arange(8.0))[:-5])
put("npy", "complex.npy", npy(np.zeros(2, dtype=complex)))

# ---- IDX ------------------------------------------------------------------
def idx(dims, data, typ=0x08):
    h = struct.pack(">BBBB", 0, 0, typ, len(dims))
    h += b"".join(struct.pack(">I", d) for d in dims)
    return h + bytes(data)


put("idx", "images.idx", idx([3, 2, 2], range(12)))
put("idx", "labels.idx", idx([4], [0, 1, 9, 3]))
put("idx", "matrix.idx", idx([2, 5], range(10)))
put("idx", "images.idx.gz", gzip.compress(idx([2, 3, 3], range(18)), mtime=0))
put("idx", "labels.idx.gz", gzip.compress(idx([3], [7, 8, 9]), mtime=0))
put("idx", "truncated.idx", idx([3, 2, 2], range(7)))
put("idx", "type_f4.idx", idx([2], b"\0" * 8, typ=0x0D))
put("idx", "four_dims.idx", idx([1, 1, 1, 2], [1, 2]))
put("idx", "zero_items.idx", idx([0, 2, 2], []))
put("idx", "huge_dims.idx", idx([0xFFFFFFFF, 0xFFFF, 0xFFFF], range(4)))
put("idx", "truncated.gz", gzip.compress(idx([2, 3, 3], range(18)), mtime=0)[:-6])
put("idx", "bad_magic.idx", b"\x01\x02\x08\x01" + b"\0\0\0\1" + b"\5")

# ---- config (--config FILE: key = value lines, or a manifest.json) --------
put("config", "keyvalue.conf", "# a comment\nn = 40\nd = 80\nquick = true\nseed = 3\n")
put("config", "flags.conf", "quick = true\nverbose = false\n\n  \t\nridge=1e-3\r\n")
put("config", "no_equals.conf", "n 40\n")
put("config", "nested.conf", "config = other.conf\n")
put("config", "empty.conf", "")
put("config", "manifest.json", """{
  "analysis": "minnorm",
  "implreg_version": "0.1.0",
  "config": {
    "n": "40",
    "d": "80",
    "seed": "1",
    "out": "results/minnorm",
    "format": "csv,md,tex,json",
    "quick": "false",
    "note": "tab\\there \\"quoted\\" back\\\\slash\\/ nl\\n"
  },
  "derived": {},
  "files": ["checks.csv"]
}
""")
put("config", "manifest_numbers.json",
    '{"analysis": "train", "config": {"lr": 0.3, "steps": 50, "quick": true}}')
put("config", "manifest_noconfig.json", '{"analysis": "theory"}\n')
put("config", "manifest_nested.json",
    '{"analysis": "all", "config": {"sub": {"n": "3"}, "n": "4"}}')
put("config", "manifest_unicode.json",
    '{"analysis": "minnorm", "config": {"out": "r\\u00e9s", "n": "2"}}')
put("config", "manifest_unterminated.json", '{"analysis": "minnorm", "config": {"n": "4')
sys.exit(0)
