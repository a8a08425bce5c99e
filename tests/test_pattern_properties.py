"""Property tests (Hypothesis): the error contract, mask == matches, rendering round-trips."""
from __future__ import annotations

import json

import hypothesis.strategies as st

from hypothesis import HealthCheck, given, settings

from s3audit.pattern import FilterPattern, PatternError, compile_pattern
from s3audit.pattern.ast import And, Compare, IsBool, IsNull, JsonPattern, Literal, NotExists, Or, Selector, Step
from s3audit.pattern.render import render
from tests._pattern_support import make_frame

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PATTERN_CHARS = '{}[]()$.*"%=!<>&|, \t?-_\'\\abcxyzISNOTULLEXTRF019e+'
SEEDS = ['{ $.a = "x" && ($.b != 1 || $.c NOT EXISTS) }', "[a, ..., b = 4* || b = %x%]", 'ERROR -"a b" ?%c%',
         "{ $.a[*].b = %^q% && $.['k.x'] IS NULL }"]


def _check_error_contract(text: str) -> None:
    try:
        p = compile_pattern(text)
    except PatternError as exc:
        assert exc.pattern == text
        assert 0 <= exc.position < max(len(text), 1), (text, exc.position)
        assert exc.position <= exc.end
        lines = str(exc).splitlines()
        assert lines and lines[0]
        return
    assert isinstance(p, FilterPattern)
    again = compile_pattern(str(p))  # whatever compiles renders to something that compiles the same
    assert again.ast == p.ast


@SETTINGS
@given(st.text())
def test_any_text_compiles_or_raises_pattern_error(text):
    _check_error_contract(text)


@SETTINGS
@given(st.text(alphabet=PATTERN_CHARS, max_size=60))
def test_pattern_like_text_compiles_or_raises_pattern_error(text):
    _check_error_contract(text)


@SETTINGS
@given(st.sampled_from(SEEDS), st.data())
def test_mutated_patterns_compile_or_raise_pattern_error(seed, data):
    chars = list(seed)
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(chars)))
        op = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        c = data.draw(st.sampled_from(PATTERN_CHARS))
        if op == "insert":
            chars.insert(i, c)
        elif chars and i < len(chars):
            if op == "delete":
                del chars[i]
            else:
                chars[i] = c
    _check_error_contract("".join(chars))


# ----------------------------------------------------------------------------- generated JSON patterns
KEYS = ["a", "b", "o"]
SELECTORS = [
    Selector((Step("key", "a"),)), Selector((Step("key", "b"),)), Selector((Step("key", "eventName"),)),
    Selector((Step("key", "o"), Step("key", "a"))), Selector((Step("key", "o"), Step("key", "n"))),
    Selector((Step("key", "c"), Step("index", index=0))), Selector((Step("key", "c"), Step("any_index"))),
    Selector((Step("key", "o.a", bracket=True),)), Selector((Step("key", "missing"),)),
]
STRING_LITERALS = ["x", "x*", "*x", "*", "1", "1e0", "true", "", "a*b", "GetObject", "Get*", "-1"]
NUMBER_LITERALS = ["1", "0", "-1", "1.5", "1e0", "+2", "10e-1"]
REGEXES = ["^x", "x$", "1", "^-?[0-9]+$", "e"]

literals = st.one_of(
    st.sampled_from(STRING_LITERALS).map(lambda t: Literal("string", t)),
    st.sampled_from(NUMBER_LITERALS).map(lambda t: Literal("number", t, False)),
    st.sampled_from(REGEXES).map(lambda t: Literal("regex", t, False)),
)


@st.composite
def conditions(draw):
    sel = draw(st.sampled_from(SELECTORS))
    kind = draw(st.sampled_from(["cmp", "cmp", "cmp", "null", "bool", "notexists"]))
    if kind == "null":
        return IsNull(sel)
    if kind == "bool":
        return IsBool(sel, draw(st.booleans()))
    if kind == "notexists":
        return NotExists(sel)
    lit = draw(literals)
    ops = ["=", "!="] + (["<", "<=", ">", ">="] if lit.kind == "number" else [])
    return Compare(sel, draw(st.sampled_from(ops)), lit)


json_bodies = st.recursive(
    conditions(),
    lambda kids: st.one_of(st.lists(kids, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
                           st.lists(kids, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs)))),
    max_leaves=5,
).filter(lambda body: _within_quotas(body)).map(lambda body: _flat(body))


def _flat(node):
    """The parser's normal form: no && directly inside &&, no || directly inside ||."""
    if isinstance(node, (And, Or)):
        items = []
        for it in (_flat(x) for x in node.items):
            items.extend(it.items if type(it) is type(node) else (it,))
        return type(node)(tuple(items))
    return node


def _leaves(node):
    if isinstance(node, (And, Or)):
        for it in node.items:
            yield from _leaves(it)
    else:
        yield node


def _within_quotas(body) -> bool:
    leaves = list(_leaves(body))
    regexes = sum(1 for c in leaves if isinstance(c, Compare) and c.value.kind == "regex")
    wild = sum(1 for c in leaves if c.selector.wildcard_count)
    return regexes <= 2 and wild <= 3

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from([1.5, 1000.0, -0.5]),
    st.sampled_from(["x", "xx", "1", "1e0", "-1", "true", "GetObject", "", "a*b", "x\u00e9", "Get"]),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=2), st.dictionaries(st.sampled_from(["a", "n"]), SCALARS,
                                                                           max_size=2))


@st.composite
def events(draw):
    ev = {"eventSource": "s3.amazonaws.com"}
    for key in ["a", "b", "o", "c", "eventName", "o.a"]:
        if draw(st.booleans()):
            ev[key] = draw(VALUES)
    return ev


@st.composite
def event_texts(draw):
    ev = draw(events())
    style = draw(st.sampled_from(["compact", "spaced", "ascii"]))
    if style == "compact":
        return json.dumps(ev, separators=(",", ":"), ensure_ascii=False)
    if style == "spaced":
        return json.dumps(ev, ensure_ascii=False)
    return json.dumps(ev)  # \\u escapes


@SETTINGS
@given(json_bodies, st.lists(event_texts(), min_size=1, max_size=12))
def test_mask_equals_matches_on_generated_events(body, raws):
    p = compile_pattern(render(JsonPattern(body)))
    expected = [p.matches(r) for r in raws]
    for frame in (make_frame(raws), make_frame(raws, object_columns=True)):
        assert p.mask(frame).tolist() == expected


@SETTINGS
@given(json_bodies, st.lists(events(), min_size=1, max_size=8))
def test_rendering_round_trips(body, evs):
    ast = JsonPattern(body)
    text = render(ast)
    p = compile_pattern(text)
    assert p.ast == ast
    assert str(p) == text
    assert [p.matches(e) for e in evs] == [compile_pattern(str(p)).matches(json.dumps(e)) for e in evs]


@SETTINGS
@given(st.lists(st.sampled_from(["ERROR", '"a b"', "%x$%", "x", '" "', "é"]), min_size=1, max_size=4),
       st.lists(st.sampled_from(["", "?", "-"]), min_size=4, max_size=4),
       st.lists(st.text(alphabet="ERORxab é\"", max_size=20), min_size=1, max_size=10))
def test_term_mask_equals_matches(terms, prefixes, messages):
    parts = [pre + t for pre, t in zip(prefixes, terms) if t != "é"]
    regexes = [i for i, t in enumerate(parts) if "%" in t]
    parts = [t for i, t in enumerate(parts) if i not in regexes[2:]]  # the 2-regex quota
    text = " ".join(parts) or "x"
    p = compile_pattern(text)
    frame = make_frame(messages)
    assert p.mask(frame).tolist() == [p.matches(m) for m in messages]
    assert compile_pattern(str(p)).ast == p.ast


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_bodies, st.lists(event_texts(), min_size=1, max_size=10))
def test_mask_equals_matches_on_frames_from_the_loader(body, raws):
    """The real loader: mixed kinds become text, strings are coerced in contract columns, etc."""
    import s3audit

    p = compile_pattern(render(JsonPattern(body)))
    records = []
    for i, raw in enumerate(raws):
        ev = json.loads(raw)
        ev.update({"eventVersion": "1.09", "eventName": ev.get("eventName", "GetObject"),
                   "eventID": f"id-{i}", "eventTime": "2026-11-02T10:00:00Z"})
        ev.setdefault("readOnly", ev.get("a"))
        records.append(json.dumps(ev))
    frame = s3audit.load_events(records, keep="all")
    assert len(frame) == len(records)
    assert p.mask(frame).tolist() == [p.matches(r) for r in frame["raw"]]
