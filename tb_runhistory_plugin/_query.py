"""The run query language: parse text into a small AST, and evaluate that AST in plain Python.

    metrics.mse < 3000 and (params.alpha >= 0.3 or tags.team = "vision") and status = "Completed"

Stores compile the same AST to parameterised SQL (`store/_query.py`); the Python evaluator here is
the reference both are tested against. Nothing in a query is ever pasted into SQL or evaluated.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import lark

from ._types import Status
from .errors import QueryError

MAX_QUERY_CHARS = 10_000
MAX_TERMS = 256  # comparisons in one query
MAX_DEPTH = 48  # nesting of and/or/not/parentheses

RUN_FIELDS = {"name": "str", "id": "str", "parent": "str", "status": "status", "start_time": "num", "end_time": "num", "duration": "num"}
SOURCES = ("tags", "params", "properties", "metrics")
AGGREGATES = ("last", "min", "max", "mean", "count")
OPS = ("=", "!=", "<", "<=", ">", ">=")
_STATUSES = tuple(str(s) for s in Status)

_GRAMMAR = r"""
start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: _NOT not_expr -> not_
         | atom
?atom: "(" or_expr ")"
     | field OP value -> compare
     | field _IN "(" value ("," value)* ")" -> in_
     | field _NOT _IN "(" value ("," value)* ")" -> not_in
     | field "~" value -> glob
     | field _GLOB value -> glob
     | field _EXISTS -> exists
field: NAME ("." key)*
key: NAME | QUOTED | BACKTICKED
value: QUOTED -> string
     | NUMBER -> number
     | _TRUE -> true
     | _FALSE -> false
OP: "<=" | ">=" | "!=" | "==" | "=" | "<" | ">"
_OR.2: /or\b/
_AND.2: /and\b/
_NOT.2: /not\b/
_IN.2: /in\b/
_GLOB.2: /glob\b/
_EXISTS.2: /exists\b/
_TRUE.2: /true\b/
_FALSE.2: /false\b/
NAME: /[A-Za-z_][A-Za-z0-9_\-\/]*/
QUOTED: /"(?:[^"\\\n]|\\.)*"/ | /'(?:[^'\\\n]|\\.)*'/
BACKTICKED: /`[^`\n]+`/
NUMBER: /[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/
%ignore /[ \t\r\n]+/
"""

_PARSER = lark.Lark(_GRAMMAR, parser="lalr", lexer="basic", propagate_positions=True, maybe_placeholders=False)
_ESCAPE = re.compile(r"\\(.)", re.S)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


# -- the AST -------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Field:
    """What a term reads: a run column (source "run"), or a key of tags/params/properties/metrics."""

    source: str
    key: str
    aggregate: str | None = None  # metrics only: last, min, max, mean, count

    def __str__(self) -> str:
        if self.source == "run":
            return self.key
        text = f"{self.source}.{_quote_key(self.key)}"
        return f"{text}.{self.aggregate}" if self.aggregate and self.aggregate != "last" else text


@dataclasses.dataclass(frozen=True)
class Compare:
    field: Field
    op: str
    value: str | float | int | bool


@dataclasses.dataclass(frozen=True)
class Glob:
    field: Field
    pattern: str


@dataclasses.dataclass(frozen=True)
class Exists:
    field: Field


@dataclasses.dataclass(frozen=True)
class Not:
    item: Node


@dataclasses.dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclasses.dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


Node = Compare | Glob | Exists | Not | And | Or


def _quote_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-/]*", key) and key not in _KEYWORDS else "`" + key + "`"


_KEYWORDS = frozenset({"or", "and", "not", "in", "glob", "exists", "true", "false"})


def to_text(node: Node) -> str:
    """The query text of an AST (parses back to the same AST)."""
    if isinstance(node, Compare):
        return f"{node.field} {node.op} {_literal(node.value)}"
    if isinstance(node, Glob):
        return f"{node.field} ~ {_literal(node.pattern)}"
    if isinstance(node, Exists):
        return f"{node.field} exists"
    if isinstance(node, Not):
        return f"not ({to_text(node.item)})"
    joiner = " and " if isinstance(node, And) else " or "
    return joiner.join(f"({to_text(item)})" for item in node.items)


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + '"'
    return repr(value)


# -- parsing -------------------------------------------------------------------
def parse(text: str) -> Node:
    """The AST of a query; QueryError (an InvalidArgumentError) naming the offending token, line and column."""
    if not isinstance(text, str):
        raise QueryError(f"a query must be a string, got {type(text).__name__}")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(text):,} characters, over the limit of {MAX_QUERY_CHARS:,}")
    if "\x00" in text:
        raise QueryError(f"the query contains a NUL character (at index {text.index(chr(0))})")
    if not text.strip():
        raise QueryError("the query is empty")
    try:
        tree = _PARSER.parse(text)
    except lark.exceptions.UnexpectedCharacters as exc:
        char = text[exc.pos_in_stream or 0]
        raise QueryError(f"unexpected character {char!r}", query=text, token=char, line=exc.line, column=exc.column) from None
    except lark.exceptions.UnexpectedToken as exc:
        token = exc.token
        if token.type == "$END":
            lines = text.splitlines() or [""]
            raise QueryError("the query ends too early", query=text, token="", line=len(lines), column=len(lines[-1]) + 1) from None
        raise QueryError(f"unexpected {token.value!r}", query=text, token=str(token.value), line=token.line or 0, column=token.column or 0) from None
    except lark.exceptions.LarkError as exc:
        raise QueryError(f"the query cannot be parsed: {exc}") from None
    _check_size(tree, text)
    body = tree.children[0]
    assert isinstance(body, lark.Tree)  # start: or_expr, always a rule
    return _Build(text).node(body)


def _check_size(tree: lark.Tree, text: str) -> None:
    """Refuse deep or long queries before building the AST (iteratively: a hostile query cannot recurse deep)."""
    stack: list[tuple[Any, int]] = [(tree, 0)]
    terms = 0
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, lark.Tree):
            continue
        if node.data in ("compare", "in_", "not_in", "glob", "exists"):
            terms += 1
            if terms > MAX_TERMS:
                raise QueryError(f"the query has more than {MAX_TERMS} terms", query=text, line=node.meta.line, column=node.meta.column, token=str(node.data))
            continue
        if depth > MAX_DEPTH:
            raise QueryError(f"the query nests deeper than {MAX_DEPTH} levels", query=text, line=node.meta.line, column=node.meta.column)
        stack.extend((child, depth + 1) for child in node.children)


class _Build:
    """lark tree -> AST, checking fields and value types (with positions for errors)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def error(self, message: str, item: Any) -> QueryError:
        if isinstance(item, lark.Token):
            return QueryError(message, query=self.text, token=str(item), line=item.line or 0, column=item.column or 0)
        meta = item.meta
        token = self.text[meta.start_pos : meta.end_pos] if not meta.empty else ""
        return QueryError(message, query=self.text, token=token, line=meta.line, column=meta.column)

    def node(self, tree: lark.Tree) -> Node:
        kind = tree.data
        if kind == "or_expr":
            return Or(tuple(self.node(c) for c in tree.children))
        if kind == "and_expr":
            return And(tuple(self.node(c) for c in tree.children))
        if kind == "not_":
            return Not(self.node(tree.children[0]))
        field = self.field(tree.children[0])
        if kind == "exists":
            if field.source == "metrics" and field.aggregate != "last":
                raise self.error("'exists' takes a metric name without an aggregate", tree)
            return Exists(field)
        values = [self.value(v) for v in tree.children[1:] if isinstance(v, lark.Tree)]
        if kind == "compare":
            op = "=" if str(tree.children[1]) == "==" else str(tree.children[1])
            value = self.value(tree.children[2])
            self.check(field, op, value, tree.children[2])
            return Compare(field, op, value)
        if kind in ("in_", "not_in"):
            for raw, value in zip([v for v in tree.children[1:] if isinstance(v, lark.Tree)], values):
                self.check(field, "=", value, raw)
            node: Node = Or(tuple(Compare(field, "=", v) for v in values)) if len(values) > 1 else Compare(field, "=", values[0])
            return Not(node) if kind == "not_in" else node
        # glob
        pattern = values[0]
        if not isinstance(pattern, str):
            raise self.error("a glob pattern must be a string", tree.children[-1])
        if field.source in ("metrics",) or RUN_FIELDS.get(field.key) in ("num", "status") and field.source == "run":
            raise self.error(f"{field} is not text; glob matches names and strings", tree.children[0])
        return Glob(field, pattern)

    def field(self, tree: lark.Tree) -> Field:
        parts = [self.key(c) for c in tree.children]
        head = parts[0]
        if head in RUN_FIELDS and len(parts) == 1:
            return Field("run", head)
        if head in SOURCES:
            if len(parts) == 1:
                raise self.error(f"{head} needs a key, like {head}.name", tree)
            if head == "metrics" and len(parts) == 3 and parts[2] in AGGREGATES:
                return Field("metrics", parts[1], parts[2])
            if len(parts) > 2:
                what = f"an aggregate among {', '.join(AGGREGATES)}" if head == "metrics" else "one key (quote keys with dots: `a.b`)"
                raise self.error(f"{head} takes {what}", tree)
            return Field(head, parts[1], "last" if head == "metrics" else None)
        known = ", ".join([*RUN_FIELDS, *(s + ".KEY" for s in SOURCES)])
        raise self.error(f"unknown field {'.'.join(parts)!r}; expected one of {known}", tree)

    def key(self, item: Any) -> str:
        token: Any = item.children[0] if isinstance(item, lark.Tree) else item
        text = str(token)
        if token.type == "BACKTICKED":
            return text[1:-1]
        if token.type == "QUOTED":
            return _unquote(text)
        return text

    def value(self, tree: lark.Tree) -> str | float | int | bool:
        if tree.data == "true":
            return True
        if tree.data == "false":
            return False
        token = tree.children[0]
        if tree.data == "string":
            return _unquote(str(token))
        text = str(token)
        number: float | int = int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
        if isinstance(number, float) and not math.isfinite(number):
            raise self.error(f"number {text} is out of range", token)
        if isinstance(number, int) and abs(number) > 2**63 - 1:
            raise self.error(f"number {text} is out of range", token)
        return number

    def check(self, field: Field, op: str, value: Any, raw: lark.Tree) -> None:
        """Comparisons that can never mean anything are errors; others (a param of a different type) simply do not match."""
        fixed = RUN_FIELDS.get(field.key) if field.source == "run" else ("num" if field.source == "metrics" else None)
        if fixed == "status":
            if op not in ("=", "!=") or value not in _STATUSES:
                raise self.error(f"status compares with = or != against one of {', '.join(_STATUSES)}", raw)
        elif fixed == "num" and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise self.error(f"{field} is a number; {_literal(value)} is not", raw)
        elif fixed == "str" and not isinstance(value, str):
            raise self.error(f"{field} is text; {_literal(value)} is not", raw)
        elif isinstance(value, bool) and op not in ("=", "!="):
            raise self.error(f"true and false compare with = or != only, not {op}", raw)


def _unquote(text: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])


def parse_field(text: str) -> Field:
    """A field of the language from its text (for sort keys), with its aggregate."""
    if not isinstance(text, str) or not text.strip():
        raise QueryError(f"a sort field must be a non-empty string, got {text!r}")
    if len(text) > 1000:
        raise QueryError(f"the sort field is {len(text):,} characters, over the limit of 1,000")
    stripped = text.strip()
    if stripped in RUN_FIELDS:
        if stripped == "status":
            raise QueryError("runs cannot be sorted by status")
        return Field("run", stripped)
    try:
        tree = _PARSER.parse(f"{stripped} = 0")
    except lark.exceptions.LarkError:
        raise QueryError(f"{text!r} is not a field to sort by (e.g. start_time, name, duration, params.alpha, metrics.loss.min)") from None
    body = tree.children[0]
    if not isinstance(body, lark.Tree) or body.data != "compare":
        raise QueryError(f"{text!r} is not a field to sort by")
    field = body.children[0]
    assert isinstance(field, lark.Tree)
    return _Build(stripped).field(field)


# -- plain-Python evaluation (the reference the SQL compilers are tested against) --
@dataclasses.dataclass
class Facts:
    """What a query can see of one run: its columns and its tags, params, properties and metric summaries."""

    name: str
    id: str
    parent: str | None
    status: str
    start_time: float
    end_time: float | None
    tags: Mapping[str, str]
    params: Mapping[str, Any]
    properties: Mapping[str, Any]
    metrics: Mapping[str, Mapping[str, float | int | None]]  # name -> {last, min, max, mean, count}
    now: float = 0.0


def lookup(field: Field, facts: Facts) -> tuple[bool, Any]:
    """(exists, value) of a field in a run's facts; a None value exists but compares with nothing."""
    if field.source == "run":
        if field.key == "duration":
            return True, (facts.end_time if facts.end_time is not None else facts.now) - facts.start_time
        value = getattr(facts, field.key)
        return value is not None, value
    found: Mapping[str, Any] = getattr(facts, field.source)
    if field.key not in found:
        return False, None
    if field.source == "metrics":
        return True, found[field.key].get(field.aggregate or "last")
    return True, found[field.key]


def _kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return None if isinstance(value, float) and math.isnan(value) else "num"
    if isinstance(value, str):
        return "str"
    return None


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def glob_regex(pattern: str) -> re.Pattern[str]:
    """The glob: `*` any run of characters, `?` one character, everything else literal, case-sensitive."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.S)


def evaluate(node: Node, facts: Facts) -> bool:
    """Whether a run's facts match a query's AST: typed comparisons, a missing or other-typed value never matches."""
    if isinstance(node, And):
        return all(evaluate(item, facts) for item in node.items)
    if isinstance(node, Or):
        return any(evaluate(item, facts) for item in node.items)
    if isinstance(node, Not):
        return not evaluate(node.item, facts)
    exists, value = lookup(node.field, facts)
    if isinstance(node, Exists):
        return exists
    if not exists or value is None:
        return False
    if isinstance(node, Glob):
        return isinstance(value, str) and glob_regex(node.pattern).fullmatch(value) is not None
    kind = _kind(value)
    if kind is None or kind != _kind(node.value):
        return False
    if kind == "num":  # as the stores compare numbers: float64
        return _COMPARE[node.op](float(value), float(node.value))
    return _COMPARE[node.op](value, node.value)
