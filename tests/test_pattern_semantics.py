"""The evaluation rules (spec section 6.3 and the D-> defaults), rendering, explain and extract."""
from __future__ import annotations

import json

import pytest

from s3audit.pattern import compile_pattern

EVENTS = {
    "missing": {},
    "null": {"f": None},
    "string": {"f": "vpce-1"},
    "other": {"f": "vpce-2"},
    "number": {"f": 400},
    "numstr": {"f": "400"},
    "true": {"f": True},
    "false": {"f": False},
    "array": {"f": ["vpce-1"]},
    "object": {"f": {"g": 1}},
    "empty_array": {"f": []},
}

# pattern -> the event names it matches (every other event of EVENTS must not match)
TABLE = {
    '{ $.f = "vpce-1" }': {"string"},
    '{ $.f != "vpce-1" }': {"other", "number", "numstr"},  # never missing/null/bool/array/object
    "{ $.f = * }": {"string", "other", "number", "numstr"},
    '{ $.f = "*" }': {"string", "other", "number", "numstr"},
    "{ $.f IS NULL }": {"null"},
    "{ $.f NOT EXISTS }": {"missing"},
    "{ $.f IS TRUE }": {"true"},
    "{ $.f IS FALSE }": {"false"},
    "{ $.f = true }": set(),  # D-> OQ-5: text, never a boolean
    '{ $.f = "true" }': set(),
    "{ $.f = 400 }": {"number", "numstr"},  # D-> OQ-6: numeric strings compare as numbers
    '{ $.f = "400" }': {"number", "numstr"},  # quoted: as text; a number's text is "400"
    "{ $.f = 4e2 }": {"number", "numstr"},
    '{ $.f = "4e2" }': set(),
    "{ $.f != 400 }": {"string", "other"},
    "{ $.f > 399.5 }": {"number", "numstr"},
    "{ $.f < 1000 }": {"number", "numstr"},
    "{ $.f = 4* }": {"number", "numstr"},
    "{ $.f = %^vpce-% }": {"string", "other"},
    "{ $.f != %^vpce-% }": {"number", "numstr"},
    "{ $.f = %0$% }": {"number", "numstr"},
    "{ $.f NOT EXISTS || $.f != \"vpce-1\" }": {"missing", "other", "number", "numstr"},
    "{ $.f[0] = \"vpce-1\" }": {"array"},
    "{ $.f[*] = \"vpce-1\" }": {"array"},
    "{ $.f.g = 1 }": {"object"},
    "{ $.f.* = 1 }": {"object"},
    "{ $.f[0] NOT EXISTS }": set(EVENTS) - {"array"},
    "{ $.f[*] NOT EXISTS }": set(EVENTS) - {"array"},
    "{ $.f.g NOT EXISTS }": set(EVENTS) - {"object"},
    "{}": set(EVENTS),
}


@pytest.mark.parametrize("pattern", list(TABLE))
def test_type_table(pattern):
    p = compile_pattern(pattern)
    got = {name for name, ev in EVENTS.items() if p.matches(ev)}
    assert got == TABLE[pattern]
    raw = {name for name, ev in EVENTS.items() if p.matches(json.dumps(ev))}
    assert raw == TABLE[pattern]


def test_ne_is_not_the_negation_of_eq():
    eq, ne = compile_pattern('{ $.f = "x" }'), compile_pattern('{ $.f != "x" }')
    for name in ("missing", "null", "true", "array", "object"):
        assert not eq.matches(EVENTS[name]) and not ne.matches(EVENTS[name]), name


@pytest.mark.parametrize("value,lit,expected", [
    ("PutEvent", "*Event", True), ("EventName", "Event*", True), ("EvXent", "Ev*ent", False),
    ("Ev*ent", "Ev*ent", True), ("a.html.b", "*.html*", True), ("x", "**", True), ("*", "***", True),
    ("a", "***", False), ("Client.UnauthorizedOperation", '"*UnauthorizedOperation"', True),
    ("", '""', True), ("x", '""', False), ("", "*", True),
])
def test_wildcards(value, lit, expected):
    assert compile_pattern(f"{{ $.f = {lit} }}").matches({"f": value}) is expected


def test_number_text_is_kept_as_written():
    raw = '{"a": 1e3, "b": 1.50, "c": -0, "d": 12345678901234567890}'
    assert compile_pattern("{ $.a = 1000 }").matches(raw)
    assert compile_pattern('{ $.a = "1e3" }').matches(raw)       # text as written
    assert not compile_pattern('{ $.a = "1000" }').matches(raw)
    assert compile_pattern('{ $.b = "1.50" }').matches(raw)
    assert compile_pattern("{ $.b = 1.5 }").matches(raw)
    assert compile_pattern('{ $.c = "-0" }').matches(raw)
    assert compile_pattern("{ $.d = 12345678901234567890 }").matches(raw)
    assert not compile_pattern("{ $.d = 12345678901234567891 }").matches(raw)


def test_not_json_and_non_object_events():
    p = compile_pattern("{ $.a NOT EXISTS }")
    assert p.matches("{}")
    for raw in ("not json", "[1,2]", "3", '"x"', "{bad", '{"a": NaN}', ""):
        assert not p.matches(raw), raw


def test_duplicate_keys_last_wins():
    assert compile_pattern('{ $.a = "2" }').matches('{"a":"1","a":"2"}')


def test_bracket_key_and_hyphen_names():
    ev = {"cluster.name": "c", "cluster": {"name": "d"}, "x-amz-id-2": "q"}
    assert compile_pattern("{ $.['cluster.name'] = c }").matches(ev)
    assert compile_pattern("{ $.cluster.name = d }").matches(ev)
    assert compile_pattern("{ $.x-amz-id-2 = q }").matches(ev)


def test_precedence_and_parentheses():
    ev = {"a": 1, "b": 0, "c": 0}
    assert compile_pattern("{ $.a = 1 || $.b = 1 && $.c = 1 }").matches(ev)
    assert not compile_pattern("{ ($.a = 1 || $.b = 1) && $.c = 1 }").matches(ev)


def test_regex_anchors_and_search():
    p = compile_pattern(r"{ $.ip = %^10\.0\.% }")
    assert p.matches({"ip": "10.0.3.4"}) and not p.matches({"ip": "110.0.3.4"})
    end = compile_pattern("{ $.k = %html$% }")
    assert end.matches({"k": "a.html"}) and not end.matches({"k": "a.html\n"})  # $ = very end
    assert compile_pattern("{ $.k = %\\x28x\\x29% }").matches({"k": "(x)"})
    assert compile_pattern("{ $.k = %a{,2}b% }").matches({"k": "aab"})


# ----------------------------------------------------------------------------- terms
@pytest.mark.parametrize("pattern,event,expected", [
    ("ERROR", "an ERRORCODE here", True),
    ("ERROR", "error", False),
    ('"INTERNAL SERVER ERROR"', "500 INTERNAL SERVER ERROR", True),
    ("ERROR -WARN", "ERROR and WARN", False),
    ("-ERROR", "all fine", True),
    ("?A ?B", "has B", True),
    ("?A ?B", "has neither", False),
    ("?A ?B C", "only C", True),   # ? terms ignored next to plain terms [D]
    ("?A -C", "nothing", True),    # D-> OQ-15: behaves like -C
    ("?A -C", "A and C", False),
    ('" "', "x", True),
    ('""', "x", True),             # D-> OQ-16: match-all (lint warns)
    ("%AUTHORIZED%", "UNAUTHORIZED", True),
    ("ERROR %4\\d\\d%", "ERROR 404", True),
    ("ERROR -%4\\d\\d%", "ERROR 404", False),
    ('"a \\"quoted\\" b"', 'x a "quoted" b', True),
    ("", "anything", True),
    ("   ", "anything", True),
])
def test_terms(pattern, event, expected):
    p = compile_pattern(pattern)
    assert p.matches(event) is expected
    assert p.extract(event).extracted_values == {}


def test_term_pattern_on_a_dict_searches_its_compact_json():
    p = compile_pattern('"\\"eventName\\":\\"GetObject\\""')
    assert p.matches({"eventName": "GetObject"})


# ----------------------------------------------------------------------------- space-delimited
LINE = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'


@pytest.mark.parametrize("pattern,expected,values", [
    ("[ip, id, user, ts, req, status, size]", True,
     {"$ip": "127.0.0.1", "$id": "-", "$user": "frank", "$ts": "10/Oct/2000:13:25:15 -0700",
      "$req": "GET /index.html HTTP/1.0", "$status": "404", "$size": "1534"}),
    ("[ip, ...]", True, {"$ip": "127.0.0.1", "$2": "-", "$3": "frank", "$4": "10/Oct/2000:13:25:15 -0700",
                         "$5": "GET /index.html HTTP/1.0", "$6": "404", "$7": "1534"}),
    ("[ip, ..., size]", True, {"$ip": "127.0.0.1", "$2": "-", "$3": "frank",
                               "$4": "10/Oct/2000:13:25:15 -0700", "$5": "GET /index.html HTTP/1.0",
                               "$6": "404", "$size": "1534"}),
    ("[ip, , user, ...]", True, {"$ip": "127.0.0.1", "$2": "-", "$user": "frank",
                                 "$4": "10/Oct/2000:13:25:15 -0700", "$5": "GET /index.html HTTP/1.0",
                                 "$6": "404", "$7": "1534"}),
    # D-> OQ-13: without ... the last field absorbs the rest of the line
    ("[ip, rest]", True, {"$ip": "127.0.0.1",
                          "$rest": '- frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'}),
    ("[a, b, c, d, e, f, g, h]", False, None),  # too few fields
    ("[..., status = 4* && status != 403, size > 1000]", True, None),
    ("[..., status = 404 || status = 410, size < 1000]", False, None),
    ("[ip = %^127\\.%, ...]", True, None),
    ("[ip != 127.0.0.1, ...]", False, None),
    ('[..., req = "*index*", status, size]', True, None),
])
def test_delimited(pattern, expected, values):
    p = compile_pattern(pattern)
    assert p.matches(LINE) is expected
    got = p.extract(LINE)
    assert got.matched is expected
    if values is not None:
        assert got.extracted_values == values


def test_delimited_numeric_condition_on_text_is_false():
    assert not compile_pattern("[a > 5]").matches("abc")
    assert compile_pattern("[a != 5]").matches("abc")


# ----------------------------------------------------------------------------- extract
def test_metric_values():
    j = compile_pattern("{ $.latency = * }")
    assert j.extract('{"latency":50}', "$.latency").metric_value == 50.0
    assert j.extract('{"latency":50}').metric_value == 1.0
    assert j.extract('{"latency":50}', "1.5").metric_value == 1.5
    assert j.extract('{"latency":"50"}', "$.latency").metric_value == 50.0
    none = j.extract('{"latency":"fast"}', "$.latency")
    assert none.matched and none.metric_value is None  # D-> OQ-22: matched, no datapoint
    assert j.extract('{"other":1}', "$.latency") == type(none)(False)
    d = compile_pattern("[ip, user, status, size]")
    assert d.extract("1.2.3.4 bob 200 512", "$size").metric_value == 512.0
    assert d.extract("1.2.3.4 bob 200 512", "$3").metric_value is None  # $3 is named ($status)
    assert compile_pattern("[..., size]").extract("a b 7", "$2").metric_value is None  # "b"
    assert compile_pattern("[..., size]").extract("a 9 7", "$2").metric_value == 9.0


# ----------------------------------------------------------------------------- rendering
ROUND_TRIP = [
    ('{$.eventName=GetObject}', '{ $.eventName = "GetObject" }'),
    ('{ ($.a = 1) && (($.b = x) || ($.c NOT EXISTS)) }', '{ $.a = 1 && ($.b = "x" || $.c NOT EXISTS) }'),
    ('{ $.a = 1 || $.b = 2 && $.c = 3 }', '{ $.a = 1 || ($.b = 2 && $.c = 3) }'),
    ("{ $.a[0][1].b = 1e+3 }", "{ $.a[0][1].b = 1e+3 }"),
    ("{ $.['k.x'] IS NULL && $.* = %^a% && $.b[*] IS TRUE }", "{ $.['k.x'] IS NULL && $.* = %^a% && $.b[*] IS TRUE }"),
    ('{ $.a = "q\\"uote\\\\" }', '{ $.a = "q\\"uote\\\\" }'),
    ("{}", "{}"),
    ("  ERROR   -WARN ?x  ", "ERROR -WARN ?x"),
    ('"a b" %re%', '"a b" %re%'),
    ("[ip, ..., status = 4* || status = 5*, size > 10,]", '[ip, ..., status = "4*" || status = "5*", size > 10,]'),
    ("[]", "[]"),
    ("", ""),
]


@pytest.mark.parametrize("text,canonical", ROUND_TRIP)
def test_render(text, canonical):
    p = compile_pattern(text)
    assert str(p) == canonical
    assert compile_pattern(canonical).ast == p.ast


# ----------------------------------------------------------------------------- explain, cache
def test_explain_shows_values_and_the_missing_field_rule():
    p = compile_pattern('{ $.eventName = "GetObject" && ($.vpcEndpointId != "vpce-1") }')
    ex = p.explain({"eventName": "GetObject"})
    assert ex.result is False
    text = str(ex)
    assert '$.eventName = "GetObject"   saw: "GetObject"' in text
    assert "saw: missing" in text and "NOT EXISTS" in text
    rows = ex.to_records()
    assert [r["result"] for r in rows] == [False, False, True, False]
    assert compile_pattern("{ $.a = 1 }").explain("nope").seen == ("not a JSON object",)
    assert "ignored" in str(compile_pattern("?a b").explain("b"))


def test_compiled_patterns_are_cached_and_hashable():
    a = compile_pattern('{ $.a = "x" }')
    assert compile_pattern('{ $.a = "x" }') is a
    assert compile_pattern('{$.a=x}') == a and hash(compile_pattern('{$.a=x}')) == hash(a)
    assert repr(a) == "FilterPattern('{ $.a = \"x\" }')"


def test_public_api_is_reexported():
    import s3audit

    assert s3audit.compile_pattern is compile_pattern
    assert issubclass(s3audit.PatternError, ValueError)
    assert s3audit.FilterPattern is type(compile_pattern("x"))


def test_test_metric_filter_response_shape():
    v = [x for x in __import__("tests._pattern_support", fromlist=["vectors"]).vectors()
         if x["pattern"] == "[..., size]"][0]
    p = compile_pattern("[..., size]")
    resp = p.test_metric_filter(["a b 1", v["event"], "x"])
    assert [m["eventNumber"] for m in resp["matches"]] == [0, 1, 2]  # "x" matches too: ... may be empty
    assert resp["matches"][1]["extractedValues"] == v["extracted"]
    assert p.test_metric_filter(["a b 1"], event_number_base=1)["matches"][0]["eventNumber"] == 1
    assert compile_pattern("{ $.a = 1 }").test_metric_filter(['{"a":1}', "{}"]) == {
        "matches": [{"eventNumber": 0, "eventMessage": '{"a":1}', "extractedValues": {}}]}
    for bad in ([], ["x"] * 51, [""]):
        with pytest.raises(ValueError):
            p.test_metric_filter(bad)
