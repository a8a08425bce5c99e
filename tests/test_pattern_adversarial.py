"""Adversarial cases for the filter-pattern engine: each test pins an input that once gave a wrong
answer (per-event ``matches`` against filter-pattern-spec.md, or ``mask`` against ``matches``)."""
from __future__ import annotations

import json

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

import s3audit
from s3audit.pattern import PatternError, compile_pattern
from s3audit.pattern.extract import check_metric_value
from tests._pattern_support import make_frame

_HEAD = {"eventVersion": "1.09", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
         "eventTime": "2026-11-02T10:00:00Z"}


def loaded(bodies: list[str]):
    """A frame from the real loader, one record per JSON member text in ``bodies`` (raw text kept
    exactly as written, so duplicate keys, number spellings and escapes reach the loader)."""
    head = json.dumps(_HEAD)[1:-1]
    raws = ['{%s,"eventID":"id-%d",%s}' % (head, i, b) for i, b in enumerate(bodies)]
    frame = s3audit.load_events(raws, keep="all")
    assert len(frame) == len(raws)
    return frame


def assert_mask_is_matches(pattern: str, frame) -> list[bool]:
    p = compile_pattern(pattern)
    expected = [p.matches(r) for r in frame["raw"]]
    assert p.mask(frame).tolist() == expected, pattern
    return expected


# ----------------------------------------------------------------------------- numbers
@pytest.mark.parametrize("text", ["\u0661", "\uff11", "\u0967", "\U0001d7cf"])  # Arabic-Indic, fullwidth, Devanagari, math bold 1
def test_only_ascii_digits_make_a_numeric_string(text):
    """A string of non-ASCII digits is no number (the pattern grammar's digits are 0-9; Java's
    Double.parseDouble refuses them too): ``= 1`` is false and ``!= 1`` true."""
    event = json.dumps({"a": text})
    assert compile_pattern("{ $.a = 1 }").matches(event) is False
    assert compile_pattern("{ $.a != 1 }").matches(event) is True
    assert compile_pattern("{ $.a > 0 }").matches(event) is False
    assert compile_pattern("[f = 1]").matches(text) is False
    assert compile_pattern("[f != 1]").matches(text) is True
    with pytest.raises(PatternError):
        check_metric_value(text, "json")
    frame = make_frame([event, json.dumps({"a": "1"})])
    assert assert_mask_is_matches("{ $.a = 1 }", frame) == [False, True]


def test_ascii_numeric_strings_still_compare_as_numbers():
    p = compile_pattern("{ $.a = 10 }")
    assert [p.matches(json.dumps({"a": s})) for s in ("10", "+10", "1e1", "10.0", "010")] == [True] * 5


# ----------------------------------------------------------------------------- mask: missing vs container
@pytest.mark.parametrize("pattern", ["{ $.a NOT EXISTS }", "{ $.a IS NULL }", "{ $.a.b NOT EXISTS }",
                                     "{ $.a NOT EXISTS && $.eventName = GetObject }"])
def test_mask_a_dotted_key_is_no_container(pattern):
    """``{"a.b": 2}`` fills the column ``a.b`` but has no key ``a``: ``$.a NOT EXISTS`` is true.
    The mask took any ``a.*`` value as proof that ``a`` holds a container."""
    frame = loaded(['"a.b":2', '"a":{"b":1}', '"a":null', '"c":1', '"a":{"b":1},"a.b":3', '"a.b":null'])
    got = assert_mask_is_matches(pattern, frame)
    if pattern == "{ $.a NOT EXISTS }":
        assert got == [True, False, False, True, False, True]


# ----------------------------------------------------------------------------- mask: number precision
BIG = ['"a":9007199254740993', '"a":9007199254740992', '"a":12345678901234567890', '"a":-9223372036854775809',
       '"a":1', '"a":1e300', '"a":123456789012345678901234567890']


@pytest.mark.parametrize("pattern", [
    "{ $.a = 9007199254740992 }", "{ $.a = 9007199254740993.0 }", "{ $.a = 9007199254740992.0 }",
    "{ $.a != 9007199254740992 }", "{ $.a > 9007199254740992 }", "{ $.a >= 9007199254740993 }",
    "{ $.a = 12345678901234567890 }", "{ $.a < 12345678901234567890 }", "{ $.a = 12345678901234567168 }",
    "{ $.a = 123456789012345678901234567890 }", "{ $.a < -9223372036854775808 }", "{ $.a = 1e300 }",
])
@pytest.mark.parametrize("rows", [BIG, BIG[:2] + BIG[4:5], BIG[2:3] + BIG[4:5]], ids=["mixed", "int64", "float"])
def test_mask_compares_big_numbers_as_matches_does(pattern, rows):
    """Integers beyond 2**53 lose digits in a float column (or in the text of a mixed column), and
    int64 against a float literal is compared in floats: the column cannot decide, raw does."""
    frame = loaded(rows)
    assert_mask_is_matches(pattern, frame)
    assert_mask_is_matches(pattern, make_frame(list(frame["raw"])))


def test_mask_int64_minimum_against_a_float_literal():
    frame = loaded(['"a":-9223372036854775808', '"a":-9223372036854775807', '"a":3'])
    assert str(frame["a"].dtype) == "Int64"
    for pattern in ("{ $.a = -9223372036854775807.0 }", "{ $.a < -9223372036854775807.5 }",
                    "{ $.a != -9223372036854775808.0 }"):
        assert_mask_is_matches(pattern, frame)


# ----------------------------------------------------------------------------- error carets
def _caret_column(pattern: str) -> tuple[str, int, PatternError]:
    with pytest.raises(PatternError) as info:
        compile_pattern(pattern)
    text_line, caret_line = str(info.value).splitlines()[1:3]
    return text_line, caret_line.index("^"), info.value


# (prefix, columns it takes beyond one per code point): each CJK/fullwidth character one more,
# each combining accent one less
@pytest.mark.parametrize("prefix, extra", [('{ $.a = "日本語" && $.b = ', 3), ('{ $.a = "e\u0301te\u0301" && $.b = ', -2),
                                           ('{ $.a = "x" && $.b = ', 0), ('{ $.a = "\uff21\uff22" && $.b = ', 2)])
def test_caret_sits_under_the_fault_with_wide_and_combining_characters(prefix, extra):
    """The caret line is drawn in terminal columns: a wide (CJK, fullwidth) character takes two, a
    combining accent none. It was drawn in code points, so it drifted off the fault."""
    text_line, col, exc = _caret_column(prefix + "ü }")
    assert exc.position == len(prefix)
    assert col == text_line.index("ü") + extra
    assert text_line[: text_line.index("ü")].endswith(prefix[-5:])


def test_caret_in_a_windowed_long_pattern_with_wide_characters():
    prefix = '{ $.a = "x" && $.b = "' + "日" * 80 + '" && $.c = '
    text_line, col, exc = _caret_column(prefix + "ü }")
    assert text_line.lstrip().startswith("...")
    shown = text_line[: text_line.index("ü")]
    assert col == len(shown) + shown.count("日")  # each 日 takes two columns


# ----------------------------------------------------------------------------- rendering near the length limit
def _fill(part, sep: str, head: str = "", tail: str = "") -> str:
    """``head + sep.join(part(i) for i in range(n)) + tail`` with the largest n that fits 1,024 characters."""
    parts: list[str] = []
    while len(head + sep.join(parts + [part(len(parts))]) + tail) <= 1024:
        parts.append(part(len(parts)))
    return head + sep.join(parts) + tail


@pytest.mark.parametrize("source", [
    _fill(lambda i: f"($.a{i}=x{i}||$.b!=-{i})" if i % 3 == 0 else f"$.k{i}=v{i}", "&&", "{", "}"),
    _fill(lambda i: f"$.a{i}=%^x{i}%" if i < 2 else f"$.a{i} IS NULL", "||", "{", "}"),
    _fill(lambda i: f"f{i}=x*", ",", "[", "]"),
    _fill(lambda i: f"?t{i}", "  "),
    _fill(lambda i: f"$.['k.{i}']=\"a\\\"b\"", "&&", "{", "}"),
    _fill(lambda i: f"(($.a{i}=1))", "&&", "{", "}"),
])
def test_rendering_a_pattern_near_1024_characters_still_compiles(source):
    """``str(p)`` must compile to the same pattern; the canonical form adds spaces and quotes, so a
    valid pattern close to the limit rendered to more than 1,024 characters (a PatternError)."""
    assert len(source) <= 1024
    p = compile_pattern(source)
    text = str(p)
    assert len(text) <= 1024
    assert compile_pattern(text).ast == p.ast
    assert str(compile_pattern(text)) == text  # still a normal form


def test_short_patterns_keep_the_spaced_canonical_form():
    assert str(compile_pattern("{$.a=x&&($.b=1||$.c NOT EXISTS)}")) == '{ $.a = "x" && ($.b = 1 || $.c NOT EXISTS) }'


_TERSE = ["$.a=x", "$.b!=-1", "$.c>=1e3", "$.d=%^q%", "$.e IS NULL", "$.f NOT EXISTS", "$.g=\"a b\"", "$.h=*x*",
          "$.['i.j']=\"1\"", "$.k[0]=k", "$.l IS TRUE", "$.m=\"...\"", "$.n=\"\\\\\""]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_TERSE), st.sampled_from(["&&", "||"]), st.booleans()),
                min_size=1, max_size=200))
def test_any_terse_pattern_renders_to_text_that_compiles_the_same(parts):
    body = ""
    for cond, op, paren in parts:
        piece = f"({cond})" if paren else cond
        nxt = f"{body}{op}{piece}" if body else piece
        if len(nxt) + 2 > 1024 or nxt.count("%") > 4:
            break
        body = nxt
    p = compile_pattern("{" + body + "}")
    text = str(p)
    assert len(text) <= 1024
    assert compile_pattern(text).ast == p.ast


# ----------------------------------------------------------------------------- mask: escaped key names
_ESCAPED = ['"additionalEventData":{"bytesTransferred\\u004fut":"x"}', '"additionalEventData":{"bytesTransferredOut":5}',
            '"additionalEventData":{"bytesTransferred\\u004fut":"007"}', '"readOnly":"true"', '"read\\u004fnly":"yes"',
            '"readOnly":true', '"read\\u004fnly":"1"', '"read\\u004fnly":"false"', '"requestParameters":{"a\\/b":"x"}',
            '"requestParameters":{"a/b":1}', '"requestParameters":{"a\\/b":"007"}', '"requestParameters":{"bucketName":"b"}']


@pytest.mark.parametrize("pattern", [
    "{ $.additionalEventData.bytesTransferredOut != 5 }", "{ $.additionalEventData.bytesTransferredOut = * }",
    "{ $.readOnly IS TRUE }", "{ $.readOnly IS FALSE }", '{ $.readOnly = "yes" }', '{ $.readOnly != "x" }',
    "{ $.requestParameters.a/b = 7 }".replace("a/b", "['a/b']"), "{ $.requestParameters.['a/b'] != 1 }",
])
def test_mask_sees_key_names_written_with_escapes(pattern):
    """The loader coerces contract columns ("yes" -> True, "x" -> NA in a number column); the mask
    looks for the key in raw to find such rows, and missed keys spelled with escapes
    (``"read\\u004fnly"``, ``"a\\/b"``), trusting the coerced value."""
    assert_mask_is_matches(pattern, loaded(_ESCAPED))


@pytest.mark.parametrize("pattern", ["{ $.readOnly NOT EXISTS }", "{ $.readOnly IS NULL }",
                                     "{ $.additionalEventData.bytesTransferredOut NOT EXISTS }",
                                     "{ $.readOnly NOT EXISTS || $.readOnly IS FALSE }"])
def test_mask_a_value_the_loader_coerced_to_na_exists(pattern):
    """A contract column's value that cannot take the column's type is NA (df.attrs["coerced"]), yet
    the key exists: ``{"readOnly": 5}`` does not match ``$.readOnly NOT EXISTS``."""
    frame = loaded(['"readOnly":5', '"readOnly":"x"', '"readOnly":true', '"a":1', '"readOnly":null',
                    '"additionalEventData":{"bytesTransferredOut":"x"}', '"additionalEventData":{}',
                    '"read\\u004fnly":"x"'])
    assert frame.attrs.get("coerced")
    got = assert_mask_is_matches(pattern, frame)
    if pattern == "{ $.readOnly NOT EXISTS }":
        assert got == [False, False, False, True, False, True, True, False]


# ----------------------------------------------------------------------------- mask: lone surrogates
@pytest.mark.parametrize("pattern", ['{ $.a = "\ufffd" }', '{ $.a = "*\ufffd" }', '{ $.a != "\ufffd" }',
                                     '{ $.userAgent = "\ufffd" }', "{ $.['b\ufffd'] = 1 }",
                                     "{ $.['b\ufffd'] NOT EXISTS }", '{ $.a = %^x.$% }'])
def test_mask_lone_surrogate_escapes_are_not_the_replacement_character(pattern):
    """``"\\ud800"`` decodes to a lone surrogate, which is not U+FFFD; the loader repairs it to U+FFFD
    in its columns (Arrow needs valid UTF-8), so those values (and key names) are decided on raw."""
    frame = loaded(['"a":"\\ud800"', '"a":"x\\udfff"', '"a":"\ufffd"', '"a":"ok"', '"userAgent":"\\ud800"',
                    '"userAgent":"\ufffd"', '"b\\ud800":"1"', '"b\ufffd":"1"'])
    assert_mask_is_matches(pattern, frame)
    assert compile_pattern('{ $.a = "\ufffd" }').matches('{"a":"\\ud800"}') is False


# ----------------------------------------------------------------------------- numbers with many digits
_LONG = "1" * 5000  # past Python's 4,300-digit limit for int(str)


@pytest.mark.parametrize("pattern, event, expected", [
    ("{ $.a = 1 }", '{"a":"%s"}' % _LONG, False),
    ("{ $.a != 1 }", '{"a":"%s"}' % _LONG, True),
    ("{ $.a > 1 }", '{"a":"%s"}' % _LONG, True),
    ("{ $.a < 0 }", '{"a":"-%s"}' % _LONG, True),
    ("{ $.b = 1 }", '{"b":1,"a":%s}' % _LONG, True),
    ("{ $.a > 1e300 }", '{"a":%s}' % _LONG, True),
    ("{ $.a = \"1*\" }", '{"a":%s}' % _LONG, True),
    ("[x, f > 1]", "x " + _LONG, True),
    ("[x, f = 1]", "x " + _LONG, False),
])
def test_numbers_with_thousands_of_digits(pattern, event, expected):
    """int() refuses more than 4,300 digits (ValueError): matches() raised on such a string value
    and treated an event with such a JSON number anywhere as not JSON."""
    p = compile_pattern(pattern)
    assert p.matches(event) is expected
    assert p.extract(event).matched is expected
    if pattern.startswith("{"):
        assert p.mask(make_frame([event, '{"a":"1","b":1}'])).tolist()[0] is expected


@pytest.mark.parametrize("pattern", ["{ $.a > 5 }", "{ $.a = 1 }", "{ $.a != 5 }", "{ $.a < 0 }", '{ $.a = "Infinity" }'])
def test_mask_a_number_the_loader_wrote_as_infinity(pattern):
    """The loader writes a JSON number too big for a float as the text "Infinity" in a mixed
    column; the mask took it for the string "Infinity" (not a number)."""
    frame = loaded(['"a":' + _LONG, '"a":"x"', '"a":"Infinity"', '"a":-' + _LONG, '"a":' + "9" * 400])
    assert_mask_is_matches(pattern, frame)


# ----------------------------------------------------------------------------- property: mask == matches on odd raw text
_KEYS = ["readOnly", "vpcEndpointId", "sourceIPAddress", "a", "a.b", "additionalEventData", "bytesTransferredOut",
         "userIdentity", "type", "x/y", "eventName", ""]
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3000), st.sampled_from([2**53 + 1, 1e20, 0.5, -0.0]),
    st.sampled_from(["x", "1", "1000", "true", "false", "yes", "1.5", "", "vpce-1", "vpce-2", "1.2.3.4", "GetObject",
                     "null", "01", "1e3", " 5", "\u0661", "\ufffd", "Infinity"]))
_VALUES = st.recursive(_SCALARS, lambda kids: st.one_of(st.lists(kids, max_size=2),
                                                        st.dictionaries(st.sampled_from(_KEYS), kids, max_size=3)),
                       max_leaves=5)
_SELECTORS = ["$.readOnly", "$.vpcEndpointId", "$.sourceIPAddress", "$.a", "$.['a.b']", "$.a.b",
              "$.additionalEventData.bytesTransferredOut", "$.userIdentity.type", "$.['x/y']", "$.eventName",
              "$.a.readOnly", "$.additionalEventData", "$.a[0]", "$.a[*]"]
_LITERALS = ['"x"', "1", "1000", '"1000"', '"*"', '"vpce-1"', '"vpce-*"', "%^vpce%", '"true"', '"yes"', '"1.2.3.*"',
             "0.5", '"01"', '"GetObject"', "9007199254740992", "-0", '""', "1e3", '"\ufffd"']


@st.composite
def _conditions(draw):
    sel = draw(st.sampled_from(_SELECTORS))
    kind = draw(st.sampled_from(["cmp", "cmp", "cmp", "IS NULL", "IS TRUE", "IS FALSE", "NOT EXISTS"]))
    if kind != "cmp":
        return f"{sel} {kind}"
    lit = draw(st.sampled_from(_LITERALS))
    ops = ["=", "!="] + (["<", "<=", ">", ">="] if lit[0] in "-0123456789" else [])
    return f"{sel} {draw(st.sampled_from(ops))} {lit}"


_BODIES = st.recursive(_conditions(), lambda kids: st.tuples(st.lists(kids, min_size=2, max_size=3),
                                                             st.sampled_from(["&&", "||"])).map(
    lambda t: "(" + f" {t[1]} ".join(t[0]) + ")"), max_leaves=4)


def _emit(value, draw) -> str:
    """JSON text with the liberties real producers take: escaped key characters, blanks around ':',
    a key given twice (the last one counts), \\u escapes in strings."""
    if isinstance(value, dict):
        parts = []
        for k, v in value.items():
            key = json.dumps(k)
            if k and draw(st.integers(0, 4)) == 0:
                i = draw(st.integers(0, len(k) - 1))
                key = '"' + json.dumps(k[:i])[1:-1] + "\\u%04x" % ord(k[i]) + json.dumps(k[i + 1:])[1:-1] + '"'
            if draw(st.integers(0, 9)) == 0:
                parts.append(key + ":" + draw(st.sampled_from(["null", '"dup"', "7", "true", "{}"])))
            blank = draw(st.sampled_from(["", " "]))
            parts.append(key + blank + ":" + blank + _emit(v, draw))
        return "{" + ",".join(parts) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_emit(v, draw) for v in value) + "]"
    return json.dumps(value, ensure_ascii=draw(st.booleans()))


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(_BODIES, st.lists(st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=6), min_size=1, max_size=6),
       st.data())
def test_mask_equals_matches_on_loaded_odd_json(body, records, data):
    pattern = "{ " + body + " }"
    try:
        p = compile_pattern(pattern)
    except PatternError:  # a generated body may break a quota
        return
    head = json.dumps(_HEAD)[1:-1]
    raws = []
    for i, rec in enumerate(records):
        text = _emit(rec, data.draw)
        raws.append("{" + head + ',"eventID":"id-%d"' % i + ("," + text[1:] if text != "{}" else "}"))
    frame = s3audit.load_events(raws, keep="all")
    assert p.mask(frame).tolist() == [p.matches(r) for r in frame["raw"]], pattern


@pytest.mark.parametrize("op", ["=", "!=", "<", "<=", ">", ">="])
@pytest.mark.parametrize("literal", ["1" + "0" * 400, "-1" + "0" * 400, "1" + "0" * 20])
def test_mask_integer_literal_beyond_the_float_range(op, literal):
    """float(10**400) raises OverflowError: mask() crashed on a Float64 column."""
    pattern = f"{{ $.a {op} {literal} }}"
    assert_mask_is_matches(pattern, make_frame(['{"a":1.5}', '{"a":2}', '{"b":1}', '{"a":1e300}', '{"a":-1e300}']))
    assert_mask_is_matches(pattern, loaded(['"a":1.5', '"a":2', '"b":1', '"a":1e300']))
    assert_mask_is_matches(pattern, loaded(['"a":3', '"a":-9223372036854775808', '"b":1']))


@pytest.mark.parametrize("pattern, event, metric_value", [
    ("{ $.a = * }", '{"a":1%s}' % ("0" * 400), "$.a"),
    ("{ $.a = * }", '{"a":"1%s"}' % ("0" * 400), "$.a"),
    ("[x, n]", "x 1" + "0" * 400, "$n"),
])
def test_extract_a_metric_value_beyond_the_float_range_publishes_nothing(pattern, event, metric_value):
    """float(10**400) raised OverflowError out of extract(); such a value cannot be a datapoint:
    the event counts as matched and no value is published (as for a non-numeric value, D-> OQ-22)."""
    got = compile_pattern(pattern).extract(event, metric_value)
    assert got.matched is True
    assert got.metric_value is None
    assert compile_pattern(pattern).extract(event.replace("1" + "0" * 400, "12"), metric_value).metric_value == 12.0
