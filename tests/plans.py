"""The plan of a query, to check which indexes answer it, on SQLite or on a hub's PostgreSQL."""
from county_app.db import db


def query_plan(sql, params, ordered=False):
    """The plan as one text: SQLite's EXPLAIN QUERY PLAN, or PostgreSQL's EXPLAIN.

    On PostgreSQL a test's few rows without statistics would be read whole
    whatever the indexes, so whole-table reads are discouraged: the plan
    shows whether the indexes CAN answer the query, a ``Seq Scan`` written
    ``SCAN`` as SQLite writes a scan of a table. ``ordered``: bitmaps and
    sorts are discouraged too, so the plan shows whether an index can give
    the rows in the query's order (then it has no ``Sort``).
    """
    if db.dialect == "postgresql":
        with db.atomic():
            for kind in ("seqscan", "bitmapscan", "sort") if ordered else ("seqscan",):
                db.execute_sql(f"SET LOCAL enable_{kind} = off")
            rows = db.execute_sql("EXPLAIN " + sql, params).fetchall()
        return " ".join(row[0] for row in rows).replace("Seq Scan", "SCAN")
    return " ".join(str(row) for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
