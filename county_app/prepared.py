"""Queries whose SQL text is built once, then run with new values.

Peewee builds the SQL text of a query anew every time it runs. For the short
lookups of a window request that is most of the work: with a million cases,
over half of the server's CPU went to writing SQL text (bench/RESULTS.md).
A ``Prepared`` query is built once from a function of placeholders and then
only binds new values::

    CASE_BY_NUMBER = Prepared(lambda number: Case.select().where(Case.case_no == number))
    case = CASE_BY_NUMBER.first("3701…")

``insert_new(row)`` inserts a new model instance the same way, with one
INSERT per model built once, every column written; ``insert_all(rows)``
inserts many new rows of one model, without their ids, in one call (SQLite:
``executemany``; PostgreSQL: one multi-row INSERT per thousand rows, not a
round trip per row).

Values are bound as given, without the field's conversion, so pass what
the column stores (text, numbers, dates). Rows come back as the query would
give them (model instances, joined models included, or tuples). Use it for
queries of a fixed shape (an ``in_`` list of fixed length, padded with
None, is one); optional filters and lists of any length stay ordinary peewee
queries.

The SQL text is built once per kind of database (SQLite's ``?`` placeholders,
PostgreSQL's ``%s``), so a process bound to either runs the same queries. A
literal ``%`` in a query's text would be read by the PostgreSQL driver as a
placeholder: pass such text as a value.
"""
import inspect
import threading

from peewee import AutoField, CharField, Field, ForeignKeyField, Insert, IntegerField, ModelSelect, TextField, Value

from .db import db

# Columns SQLite already gives as the Python value (text as str, integers as int).
_NATIVE = (AutoField, IntegerField, CharField, TextField)


class _Slot:
    """Where the n-th value goes among a built query's parameters."""
    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


class Prepared:
    """A peewee query of a fixed shape, compiled on first use."""

    def __init__(self, build, arity=None):
        self._build = build
        self._arity = len(inspect.signature(build).parameters) if arity is None else arity
        self._compiled = {}  # dialect → (query, sql, params, plain columns)

    def _compile(self):
        dialect = db.dialect
        compiled = self._compiled.get(dialect)
        if compiled is None:  # a race builds it twice, harmlessly
            query = self._build(*(Value(_Slot(i), converter=False) for i in range(self._arity)))
            key = query.table._meta.primary_key if isinstance(query, Insert) else None
            if isinstance(key, AutoField) and dialect == "postgresql" and query._returning is None:
                query = query.returning(key)  # PostgreSQL has no lastrowid
            sql, params = query.sql()
            compiled = self._compiled[dialect] = (query, sql, tuple(params), _plain_columns(query))
        return compiled

    def _cursor(self, values):
        if len(values) != self._arity:
            raise TypeError(f"expected {self._arity} values, got {len(values)}")
        compiled = self._compile()
        query, sql, params, _plain = compiled
        bound = [values[p.index] if type(p) is _Slot else p for p in params]
        return compiled, query._database.execute_sql(sql, bound)

    def rows(self, *values):
        """Every row, as the query gives them."""
        (query, _sql, _params, plain), cursor = self._cursor(values)
        if plain is None:
            return list(query._get_cursor_wrapper(cursor))
        model, names, converters = plain
        rows = []
        for values in cursor:  # what peewee's cursor wrapper does for these, without resolving columns per run
            row = model(__no_default__=1)
            row.__data__ = {name: value if convert is None or value is None else convert(value)
                            for name, convert, value in zip(names, converters, values)}
            rows.append(row)
        return rows

    def raw_rows(self, *values):
        """Every row as the driver gives it, unconverted (SQLite: a date is its ISO text), for loops
        over many rows that convert only what they keep."""
        _query, cursor = self._cursor(values)
        return cursor.fetchall()

    def each(self, *values):
        """The rows as the driver gives them (as ``raw_rows``), read one at a time; a loop may stop early."""
        _query, cursor = self._cursor(values)
        try:
            yield from cursor
        finally:
            cursor.close()

    def first(self, *values):
        """The first row, or None."""
        rows = self.rows(*values)
        return rows[0] if rows else None

    def scalar(self, *values):
        """The first column of the first row, or None."""
        _query, cursor = self._cursor(values)
        row = cursor.fetchone()
        return row[0] if row else None

    def insert(self, *values):
        """Run an insert; the id of the new row (None when a conflict left nothing inserted)."""
        (query, _sql, _params, _plain), cursor = self._cursor(values)
        if query._returning:  # PostgreSQL: INSERT … RETURNING the new id
            row = cursor.fetchone()
            return row[0] if row else None
        return cursor.lastrowid

    def execute(self, *values):
        """Run a write; the number of rows it changed."""
        _query, cursor = self._cursor(values)
        return cursor.rowcount


def _plain_columns(query):
    """(model, names, converters) when ``query`` selects columns of one model into instances, else None."""
    if not isinstance(query, ModelSelect) or query._joins or query._row_type is not None:
        return None
    model, names, converters = query.model, [], []
    for node in query._returning:
        if not isinstance(node, Field) or node.model is not model:
            return None
        names.append(node.name)
        native = isinstance(node, _NATIVE) or (isinstance(node, ForeignKeyField)
                                               and isinstance(node.rel_field, _NATIVE))
        converters.append(None if native else node.python_value)
    return model, tuple(names), tuple(converters)


_INSERTS = {}
_INSERTS_LOCK = threading.Lock()


def insert_new(row):
    """Insert the new model instance ``row`` (every column but its id), set its id and give it back."""
    fields, query = _insert_of(type(row))
    row.id = query.insert(*(field.db_value(row.__data__.get(field.name)) for field in fields))
    row._dirty.clear()
    return row


_PLAIN_TYPES = {CharField: str, TextField: str, IntegerField: int, AutoField: int}


def _stored(field):
    """The field whose column holds ``field``'s values (a foreign key's: the key it refers to)."""
    return field.rel_field if isinstance(field, ForeignKeyField) else field


def _default(default):
    return default() if callable(default) else default


def _insert_of(model):
    """``(fields, Prepared)`` of the INSERT of a new ``model`` row, every column but its id."""
    prepared = _INSERTS.get(model)
    if prepared is None:
        fields = tuple(f for f in model._meta.sorted_fields if f is not model._meta.primary_key)
        prepared = (fields, Prepared(lambda *values: model.insert(dict(zip(fields, values))), arity=len(fields)))
        with _INSERTS_LOCK:
            prepared = _INSERTS.setdefault(model, prepared)
    return prepared


def insert_all(rows):
    """Insert the new model instances ``rows`` (all of one model; their ids are not set)."""
    if rows:
        insert_rows(type(rows[0]), [row.__data__ for row in rows])


def insert_rows(model, rows):
    """Insert new rows of ``model`` given as dicts of field name → value, as a model instance would take them
    (a field missing takes its default): ``insert_all`` without making the instances (a batch's thousands)."""
    if not rows:
        return
    fields, query = _insert_of(model)
    plan = [(field.name, field.default, _PLAIN_TYPES.get(type(_stored(field))), field.db_value) for field in fields]
    values = []
    for row in rows:
        out = []
        for name, default, plain, convert in plan:
            value = row[name] if name in row else _default(default)
            out.append(value if value is None or type(value) is plain else convert(value))  # as db_value gives them
        values.append(tuple(out))
    if db.dialect == "postgresql":
        from psycopg2.extras import execute_values

        meta = model._meta
        columns = ", ".join(f'"{field.column_name}"' for field in fields)
        sql = f'INSERT INTO "{meta.table_name}" ({columns}) VALUES %s'
        with db.cursor() as cursor:
            execute_values(cursor, sql, values, page_size=1000)
        return
    _query, sql, params, _plain = query._compile()
    db.cursor().executemany(sql, [[row[p.index] if type(p) is _Slot else p for p in params] for row in values])
