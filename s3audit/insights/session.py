"""Argument checks and the boto3 client: a client wins over a session, which wins over the default."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)

MAX_LOG_GROUPS = 50


def normalize_log_groups(log_groups: str | Sequence[str]) -> list[str]:
    """Names/ARNs as a de-duplicated list (1..50); a trailing ``:*`` on an ARN is removed
    (DescribeLogGroups' ``arn`` carries it, StartQuery rejects it)."""
    if isinstance(log_groups, str):
        log_groups = [log_groups]
    out: list[str] = []
    for g in log_groups:
        if not isinstance(g, str) or not g.strip():
            raise ValueError(f"log group names must be non-empty strings, got {g!r}")
        g = g.strip()
        if g.startswith("arn:") and g.endswith(":*"):
            g = g[:-2]
        if g not in out:
            out.append(g)
    if not out:
        raise ValueError("give at least one log group")
    if len(out) > MAX_LOG_GROUPS:
        raise ValueError(f"Logs Insights queries at most {MAX_LOG_GROUPS} log groups at once, got {len(out)}")
    return out


def check_where(where: str | None) -> str | None:
    """The ``where`` clause without a leading ``filter``; a ``|`` outside quotes/regex (which would
    smuggle in another command) is rejected."""
    if where is None:
        return None
    text = where.strip()
    if text.lower().startswith("filter "):
        text = text[7:].strip()
    if not text:
        return None
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            if ch == "\\":
                continue
            if ch == quote and text[i - 1] != "\\":
                quote = ""
        elif ch in "\"'`":
            quote = ch
        elif ch == "/" and text[:i].rstrip().lower().endswith(("like", "=~")):
            quote = "/"
        elif ch == "|":
            raise ValueError(f"where must be one filter expression, without '|': {where!r}")
    if quote:
        raise ValueError(f"unterminated {quote} in where: {where!r}")
    return text


def logs_client(client: Any, session: Any, max_concurrency: int) -> Any:
    """``client`` if given, else a ``logs`` client from ``session`` or the default session, with a
    connection pool large enough for ``max_concurrency`` threads."""
    if client is not None:
        return client
    import boto3
    from botocore.config import Config

    config = Config(max_pool_connections=max_concurrency + 4, retries={"mode": "standard", "max_attempts": 3})
    if session is not None:
        return session.client("logs", config=config)
    return boto3.client("logs", config=config)


def missing_log_groups(client: Any, groups: Sequence[str]) -> list[str]:
    """Which of ``groups`` DescribeLogGroups does not know (empty if that call fails)."""
    from botocore.exceptions import BotoCoreError, ClientError

    missing = []
    try:
        for g in groups:
            name = g.split(":log-group:", 1)[-1]
            resp = client.describe_log_groups(logGroupNamePrefix=name, limit=50)
            if not any(x.get("logGroupName") == name for x in resp.get("logGroups", [])):
                missing.append(g)
    except (ClientError, BotoCoreError) as exc:
        log.debug("DescribeLogGroups failed: %s", exc)
        return []
    return missing
