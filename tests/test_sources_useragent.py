"""User-agent families (s3audit.useragent)."""
from __future__ import annotations

import numpy as np
import pytest

from s3audit.useragent import strip_brackets, ua_families, ua_family


@pytest.mark.parametrize("agent,family", [
    ("[aws-cli/2.17.60 md/awscrt#0.21.2 ua/2.0 os/macos#23.6.0 md/command#s3api.copy-object]",
     "aws-cli"),
    ("[aws-cli/1.18.136 Python/3.8.5 Darwin/19.5.0 botocore/1.17.59]", "aws-cli"),
    ("[Boto3/1.40.4 md/Botocore#1.40.4 ua/2.1 os/linux#5.10 exec-env/AWS_Lambda_python3.14]",
     "Boto3"),
    ("Boto3/1.17.40 Python/3.6.12 Linux/3.10.0 Botocore/1.20.112", "Boto3"),
    ("[S3Console/0.4, aws-internal/3 aws-sdk-java/1.11.783 Linux/4.9.217]", "S3 console"),
    ("[aws-sdk-java/2.20.160 Linux/5.10 OpenJDK_64-Bit_Server_VM/17 exec-env/AWS_Lambda_java11]",
     "aws-sdk-java"),
    ("[aws-sdk-go/0.24.0 (go1.15.6; linux; amd64)]", "aws-sdk-go"),
    ("[aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux api/s3#1.58.2]", "aws-sdk-go-v2"),
    ("[aws-sdk-js/3.637.0 ua/2.0 os/linux#5.15 lang/js md/nodejs#20.17.0]", "aws-sdk-js"),
    ("[Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:68.0) Gecko/20100101 Firefox/68.0]", "browser"),
    ("[curl/8.5.0]", "curl"),
    ("python-requests/2.27.1", "python-requests"),
    ("Go-http-client/1.1", "Go-http-client"),
    ("[APN/1.0 HashiCorp/1.0 Terraform/1.5.7 (+https://www.terraform.io) terraform-provider-aws/5.0]",
     "Terraform"),
    ("athena.amazonaws.com", "aws-service"),
    ("AWS Internal", "AWS Internal"),
    ("[]", "(empty)"),
    ("[SomethingElse/1.0]", "other"),
    (None, "(none)"),
])
def test_families(agent, family):
    assert ua_family(agent) == family


def test_vector_form_and_brackets():
    assert list(ua_families(["[curl/8.5.0]", None, np.nan])) == ["curl", "(none)", "(none)"]
    assert strip_brackets("[x y]") == "x y" and strip_brackets("x") == "x"
