"""The Logs Insights QL subset the fake service understands.

Enough for what s3audit and awswrangler send, evaluated with Logs Insights semantics:

- ``fields a, b`` / ``display a, b`` (names only; ``@ptr`` is always returned);
- ``filter <expr>`` with ``and`` / ``or`` / ``not``, parentheses, ``= != < <= > >=`` against
  string or number literals, ``in [..]``, ``not in [..]``, ``like "substring"``, ``like /re/``,
  ``=~ /re/``, and the functions ``toMillis(@timestamp)``, ``ispresent(f)``, ``isempty(f)``;
- ``stats count(*)|count(f)|sum(f)|min(f)|max(f) [as name], ... [by bin(Nu) [as name] | f, ...]``;
- ``sort f [asc|desc]`` and ``limit N``.

JSON ``@message`` fields are discovered with the dotted names Insights uses (via
:func:`s3audit.flatten.flatten_record`). Anything else (``parse``, ``dedup``, unknown commands,
syntax errors) raises :class:`QuerySyntaxError`, which the server turns into a
``MalformedQueryException`` carrying a ``queryCompileError`` — the fake never ignores text
silently (unlike moto).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class QuerySyntaxError(ValueError):
    """A query the fake cannot compile; ``start``/``end`` are character offsets."""

    def __init__(self, message: str, start: int = 0, end: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<regex>/(?:[^/\\\n]|\\.)+/i?)
  | (?P<duration>\d+(?:ms|s|m|h|d|w)\b)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<op>!=|<=|>=|=~|[=<>|(),\[\]*])
  | (?P<backtick>`[^`]+`)
  | (?P<name>[@A-Za-z_][@A-Za-z0-9_.\-]*)
    """,
    re.VERBOSE,
)

_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d|w)$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


@dataclass
class Tok:
    kind: str
    text: str
    pos: int


def tokenize(query: str) -> list[Tok]:
    toks: list[Tok] = []
    pos = 0
    prev: Tok | None = None
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if not m:
            raise QuerySyntaxError(f"unexpected character {query[pos]!r}", pos, pos + 1)
        kind = m.lastgroup or ""
        text = m.group(0)
        if kind == "regex" and not (prev and prev.text.lower() in ("like", "=~")):
            # a slash that does not follow like/=~ is not a regex here
            raise QuerySyntaxError(f"unexpected {text!r}", pos, m.end())
        if kind == "number" and text.startswith("-") and prev and prev.kind in ("name", "number", "string"):
            raise QuerySyntaxError("arithmetic is not supported by the fake", pos, m.end())
        if kind not in ("ws", "comment"):
            tok = Tok(kind, text, pos)
            toks.append(tok)
            prev = tok
        pos = m.end()
    return toks


# ----------------------------------------------------------------------------------- expressions
Record = Mapping[str, Any]
Expr = Callable[[Record], Any]


def _literal(tok: Tok) -> Any:
    if tok.kind == "string":
        body = tok.text[1:-1]
        return re.sub(r"\\(.)", r"\1", body)
    if tok.kind == "number":
        return float(tok.text) if "." in tok.text else int(tok.text)
    raise QuerySyntaxError(f"expected a literal, got {tok.text!r}", tok.pos, tok.pos + len(tok.text))


def _field_name(tok: Tok) -> str:
    if tok.kind == "backtick":
        return tok.text[1:-1]
    if tok.kind == "name":
        return tok.text
    raise QuerySyntaxError(f"expected a field name, got {tok.text!r}", tok.pos, tok.pos + len(tok.text))


def _num(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def _compare(op: str, left: Any, right: Any) -> bool:
    if left is None:
        return op == "!=" and right is not None
    ln, rn = _num(left), _num(right)
    if isinstance(right, (int, float)) and ln is not None and rn is not None:
        a: Any = ln
        b: Any = rn
    else:
        a = left if isinstance(left, str) else _scalar_text(left)
        b = right if isinstance(right, str) else _scalar_text(right)
    if op == "=":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _scalar_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


class _ExprParser:
    def __init__(self, toks: list[Tok]) -> None:
        self.toks = toks
        self.i = 0
        self.fields: set[str] = set()

    def peek(self) -> Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, text: str | None = None) -> Tok:
        tok = self.peek()
        if tok is None:
            raise QuerySyntaxError("unexpected end of expression")
        if text is not None and tok.text.lower() != text:
            raise QuerySyntaxError(f"expected {text!r}, got {tok.text!r}", tok.pos, tok.pos + len(tok.text))
        self.i += 1
        return tok

    def parse(self) -> Expr:
        expr = self.or_()
        if self.peek() is not None:
            tok = self.peek()
            assert tok is not None
            raise QuerySyntaxError(f"unexpected {tok.text!r}", tok.pos, tok.pos + len(tok.text))
        return expr

    def or_(self) -> Expr:
        left = self.and_()
        while (tok := self.peek()) is not None and tok.text.lower() == "or":
            self.take()
            right = self.and_()
            left = (lambda a, b: lambda r: bool(a(r)) or bool(b(r)))(left, right)
        return left

    def and_(self) -> Expr:
        left = self.not_()
        while (tok := self.peek()) is not None and tok.text.lower() == "and":
            self.take()
            right = self.not_()
            left = (lambda a, b: lambda r: bool(a(r)) and bool(b(r)))(left, right)
        return left

    def not_(self) -> Expr:
        tok = self.peek()
        if tok is not None and tok.kind == "name" and tok.text.lower() == "not":
            self.take()
            inner = self.not_()
            return lambda r: not bool(inner(r))
        return self.comparison()

    def operand(self) -> Expr:
        tok = self.take()
        if tok.text == "(":
            inner = self.or_()
            self.take(")")
            return inner
        if tok.kind in ("string", "number"):
            value = _literal(tok)
            return lambda r: value
        name = _field_name(tok)
        nxt = self.peek()
        if tok.kind == "name" and nxt is not None and nxt.text == "(":
            return self.function(name.lower(), tok)
        self.fields.add(name)
        return lambda r: r.get(name)

    def function(self, fname: str, tok: Tok) -> Expr:
        self.take("(")
        arg_tok = self.take()
        arg = _field_name(arg_tok)
        self.take(")")
        self.fields.add(arg)
        if fname == "tomillis":
            return lambda r: r.get(arg)  # the fake keeps @timestamp as epoch ms already
        if fname == "ispresent":
            return lambda r: r.get(arg) is not None
        if fname == "isempty":
            return lambda r: r.get(arg) in (None, "")
        raise QuerySyntaxError(f"function {fname}() is not supported by the fake", tok.pos, tok.pos + len(tok.text))

    def comparison(self) -> Expr:
        left = self.operand()
        tok = self.peek()
        if tok is None or tok.text in (")",) or tok.text.lower() in ("and", "or"):
            return left
        op = tok.text.lower()
        if op in ("=", "!=", "<", "<=", ">", ">="):
            self.take()
            right = self.operand()
            return lambda r: _compare(op, left(r), right(r))
        negate = False
        if op == "not":
            self.take()
            negate = True
            tok = self.peek()
            op = tok.text.lower() if tok else ""
        if op == "in":
            self.take()
            self.take("[")
            values: list[Any] = []
            while True:
                values.append(_literal(self.take()))
                sep = self.take()
                if sep.text == "]":
                    break
                if sep.text != ",":
                    raise QuerySyntaxError("expected ',' or ']'", sep.pos, sep.pos + 1)
            def _in(r: Record, values: list[Any] = values) -> bool:
                v = left(r)
                return v is not None and any(_compare("=", v, x) for x in values)
            return (lambda r: not _in(r)) if negate else _in
        if op in ("like", "=~"):
            self.take()
            pat_tok = self.take()
            if pat_tok.kind == "regex":
                flags = re.IGNORECASE if pat_tok.text.endswith("i") else 0
                body = pat_tok.text[1 : pat_tok.text.rindex("/")]
                rx = re.compile(body, flags)
                def _match(r: Record) -> bool:
                    v = left(r)
                    return v is not None and rx.search(_scalar_text(v)) is not None
            elif pat_tok.kind == "string" and op == "like":
                sub = _literal(pat_tok)
                def _match(r: Record) -> bool:
                    v = left(r)
                    return v is not None and sub in _scalar_text(v)
            else:
                raise QuerySyntaxError("expected a pattern", pat_tok.pos, pat_tok.pos + len(pat_tok.text))
            return (lambda r: not _match(r)) if negate else _match
        raise QuerySyntaxError(f"unexpected {tok.text!r}", tok.pos, tok.pos + len(tok.text))


# -------------------------------------------------------------------------------------- commands
@dataclass
class Agg:
    func: str  # count, sum, min, max
    arg: str | None  # None for count(*)
    name: str


@dataclass
class GroupKey:
    name: str  # output field name
    field: str | None = None  # a field, or None for a bin
    bin_ms: int = 0


@dataclass
class Query:
    """A compiled query."""

    text: str
    fields: list[str] | None = None
    filters: list[Expr] = field(default_factory=list)
    stats: list[Agg] | None = None
    by: list[GroupKey] = field(default_factory=list)
    sort: tuple[str, bool] | None = None  # (field, descending)
    limit: int | None = None
    referenced: set[str] = field(default_factory=set)

    @property
    def needs_fields(self) -> bool:
        """True when evaluation needs fields discovered from @message."""
        system = {"@timestamp", "@message", "@ptr", "@log", "@logStream", "@ingestionTime"}
        return bool(self.referenced - system)


def _split_commands(toks: list[Tok]) -> list[list[Tok]]:
    parts: list[list[Tok]] = [[]]
    for t in toks:
        if t.kind == "op" and t.text == "|":
            parts.append([])
        else:
            parts[-1].append(t)
    return parts


def _split_commas(toks: list[Tok]) -> list[list[Tok]]:
    out: list[list[Tok]] = [[]]
    depth = 0
    for t in toks:
        if t.text in ("(", "["):
            depth += 1
        elif t.text in (")", "]"):
            depth -= 1
        if t.text == "," and depth == 0:
            out.append([])
        else:
            out[-1].append(t)
    return out


def _item_alias(item: list[Tok]) -> tuple[list[Tok], str | None]:
    if len(item) >= 3 and item[-2].kind == "name" and item[-2].text.lower() == "as":
        return item[:-2], _field_name(item[-1])
    return item, None


def _text(query: str, item: list[Tok]) -> str:
    return query[item[0].pos : item[-1].pos + len(item[-1].text)].replace(" ", "")


def compile_query(query: str) -> Query:
    """Compile ``query``; raises :class:`QuerySyntaxError` on anything outside the subset."""
    toks = tokenize(query)
    q = Query(text=query)
    for cmd in _split_commands(toks):
        if not cmd:
            raise QuerySyntaxError("empty command", 0, len(query))
        head = cmd[0].text.lower()
        body = cmd[1:]
        where = (cmd[0].pos, cmd[0].pos + len(cmd[0].text))
        if head in ("fields", "display"):
            names = []
            for item in _split_commas(body):
                if len(item) != 1:
                    raise QuerySyntaxError("the fake supports plain field names in fields", *where)
                names.append(_field_name(item[0]))
            q.fields = names
            q.referenced.update(names)
        elif head == "filter":
            if not body:
                raise QuerySyntaxError("filter needs an expression", *where)
            p = _ExprParser(body)
            q.filters.append(p.parse())
            q.referenced.update(p.fields)
        elif head == "stats":
            _compile_stats(query, q, body, where)
        elif head == "sort":
            if not body or len(body) > 2:
                raise QuerySyntaxError("sort needs one field [asc|desc]", *where)
            desc = len(body) == 2 and body[1].text.lower() == "desc"
            if len(body) == 2 and body[1].text.lower() not in ("asc", "desc"):
                raise QuerySyntaxError("sort order must be asc or desc", *where)
            q.sort = (_field_name(body[0]), desc)
            q.referenced.add(q.sort[0])
        elif head == "limit":
            if len(body) != 1 or body[0].kind != "number":
                raise QuerySyntaxError("limit needs a number", *where)
            q.limit = int(body[0].text)
        else:
            raise QuerySyntaxError(f"unsupported command {cmd[0].text!r}", *where)
    return q


def _compile_stats(query: str, q: Query, body: list[Tok], where: tuple[int, int]) -> None:
    by_at = next((i for i, t in enumerate(body) if t.kind == "name" and t.text.lower() == "by"), None)
    agg_toks = body if by_at is None else body[:by_at]
    by_toks = [] if by_at is None else body[by_at + 1 :]
    aggs = []
    for item in _split_commas(agg_toks):
        if not item:
            raise QuerySyntaxError("empty aggregation", *where)
        item, alias = _item_alias(item)
        fname = item[0].text.lower()
        if fname not in ("count", "sum", "min", "max") or len(item) < 3 or item[1].text != "(" or item[-1].text != ")":
            raise QuerySyntaxError(f"unsupported aggregation {_text(query, item)!r}", *where)
        inner = item[2:-1]
        if fname == "count" and (not inner or (len(inner) == 1 and inner[0].text == "*")):
            arg = None
        elif len(inner) == 1:
            arg = _field_name(inner[0])
            q.referenced.add(arg)
        else:
            raise QuerySyntaxError(f"unsupported aggregation {_text(query, item)!r}", *where)
        aggs.append(Agg(fname, arg, alias or _text(query, item)))
    keys = []
    if by_at is not None:
        for item in _split_commas(by_toks):
            if not item:
                raise QuerySyntaxError("empty group key", *where)
            item, alias = _item_alias(item)
            if item[0].text.lower() == "bin":
                if len(item) != 4 or item[1].text != "(" or item[3].text != ")":
                    raise QuerySyntaxError("bin() needs one duration", *where)
                raw = item[2].text
                m = _DURATION.match(raw) if item[2].kind == "duration" else None
                if not m:
                    raise QuerySyntaxError(f"bad bin duration {raw!r}", *where)
                keys.append(GroupKey(alias or _text(query, item), None, int(m.group(1)) * _UNIT_MS[m.group(2)]))
            elif len(item) == 1:
                name = _field_name(item[0])
                q.referenced.add(name)
                keys.append(GroupKey(alias or name, name))
            else:
                raise QuerySyntaxError(f"unsupported group key {_text(query, item)!r}", *where)
    q.stats = aggs
    q.by = keys

