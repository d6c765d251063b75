#!/usr/bin/env python3
"""Write the golden data.csv files of schema 1.0 the way the original tool
does: Python's csv.writer with its default dialect, header then one row.

The rows live in golden/rows.json, which golden_test.go reads too.

    python3 make_golden.py            # rewrite testdata/golden/*.csv
    python3 make_golden.py OUTDIR     # write the files into OUTDIR instead

`go test ./codec/v1/ -run Golden -update` runs this script.
"""
import csv
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else GOLDEN
    with open(os.path.join(GOLDEN, "rows.json"), encoding="utf-8") as f:
        spec = json.load(f)
    for case in spec["cases"]:
        path = os.path.join(out, case["name"] + ".csv")
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(spec["header"])
            w.writerow(case["row"])


if __name__ == "__main__":
    main()
