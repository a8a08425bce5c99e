"""The fixed, made-up world the sample generator draws from.

One AWS account (``111122223333``, a documentation-style id) in ``us-east-1`` with three buckets,
the principals that use them, its VPC endpoints, and the address pools and user agents each
access path shows in CloudTrail. Field shapes follow ``shared/reference/cloudtrail-s3-sources.md``.

Address rules:

* AWS addresses are drawn from real published ``ip-ranges.json`` prefixes of the right service and
  Region (listed in :data:`AWS_PREFIXES`; a test checks them against the bundled copy).
* Addresses outside AWS (offices, homes, scanners, the intruder) come from the RFC 5737 / RFC 3849
  documentation ranges, so they never point at a real third party and are never inside AWS.
* VPC traffic uses RFC 1918 addresses.

Nothing here is random: the generator seeds its own :class:`random.Random` and picks from these
tuples (tuples and lists only, never sets, so the order never depends on hashing).
"""
from __future__ import annotations

from dataclasses import dataclass, field

ACCOUNT_ID = "111122223333"
REGION = "us-east-1"
#: The company's local time is US Eastern; the default window (October 2026) is all EDT (UTC-4).
LOCAL_UTC_OFFSET_HOURS = -4

PARTNER_ACCOUNT_ID = "444455556666"  # a partner reading through its own VPC endpoint
ANALYTICS_ACCOUNT_ID = "222233334444"  # the company's analytics account (cross-account role)

PAYROLL_BUCKET = "acme-payroll-prod"
DATALAKE_BUCKET = "acme-datalake-prod"
LOGS_BUCKET = "acme-s3-access-logs"
BUCKETS: tuple[str, ...] = (PAYROLL_BUCKET, DATALAKE_BUCKET, LOGS_BUCKET)

# --- VPC endpoints --------------------------------------------------------------------------
GATEWAY_ENDPOINT = "vpce-0c3f5a9e1b7d24680"  # prod VPC 10.20.0.0/16, gateway endpoint
INTERFACE_ENDPOINT = "vpce-07e1d2c3b4a596870"  # interface endpoint, reached from on-prem (DX)
INTERFACE_ENDPOINT_DNS = f"{INTERFACE_ENDPOINT}-k3m9x2pq.s3.{REGION}.vpce.amazonaws.com"
PARTNER_ENDPOINT = "vpce-0f9e8d7c6b5a43210"  # owned by PARTNER_ACCOUNT_ID
#: The AWS-owned endpoint the S3 console backend uses in us-east-1 (real value, seen 2020-2024).
CONSOLE_ENDPOINT = "vpce-f40dc59d"
#: The account's own endpoints: pass as ``classify(..., own_vpc_endpoints=OWN_VPC_ENDPOINTS)``.
OWN_VPC_ENDPOINTS: tuple[str, ...] = (GATEWAY_ENDPOINT, INTERFACE_ENDPOINT)

# --- AWS address prefixes (real, from AWS's ip-ranges.json) -------------------------------
#: name -> (prefixes, service, region). Every EC2 prefix is also listed under AMAZON.
AWS_PREFIXES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "ec2-us-east-1": (
        ("3.80.0.0/12", "35.168.0.0/13", "44.192.0.0/11", "34.192.0.0/12", "18.204.0.0/14"),
        "EC2",
        "us-east-1",
    ),
    "ec2-ap-northeast-1": (("3.112.0.0/14", "13.112.0.0/14"), "EC2", "ap-northeast-1"),
    "ec2-us-west-2": (("44.224.0.0/11", "35.80.0.0/12"), "EC2", "us-west-2"),
    # AMAZON-only prefixes (no EC2 entry): Lambda egress shows up here too (72.21.198.68 in
    # AWS's own S3 Express log example).
    "amazon-us-east-1": (("72.21.192.0/19", "52.94.224.0/20"), "AMAZON", "us-east-1"),
}

# --- Addresses outside AWS (documentation ranges) -----------------------------------------
OFFICE_NAT_IPS: tuple[str, ...] = ("203.0.113.10", "203.0.113.11", "203.0.113.12")
HOME_IPV4_NET = "198.51.100.0/25"
HOME_IPV6_NET = "2001:db8:4a10::/44"
SCANNER_NETS: tuple[str, ...] = ("192.0.2.0/25", "198.51.100.128/26")
CI_RUNNER_NET = "203.0.113.128/26"
#: The intruder's address: unknown to the company, outside AWS.
INTRUDER_IP = "192.0.2.213"

PROD_VPC_NET = "10.20.0.0/16"
ONPREM_NET = "172.16.40.0/22"
PARTNER_VPC_NET = "10.50.0.0/16"

# --- User agents --------------------------------------------------------------------------
# Client requests appear in CloudTrail wrapped in square brackets; service calls are bare names.
UA_CLI_MAC = (
    "[aws-cli/2.31.12 md/awscrt#0.28.1 ua/2.1 os/macos#25.0.0 md/arch#arm64 lang/python#3.13.7 "
    "md/pyimpl#CPython m/E,b,Z cfg/retry-mode#standard md/installer#source md/prompt#off "
    "md/command#{command}]"
)
UA_CLI_LINUX = (
    "[aws-cli/2.30.6 md/awscrt#0.27.6 ua/2.1 os/linux#6.8.0-85-generic md/arch#x86_64 "
    "lang/python#3.13.7 md/pyimpl#CPython m/b,E,Z cfg/retry-mode#standard md/installer#exe "
    "md/distrib#ubuntu.24 md/prompt#off md/command#{command}]"
)
UA_CLI_INTRUDER = (
    "[aws-cli/2.27.50 md/awscrt#0.26.1 ua/2.1 os/linux#6.12.38+kali-amd64 md/arch#x86_64 "
    "lang/python#3.13.4 md/pyimpl#CPython m/E,Z,b cfg/retry-mode#standard md/installer#exe "
    "md/distrib#kali.2025 md/prompt#off md/command#{command}]"
)
UA_BOTO3_WINDOWS = (
    "[Boto3/1.43.2 md/Botocore#1.43.2 ua/2.1 os/windows#11 md/arch#amd64 lang/python#3.12.10 "
    "md/pyimpl#CPython m/b,Z,D cfg/retry-mode#legacy Botocore/1.43.2]"
)
UA_BOTO3_JUPYTER = (
    "[Boto3/1.42.88 md/Botocore#1.42.88 ua/2.1 os/macos#24.6.0 md/arch#arm64 lang/python#3.12.11 "
    "md/pyimpl#CPython m/Z,b cfg/retry-mode#legacy Botocore/1.42.88 Resource]"
)
UA_CLOUDSHELL = (
    "[aws-cli/2.31.5 md/awscrt#0.28.0 ua/2.1 os/linux#6.1.155-176.282.amzn2023.x86_64 "
    "md/arch#x86_64 lang/python#3.13.7 md/pyimpl#CPython exec-env/CloudShell "
    "md/AWS-CloudShell-2026.09.30 m/E,b,Z cfg/retry-mode#standard md/installer#exe "
    "md/distrib#amzn.2023 md/prompt#off md/command#{command}]"
)
UA_LAMBDA_PY = (
    "[Boto3/1.40.4 md/Botocore#1.40.4 ua/2.1 os/linux#5.10.244-267.968.amzn2.x86_64 md/arch#x86_64 "
    "lang/python#3.13.7 md/pyimpl#CPython exec-env/AWS_Lambda_python3.13 m/b,Z,D "
    "cfg/retry-mode#legacy Botocore/1.40.4]"
)
UA_LAMBDA_NODE = (
    "[aws-sdk-js/3.893.0 ua/2.1 os/linux#5.10.244-267.968.amzn2.x86_64 lang/js md/nodejs#22.19.0 "
    "api/s3#3.893.0 m/E,N,e exec-env/AWS_Lambda_nodejs22.x]"
)
UA_JAVA2_EC2 = (
    "[aws-sdk-java/2.33.4 md/io#sync md/http#Apache ua/2.1 api/S3#2.33.4 "
    "os/Linux#6.1.153-175.280.amzn2023.x86_64 lang/java#21.0.8 md/OpenJDK_64-Bit_Server_VM#21.0.8+9-LTS "
    "md/vendor#Amazon.com_Inc. md/en_US m/F,G,b]"
)
UA_JAVA1_HADOOP = (
    "[Hadoop 3.4.1, aws-sdk-java/1.12.788 Linux/5.10.244-267.968.amzn2.x86_64 "
    "OpenJDK_64-Bit_Server_VM/17.0.16+8-LTS java/17.0.16 scala/2.12.18 vendor/Amazon.com_Inc. "
    "cfg/retry-mode/standard]"
)
UA_EMRFS = (
    "[aws-sdk-java/1.12.788 Linux/6.1.153-175.280.amzn2023.x86_64 OpenJDK_64-Bit_Server_VM/17.0.16+8-LTS "
    "java/17.0.16 scala/2.12.18 vendor/Amazon.com_Inc. cfg/retry-mode/standard EMRFS/2.68.0]"
)
UA_GO_V1 = "[aws-sdk-go/1.55.8 (go1.23.12; linux; amd64)]"
UA_GO_V2 = (
    "[aws-sdk-go-v2/1.39.2 ua/2.1 os/linux lang/go#1.24.7 md/GOOS#linux md/GOARCH#amd64 "
    "api/s3#1.88.3 m/E,Z,g]"
)
UA_SAGEMAKER = (
    "[Boto3/1.40.30 md/Botocore#1.40.30 ua/2.1 os/linux#5.10.244-267.968.amzn2.x86_64 md/arch#x86_64 "
    "lang/python#3.11.13 md/pyimpl#CPython m/Z,b cfg/retry-mode#legacy Botocore/1.40.30 "
    "AWS-SageMaker-Python-SDK/2.251.1]"
)
UA_REDSHIFT = (
    "[aws-sdk-cpp/1.11.520 Linux/5.10.244-267.968.amzn2.x86_64 x86_64 GCC/11.4.1 md/aws-crt#0.30.2 "
    "RedshiftSpectrum]"
)
UA_CONSOLE = (
    "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.788 "
    "Linux/5.10.238-211.917.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.452-b09 java/1.8.0_452 "
    "vendor/Oracle_Corporation cfg/retry-mode/standard]"
)
UA_TERRAFORM = (
    "[APN/1.0 HashiCorp/1.0 Terraform/1.13.3 (+https://www.terraform.io) "
    "terraform-provider-aws/6.14.1 (+https://registry.terraform.io/providers/hashicorp/aws) "
    "aws-sdk-go-v2/1.39.2 ua/2.1 os/linux lang/go#1.24.7 md/GOOS#linux md/GOARCH#amd64 "
    "api/s3#1.88.3 m/E,Z,g]"
)
UA_BROWSERS: tuple[str, ...] = (
    "[Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/141.0.0.0 Safari/537.36]",
    "[Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:143.0) Gecko/20100101 Firefox/143.0]",
    "[Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/141.0.0.0 Safari/537.36 Edg/141.0.0.0]",
    "[Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/26.0 Safari/605.1.15]",
    "[Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.6 Mobile/15E148 Safari/604.1]",
    "[Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/141.0.7390.70 Mobile Safari/537.36]",
)
UA_SCANNERS: tuple[str, ...] = (
    "[Go-http-client/1.1]",
    "[python-requests/2.32.5]",
    "[curl/8.14.1]",
    "[Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)]",
    "[Boto3/1.40.21 md/Botocore#1.40.21 ua/2.1 os/linux#6.8.0-1030-azure md/arch#x86_64 "
    "lang/python#3.12.3 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.40.21]",
    "[]",
)
UA_CURL = "[curl/8.5.0]"


@dataclass(frozen=True)
class Principal:
    """Who signs the requests of one story.

    ``kind`` is one of ``iam-user``, ``role`` (assumed role), ``service`` (AWSService principal),
    ``anonymous``, ``other-account`` (the bucket owner's reduced copy of a caller in another
    account). ``ec2_instance`` / ``lambda_function`` mark instance-profile / Lambda credentials.
    """

    kind: str
    account: str = ACCOUNT_ID
    name: str = ""  # IAM user name, or role name
    session: str = ""  # role session name ("" -> drawn per session by the story)
    principal_id: str = ""  # AIDA.../AROA... (unique id of the user or role)
    access_key: str = ""  # AKIA... for IAM users
    invoked_by: str = ""
    ec2_instance: str = ""
    lambda_function: str = ""
    role_path: str = "/"
    extra: dict[str, str] = field(default_factory=dict)


def _role(name: str, uid: str, session: str = "", **kw: str) -> Principal:
    return Principal(kind="role", name=name, principal_id=uid, session=session, **kw)


PRINCIPALS: dict[str, Principal] = {
    "payroll-admin": _role("AWSReservedSSO_PayrollAdmin_4e1c2b3a5d6f7089", "AROAYQPX3NFGA7KD2MHTE",
                           "maria.garcia@example.com",
                           role_path="/aws-reserved/sso.amazonaws.com/"),
    "data-analyst": _role("AWSReservedSSO_DataAnalyst_9a8b7c6d5e4f3a2b", "AROAYQPX3NFGKS5R6WQZB",
                          "", role_path="/aws-reserved/sso.amazonaws.com/"),
    "developer": _role("AWSReservedSSO_Developer_1f2e3d4c5b6a7980", "AROAYQPX3NFGQ2W8EJNVC", "",
                       role_path="/aws-reserved/sso.amazonaws.com/"),
    "dev-kenji": Principal(kind="iam-user", name="kenji.tanaka", principal_id="AIDAYQPX3NFGT4LMV7Q2S",
                           access_key="AKIAYQPX3NFGZK3D7N5Q"),
    "dev-sam": Principal(kind="iam-user", name="sam.okafor", principal_id="AIDAYQPX3NFGW9XCB2R6H",
                         access_key="AKIAYQPX3NFGRM4T2XW8"),
    # The long-term key that gets stolen: normally used by the on-prem sync job.
    "svc-payroll-sync": Principal(kind="iam-user", name="svc-payroll-sync",
                                  principal_id="AIDAYQPX3NFGH8ZP5CUKD",
                                  access_key="AKIAYQPX3NFGB7WQ6PJ4"),
    "svc-partner-upload": Principal(kind="iam-user", name="svc-partner-upload",
                                    principal_id="AIDAYQPX3NFGD3JY8TRFM",
                                    access_key="AKIAYQPX3NFGL5HN2ZC7"),
    "ci-deploy": Principal(kind="iam-user", name="github-actions-deploy",
                           principal_id="AIDAYQPX3NFGV6BK9DSLA", access_key="AKIAYQPX3NFGU8EF4MVB"),
    "payroll-batch": _role("PayrollBatchInstanceRole", "AROAYQPX3NFGM2CE7VTJX",
                           ec2_instance="i-0a12b34c56d78e90f"),
    "report-server": _role("ReportServerInstanceRole", "AROAYQPX3NFGP6RA4KWYN",
                           ec2_instance="i-07f3e2d1c0b9a8765"),
    "emr-ec2": _role("EMR_EC2_DefaultRole", "AROAYQPX3NFGC9UH3LQDE", ec2_instance="i-0e5d4c3b2a1908f7e",
                     extra={"instances": "i-0e5d4c3b2a1908f7e,i-0b6a7c8d9e0f1a2b3,i-04c5d6e7f8091a2b3"}),
    "portal-lambda": _role("payroll-portal-role-3k9x7q2m", "AROAYQPX3NFGF3VN8BXZR",
                           "payroll-portal-api", lambda_function="payroll-portal-api",
                           role_path="/service-role/"),
    "export-lambda": _role("payroll-export-role", "AROAYQPX3NFGJ7TS5DMPA", "payroll-export",
                           lambda_function="payroll-export"),
    "thumbnail-lambda": _role("datalake-compaction-role", "AROAYQPX3NFGB4QW2EHKS",
                              "datalake-compaction", lambda_function="datalake-compaction"),
    "glue": _role("AWSGlueServiceRole-datalake", "AROAYQPX3NFGR8LD6ZTUV", "GlueJobRunnerSession",
                  role_path="/service-role/"),
    "sagemaker": _role("AmazonSageMaker-ExecutionRole-20260114T093211", "AROAYQPX3NFGX2MN4PCHW",
                       "SageMaker", role_path="/service-role/"),
    "redshift": _role("RedshiftSpectrumRole", "AROAYQPX3NFGE5KR7YBTN", "RedshiftIamRoleSession"),
    "lakeformation": _role("AWSServiceRoleForLakeFormationDataAccess", "AROAYQPX3NFGS6PV3JQXM", "",
                           role_path="/aws-service-role/lakeformation.amazonaws.com/"),
    "emr-serverless": _role("EMRServerlessRuntimeRole", "AROAYQPX3NFGN4HT8CWRE", "",
                            invoked_by="ops.emr-serverless.amazonaws.com"),
    "backup": _role("AWSBackupDefaultServiceRole", "AROAYQPX3NFGL2DZ9KFMA",
                    "AWSBackup-AWSBackupDefaultServiceRole", invoked_by="backup.amazonaws.com",
                    role_path="/service-role/"),
    "log-delivery": Principal(kind="service", account="", invoked_by="s3.amazonaws.com"),
    "cloudtrail": Principal(kind="service", account="", invoked_by="cloudtrail.amazonaws.com"),
    "anonymous": Principal(kind="anonymous", account="ANONYMOUS_PRINCIPAL"),
    "anonymous-cors": Principal(kind="anonymous", account="anonymous"),
    "analytics-xacct": Principal(kind="other-account", account=ANALYTICS_ACCOUNT_ID,
                                 principal_id="AROAR7KD2MWQ5EXJ3LNVB:reporting-sync"),
    "partner-xacct": Principal(kind="other-account", account=PARTNER_ACCOUNT_ID,
                               principal_id="AROAT3HN6QZP8VKM2WDXC:acme-feed-reader"),
}

DEVELOPER_SESSIONS: tuple[str, ...] = (
    "kenji.tanaka@example.com", "sam.okafor@example.com", "li.wei@example.com",
    "priya.nair@example.com",
)
ANALYST_SESSIONS: tuple[str, ...] = (
    "olga.petrova@example.com", "diego.ramos@example.com", "aisha.bello@example.com",
)
