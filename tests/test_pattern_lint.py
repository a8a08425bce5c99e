"""lint(): the traps users fall into, with counts when events are given."""
from __future__ import annotations

import pytest

from s3audit.pattern import compile_pattern
from tests._pattern_support import make_frame

EVENTS = [
    {"eventName": "GetObject", "vpcEndpointId": "vpce-1", "bytes": 10, "flag": True},
    {"eventName": "GetObject", "bytes": 20, "flag": "true"},
    {"eventName": "PutObject", "vpcEndpointId": "vpce-2", "bytes": "30"},
    {"eventName": "GetObject", "nullable": None},
]


def codes(pattern, events=None):
    return [w.code for w in compile_pattern(pattern).lint(events)]


def test_ne_on_a_field_that_can_be_absent():
    p = compile_pattern('{ $.eventName = "GetObject" && $.vpcEndpointId != "vpce-1" }')
    [w] = p.lint()
    assert w.code == "ne-missing" and w.count is None
    assert w.suggestion == '{ $.eventName = "GetObject" && ($.vpcEndpointId NOT EXISTS || $.vpcEndpointId != "vpce-1") }'
    # the suggestion is a valid pattern that matches the events the original misses
    fixed = compile_pattern(w.suggestion)
    assert fixed.matches({"eventName": "GetObject"}) and not p.matches({"eventName": "GetObject"})
    for events in (EVENTS, make_frame(EVENTS)):
        [w] = p.lint(events)
        assert (w.count, w.total) == (2, 4)
        assert "(2 of 4 events)" in str(w)


def test_guarded_ne_and_fields_always_present_are_quiet():
    assert codes('{ $.vpcEndpointId NOT EXISTS || $.vpcEndpointId != "vpce-1" }') == []
    assert codes('{ ($.vpcEndpointId NOT EXISTS || ($.vpcEndpointId != "a" && $.vpcEndpointId != "b")) }') == []
    assert codes('{ $.eventName != "GetObject" }', EVENTS) == []  # present in every event given


def test_ordering_on_a_field_absent_in_events():
    ws = compile_pattern("{ $.bytes > 5 }").lint(EVENTS)
    assert [w.code for w in ws] == ["ne-missing", "number-string"]
    assert (ws[0].count, ws[0].total) == (1, 4)
    assert codes("{ $.bytes > 5 }") == []  # without events: ordering alone is not flagged


def test_boolean_and_null_literals():
    assert codes("{ $.flag = true }") == ["bool-literal"]
    assert codes('{ $.flag = "false" }') == ["bool-literal"]
    [w] = compile_pattern("{ $.x = null }").lint()
    assert w.suggestion == "$.x IS NULL"
    assert codes("{ $.flag IS TRUE }", EVENTS) == ["number-string"]  # "true" as a string in one event


def test_mid_wildcard_and_number_string_mixups():
    assert codes("{ $.k = a*b }") == ["mid-wildcard"]
    assert codes("{ $.k = *ab* }") == []
    assert codes('{ $.bytes = "10" }', EVENTS) == ["number-string"]
    assert codes("{ $.eventName = 5 }", EVENTS) == ["number-string"]


def test_precedence_empty_phrase_ignored_terms_and_match_all():
    assert codes("{ $.a = 1 || $.b = 2 && $.c = 3 }") == ["precedence"]
    assert codes("{ $.a = 1 || ($.b = 2 && $.c = 3) }") == []
    assert codes('ERROR ""') == ["empty-phrase"]
    assert codes("?ERROR WARN") == ["ignored-terms"]
    assert codes("") == ["match-all"]
    assert codes("{}") == ["match-all"]


def test_is_null_on_absent_fields_and_wildcard_ne():
    [w] = compile_pattern("{ $.nullable IS NULL }").lint(EVENTS)
    assert w.code == "is-null-missing" and w.count == 3
    assert codes('{ $.list[*] != "x" }') == ["wildcard-ne"]


def test_quotas():
    long = "{ " + " || ".join(f'$.eventName = "Name{i:03d}"' for i in range(36)) + " }"
    assert 921 < len(long) <= 1024
    assert "quota-length" in codes(long)
    assert "quota-regex" in codes("{ $.a = %x% && $.b = %y% }")
    assert "quota-wildcard" in codes("{ $.a[*] = 1 && $.b[*] = 1 && $.c.* = 1 }")


@pytest.mark.parametrize("pattern", ['{ $.a = "x" }', "ERROR", "[a, b]", '{ $.a = 1 && $.b IS TRUE }'])
def test_clean_patterns_have_no_warnings(pattern):
    assert compile_pattern(pattern).lint() == []
