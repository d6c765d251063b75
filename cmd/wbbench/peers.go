package main

// The Python peers do what the seed (a Python tool) did, with the standard
// library's C-backed modules: the fair "simple tool" to compare with.

// verifyPeer checks every data.csv of an archive against its meta.json
// (checksum, size) and its header, as the seed's verify did.
const verifyPeer = `import csv, hashlib, io, json, os, sys

HEADER = ["record_id", "auftrag_nr", "kunde_name", "kunden_nr", "kennzeichen", "vin",
          "datum", "formular_version", "keywords_json", "file_path", "hash",
          "data_complete", "created_at", "updated_at"]

ok = bad = 0
for dirpath, dirnames, filenames in os.walk(sys.argv[1]):
    dirnames.sort()
    if "data.csv" not in filenames:
        continue
    with open(os.path.join(dirpath, "meta.json"), "rb") as f:
        meta = json.load(f)
    with open(os.path.join(dirpath, "data.csv"), "rb") as f:
        data = f.read()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    if (hashlib.sha256(data).hexdigest() != meta["checksum"] or len(data) != meta["file_size"]
            or rows[0] != HEADER or len(rows) != 2 or len(rows[1]) != len(HEADER)):
        bad += 1
    else:
        ok += 1
print(ok, "ok", bad, "bad")
sys.exit(1 if bad else 0)
`

// restorePeer checks every backup like verifyPeer, then creates a new
// database and inserts all rows in one transaction (executemany).
const restorePeer = `import csv, hashlib, io, json, os, sqlite3, sys

root, dbpath = sys.argv[1], sys.argv[2]
rows = []
for dirpath, dirnames, filenames in os.walk(root):
    dirnames.sort()
    if "data.csv" not in filenames:
        continue
    with open(os.path.join(dirpath, "meta.json"), "rb") as f:
        meta = json.load(f)
    with open(os.path.join(dirpath, "data.csv"), "rb") as f:
        data = f.read()
    if hashlib.sha256(data).hexdigest() != meta["checksum"]:
        sys.exit("checksum: " + dirpath)
    r = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    rows.extend([v if v != "" else None for v in row] for row in r[1:])

con = sqlite3.connect(dbpath)
con.execute("""CREATE TABLE auftraege (
    record_id INTEGER PRIMARY KEY, auftrag_nr TEXT NOT NULL, kunde_name TEXT, kunden_nr TEXT,
    kennzeichen TEXT, vin TEXT, datum TEXT, formular_version TEXT, keywords_json TEXT,
    file_path TEXT NOT NULL, hash TEXT, data_complete INTEGER, created_at TEXT, updated_at TEXT)""")
with con:
    con.executemany("INSERT INTO auftraege VALUES (" + ", ".join("?" * 14) + ")", rows)
if con.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
    sys.exit("integrity_check")
con.close()
print(len(rows), "rows")
`
