"""Flatten a CloudTrail record the way CloudWatch Logs Insights names its fields.

Rules (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_AnalyzeLogData-discoverable-fields.html):

- nested objects join their keys with dots: ``userIdentity.sessionContext.sessionIssuer.arn``;
- array elements are addressed by index: ``resources.0.ARN``, ``requestParameters.host.0``;
- a top-level key that itself starts with ``@`` is shown with one more ``@`` (``@timestamp`` in a
  Logstash copy becomes ``@@timestamp``), so it never collides with Insights' own system fields;
- empty objects and empty arrays produce no field; ``null`` produces a field holding ``None``.

This module is the careful (pure Python) path of the loader; :mod:`s3audit.loader.fastpath`
produces the same names from Arrow tables.

Examples
--------
>>> flatten_record({"userIdentity": {"type": "IAMUser"}, "resources": [{"ARN": "arn:aws:s3:::b"}]})
{'userIdentity.type': 'IAMUser', 'resources.0.ARN': 'arn:aws:s3:::b'}
>>> flatten_record({"@timestamp": "2020-09-14T01:00:33.000Z"})
{'@@timestamp': '2020-09-14T01:00:33.000Z'}
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def is_position(part: str) -> bool:
    """Whether a part of a flattened name is a list position: ASCII digits only (``"²".isdigit()``
    is true, but no list index is spelled so).

    >>> is_position("10"), is_position("²"), is_position("")
    (True, False, False)
    """
    return part.isascii() and part.isdigit()


def top_level_name(key: str) -> str:
    """The Insights name of a top-level record key (``@x`` -> ``@@x``)."""
    return "@" + key if key.startswith("@") else key


def flatten_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten one record into ``{dotted name: scalar}``.

    Parameters
    ----------
    record : Mapping
        A parsed CloudTrail record.

    Returns
    -------
    dict
        Scalars (str, int, float, bool or None) keyed by their Logs Insights field name.

    Examples
    --------
    >>> flatten_record({"a": {"b": [1, {"c": None}]}, "d": {}})
    {'a.b.0': 1, 'a.b.1.c': None}
    """
    out: dict[str, Any] = {}
    try:
        for key, value in record.items():
            _flatten_into(top_level_name(str(key)), value, out)
    except RecursionError:  # nested about a thousand levels deep: the same, without recursion
        out = {}
        for key, value in record.items():
            _flatten_deep(top_level_name(str(key)), value, out)
    return out


def _flatten_into(name: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            _flatten_into(f"{name}.{key}", child, out)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _flatten_into(f"{name}.{index}", child, out)
    elif name in out and out[name] is not None and value is None:
        pass  # two spellings of one name (a key with a dot in it): keep the value
    else:
        out[name] = value


def _flatten_deep(name: str, value: Any, out: dict[str, Any]) -> None:
    """:func:`_flatten_into` with an explicit stack (depth first, in document order).

    Only for records nested too deep for recursion. Not the only version on purpose: on the
    sample records it costs ~33 % more per record than the recursive one (32 vs 24 us, measured
    twice: in the session that wrote it and in the review that merged the two, then reverted)."""
    stack: list[tuple[str, Any]] = [(name, value)]
    while stack:
        name, value = stack.pop()
        if isinstance(value, Mapping):
            stack.extend(reversed([(f"{name}.{key}", child) for key, child in value.items()]))
        elif isinstance(value, list):
            stack.extend(reversed([(f"{name}.{index}", child) for index, child in enumerate(value)]))
        elif name in out and out[name] is not None and value is None:
            pass  # two spellings of one name (a key with a dot in it): keep the value
        else:
            out[name] = value


def unflatten_record(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`flatten_record` for records whose keys contain no dots or digits-only keys.

    Numeric path parts become list indices. Used by tests (round trip) and handy for rebuilding a
    record from Insights ``fields`` output.

    Examples
    --------
    >>> unflatten_record({'a.b.0': 1, 'a.b.1.c': None})
    {'a': {'b': [1, {'c': None}]}}
    """
    root: dict[str, Any] = {}
    for name, value in flat.items():
        parts = name.split(".")
        if parts[0].startswith("@@"):
            parts[0] = parts[0][1:]
        node: Any = root
        for part, nxt in zip(parts, parts[1:]):
            child_default: Any = [] if is_position(nxt) else {}
            node = _child(node, part, child_default)
        _set(node, parts[-1], value)
    return root


def _child(node: Any, part: str, default: Any) -> Any:
    if isinstance(node, list):
        index = int(part)
        while len(node) <= index:
            node.append(None)
        if node[index] is None:
            node[index] = default
        return node[index]
    return node.setdefault(part, default)


def _set(node: Any, part: str, value: Any) -> None:
    if isinstance(node, list):
        index = int(part)
        while len(node) <= index:
            node.append(None)
        node[index] = value
    else:
        node[part] = value
