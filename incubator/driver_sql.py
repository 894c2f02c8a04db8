"""Statements built with SQLAlchemy, compiled once per process, and run on the database driver's
own connection: for the one request where SQLAlchemy's per-execution work is most of the cost
(the judges' submit lane, judging/submit_lane.py, on PostgreSQL).

SQLAlchemy still writes the SQL and converts the values: DriverStatement takes the compiled
statement's text, its constant parameters and the bind and result converters of its types, and
at each run only merges the parameters, converts those that need it, and fetches the rows. What it
leaves out is the execution context, the result object and the connection events: a statement run
here is not seen by before_cursor_execute listeners (pagecache.guard_writes), so its caller answers
for what it writes.
"""
from __future__ import annotations

import sqlalchemy as sa


class DriverStatement:
    """`statement` compiled for `dialect`, with its converters, for a driver taking named parameters
    (psycopg). Only for statements without parameters rendered at execution (an IN list of values, a
    literal_execute parameter) or renamed in the SQL (names with punctuation)."""

    def __init__(self, statement, dialect: sa.Dialect):
        self.statement = statement
        compiled = statement.compile(dialect=dialect)
        if (compiled.positional or compiled.literal_execute_params or compiled.post_compile_params
                or compiled.escaped_bind_names):
            raise ValueError("DriverStatement takes named parameters only, none renamed or rendered at execution")
        self.sql = compiled.string
        self._bind_processors = {}
        constants = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self._bind_processors[name] = processor
            if not bind.required and bind.callable is None:
                constants[name] = bind.value if processor is None else processor(bind.value)
        self._constants = constants
        self._result_processors = [(i, processor) for i, column in enumerate(statement.exported_columns)
                                   if (processor := column.type.dialect_impl(dialect).result_processor(dialect, None))]

    def rows(self, dbapi_connection, params: dict) -> list[tuple]:
        """Run the statement with `params` (by the names of its bind parameters) on the DBAPI
        connection; return its rows, their values converted as SQLAlchemy would."""
        values = dict(self._constants)
        processors = self._bind_processors
        for name, value in params.items():
            processor = processors.get(name)
            values[name] = value if processor is None else processor(value)
        rows = dbapi_connection.execute(self.sql, values).fetchall()
        if self._result_processors:
            rows = [tuple(self._convert(row)) for row in rows]
        return rows

    def _convert(self, row):
        row = list(row)
        for i, processor in self._result_processors:
            row[i] = processor(row[i])
        return row


_COMPILED: dict[tuple, DriverStatement] = {}


def driver_statement(statement, dialect: sa.Dialect) -> DriverStatement:
    """The DriverStatement of `statement` (built once per process and dialect: pass statements that
    live as long, such as those of a functools.cache builder)."""
    key = (id(statement), dialect.name)
    found = _COMPILED.get(key)
    if found is None or found.statement is not statement:
        found = _COMPILED[key] = DriverStatement(statement, dialect)
    return found
