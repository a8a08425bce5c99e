"""PatternError: a ValueError with .pattern/.position, a caret under the fault and a useful hint."""
from __future__ import annotations

import pickle

import pytest

from s3audit.pattern import PatternError, compile_pattern

CASES = [
    # (pattern, position, words the message must contain)
    ("{ $.a IS NOT NULL }", 6, ["IS NOT is not supported", "NOT EXISTS", "!="]),
    ("{ $.a EXISTS }", 6, ["EXISTS is not supported", "= *"]),
    ("{ $.a is null }", 6, ["upper case", "IS"]),
    ("{ $.a IS null }", 9, ["upper case", "NULL"]),
    ("{ $.a not exists }", 6, ["upper case", "NOT"]),
    ("{ $.a == 1 }", 6, ["'==' is not an operator", "use ="]),
    ("{ $.a = 1 & $.b = 2 }", 10, ["&&"]),
    ("{ $.a = 1 | $.b = 2 }", 10, ["||"]),
    ("{ $.a ! 1 }", 6, ["!="]),
    ("{ $.a <> 1 }", 6, ["not an operator"]),
    ("{ $.a = }", 8, ["expected a value"]),
    ("{ $.a }", 6, ["expected an operator"]),
    ("{ $.a = 1 ", 8, ["must end with '}'"]),
    ('{$.kubernetes.namespace_name="abc"', 33, ["If a filter pattern starts with '{' it must end with '}'"]),
    ("[a, b", 4, ["must end with ']'"]),
    ("{ ($.a = 1 }", 11, ["closing ')'"]),
    ("{ $.a = 1) }", 9, ["closing '}'"]),
    ("{ () }", 3, ["condition inside ( )"]),
    ("{ $.a = 1 && }", 13, ["expected a condition"]),
    ("{ $ = 1 }", 3, ["'.' or '['", "$.eventName"]),
    ("{ $. = 1 }", 4, ["field name"]),
    ("{ $.a[x] = 1 }", 6, ["array index"]),
    ("{ $.a['b'] = 1 }", 5, [".['key']"]),
    ("{ $.a = 'x' }", 8, ["single quotes", '"']),
    ('{ $.a = "x }', 8, ["unterminated", '"']),
    ('{ $.a = "a\\nb" }', 10, ['only \\"']),
    ("{ $.a = x:y }", 9, ["double quotes"]),
    ("{ $.a = \u201cx\u201d }", 8, ["typographic quote"]),
    ("{ $.a > \"5\" }", 8, ["compares numbers only"]),
    ("{ $.a < %x% }", 8, ["compares numbers only"]),
    ("{ $.a = %x }", 8, ["unterminated regex"]),
    ("{ $.a = %a(b)% }", 10, ["parentheses", "\\x28"]),
    ("%\\(foo\\)%", 2, ["parentheses", "even escaped"]),
    ("%something!%", 10, ["'!' is not allowed in a regex"]),
    ("%a\\bc%", 2, ["unsupported regex escape"]),
    ("%\\xZZ%", 1, ["two hex digits"]),
    ("%[%", 1, ["invalid regex"]),
    ("%%", 0, ["empty regex"]),
    ("{ $.a = %x% && $.b = %y% && $.c = %z% }", 34, ["at most 2 regular expressions"]),
    ("%a% %b% %c%", 8, ["at most 2 regular expressions"]),
    ("{ $.a[*].b[*] = 1 }", 2, ["at most one wildcard"]),
    ("{ $.a[*] = 1 && $.b[*] = 1 && $.c[*] = 1 && $.d.* = 1 }", 44, ["at most 3 wildcard selectors"]),
    ("foo@bar", 3, ["double quotes"]),
    ("ERROR:", 5, ["double quotes"]),
    ("- ERROR", 0, ["followed by a term"]),
    ('"a"b', 3, ["space between terms"]),
    ("a {b}", 2, ["may only start a pattern"]),
    ("[a, b = 4* && c > 1]", 14, ["every condition in this slot must be on 'b'"]),
    ("[a, ..., ...]", 9, ["only once"]),
    ("[a, a]", 4, ["used twice"]),
    ("[a || a = 1]", 1, ["without a condition"]),
    ("[= 1]", 1, ["field name"]),
    ("{ $.a = 1 } x", 12, ["must end with '}'"]),
]


@pytest.mark.parametrize("text,position,words", CASES, ids=[c[0] for c in CASES])
def test_error_position_and_message(text, position, words):
    with pytest.raises(PatternError) as info:
        compile_pattern(text)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.pattern == text
    assert err.position == position, str(err)
    assert 0 <= err.position <= len(text)
    message = str(err)
    for w in words:
        assert w in message, message


def test_caret_sits_under_the_fault():
    with pytest.raises(PatternError) as info:
        compile_pattern("{ $.a IS NOT NULL }")
    lines = str(info.value).splitlines()
    assert lines[0].startswith("IS NOT is not supported: use NOT EXISTS")
    assert lines[1] == "  { $.a IS NOT NULL }"
    assert lines[2] == "        ^^^^^^"  # under "IS NOT"
    assert lines[1][lines[2].index("^")] == "I"


def test_caret_for_end_of_pattern():
    with pytest.raises(PatternError) as info:
        compile_pattern("{ $.a = }")
    pattern_line, caret_line = str(info.value).splitlines()[1:]
    assert pattern_line[caret_line.index("^")] == "}"


def test_long_pattern_is_windowed_around_the_fault():
    text = "{ " + " || ".join(f'$.eventName = "Name{i}"' for i in range(30)) + " && $.x IS NOT NULL }"
    with pytest.raises(PatternError) as info:
        compile_pattern(text)
    pattern_line, caret_line = str(info.value).splitlines()[1:]
    col = caret_line.index("^")
    assert pattern_line[col : col + 6] == "IS NOT"
    assert len(pattern_line) < 120


def test_too_long_pattern():
    text = "{ " + " || ".join(f'$.eventName = "N{i:04d}"' for i in range(60)) + " }"
    assert len(text) > 1024
    with pytest.raises(PatternError) as info:
        compile_pattern(text)
    assert "1024" in str(info.value)
    assert info.value.position == 1024
    # exactly 1024 characters is fine
    compile_pattern(text[:1021].rsplit("||", 1)[0] + "}")


def test_deep_nesting_is_bounded():
    ok = "{" + "(" * 100 + "$.a = 1" + ")" * 100 + "}"
    assert compile_pattern(ok).matches({"a": 1})
    alternating = "{ " + "($.a=1&&($.b=2||" * 40 + "$.c=3" + "))" * 40 + " }"
    assert compile_pattern(alternating).matches({"a": 1, "b": 2})
    with pytest.raises(PatternError) as info:
        compile_pattern("{" + "(" * 101 + "$.a = 1" + ")" * 101 + "}")
    assert info.value.position == 101 and "nest" in info.value.reason


def test_not_a_string():
    with pytest.raises(PatternError):
        compile_pattern(None)  # type: ignore[arg-type]
    with pytest.raises(PatternError):
        compile_pattern(b"{ $.a = 1 }")  # type: ignore[arg-type]


def test_error_pickles_with_its_data():
    with pytest.raises(PatternError) as info:
        compile_pattern("{ $.a == 1 }")
    again = pickle.loads(pickle.dumps(info.value))
    assert (again.pattern, again.position, again.reason) == (info.value.pattern, 6, info.value.reason)


def test_invalid_metric_value():
    p = compile_pattern("{ $.a = 1 }")
    for bad in ("abc", "$name", "$.a[*]", "1" * 101):
        with pytest.raises(PatternError):
            p.extract({"a": 1}, bad)
    with pytest.raises(PatternError):
        compile_pattern("ERROR").extract("ERROR", "$.a")
    with pytest.raises(PatternError):
        compile_pattern("[a, b]").extract("x y", "$.a")
