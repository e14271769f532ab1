"""Many developer stacks in ONE AWS account: the account's quotas, its namespaces and AWS's name rules.

Seven developer stacks share us-east-1 of one simulated account, their names of every shape a
stack name may take (lower and upper case, ``_``, ``-``, digits, and the longest the program
accepts; one of them owns API Gateway's account setting, another the EventBridge schema
registry), and the ``dev`` stack also lives in eu-west-1 (owning both there). Every evaluation runs under the strict
provider mocks, which already refuse any name AWS would refuse; the tests below count and compare
what the stacks declare as AWS would across the whole account.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

import sandbox.program.evaluation as sandbox_program
from components import naming
from components.settings import ConfigError
from sandbox.__main__ import main as sandbox_main
from sandbox.program.evaluation import ACCOUNT_ID, DeclaredResource, Program, evaluate

US, EU = "us-east-1", "eu-west-1"
OWNS_API_GATEWAY_ACCOUNT = {"eda-demo:manageApiGatewayAccount": "true"}
OWNS_SCHEMA_REGISTRY = {"eda-demo:manageSchemaRegistry": "true"}
#: Pulumi's own limit (``^[A-Za-z0-9_.-]{1,100}$``), which binds before any AWS name rule here.
LONGEST_STACK = "l" * 100
#: Five more developers in us-east-1 (with ``dev`` and ``alice``, seven); the first owns API
#: Gateway's setting, the second the schema registry.
DEVELOPERS = ("bob", "Grace", "heidi_2", "ivan-qa", LONGEST_STACK)
LOG_POLICY = "aws:cloudwatch/logResourcePolicy:LogResourcePolicy"
API_ACCOUNT = "aws:apigateway/account:Account"
ROLE = "aws:iam/role:Role"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
REGISTRY = "aws:schemas/registry:Registry"
SCHEMA = "aws:schemas/schema:Schema"
#: EventBridge Schemas quotas per account and region (EventBridge user guide, "EventBridge Schema
#: Registry quotas"; all adjustable, these are the defaults): registries, schemas per registry
#: (the discovered-schemas registry aside), versions per schema.
REGISTRIES_PER_REGION, SCHEMAS_PER_REGISTRY, VERSIONS_PER_SCHEMA = 10, 100, 100
#: Names AWS scopes to a parent resource of the same stack (an API, a role, a rule, a function).
PARENT_SCOPED = {
    "aws:apigateway/stage:Stage",
    "aws:apigateway/model:Model",
    "aws:apigateway/requestValidator:RequestValidator",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:cloudwatch/eventTarget:EventTarget",
    "aws:lambda/permission:Permission",
    "aws:schemas/schema:Schema",
}
#: Account-global namespaces: IAM roles and CloudWatch dashboards (no region in their ARN).
ACCOUNT_GLOBAL = {ROLE, DASHBOARD}
# Written out here, from the API references, as an oracle independent of components.naming.
INDEPENDENT_RULES = {
    ROLE: re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII),
    DASHBOARD: re.compile(r"^[0-9A-Za-z_-]{1,255}$"),
    "aws:cloudwatch/eventBus:EventBus": re.compile(r"^[.\-_A-Za-z0-9]{1,256}$"),
    "aws:cloudwatch/logGroup:LogGroup": re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$"),
    "aws:sqs/queue:Queue": re.compile(r"^[A-Za-z0-9_-]{1,80}$"),
    "aws:lambda/function:Function": re.compile(r"^[A-Za-z0-9_-]{1,64}$"),
    "aws:cloudwatch/eventRule:EventRule": re.compile(r"^[.\-_A-Za-z0-9]{1,64}$"),
    "aws:cloudwatch/eventArchive:EventArchive": re.compile(r"^[.\-_A-Za-z0-9]{1,48}$"),
    "aws:dynamodb/table:Table": re.compile(r"^[A-Za-z0-9_.-]{3,255}$"),
}


@pytest.fixture(scope="module")
def account(dev_program: Program, alice_program: Program) -> list[Program]:
    """Eight stacks of one account: seven developers in us-east-1, and ``dev`` again in eu-west-1."""
    stacks = [dev_program, alice_program]
    for stack in DEVELOPERS:
        owns = {DEVELOPERS[0]: OWNS_API_GATEWAY_ACCOUNT, DEVELOPERS[1]: OWNS_SCHEMA_REGISTRY}
        stacks.append(evaluate(stack, overrides=owns.get(stack, {})))
    stacks.append(evaluate("dev", overrides={"aws:region": EU, **OWNS_API_GATEWAY_ACCOUNT, **OWNS_SCHEMA_REGISTRY}))
    return stacks


def _physical_names(program: Program) -> Iterator[tuple[DeclaredResource, str]]:
    """Every resource with a physical name (explicit or auto), and that name."""
    for resource in program.resources:
        named = naming.NAMED_TYPES.get(resource.type)
        if named is not None and resource.get(named.property) is not None:
            yield resource, str(resource[named.property])


def _namespace(program: Program, resource: DeclaredResource) -> tuple[str, ...]:
    """Where AWS requires the name to be unique: the account, or the account and region."""
    if resource.type in ACCOUNT_GLOBAL:
        return (program.account_id, resource.type)
    return (program.account_id, program.region, resource.type)


def test_the_account_holds_seven_developer_stacks_and_one_stack_in_two_regions(account: list[Program]) -> None:
    # GIVEN every stack evaluated into the simulated account
    # WHEN their account, regions and names are read
    in_us = [p.stack for p in account if p.region == US]
    # THEN they share one account id, seven stacks live in us-east-1 (the longest name among
    # them), and dev also lives in eu-west-1
    assert {p.account_id for p in account} == {ACCOUNT_ID}
    assert len(in_us) == len(set(in_us)) == 7
    assert LONGEST_STACK in in_us
    assert [(p.stack, p.region) for p in account if p.region == EU] == [("dev", EU)]


def test_no_stack_uses_an_account_scoped_log_resource_policy(account: list[Program]) -> None:
    # GIVEN the CloudWatch Logs resource policies of every stack
    per_region: Counter[str] = Counter()
    attached_to: list[str] = []
    for program in account:
        for policy in program.of_type(LOG_POLICY):
            # WHEN each is classified as account-scoped (a name) or attached to a log group
            if policy.get("resourceArn") is None:
                per_region[program.region] += 1
            else:
                attached_to.append(policy["resourceArn"])
                assert policy["resourceArn"] in {g["arn"] for g in program.of_type("aws:cloudwatch/logGroup:LogGroup")}
    # THEN the ten account-scoped policies a region allows are left untouched by this program
    # (each stack attaches one policy to its own catch-all group: one per group, as AWS allows)
    assert all(count <= 10 for count in per_region.values())
    assert sum(per_region.values()) == 0
    assert len(attached_to) == len(set(attached_to)) == len(account)


def test_one_api_gateway_account_setting_per_account_and_region(account: list[Program]) -> None:
    # GIVEN the API Gateway account settings every stack declares
    settings = Counter((p.account_id, p.region) for p in account for _ in p.of_type(API_ACCOUNT))
    # WHEN they are counted per account and region
    # THEN each region has exactly the one its owner stack declares, so no two stacks repoint it
    assert settings == {(ACCOUNT_ID, US): 1, (ACCOUNT_ID, EU): 1}
    owners = {(p.stack, p.region) for p in account if p.of_type(API_ACCOUNT)}
    assert owners == {(DEVELOPERS[0], US), ("dev", EU)}


def test_one_schema_registry_per_account_and_region_whatever_the_number_of_stacks(account: list[Program]) -> None:
    # GIVEN the schema registries and schemas every stack declares
    registries = Counter((p.account_id, p.region) for p in account for _ in p.of_type(REGISTRY))
    schemas = Counter((p.account_id, p.region, s["registryName"]) for p in account for s in p.of_type(SCHEMA))
    # WHEN they are counted per account and region, and per registry
    owners = {(p.stack, p.region) for p in account if p.of_type(REGISTRY)}
    others = [p for p in account if (p.stack, p.region) not in owners]
    # THEN each region holds exactly one registry, its owner's, far under the quota of 10
    assert registries == {(ACCOUNT_ID, US): 1, (ACCOUNT_ID, EU): 1}
    assert owners == {(DEVELOPERS[1], US), ("dev", EU)}
    assert max(registries.values()) <= REGISTRIES_PER_REGION
    # AND it holds one schema per contract, far under the 100 per registry
    assert set(schemas.values()) == {5}
    assert max(schemas.values()) <= SCHEMAS_PER_REGISTRY
    # AND every other stack declares neither registry nor schema: a hundred more stacks add nothing
    assert len(others) == len(account) - 2
    assert [p.stack for p in others if p.of_type(REGISTRY) or p.of_type(SCHEMA)] == []


def test_the_shared_registry_is_named_for_the_project_not_for_its_owner(account: list[Program]) -> None:
    # GIVEN the registries of both regions and the schemas in them
    registries = [r for p in account for r in p.of_type(REGISTRY)]
    # WHEN their names are read
    # THEN they are the project's name, whichever stack owns them, so consumers find them without
    # knowing the owner, and a schema name carries no stack (schema names are letters and .-_@
    # only, so a stack name like heidi_2 could not be part of one)
    assert {r["name"] for r in registries} == {"eda-demo"}
    schema_names = {s["name"] for p in account for s in p.of_type(SCHEMA)}
    assert all(not any(c.isdigit() for c in name) for name in schema_names)
    assert all(p.stack not in name for p in account for name in schema_names)


def test_no_name_is_shared_between_stacks_in_its_namespace(account: list[Program]) -> None:
    # GIVEN every physical name of every stack, with the namespace AWS makes it unique in
    owners: dict[tuple[str, ...], set[tuple[str, str]]] = {}
    for program in account:
        for resource, name in _physical_names(program):
            if resource.type not in PARENT_SCOPED:
                owners.setdefault((*_namespace(program, resource), name), set()).add((program.stack, program.region))
    # WHEN the names held by more than one stack are listed
    shared = {key: holders for key, holders in owners.items() if len(holders) > 1}
    # THEN there are none: not in the account-global namespaces (roles, dashboards), nor in any region
    assert shared == {}
    # (seven roles a stack, one more in each of the two owner stacks)
    assert sum(1 for key in owners if key[1] == ROLE) == 7 * len(account) + 2
    assert sum(1 for key in owners if key[1] == DASHBOARD) == len(account)


def test_the_same_stack_in_two_regions_shares_only_regional_names(account: list[Program]) -> None:
    # GIVEN dev in us-east-1 and dev in eu-west-1
    us, eu = (next(p for p in account if (p.stack, p.region) == ("dev", region)) for region in (US, EU))

    def names(program: Program, type_: str) -> set[str]:
        return {name for resource, name in _physical_names(program) if resource.type == type_}

    # WHEN their names are compared
    # THEN the regional bus name repeats (legal: another region), the global ones do not
    assert names(us, "aws:cloudwatch/eventBus:EventBus") == names(eu, "aws:cloudwatch/eventBus:EventBus")
    assert names(us, DASHBOARD) == {"eda-demo-dev-us-east-1"}
    assert names(eu, DASHBOARD) == {"eda-demo-dev-eu-west-1"}
    assert names(us, ROLE).isdisjoint(names(eu, ROLE))
    # AND the dashboard ARN, like every dashboard's, has no region
    assert {d["dashboardArn"] for d in eu.of_type(DASHBOARD)} == {
        f"arn:aws:cloudwatch::{ACCOUNT_ID}:dashboard/eda-demo-dev-eu-west-1"
    }


def test_every_physical_name_is_valid_for_its_service(account: list[Program]) -> None:
    # GIVEN every physical name of every stack
    checked: Counter[str] = Counter()
    for program in account:
        for resource, name in _physical_names(program):
            # WHEN it is checked against its service's rule (and an independent regex where written)
            rule = naming.NAMED_TYPES[resource.type].rule
            # THEN AWS would accept it
            assert rule.problem(name) is None, (program.stack, resource.name, name)
            if resource.type in INDEPENDENT_RULES:
                assert INDEPENDENT_RULES[resource.type].match(name), (program.stack, resource.name, name)
                checked[resource.type] += 1
    assert set(checked) == set(INDEPENDENT_RULES)


def test_the_longest_accepted_stack_name_fits_every_name_built_from_it(account: list[Program]) -> None:
    # GIVEN the stack with the longest accepted name
    (longest,) = (p for p in account if p.stack == LONGEST_STACK)
    # WHEN its names are read, and the limit the program computes from the AWS rules
    # THEN the limit is Pulumi's own 100 in both regions (no AWS rule is tighter), and the stack's
    # bus, log groups, dashboard and alarms carry all 100 characters
    assert naming.max_stack_length(US) == naming.max_stack_length(EU) == (100, "Pulumi stack names have at most 100")
    carrying = [name for _, name in _physical_names(longest) if LONGEST_STACK in name]
    assert len(carrying) == 1 + 8 + 1 + len(longest.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"))
    assert _dashboard_name(longest) == f"eda-demo-{LONGEST_STACK}-us-east-1"


def _dashboard_name(program: Program) -> str:
    """The dashboard name of a stack."""
    (dashboard,) = program.of_type(DASHBOARD)
    return str(dashboard["dashboardName"])


class _CountingMonitor(sandbox_program.MockMonitor):
    """The SDK's mock monitor, counting the cloud resources registered (not the stack itself)."""

    registered = 0

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        """Count, then register as usual."""
        if request.custom:
            type(self).registered += 1
        return super().RegisterResource(request)


@pytest.mark.parametrize(
    ("stack", "why"),
    [
        ("bad.name", "'.' cannot appear in CloudWatch dashboard names ('eda-demo-bad.name-us-east-1')"),
        ("x" * 101, "it has 101 characters, more than 100"),
        ("dev/alice", "'/' cannot appear in Pulumi stack names"),
    ],
)
def test_a_stack_name_a_physical_name_cannot_carry_is_refused_before_any_resource(
    monkeypatch: pytest.MonkeyPatch, stack: str, why: str
) -> None:
    # GIVEN a stack name Pulumi may accept but one of the program's names cannot carry
    _CountingMonitor.registered = 0
    monkeypatch.setattr(sandbox_program, "MockMonitor", _CountingMonitor)
    # WHEN the program is evaluated for it
    with pytest.raises(ConfigError) as raised:
        evaluate(stack)
    # THEN it stops with a config error naming the stack, the reason and what is accepted
    message = str(raised.value)
    assert f"stack {stack!r}" in message
    assert why in message
    assert "1 to 100 characters: letters, digits, '-' and '_'" in message
    # AND before declaring any resource
    assert _CountingMonitor.registered == 0


def test_make_sandbox_with_a_refused_stack_name_prints_the_error_and_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN `make sandbox STACK=bad.name`
    # WHEN the sandbox starts
    code = sandbox_main(["--stack", "bad.name"])
    # THEN it exits 2 with the program's error, and no traceback
    err = capsys.readouterr().err
    assert code == 2
    assert "sandbox: the program refused stack 'bad.name'" in err
    assert "letters, digits, '-' and '_'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("suffix", ["x" * (naming.SUFFIX_MAX_LENGTH + 1), "Create_Order", "-order", "order-"])
def test_a_component_suffix_the_stack_limit_does_not_cover_is_refused(suffix: str) -> None:
    # GIVEN the stack-name limit, computed with suffixes of at most SUFFIX_MAX_LENGTH plain characters
    # WHEN a component asks for a log group with a longer or other-shaped suffix
    # THEN the name builder refuses it, so the computed limit holds for every name it builds
    with pytest.raises(ValueError, match="name suffix"):
        naming.lambda_log_group_name("dev", suffix)
    assert naming.lambda_log_group_name("dev", "x" * naming.SUFFIX_MAX_LENGTH).endswith("x" * 32)
