"""The policy pack (``policy/``) over the program: no violation on any stack variant, and every policy can fail.

The pack runs through pulumi-policy's own analyzer (``policy_testkit``), as ``pulumi preview
--policy-pack policy`` runs it: the program's stacks pass with no diagnostic at all; for each
policy, a minimal resource that breaks it makes that policy, and only that one, report; the
README's "Adding a service" example passes, and fails naming its rule once its dead-letter queue
is removed; the pack's config sets each policy's enforcement level.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, json_format
from policy_testkit import POLICY_NAMES, Violation, analyze, resource, urn_of, without
from program_testkit import Evaluation, Registration
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel

from components import policies
from policy.production_defaults import (
    ALARM,
    EVENT_TARGET,
    FUNCTION,
    LOG_GROUP,
    MAPPING,
    PERMISSION,
    QUEUE,
    ROLE,
    STAGE,
    TABLE,
    TOPIC,
)
from sandbox.program.evaluation import PROJECT_DIR

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ARN = "arn:aws:sqs:us-east-1:123456789012:some-queue"


def _reporting(violations: list[Violation]) -> set[str]:
    return {v.policy for v in violations}


@pytest.mark.parametrize(
    "variant",
    ["dev_evaluation", "owner_evaluation", "configured_evaluation", "signed_eu_evaluation", "audit_evaluation"],
)
def test_every_stack_variant_passes_the_pack(variant: str, request: pytest.FixtureRequest) -> None:
    # GIVEN a stack variant the tests evaluate (defaults, API Gateway account owner, every key set, SigV4 in
    # eu-west-1, the example service)
    evaluation: Evaluation = request.getfixturevalue(variant)
    # WHEN the pack analyses every resource and the stack
    violations = analyze(evaluation.monitor.registrations)
    # THEN nothing is reported
    assert violations == []


def test_the_pack_sees_the_resources_it_guards(dev_evaluation: Evaluation) -> None:
    # GIVEN the dev stack (a control on the harness: the pack is shown the kinds it checks, with inputs)
    kinds = {r.type for r in dev_evaluation.monitor.registrations}
    # THEN every type a resource policy checks is among what the pack is shown
    assert {EVENT_TARGET, FUNCTION, LOG_GROUP, PERMISSION, QUEUE, ROLE, STAGE, TABLE, TOPIC, ALARM} <= kinds


def _function(name: str, role_urn: str, **props: Any) -> Registration:
    settings = {
        "tracingConfig": {"mode": "Active"},
        "loggingConfig": {"logGroup": f"/aws/lambda/{name}"},
        "role": f"arn:aws:iam::123456789012:role/{name}",
    }
    settings.update(props)
    return resource(FUNCTION, name, {k: v for k, v in settings.items() if v is not None}, {"role": [role_urn]})


def _log_group(name: str) -> Registration:
    return resource(LOG_GROUP, f"{name}-logs", {"name": f"/aws/lambda/{name}", "retentionInDays": 14})


def _statement_policy(action: str, resource_arn: str) -> Registration:
    document = policies.document(policies.statement("Broken", [action], [resource_arn]))
    return resource(ROLE_POLICY, "broken-policy", {"role": "some-role", "policy": json.dumps(document)})


ROLE_URN = urn_of(ROLE, "shared-role")


def _controls() -> dict[str, list[Registration]]:
    """Per policy, the fewest resources that break it and nothing else."""
    retry = {"maximumRetryAttempts": 8, "maximumEventAgeInSeconds": 3600}
    return {
        "rule-targets-retry-then-dead-letter": [
            resource(EVENT_TARGET, "bare-target", {"rule": "some-rule", "arn": ARN, "retryPolicy": retry})
        ],
        "async-functions-have-failure-destination": [
            resource(ROLE, "shared-role", {}),
            _function("async-fn", ROLE_URN),
            _log_group("async-fn"),
            resource(
                PERMISSION,
                "async-fn-from-rule",
                {"function": "async-fn", "principal": "events.amazonaws.com", "action": "lambda:InvokeFunction"},
                {"function": [urn_of(FUNCTION, "async-fn")]},
            ),
        ],
        "queues-and-topics-encrypted": [resource(QUEUE, "plain-queue", {"messageRetentionSeconds": 60})],
        "table-recoverable-and-encrypted": [
            resource(
                TABLE, "orders", {"pointInTimeRecovery": {"enabled": False}, "serverSideEncryption": {"enabled": True}}
            )
        ],
        "functions-have-own-role": [
            resource(ROLE, "shared-role", {}),
            _function("first-fn", ROLE_URN),
            _log_group("first-fn"),
            _function("second-fn", ROLE_URN),
            _log_group("second-fn"),
        ],
        "functions-have-own-log-group": [
            resource(ROLE, "shared-role", {}),
            _function("quiet-fn", ROLE_URN, loggingConfig=None),
        ],
        "functions-trace-actively": [
            resource(ROLE, "shared-role", {}),
            _function("untraced-fn", ROLE_URN, tracingConfig=None),
            _log_group("untraced-fn"),
        ],
        "stream-mappings-bounded-with-failure-destination": [
            resource(
                MAPPING,
                "unbounded-mapping",
                {
                    "startingPosition": "TRIM_HORIZON",
                    "eventSourceArn": "arn:aws:dynamodb:us-east-1:1:table/t/stream/label",
                    "functionName": "fn",
                    "functionResponseTypes": ["ReportBatchItemFailures"],
                    "maximumRetryAttempts": 8,
                    "maximumRecordAgeInSeconds": -1,
                },
            )
        ],
        "iam-no-wildcard-actions": [_statement_policy("sqs:*", ARN)],
        "iam-resource-wildcard-only-where-required": [_statement_policy("sqs:SendMessage", "*")],
        "alarms-have-no-ok-actions": [resource(ALARM, "noisy-alarm", {"okActions": ["arn:aws:sns:us-east-1:1:t"]})],
        "log-groups-have-retention": [resource(LOG_GROUP, "forever-logs", {"name": "/aws/lambda/forever"})],
        "api-stage-throttled-and-logged": [
            resource(
                STAGE,
                "open-stage",
                {
                    "stageName": "api",
                    "restApi": "abc123",
                    "accessLogSettings": {"destinationArn": "arn:aws:logs:us-east-1:1:log-group:a", "format": "{}"},
                },
            )
        ],
    }


def test_every_policy_has_a_control() -> None:
    # GIVEN the pack's policies  THEN each has a control below, and no control names an unknown policy
    assert sorted(_controls()) == sorted(POLICY_NAMES)


@pytest.mark.parametrize("policy", POLICY_NAMES)
def test_a_resource_breaking_one_policy_makes_that_policy_alone_report(policy: str) -> None:
    # GIVEN the fewest resources that break one policy
    registrations = _controls()[policy]
    # WHEN the pack analyses them
    violations = analyze(registrations)
    # THEN that policy, and only it, reports, as mandatory, naming a resource of the control and a fix
    assert _reporting(violations) == {policy}
    assert {v.level for v in violations} == {EnforcementLevel.MANDATORY}
    names = {r.name for r in registrations}
    assert all(any(name in v.message for name in names) for v in violations), violations
    assert all("Fix:" in v.message or "one log group per function" in v.message for v in violations)


def test_the_example_service_without_its_dead_letter_queue_fails_naming_its_rule(audit_evaluation: Evaluation) -> None:
    # GIVEN the README's example service with its rule target's dead-letter queue removed
    registrations = [
        without(r, "deadLetterConfig") if r.name == "audit-service-target" else r
        for r in audit_evaluation.monitor.registrations
        if r.name != "audit-service-dlq"
    ]
    # WHEN the pack analyses the stack
    violations = analyze(registrations)
    # THEN the target policy alone reports, naming the target and its rule
    assert _reporting(violations) == {"rule-targets-retry-then-dead-letter"}
    (violation,) = violations
    assert "audit-service-target" in violation.message
    assert "target of rule audit-service-rule" in violation.message
    assert "no dead-letter queue" in violation.message


@pytest.mark.parametrize(
    ("level", "reported"),
    [(EnforcementLevel.ADVISORY, {EnforcementLevel.ADVISORY}), (EnforcementLevel.DISABLED, set())],
)
def test_the_packs_config_sets_a_policys_enforcement_level(level: EnforcementLevel, reported: set[Any]) -> None:
    # GIVEN a queue that breaks the encryption policy, and the pack configured to make that policy `level`
    registrations = _controls()["queues-and-topics-encrypted"]
    # WHEN the pack analyses it
    violations = analyze(registrations, levels={"queues-and-topics-encrypted": level})
    # THEN it reports at that level (or not at all when disabled)
    assert {v.level for v in violations} == reported


def test_the_wildcard_resource_list_is_the_programs_own(owner_evaluation: Evaluation) -> None:
    # GIVEN every action the program grants on Resource "*" in an identity policy
    granted = set()
    for r in owner_evaluation.monitor.registrations:
        if r.type != ROLE_POLICY:
            continue
        document = json.loads(json_format.MessageToDict(r.inputs)["policy"])
        for stmt in document["Statement"]:
            if "*" in stmt["Resource"]:
                granted |= set(stmt["Action"])
    # THEN the pack's one list is exactly those actions: nothing the program does not need is allowed
    assert granted == set(policies.RESOURCE_WILDCARD_ONLY_ACTIONS)


def test_the_pack_serves_its_policies_as_the_cli_starts_it() -> None:
    # GIVEN the pack started as the Pulumi CLI starts a Python pack: `python __main__.py` in its folder,
    # which prints the port of its analyzer
    pack_dir = PROJECT_DIR / "policy"
    process = subprocess.Popen([sys.executable, "__main__.py"], cwd=pack_dir, stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = analyzer_pb2_grpc.AnalyzerStub(channel)
            # WHEN the CLI asks what it enforces, and analyses an unencrypted queue over gRPC
            info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=10)
            (control,) = _controls()["queues-and-topics-encrypted"]
            request = proto.AnalyzeRequest(type=control.type, properties=control.inputs, urn=control.urn, name="q")
            answer = stub.Analyze(request, timeout=10)
    finally:
        process.kill()
        process.wait()
    # THEN it lists every policy, mandatory by default, and reports the queue under the encryption policy
    assert info.name == "eda-demo-production-defaults"
    assert [p.name for p in info.policies] == POLICY_NAMES
    assert {p.enforcementLevel for p in info.policies} == {proto.MANDATORY}
    assert [d.policyName for d in answer.diagnostics] == ["queues-and-topics-encrypted"]
