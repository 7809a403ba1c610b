"""RunFilter -> parameterised SQL over `runs r`, for SQLite and PostgreSQL alike.

Every value of a filter or query travels as a bound parameter; only fixed fragments written here
(and the dialect's spellings) ever become SQL text. Each term is two-valued (never NULL), so `not`
means what it means in the Python evaluator (`_query.evaluate`).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from .. import _query as q
from .._filter import ROOTS, RunFilter
from ._sql import status_condition

# Metric summary columns (maintained on write, see _sql_store.update_summaries); mean = sum / finite.
_AGGREGATE_SQL = {
    "last": "m.s_last",
    "min": "m.s_min",
    "max": "m.s_max",
    "count": "m.count",
    "mean": "(m.s_sum / NULLIF(m.s_finite, 0))",
}
_RUN_SQL = {
    "name": "r.display_name",
    "id": "r.id",
    "parent": "r.parent_id",
    "start_time": "r.start_time",
    "end_time": "r.end_time",
}
_TABLES = {"tags": "tags", "params": "params", "properties": "properties"}


@dataclasses.dataclass(frozen=True)
class Dialect:
    """How one SQL dialect spells what the filters need; `{col}` is a column or expression."""

    mark: str  # the parameter mark
    contains: str  # a case-insensitive substring match of {col} against {mark}
    glob: str  # "glob" (SQLite GLOB) or "like" (LIKE with '\' escapes), both case-sensitive
    json_num: str  # a JSON property's number, NULL when it is not one
    json_str: str  # a JSON property's string, NULL when it is not one
    json_bool: str  # a JSON property's boolean as 1/0, NULL when it is not one
    creation: str  # the column that orders runs started at the same time


SQLITE = Dialect(
    mark="?",
    contains="{col} LIKE {mark} ESCAPE '\\'",
    glob="glob",
    json_num="(CASE WHEN json_type({col}) IN ('integer', 'real') THEN json_extract({col}, '$') END)",
    json_str="(CASE WHEN json_type({col}) = 'text' THEN json_extract({col}, '$') END)",
    json_bool="(CASE json_type({col}) WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)",
    creation="r.rowid",
)
POSTGRES = Dialect(
    mark="%s",
    contains="{col} ILIKE {mark} ESCAPE '\\'",
    glob="like",
    json_num="(CASE WHEN jsonb_typeof({col}::jsonb) = 'number' THEN ({col}::jsonb #>> '{{}}')::float8 END)",
    json_str="(CASE WHEN jsonb_typeof({col}::jsonb) = 'string' THEN ({col}::jsonb #>> '{{}}') END) COLLATE \"C\"",
    json_bool="(CASE WHEN jsonb_typeof({col}::jsonb) = 'boolean' THEN (CASE WHEN ({col}::jsonb)::text = 'true' THEN 1 ELSE 0 END) END)",
    creation="r.seq",
)


def glob_pattern(pattern: str, style: str) -> str:
    """The language's glob (`*`, `?`, all else literal) as a SQLite GLOB or a LIKE pattern with '\\' escapes."""
    if style == "glob":
        return "".join("[[]" if c == "[" else c for c in pattern)
    out = []
    for c in pattern:
        out.append("%" if c == "*" else "_" if c == "?" else "\\" + c if c in "%_\\" else c)
    return "".join(out)


class Compiler:
    """Builds one statement's text and its arguments, in order, with `?` marks (translated at the end)."""

    def __init__(self, filter_: RunFilter, experiment_id: str, dialect: Dialect, now: float | None = None) -> None:
        self.filter, self.experiment_id, self.dialect = filter_, experiment_id, dialect
        self.now = time.time() if now is None else now

    # -- terms -------------------------------------------------------------------
    def node(self, node: q.Node, args: list[Any]) -> str:
        if isinstance(node, q.And | q.Or):
            joiner = " AND " if isinstance(node, q.And) else " OR "
            return "(" + joiner.join(self.node(item, args) for item in node.items) + ")"
        if isinstance(node, q.Not):
            return f"(NOT {self.node(node.item, args)})"
        field = node.field
        if field.source == "run":
            return self.run_term(node, args)
        if field.source == "metrics":
            # `r.id IN (...)`, not a correlated EXISTS: PostgreSQL hashes the subquery once, even under `or`.
            args.append(field.key)
            if isinstance(node, q.Exists):
                return "r.id IN (SELECT m.run_id FROM metrics m WHERE m.name = ?)"
            assert isinstance(node, q.Compare)
            summary = _AGGREGATE_SQL[field.aggregate or "last"]
            args.append(_bound(node.value))
            return f"r.id IN (SELECT m.run_id FROM metrics m WHERE m.name = ? AND m.kind = 'scalar' AND {summary} {_op(node.op)} ?)"
        alias = "x"
        cond = ""
        if isinstance(node, q.Compare):
            col = self.typed_column(field.source, alias, _value_kind(node.value))
            if col is None:
                return "(1 = 0)"  # a tag is never a number: the term cannot match
            cond = f" AND {self.typed_guard(field.source, alias, _value_kind(node.value))}{col} {_op(node.op)} ?"
        elif isinstance(node, q.Glob):
            col = self.typed_column(field.source, alias, "str")
            cond = f" AND {self.typed_guard(field.source, alias, 'str')}{self.glob_sql(str(col))}"
        table = _TABLES[field.source]
        if self.filter.inherit and field.source in ("tags", "params"):
            scope = self.scope(field, alias, args)
            args.append(field.key)
            head = f"EXISTS (SELECT 1 FROM {table} {alias} WHERE {scope} AND {alias}.key = ?"
        else:
            args.append(field.key)
            head = f"r.id IN (SELECT {alias}.run_id FROM {table} {alias} WHERE {alias}.key = ?"
        if isinstance(node, q.Glob):
            args.append(glob_pattern(node.pattern, self.dialect.glob))
        elif isinstance(node, q.Compare):
            args.append(_bound(node.value))
        return f"{head}{cond})"

    def typed_guard(self, source: str, alias: str, kind: str) -> str:
        """For params: the type check before a plain column compare (so the (key, num) and (key, text) indexes serve it)."""
        if source != "params":
            return ""
        return {"num": f"{alias}.type IN ('int', 'float') AND ", "str": f"{alias}.type = 'str' AND ", "bool": f"{alias}.type = 'bool' AND "}[kind]

    def run_term(self, node: q.Node, args: list[Any]) -> str:
        key = node.field.key  # type: ignore[union-attr]
        if key == "status":
            assert isinstance(node, q.Compare)
            cond = "COALESCE(" + status_condition([str(node.value)], args, "?", now=self.now) + ", FALSE)"
            return cond if node.op == "=" else f"(NOT {cond})"
        col = self.run_column(key, args)
        if isinstance(node, q.Exists):
            return f"({col} IS NOT NULL)"
        if isinstance(node, q.Glob):
            args.append(glob_pattern(node.pattern, self.dialect.glob))
            return f"COALESCE({self.glob_sql(col)}, FALSE)"
        assert isinstance(node, q.Compare)
        args.append(_bound(node.value))
        return f"COALESCE({col} {_op(node.op)} ?, FALSE)"  # NULL (no end time, no parent) is false, so `not` works

    def run_column(self, key: str, args: list[Any]) -> str:
        if key == "duration":
            args.append(self.now)
            return "(COALESCE(r.end_time, ?) - r.start_time)"
        return _RUN_SQL[key]

    def glob_sql(self, col: str) -> str:
        return f"{col} GLOB ?" if self.dialect.glob == "glob" else f"{col} LIKE ? ESCAPE '\\'"

    def typed_column(self, source: str, alias: str, kind: str) -> str | None:
        """The column holding a value of `kind` ("num", "str", "bool"), NULL for other types; None when the source has none."""
        if source == "tags":
            return f"{alias}.value" if kind == "str" else None
        if source == "params":  # behind typed_guard
            return f"{alias}.text" if kind == "str" else f"{alias}.num"
        spelling = {"num": self.dialect.json_num, "str": self.dialect.json_str, "bool": self.dialect.json_bool}[kind]
        return spelling.format(col=f"{alias}.value")

    def scope(self, field: q.Field, alias: str, args: list[Any]) -> str:
        """Which run's row a tag/param/property term reads: the run's own, or (inherit) its nearest ancestor's that has the key."""
        if not (self.filter.inherit and field.source in ("tags", "params")):
            return f"{alias}.run_id = r.id"
        args.append(field.key)
        table = _TABLES[field.source]
        return (
            f"{alias}.run_id = (SELECT l.anc_id FROM lineage l JOIN {table} h ON h.run_id = l.anc_id AND h.key = ?"
            " WHERE l.run_id = r.id ORDER BY l.depth LIMIT 1)"
        )

    # -- the statement -------------------------------------------------------------
    def where(self, args: list[Any]) -> str:
        """The filter's conditions over `runs r` (without the ancestors of with_ancestors)."""
        f, mark = self.filter, "?"
        where = ["r.experiment_id = ?"]
        args.append(self.experiment_id)
        if f.parent_id == ROOTS:
            where.append("r.parent_id IS NULL")
        elif f.parent_id is not None:
            where.append("r.parent_id = ?")
            args.append(f.parent_id)
        if f.statuses:
            where.append("COALESCE(" + status_condition(f.statuses, args, mark, now=self.now) + ", FALSE)")
        for key, value in f.tags.items():
            node: q.Node = q.Exists(q.Field("tags", key)) if value is None else q.Compare(q.Field("tags", key), "=", value)
            where.append(self.node(node, args))
        if f.text:
            pattern = "%" + f.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            match = [self.dialect.contains.format(col=col, mark=mark) for col in ("r.display_name", "r.id", "t.key", "t.value")]
            where.append(f"({match[0]} OR {match[1]} OR EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND ({match[2]} OR {match[3]})))")
            args += [pattern] * 4
        ast = f.ast
        if ast is not None:
            where.append(self.node(ast, args))
        return " AND ".join(where)

    def with_clause(self, args: list[Any], where: str, where_args: list[Any]) -> str:
        """WITH RECURSIVE lineage (inherit) and matched/shown (with_ancestors), or ''."""
        parts = []
        if self.filter.inherit:
            parts.append(
                "lineage(run_id, anc_id, depth) AS (SELECT id, id, 0 FROM runs WHERE experiment_id = ?"
                " UNION ALL SELECT l.run_id, p.parent_id, l.depth + 1 FROM lineage l JOIN runs p ON p.id = l.anc_id WHERE p.parent_id IS NOT NULL)"
            )
            args.append(self.experiment_id)
        if self.filter.with_ancestors:
            parts.append(f"matched(id) AS (SELECT r.id FROM runs r WHERE {where})")
            args += where_args
            parts.append(
                "shown(id) AS (SELECT id FROM matched UNION SELECT p.parent_id FROM runs p JOIN shown ON p.id = shown.id WHERE p.parent_id IS NOT NULL)"
            )
        return "WITH RECURSIVE " + ", ".join(parts) + " " if parts else ""

    def order(self, args: list[Any]) -> str:
        """ORDER BY the sort field (NULLs last), then start time and creation order, all in the filter's direction."""
        way = "DESC" if self.filter.order == "desc" else "ASC"
        keys = [f"{key} {way} NULLS LAST" for key in self.sort_keys(self.filter.sort_field, args)]
        keys += [f"r.start_time {way}", f"{self.dialect.creation} {way}"]
        return " ORDER BY " + ", ".join(keys)

    def sort_keys(self, field: q.Field, args: list[Any]) -> list[str]:
        if field.source == "run":
            return [] if field.key == "start_time" else [self.run_column(field.key, args)]
        if field.source == "metrics":
            args.append(field.key)
            return [f"(SELECT {_AGGREGATE_SQL[field.aggregate or 'last']} FROM metrics m WHERE m.run_id = r.id AND m.name = ? AND m.kind = 'scalar')"]
        keys = []
        for kind in ("str",) if field.source == "tags" else ("num", "str"):
            scope = self.scope(field, "x", args)
            args.append(field.key)
            guard = self.typed_guard(field.source, "x", kind)
            keys.append(
                f"(SELECT {self.typed_column(field.source, 'x', kind)} FROM {_TABLES[field.source]} x WHERE {scope} AND x.key = ? {'AND ' + guard[:-5] if guard else ''})"
            )
        return keys

    def select(self, columns: str, *, paged: bool, limit: int | None = None, offset: int = 0, no_limit: Any = -1) -> tuple[str, list[Any]]:
        """The whole statement (in `?` marks translated to the dialect) and its arguments."""
        where_args: list[Any] = []
        where = self.where(where_args)
        args: list[Any] = []
        head = self.with_clause(args, where, where_args)
        if self.filter.with_ancestors:
            if paged:  # a listing says which rows matched; a count has no row to say it of
                columns += ", (r.id IN (SELECT id FROM matched))"
            body = f"SELECT {columns} FROM runs r WHERE r.id IN (SELECT id FROM shown)"
        else:
            body = f"SELECT {columns} FROM runs r WHERE {where}"
            args += where_args
        text = head + body
        if paged:
            text += self.order(args) + " LIMIT ? OFFSET ?"
            args += [no_limit if limit is None else limit, offset]
        return _translate(text, self.dialect.mark), args


def _translate(text: str, mark: str) -> str:
    # Only fragments written in this module (no user text) carry '?', so replacing them all is safe.
    return text if mark == "?" else text.replace("?", mark)


def _value_kind(value: Any) -> str:
    return "bool" if isinstance(value, bool) else "str" if isinstance(value, str) else "num"


def _bound(value: Any) -> Any:
    # Numbers compare as float64 on every store (and in _query.evaluate): exact up to 2**53.
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    return float(value) if isinstance(value, int | float) else value


_OPS = {op: op for op in q.OPS}
_OPS["!="] = "<>"


def _op(op: str) -> str:
    return _OPS[op]
