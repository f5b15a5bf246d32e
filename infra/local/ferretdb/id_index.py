"""Gives every FerretDB (v1.24, SQLite backend) collection an index its `_id` lookups can use.

Why: FerretDB v1.24 pushes a `{_id: <string|ObjectId>}` filter, and the `_id` list of a delete,
down to SQLite as `_ferretdb_sjson->'$._id' = ?`, but builds the collection's `_id_` index on
`_ferretdb_sjson->"_id"`. SQLite uses an expression index only when the query's expression is the
indexed one as written, so every findOne / updateOne / replaceOne / deleteOne by `_id` scans the
whole table (measured by bench:store: 214 ms at 100,000 documents; FerretDB#4646 is the same bug on
its PostgreSQL backend). This process adds, beside FerretDB's own indexes, one plain index on
exactly the expression FerretDB queries, to every collection table of every database file in the
data directory, and keeps doing so as collections are created. The same lookups then take about a
millisecond at any size (bench:store measures both).

FerretDB does not see these indexes (it lists indexes from its own metadata table, and drops a
collection by dropping its table, which drops the index too); they change which rows SQLite reads,
never which rows match. A collection created since the last pass scans until the next one
(PAYAM_ID_INDEX_INTERVAL seconds, default 0.2). With real MongoDB none of this is needed, and the
stack does not start this process when MONGODB_URI points elsewhere. Databases whose name ends
in `_unindexed` are left as FerretDB builds them, so bench:store can measure both in one run.

Usage: id_index.py <FerretDB SQLite data directory>
"""

import os
import signal
import sqlite3
import sys
import time

SUFFIX = "__payam_id_lookup"
# FerretDB keeps its metadata in `_ferretdb_*` tables; SQLite its own in `sqlite_*`.
TABLES = (
    "SELECT name FROM sqlite_master WHERE type = 'table'"
    " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_ferretdb\\_%' ESCAPE '\\'"
)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def index_database(path: str) -> int:
    """Adds the missing lookup indexes of one database file; returns how many it created."""
    try:
        # mode=rw: a database dropped meanwhile must not be created again by opening it.
        con = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=10, isolation_level=None)
    except sqlite3.OperationalError:
        return 0
    created = 0
    try:
        have = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        for (table,) in con.execute(TABLES).fetchall():
            if table + SUFFIX in have:
                continue
            con.execute(
                f"CREATE INDEX IF NOT EXISTS {quote(table + SUFFIX)} ON {quote(table)} (_ferretdb_sjson->'$._id')"
            )
            created += 1
    except sqlite3.DatabaseError as err:  # dropped or locked past the timeout: the next pass retries
        print(f"[ferretdb-id-index] {os.path.basename(path)}: {err}", file=sys.stderr, flush=True)
    finally:
        con.close()
    return created


def signature(path: str) -> tuple:
    """Changes whenever the file may have new tables: any write touches the file or its WAL."""
    sig = []
    for p in (path, path + "-wal"):
        try:
            st = os.stat(p)
            sig.append((st.st_mtime_ns, st.st_size))
        except FileNotFoundError:
            sig.append(None)
    return tuple(sig)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: id_index.py <FerretDB SQLite data directory>")
    data = sys.argv[1]
    interval = float(os.environ.get("PAYAM_ID_INDEX_INTERVAL", "0.2"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    seen: dict[str, tuple] = {}
    print(f"[ferretdb-id-index] watching {data} every {interval}s", file=sys.stderr, flush=True)
    while True:
        try:
            files = [f for f in os.listdir(data) if f.endswith(".sqlite") and not f.endswith("_unindexed.sqlite")]
        except FileNotFoundError:
            files = []
        for f in files:
            path = os.path.join(data, f)
            sig = signature(path)
            if seen.get(path) == sig:
                continue
            n = index_database(path)
            if n:
                print(f"[ferretdb-id-index] {f}: {n} index(es) added", file=sys.stderr, flush=True)
            # Read again after indexing: our own CREATE INDEX changed the file.
            seen[path] = signature(path)
        for gone in set(seen) - {os.path.join(data, f) for f in files}:
            del seen[gone]
        time.sleep(interval)


if __name__ == "__main__":
    main()
