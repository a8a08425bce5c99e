"""Rendering exclusions: NOT(condition) must be the exact complement of the condition.

Property tests with random condition trees over real sample values, evaluated by the real
engine on the samples (whose fields are scalars or absent, so the complement is exact).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from s3audit.design import FilterDesign, PatternQuotaError
from s3audit.exclusions import (
    Absent,
    AllOf,
    AnyOf,
    Equals,
    InCidr,
    Not,
    Present,
    RenderContext,
    condition_from_dict,
    condition_to_dict,
    render,
)
from s3audit.loader import load_events
from s3audit.paths import SAMPLES_DIR
from s3audit.pattern import compile_pattern
from s3audit.sources import SOURCES, classify


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return classify(load_events(SAMPLES_DIR / "events.jsonl.gz"))


def _values(events: pd.DataFrame, column: str, n: int = 3) -> list[str]:
    return [str(v) for v in events[column].dropna().astype(str).value_counts().index[:n]]


def atoms(events: pd.DataFrame) -> list:
    out: list = []
    out += [Equals("vpcEndpointId", v) for v in _values(events, "vpcEndpointId")]
    out += [Equals("sourceIPAddress", v) for v in _values(events, "sourceIPAddress")]
    out += [Equals("userAgent", "[aws-cli/*"), Equals("userAgent", "*exec-env/AWS_Lambda_*"),
            Equals("userIdentity.arn", "*/SageMaker"), Equals("userIdentity.type", "AWSService"),
            Equals("additionalEventData.AuthenticationMethod", "QueryString"),
            InCidr("sourceIPAddress", "198.51.100.0/24"), InCidr("sourceIPAddress", "198.51.100.0/26"),
            InCidr("sourceIPAddress", "203.0.112.0/23"),
            Present("vpcEndpointId"), Absent("vpcEndpointId"),
            Present("userIdentity.invokedBy"), Absent("userIdentity.sessionContext.ec2RoleDelivery")]
    return out


def trees(leaves: list) -> st.SearchStrategy:
    leaf = st.sampled_from(leaves)
    return st.recursive(
        leaf,
        lambda children: st.one_of(
            st.lists(children, min_size=1, max_size=3).map(lambda xs: AllOf(tuple(xs))),
            st.lists(children, min_size=1, max_size=3).map(lambda xs: AnyOf(tuple(xs))),
            children.map(Not),
        ),
        max_leaves=6,
    )


def mask(text: str, events: pd.DataFrame) -> np.ndarray:
    return np.asarray(compile_pattern("{ " + text + " }").mask(events), dtype=bool)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_negation_is_the_exact_complement(events, data):
    condition = data.draw(trees(atoms(events)))
    ctx = RenderContext(required=frozenset({"sourceIPAddress", "eventName"}))
    positive = render(condition, ctx, top=True)
    negative = render(Not(condition), ctx, top=True)
    # a tree may need more regexes than one pattern may hold (the design refuses those)
    assume(positive.count("%") <= 4 and negative.count("%") <= 4)
    assert len(positive) <= 1024 and len(negative) <= 1024
    yes, no = mask(positive, events), mask(negative, events)
    assert (yes ^ no).all(), (positive, negative)
    # joined with another condition by &&, the rendering keeps its meaning (parentheses)
    joined = mask('$.eventName = "GetObject" && ' + negative, events)
    assert (joined == (no & (events["eventName"].astype(str) == "GetObject").to_numpy())).all()
    # and the file form round-trips
    assert condition_from_dict(condition_to_dict(condition)) == condition


def test_repeated_parts_render_once_and_masks_split_over_the_regex_quota(events):
    cidr = InCidr("sourceIPAddress", "198.51.100.0/26")  # a regex
    assert render(AllOf((cidr, cidr, cidr))) == render(cidr)
    assert render(Not(AnyOf((cidr, cidr)))) == render(Not(cidr))
    # three different regexes in one condition: no single pattern can hold them, yet the
    # design still measures the condition (piece by piece) instead of failing
    three = AllOf((AnyOf((cidr, Equals("userAgent", "a"))),
                   AnyOf((InCidr("sourceIPAddress", "198.51.100.0/25"), Equals("userAgent", "b"))),
                   AnyOf((InCidr("sourceIPAddress", "198.51.100.0/27"), Equals("userAgent", "c")))))
    assert render(three).count("%") == 6
    design = FilterDesign(events)
    got = design._mask_of(Not(three))
    pieces = [design._mask_of(Not(p)) for p in three.parts]
    assert (got == np.logical_or.reduce(pieces)).all() and got.any()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(labels=st.sets(st.sampled_from(SOURCES), min_size=1, max_size=6))
def test_any_set_of_sources_gives_a_valid_pattern_or_a_clear_quota_error(events, labels):
    design = FilterDesign(events)
    present = [label for label in sorted(labels) if (events["source"] == label).any()]
    design.exclude_sources(present)
    try:
        pattern = design.pattern
    except PatternQuotaError as exc:
        assert exc.contributions and exc.suggestions and "CloudWatch allows" in str(exc)
        return
    compile_pattern(pattern)
    assert len(pattern) <= 1024
    excluded = events["source"].astype(str).isin(present).to_numpy()
    base, alerts = design.base_mask(), design.alert_mask()
    problems = design.discrepancies()
    # the pattern does what the ticks say, except the rows discrepancies() lists
    differs = (base & ~excluded) != alerts
    assert set(events.index[differs]) == set(problems.index)
