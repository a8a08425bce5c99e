"""User-agent families: which client made the call (aws-cli, Boto3, the S3 console, a browser…).

CloudTrail wraps client user agents of S3 data events in square brackets
(``[aws-cli/2.17.60 …]``); service-made calls carry a bare service name
(``athena.amazonaws.com``) or ``AWS Internal``. Families are decided by the first matching
pattern below, so the S3 console (whose agent also names ``aws-sdk-java``) and the AWS CLI
(whose agent also names ``botocore``) are recognised before the SDKs they are built on.

Examples
--------
>>> ua_family("[aws-cli/2.17.60 md/awscrt#0.21.2 ua/2.0 os/macos#23.6.0]")
'aws-cli'
>>> ua_family("[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750 Linux/5.10]")
'S3 console'
>>> ua_family("[Mozilla/5.0 (Macintosh) AppleWebKit/537.36 Chrome/129.0 Safari/537.36]")
'browser'
"""
from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

# (family, regex on the agent with one pair of surrounding brackets stripped), first match wins
UA_FAMILIES: tuple[tuple[str, str], ...] = (
    ("S3 console", r"^S3Console/"),
    ("Trusted Advisor", r"AWS-Support-TrustedAdvisor"),
    # other AWS console backends (reference §6: "AWSCloudTrail, aws-internal/3 …")
    ("AWS console backend", r"aws-internal/3"),
    ("AWS Internal", r"^AWS Internal"),
    ("aws-service", r"^[a-z0-9.-]+\.amazonaws\.com$"),
    ("Terraform", r"HashiCorp/\S+ Terraform/|^Terraform/"),
    ("aws-cli", r"\baws-cli/"),
    ("awswrangler", r"\bawswrangler/"),
    ("s3fs", r"\bs3fs/|\baiobotocore/"),
    ("Boto3", r"\bBoto3/"),
    ("botocore", r"\bBotocore/|^botocore/"),
    ("aws-sdk-java", r"aws-sdk-java/|^aws-sdk-java|\bAWSSDKJava\b|hadoop-aws|\bEMRFS\b"),
    ("aws-sdk-go-v2", r"aws-sdk-go-v2/"),
    ("aws-sdk-go", r"aws-sdk-go/"),
    ("aws-sdk-js", r"aws-sdk-(?:js|nodejs)/|^aws-sdk-js"),
    ("aws-sdk-dotnet", r"aws-sdk-(?:dotnet|net)"),
    ("aws-sdk-php", r"aws-sdk-php/"),
    ("aws-sdk-ruby", r"aws-sdk-ruby\d?/|aws-sdk-s3/"),
    ("aws-sdk-rust", r"aws-sdk-rust/"),
    ("aws-sdk-cpp", r"aws-sdk-cpp/"),
    ("aws-sdk-swift", r"aws-sdk-swift/"),
    ("aws-sdk-kotlin", r"aws-sdk-kotlin/"),
    ("rclone", r"^rclone/"),
    ("curl", r"^curl/"),
    ("wget", r"^Wget/"),
    ("python-requests", r"^python-requests/"),
    ("Go-http-client", r"^Go-http-client/"),
    ("browser", r"^Mozilla/|^Opera/"),
    ("Java", r"^Java/|^Apache-HttpClient/"),
    ("python", r"^Python-urllib/|^aiohttp/"),
)

EMPTY = "(empty)"
MISSING = "(none)"
OTHER = "other"

_COMPILED = [(name, re.compile(rx)) for name, rx in UA_FAMILIES]


def strip_brackets(agent: str) -> str:
    """Remove one leading ``[`` and one trailing ``]`` (how client agents are logged).

    Examples
    --------
    >>> strip_brackets("[S3Console/0.4, aws-internal/3]")
    'S3Console/0.4, aws-internal/3'
    >>> strip_brackets("athena.amazonaws.com")
    'athena.amazonaws.com'
    """
    if agent.startswith("["):
        agent = agent[1:]
    if agent.endswith("]"):
        agent = agent[:-1]
    # brackets only: whitespace is part of the value a metric filter compares, so "[ S3Console/"
    # does not start with "S3Console/" (reference §1 and §6)
    return agent


def ua_family(agent: object) -> str:
    """The family of one user agent (``"(none)"`` when missing, ``"(empty)"`` for ``[]``).

    Examples
    --------
    >>> ua_family("[Boto3/1.40.4 md/Botocore#1.40.4 ua/2.1 exec-env/AWS_Lambda_python3.14]")
    'Boto3'
    >>> ua_family("athena.amazonaws.com")
    'aws-service'
    >>> ua_family(None)
    '(none)'
    """
    if agent is None or agent is np.nan or not isinstance(agent, str):
        return MISSING
    text = strip_brackets(agent)
    if not text.strip():
        return EMPTY
    for name, rx in _COMPILED:
        if rx.search(text):
            return name
    return OTHER


def ua_families(agents: Iterable[object]) -> np.ndarray:
    """Vector form of :func:`ua_family` (call it on distinct values, e.g. categories).

    Examples
    --------
    >>> ua_families(["[curl/8.5.0]", None]).tolist()
    ['curl', '(none)']
    """
    return np.array([ua_family(a) for a in agents], dtype=object)
