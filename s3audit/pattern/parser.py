"""Recursive-descent parser for CloudWatch Logs filter patterns.

Design notes
------------
The language is small and has three unrelated kinds of pattern, chosen by the first character
after stripping blanks (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html)::

    pattern      := ""                         -> MatchAll
                  | "{" json_body "}"          -> JsonPattern
                  | "[" delimited_body "]"     -> DelimitedPattern
                  | term (WS+ term)*           -> TermPattern
    term         := ("?" | "-")? ( '"' chars '"' | "%" regex "%" | [A-Za-z0-9_]+ )

    json_body    := or_expr?
    or_expr      := and_expr ("||" and_expr)*          ; precedence: () > && > ||
    and_expr     := unary ("&&" unary)*
    unary        := "(" or_expr ")" | condition
    condition    := selector cmp_op value
                  | selector "IS" ("NULL" | "TRUE" | "FALSE")
                  | selector "NOT" "EXISTS"
    cmp_op       := "=" | "!=" | "<" | "<=" | ">" | ">="
    selector     := "$" ( "." name | ".*" | "[" digits "]" | "[*]" | ".['" key "']" )+
    value        := '"' chars '"' | "%" regex "%" | number | word

    delimited_body := field ("," field)*
    field        := "..." | "" | f_and ("||" f_and)*
    f_and        := f_atom ("&&" f_atom)*
    f_atom       := name (cmp_op value)?              ; every atom names the slot's own field

Two passes: the lexer turns a JSON/delimited body into a list of typed tokens (always ending
with EOF), so the parser can look ahead freely; term patterns are split by their own small lexer.
After parsing, one validation pass applies the quotas (1024 characters, 2 regexes, 1 wildcard per
selector and 3 per pattern). Every failure is a :class:`PatternError` with a position; the
public :func:`parse` fills in the pattern text in one place (as jmespath's ``_do_parse`` does).
"""
from __future__ import annotations

from .ast import (
    And, Compare, DelimitedField, DelimitedPattern, FieldCondition, IsBool, IsNull, JsonNode,
    JsonPattern, Literal, MatchAll, NotExists, Or, Pattern, Selector, TermPattern,
)
from .errors import PatternError
from .lexer import WHITESPACE, tokenize, tokenize_terms
from .regex import compile_regex
from .tokens import Token, TokenKind

MAX_LENGTH = 1024          # filterPattern: 0..1024 characters [D botocore service model]
MAX_REGEX = 2              # "up to 2 regex per filter pattern" [D]
MAX_WILDCARDS_PER_SELECTOR = 1
MAX_WILDCARD_SELECTORS = 3  # "at most 3 wildcard selectors per pattern" [D]
ORDERING_OPS = frozenset({"<", "<=", ">", ">="})
KEYWORDS = ("IS", "NOT", "NULL", "TRUE", "FALSE", "EXISTS")
MAX_DEPTH = 100  # D-> (inferred): deeper parenthesis nesting is rejected (keeps every pass recursion-safe)


def parse(text: str) -> Pattern:
    """Parse ``text`` into an AST, or raise :class:`PatternError` with ``.pattern`` filled in.

    Examples
    --------
    >>> parse('{ $.eventName = "GetObject" }')  # doctest: +ELLIPSIS
    JsonPattern(body=Compare(selector=Selector(steps=(Step(kind='key', key='eventName', ...
    """
    if not isinstance(text, str):
        raise PatternError(f"a filter pattern must be a str, not {type(text).__name__}", pattern=repr(text))
    try:
        return _parse(text)
    except PatternError as exc:
        exc.pattern = text
        # keep the caret inside the text: an "unexpected end" points at the last character
        exc.position = min(max(exc.position, 0), max(len(text) - 1, 0))
        exc.end = min(max(exc.end, exc.position + 1), len(text) + 1)
        raise
    except RecursionError:
        raise PatternError("pattern nests too deeply", pattern=text, position=0) from None


def _parse(text: str) -> Pattern:
    if len(text) > MAX_LENGTH:
        raise PatternError(f"a filter pattern may hold at most {MAX_LENGTH} characters (this one has "
                           f"{len(text)})", position=MAX_LENGTH, end=len(text))
    # Strip leading/trailing blanks [I: every implementation does; AWS speaks of the pattern's first
    # and last characters].
    lo, hi = 0, len(text)
    while lo < hi and text[lo] in WHITESPACE:
        lo += 1
    while hi > lo and text[hi - 1] in WHITESPACE:
        hi -= 1
    if lo == hi:
        return MatchAll()
    first = text[lo]
    if first == "{":
        if text[hi - 1] != "}":
            raise PatternError("If a filter pattern starts with '{' it must end with '}'", position=hi - 1, end=hi)
        pattern: Pattern = _JsonParser(text, lo, hi).parse()
    elif first == "[":
        if text[hi - 1] != "]":
            raise PatternError("If a filter pattern starts with '[' it must end with ']'", position=hi - 1, end=hi)
        pattern = _DelimitedParser(text, lo, hi).parse()
    else:
        terms = tokenize_terms(text, lo, hi)
        for t in terms:
            if t.kind == "regex":
                compile_regex(t.text, t.span[0] + len(t.prefix) + 1)
        _check_regex_quota([(t.span[0], t.span[1]) for t in terms if t.kind == "regex"])
        pattern = TermPattern(tuple(terms))
    return pattern


def _check_regex_quota(spans: list[tuple[int, int]]) -> None:
    if len(spans) > MAX_REGEX:
        s, e = spans[MAX_REGEX]
        raise PatternError(f"a filter pattern may hold at most {MAX_REGEX} regular expressions (%...%)",
                           position=s, end=e)


class _TokenParser:
    def __init__(self, text: str, lo: int, hi: int) -> None:
        self.text = text
        self.tokens: list[Token] = list(tokenize(text, lo, hi))
        self.i = 0
        self.regex_spans: list[tuple[int, int]] = []

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        t = self.tokens[self.i]
        if t.kind is not TokenKind.EOF:
            self.i += 1
        return t

    def expect(self, kind: TokenKind, what: str) -> Token:
        t = self.tok
        if t.kind is not kind:
            raise self.error(f"expected {what}", t)
        return self.advance()

    def error(self, message: str, t: Token | None = None) -> PatternError:
        t = t or self.tok
        found = "the end of the pattern" if t.kind is TokenKind.EOF else repr(t.text)
        return PatternError(f"{message}, found {found}", position=t.start, end=max(t.end, t.start + 1))

    def value(self, op: str) -> Literal:
        t = self.tok
        if t.kind is TokenKind.STRING:
            lit = Literal("string", t.value, True, span=(t.start, t.end))  # type: ignore[arg-type]
        elif t.kind is TokenKind.NUMBER:
            lit = Literal("number", t.text, False, span=(t.start, t.end))
        elif t.kind is TokenKind.WORD:
            lit = Literal("string", t.text, False, span=(t.start, t.end))
        elif t.kind is TokenKind.REGEX:
            compile_regex(t.value, t.start + 1)  # type: ignore[arg-type]
            self.regex_spans.append((t.start, t.end))
            lit = Literal("regex", t.value, False, span=(t.start, t.end))  # type: ignore[arg-type]
        else:
            raise self.error(f"expected a value after '{op}' (a \"quoted string\", a number, a word or %regex%)")
        if op in ORDERING_OPS and lit.kind != "number":
            # D-> (inferred): ordering comparisons are numeric only [D: "< <= > >= for numbers"];
            # a string or regex operand is rejected rather than silently never matching.
            raise PatternError(f"'{op}' compares numbers only: write a number after it", position=t.start,
                               end=t.end)
        self.advance()
        return lit


class _JsonParser(_TokenParser):
    def parse(self) -> JsonPattern:
        self.expect(TokenKind.LBRACE, "'{'")
        body: JsonNode | None = None
        if self.tok.kind is not TokenKind.RBRACE:
            # D-> (inferred): "{}" is accepted (the grammar makes the body optional) and matches every
            # event that is a JSON object; lint warns about it.
            body = self.or_expr()
        if self.tok.kind is not TokenKind.RBRACE:
            raise self.error("expected && or || or the closing '}'")
        self.advance()
        if self.tok.kind is not TokenKind.EOF:
            raise self.error("expected the end of the pattern after '}'")
        _check_regex_quota(self.regex_spans)
        self.check_wildcards(body)
        return JsonPattern(body)

    def check_wildcards(self, body: JsonNode | None) -> None:
        selectors = list(_selectors(body))
        wild = [s for s in selectors if s.wildcard_count]
        for s in wild:
            if s.wildcard_count > MAX_WILDCARDS_PER_SELECTOR:
                raise PatternError("a selector may hold at most one wildcard ([*] or .*)",
                                   position=s.span[0], end=s.span[1])
        if len(wild) > MAX_WILDCARD_SELECTORS:
            s = wild[MAX_WILDCARD_SELECTORS]
            raise PatternError(f"a pattern may hold at most {MAX_WILDCARD_SELECTORS} wildcard selectors",
                               position=s.span[0], end=s.span[1])

    def or_expr(self) -> JsonNode:
        start = self.tok.start
        items = [self.and_expr()]
        while self.tok.kind is TokenKind.OR:
            self.advance()
            items.append(self.and_expr())
        if len(items) == 1:
            return items[0]
        flat: list[JsonNode] = []
        for it in items:  # (a || b) || c == a || b || c
            flat.extend(it.items if isinstance(it, Or) else (it,))
        return Or(tuple(flat), span=(start, self.tokens[self.i - 1].end))

    def and_expr(self) -> JsonNode:
        start = self.tok.start
        items = [self.unary()]
        while self.tok.kind is TokenKind.AND:
            self.advance()
            items.append(self.unary())
        if len(items) == 1:
            return items[0]
        flat: list[JsonNode] = []
        for it in items:
            flat.extend(it.items if isinstance(it, And) else (it,))
        return And(tuple(flat), span=(start, self.tokens[self.i - 1].end))

    depth = 0

    def unary(self) -> JsonNode:
        t = self.tok
        if t.kind is TokenKind.LPAREN:
            if self.depth >= MAX_DEPTH:
                raise PatternError(f"parentheses nest more than {MAX_DEPTH} deep", position=t.start)
            self.depth += 1
            self.advance()
            if self.tok.kind is TokenKind.RPAREN:
                raise self.error("expected a condition inside ( )")
            node = self.or_expr()
            if self.tok.kind is not TokenKind.RPAREN:
                raise self.error("expected && or || or a closing ')'")
            self.advance()
            self.depth -= 1
            return node
        if t.kind is TokenKind.SELECTOR:
            return self.condition()
        if t.kind is TokenKind.WORD and t.text.upper() in ("NOT", "EXISTS"):
            raise self.error("a condition starts with a selector: write $.field NOT EXISTS")
        raise self.error("expected a condition ($.field = value) or '('")

    def condition(self) -> JsonNode:
        st = self.advance()
        sel = Selector(st.value, span=(st.start, st.end))  # type: ignore[arg-type]
        t = self.tok
        if t.kind is TokenKind.OP:
            self.advance()
            lit = self.value(t.text)
            return Compare(sel, t.text, lit, span=(st.start, lit.span[1]))
        if t.kind is TokenKind.WORD:
            word = t.text
            if word.upper() in KEYWORDS and word != word.upper():
                # D-> (spec OQ-11): keywords are upper case only; other cases are errors with a hint.
                raise PatternError(f"keywords are upper case: write {word.upper()} instead of {word}",
                                   position=t.start, end=t.end)
            if word == "IS":
                self.advance()
                k = self.tok
                kw = k.text if k.kind is TokenKind.WORD else ""
                if kw.upper() == "NOT":
                    raise PatternError(
                        "IS NOT is not supported: use NOT EXISTS, or != for a value "
                        "(e.g. $.f NOT EXISTS || $.f != \"v\")", position=t.start, end=k.end)
                if kw.upper() in ("NULL", "TRUE", "FALSE") and kw != kw.upper():
                    raise PatternError(f"keywords are upper case: write {kw.upper()}", position=k.start,
                                       end=k.end)
                if kw == "NULL":
                    self.advance()
                    return IsNull(sel, span=(st.start, k.end))
                if kw in ("TRUE", "FALSE"):
                    self.advance()
                    return IsBool(sel, kw == "TRUE", span=(st.start, k.end))
                raise self.error("expected NULL, TRUE or FALSE after IS", k)
            if word == "NOT":
                self.advance()
                k = self.tok
                if k.kind is TokenKind.WORD and k.text.upper() == "EXISTS":
                    if k.text != "EXISTS":
                        raise PatternError("keywords are upper case: write EXISTS", position=k.start, end=k.end)
                    self.advance()
                    return NotExists(sel, span=(st.start, k.end))
                raise self.error("expected EXISTS after NOT", k)
            if word == "EXISTS":
                raise PatternError(
                    "EXISTS is not supported: use = * for 'has a value', or NOT EXISTS for 'is absent'",
                    position=t.start, end=t.end)
        if t.kind is TokenKind.SELECTOR:
            raise self.error("expected an operator after the selector; comparing two selectors is not supported")
        raise self.error("expected an operator (= != < <= > >=), IS NULL/TRUE/FALSE or NOT EXISTS after the selector")


def _selectors(node: object):
    if node is None:
        return
    if isinstance(node, (And, Or)):
        for it in node.items:
            yield from _selectors(it)
    else:
        yield node.selector  # type: ignore[attr-defined]


class _DelimitedParser(_TokenParser):
    def parse(self) -> DelimitedPattern:
        self.expect(TokenKind.LBRACKET, "'['")
        fields: list[DelimitedField] = []
        if self.tok.kind is TokenKind.RBRACKET:
            self.advance()
        else:
            while True:
                fields.append(self.field())
                if self.tok.kind is TokenKind.COMMA:
                    self.advance()
                    continue
                if self.tok.kind is TokenKind.RBRACKET:
                    self.advance()
                    break
                raise self.error("expected ',' or the closing ']'")
        if self.tok.kind is not TokenKind.EOF:
            raise self.error("expected the end of the pattern after ']'")
        ell = [f for f in fields if f.kind == "ellipsis"]
        if len(ell) > 1:
            # D-> (inferred, as aws-cdk and floci): '...' may appear once.
            raise PatternError("'...' may appear only once", position=ell[1].span[0], end=ell[1].span[1])
        seen: dict[str, DelimitedField] = {}
        for f in fields:
            if f.name is not None:
                if f.name in seen:
                    # D-> (inferred): a name used twice would make $name ambiguous; rejected.
                    raise PatternError(f"field name {f.name!r} is used twice", position=f.span[0], end=f.span[1])
                seen[f.name] = f
        _check_regex_quota(self.regex_spans)
        return DelimitedPattern(tuple(fields))

    def field(self) -> DelimitedField:
        t = self.tok
        if t.kind in (TokenKind.COMMA, TokenKind.RBRACKET):
            return DelimitedField("blank", span=(t.start, t.start))
        if t.kind is TokenKind.ELLIPSIS:
            self.advance()
            return DelimitedField("ellipsis", span=(t.start, t.end))
        name: str | None = None
        ors: list[tuple[FieldCondition, ...]] = []
        bare = False
        while True:
            ands: list[FieldCondition] = []
            while True:
                nt = self.tok
                if nt.kind not in (TokenKind.WORD, TokenKind.NUMBER) or not _is_name(nt.text):
                    raise self.error("expected a field name (letters, digits, _)")
                if name is None:
                    name = nt.text
                elif nt.text != name:
                    # [O DOCS-21] conditions on two different fields in one slot are rejected.
                    raise PatternError(f"every condition in this slot must be on {name!r}: conditions on two "
                                       "fields in one slot are not supported", position=nt.start, end=nt.end)
                self.advance()
                if self.tok.kind is TokenKind.OP:
                    op = self.advance().text
                    lit = self.value(op)
                    ands.append(FieldCondition(op, lit, span=(nt.start, lit.span[1])))
                else:
                    bare = True
                if self.tok.kind is TokenKind.AND:
                    self.advance()
                    continue
                break
            ors.append(tuple(ands))
            if self.tok.kind is TokenKind.OR:
                self.advance()
                continue
            break
        end = self.tokens[self.i - 1].end
        if bare and (len(ors) > 1 or len(ors[0]) > 1):
            raise PatternError("a field without a condition cannot be combined with && or ||",
                               position=t.start, end=end)
        conds = () if bare else tuple(ors)
        return DelimitedField("named", name, conds, span=(t.start, end))


def _is_name(text: str) -> bool:
    return bool(text) and all(c.isascii() and (c.isalnum() or c == "_") for c in text)
