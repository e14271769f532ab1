"""The provider mocks are as strict as AWS: names at each service's limits, and CloudWatch Logs' policy rules.

The mocks are called directly (no program run): each case is one ``new_resource`` call. The limits
are written out here from the API references, independently of ``components.naming``.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components import naming
from sandbox.program.evaluation import ACCOUNT_ID, PhysicalNameError, ProviderMocks

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
LOG_POLICY = "aws:cloudwatch/logResourcePolicy:LogResourcePolicy"

# (type, name property, longest name AWS accepts, a character it refuses there)
LIMITS = [
    ("aws:sqs/queue:Queue", "name", 80, "."),
    ("aws:sns/topic:Topic", "name", 256, "."),
    ("aws:iam/role:Role", "name", 64, "/"),
    ("aws:iam/rolePolicy:RolePolicy", "name", 128, "/"),
    ("aws:lambda/function:Function", "name", 64, "."),
    ("aws:lambda/permission:Permission", "statementId", 100, "."),
    (LOG_GROUP, "name", 512, " "),
    ("aws:cloudwatch/eventBus:EventBus", "name", 256, "/"),
    ("aws:cloudwatch/eventRule:EventRule", "name", 64, "/"),
    ("aws:cloudwatch/eventArchive:EventArchive", "name", 48, "/"),
    ("aws:cloudwatch/eventTarget:EventTarget", "targetId", 64, "/"),
    ("aws:sfn/stateMachine:StateMachine", "name", 80, " "),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "name", 255, "\n"),
    ("aws:cloudwatch/dashboard:Dashboard", "dashboardName", 255, "."),
    ("aws:dynamodb/table:Table", "name", 255, "/"),
    ("aws:apigateway/stage:Stage", "stageName", 128, "."),
    ("aws:schemas/registry:Registry", "name", 64, "@"),
    ("aws:schemas/schema:Schema", "name", 385, "1"),
    ("aws:wafv2/webAcl:WebAcl", "name", 128, "."),
]


def _mocks(stack: str = "dev", region: str = "us-east-1") -> ProviderMocks:
    return ProviderMocks(stack, region)


def _create(mocks: ProviderMocks, typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return mocks.new_resource(pulumi.runtime.MockResourceArgs(typ, name, inputs))


@pytest.mark.parametrize(("typ", "prop", "longest", "refused"), LIMITS)
def test_a_name_is_accepted_up_to_its_services_limit_and_refused_past_it(
    typ: str, prop: str, longest: int, refused: str
) -> None:
    # GIVEN the mocks of one stack
    mocks = _mocks()
    # WHEN a resource is declared with a name of exactly the limit
    _, state = _create(mocks, typ, "edge", {prop: "a" * longest})
    # THEN it is accepted
    assert state[prop] == "a" * longest
    # AND one character more, or a character the service refuses, is refused naming resource, name and rule
    for name in ("a" * (longest + 1), f"a{refused}b"):
        with pytest.raises(PhysicalNameError) as raised:
            _create(mocks, typ, "edge", {prop: name})
        assert typ in str(raised.value)
        assert "'edge'" in str(raised.value)
        assert repr(name) in str(raised.value)


def test_the_limits_cover_every_named_type_with_a_documented_limit() -> None:
    # GIVEN the limits written out above
    # WHEN they are compared with the types the program names
    documented = {t for t, n in naming.NAMED_TYPES.items() if n.rule.max_length is not None}
    # THEN every named type with a documented maximum is tested at its edge, with the same maximum
    assert {typ for typ, *_ in LIMITS} == documented
    assert {typ: longest for typ, _, longest, _ in LIMITS} == {
        t: naming.NAMED_TYPES[t].rule.max_length for t in documented
    }


@pytest.mark.parametrize(
    ("typ", "prop", "name", "why"),
    [
        ("aws:dynamodb/table:Table", "name", "ab", "at least 3"),
        (LOG_GROUP, "name", "aws/events/x", "'aws/'"),
        ("aws:cloudwatch/eventBus:EventBus", "name", "default", "reserves"),
        ("aws:apigateway/model:Model", "name", "Create-Order", "'-'"),
    ],
)
def test_reserved_and_short_names_are_refused(typ: str, prop: str, name: str, why: str) -> None:
    # GIVEN a name AWS reserves, or too short  WHEN it is declared  THEN the mocks refuse it, saying why
    with pytest.raises(PhysicalNameError, match=why):
        _create(_mocks(), typ, "edge", {prop: name})


def test_an_auto_name_past_the_limit_is_refused() -> None:
    # GIVEN a role whose logical name leaves room for Pulumi's suffix, and one a character longer
    mocks = _mocks()
    _, state = _create(mocks, "aws:iam/role:Role", "r" * 56, {})
    # WHEN they are auto-named (logical name, '-', 7 hex)
    # THEN the first fits IAM's 64 exactly, the second is refused
    assert len(state["name"]) == 64
    assert state["name"].startswith("r" * 56 + "-")
    with pytest.raises(PhysicalNameError, match="IAM role names have at most 64"):
        _create(mocks, "aws:iam/role:Role", "r" * 57, {})


def test_auto_names_differ_between_stacks_and_between_regions() -> None:
    # GIVEN the same role declared by dev in two regions, and by alice
    names = {
        (stack, region): _create(_mocks(stack, region), "aws:iam/role:Role", "orders-role", {})[1]["name"]
        for stack, region in (("dev", "us-east-1"), ("dev", "eu-west-1"), ("alice", "us-east-1"))
    }
    # WHEN their (account-global) names are compared
    # THEN all three differ, as Pulumi's random suffixes would
    assert len(set(names.values())) == 3


def test_a_dashboard_arn_has_no_region() -> None:
    # GIVEN a dashboard declared in eu-west-1
    _, state = _create(_mocks(region="eu-west-1"), "aws:cloudwatch/dashboard:Dashboard", "d", {"dashboardName": "x"})
    # WHEN its ARN is read  THEN it is account-global, as CloudWatch dashboards are
    assert state["dashboardArn"] == f"arn:aws:cloudwatch::{ACCOUNT_ID}:dashboard/x"


def _document(resource: str, action: str = "logs:PutLogEvents") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": [action],
                    "Resource": [resource],
                }
            ],
        }
    )


def _group(mocks: ProviderMocks, name: str = "/aws/events/g") -> str:
    return str(_create(mocks, LOG_GROUP, "group", {"name": name})[1]["arn"])


def test_a_resource_scoped_logs_policy_is_accepted_once_per_log_group() -> None:
    # GIVEN a log group and a policy attached to it, naming the group's streams
    mocks = _mocks()
    arn = _group(mocks)
    policy_id, state = _create(mocks, LOG_POLICY, "p", {"resourceArn": arn, "policyDocument": _document(f"{arn}:*")})
    # WHEN it is created  THEN it is resource-scoped
    assert (policy_id, state["policyScope"]) == (arn, "RESOURCE")
    # AND a second policy on the same group is refused, as CloudWatch Logs allows one per group
    with pytest.raises(PhysicalNameError, match="already has a resource policy"):
        _create(mocks, LOG_POLICY, "p2", {"resourceArn": arn, "policyDocument": _document(f"{arn}:*")})


@pytest.mark.parametrize(
    ("inputs", "why"),
    [
        ({}, "exactly one of policyName"),
        ({"policyName": "p", "resourceArn": "{arn}"}, "exactly one of policyName"),
        ({"resourceArn": "{arn}-other"}, "is not the ARN of a log group"),
        ({"resourceArn": "{arn}", "resource": "arn:aws:logs:us-east-1:123456789012:log-group:*"}, "may only name"),
        ({"resourceArn": "{arn}", "action": "logs:DeleteLogGroup"}, "are supported"),
    ],
)
def test_a_logs_policy_cloudwatch_logs_would_refuse_is_refused(inputs: dict[str, str], why: str) -> None:
    # GIVEN a log group
    mocks = _mocks()
    arn = _group(mocks)
    request = {k: v.format(arn=arn) for k, v in inputs.items() if k in ("policyName", "resourceArn")}
    request["policyDocument"] = _document(inputs.get("resource", f"{arn}:*"), inputs.get("action", "logs:PutLogEvents"))
    # WHEN a policy with a missing or doubled scope, a foreign group, a wider resource or another action is put
    # THEN the mocks refuse it, saying why
    with pytest.raises(PhysicalNameError, match=why):
        _create(mocks, LOG_POLICY, "p", request)


def test_the_eleventh_account_scoped_logs_policy_of_a_region_is_refused() -> None:
    # GIVEN ten account-scoped policies in one region
    mocks = _mocks()
    for n in range(10):
        _create(mocks, LOG_POLICY, f"p{n}", {"policyName": f"p{n}", "policyDocument": _document("*")})
    # WHEN an eleventh is put  THEN CloudWatch Logs' quota refuses it
    with pytest.raises(PhysicalNameError, match="LimitExceededException"):
        _create(mocks, LOG_POLICY, "p10", {"policyName": "p10", "policyDocument": _document("*")})
