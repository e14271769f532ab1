"""The program in another AWS partition: GovCloud (``aws-us-gov``) and China (``aws-cn``).

Every ARN the program builds takes the caller's partition (``aws.get_partition``, read once in
``__main__.py``): the ops key's account root, the recovery rule's alarm ARN prefix, the payment
workflow's ``putEvents`` integration, the API Gateway logging grant and the default Powertools
layer. The provider mocks answer with the partition's ARNs for the region (``arn:aws-us-gov:...``,
``arn:aws-cn:...``, ``amazonaws.com.cn`` endpoints in China), so one whole run under each shows
that no ``arn:aws:`` is left anywhere. Powertools publishes its layer in the commercial regions,
in cn-north-1 and in both GovCloud regions (Powertools for AWS Lambda (Python), "Installation",
layer version 27); elsewhere the program stops and names ``powertoolsLayerArn``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from parliament import analyze_policy_string
from program_testkit import OWNS_ACCOUNT_SETTINGS, ROLE_POLICY, STATE_MACHINE, as_list, one

from components.settings import ConfigError, StackSettings, powertools_layer_for
from sandbox.program.evaluation import Program, evaluate

GOV, CHINA = "us-gov-west-1", "cn-north-1"
LAYER_NAME = "AWSLambdaPowertoolsPythonV3-python312-arm64:27"
KEY = "aws:kms/key:Key"
FUNCTION = "aws:lambda/function:Function"
RECOVERY_RULE = "ops-alarm-recovered-rule"
#: Resource types whose ``policy`` is a resource policy.
POLICY_TYPES = {ROLE_POLICY: "policy", KEY: "policy", "aws:sns/topicPolicy:TopicPolicy": "policy"}


@pytest.fixture(scope="module")
def gov() -> Program:
    """Everything the program can declare (the account's shared resources and the web ACL included), in GovCloud."""
    return evaluate("dev", overrides={"aws:region": GOV, "eda-demo:apiWaf": "true", **OWNS_ACCOUNT_SETTINGS})


@pytest.fixture(scope="module")
def china() -> Program:
    """The dev stack in cn-north-1, the one China region with a public Powertools layer."""
    return evaluate("dev", overrides={"aws:region": CHINA})


def _strings(value: Any) -> list[str]:
    """Every string inside a resource's state, JSON documents (policies, definitions) included."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


@pytest.mark.parametrize(("stack", "partition"), [("gov", "aws-us-gov"), ("china", "aws-cn")])
def test_no_arn_of_the_aws_partition_is_left_in_any_resource(
    request: pytest.FixtureRequest, stack: str, partition: str
) -> None:
    # GIVEN one whole run of the program in a region of another partition
    program: Program = request.getfixturevalue(stack)
    # WHEN every string of every resource's inputs and state is read
    leaks = {r.name: s for r in program.resources for s in _strings(r.state) if "arn:aws:" in s}
    ours = [s for r in program.resources for s in _strings(r.state) if f"arn:{partition}:" in s]
    # THEN none names the aws partition, and the partition's own ARNs are everywhere (not vacuous)
    assert leaks == {}
    assert len(ours) > 100


def test_the_arns_the_program_builds_take_the_partition(gov: Program) -> None:
    # GIVEN the GovCloud run
    key_policy = json.loads(one(gov.of_type(KEY))["policy"])
    pattern = json.loads(gov.named(RECOVERY_RULE)["eventPattern"])
    definition = json.loads(one(gov.of_type(STATE_MACHINE))["definition"])
    tasks = [s["Resource"] for s in definition["States"].values() if s["Type"] == "Task"]
    logging = json.loads(gov.named("orders-api-logging-policy")["policy"])
    # WHEN the ARNs the program writes itself are read
    # THEN each is GovCloud's: the key's account root, the alarm prefix, the putEvents
    # integration, the API Gateway logging grant and the layer of every function
    root = {s["Principal"].get("AWS") for s in key_policy["Statement"]} - {None}
    assert root == {f"arn:aws-us-gov:iam::{gov.account_id}:root"}
    assert pattern["resources"] == [{"prefix": f"arn:aws-us-gov:cloudwatch:{GOV}:{gov.account_id}:alarm:eda-demo-dev/"}]
    assert tasks == ["arn:aws-us-gov:states:::events:putEvents"]
    groups = f"arn:aws-us-gov:logs:{GOV}:{gov.account_id}:log-group:*"
    assert {r for s in logging["Statement"] for r in as_list(s["Resource"])} == {groups, f"{groups}:log-stream:*", "*"}
    layers = {layer for fn in gov.of_type(FUNCTION) for layer in fn["layers"]}
    assert layers == {f"arn:aws-us-gov:lambda:{GOV}:165093116878:layer:{LAYER_NAME}"}


@pytest.mark.parametrize(
    ("region", "partition", "account"),
    [
        ("us-east-1", "aws", "017000801446"),
        ("eu-west-1", "aws", "017000801446"),
        ("us-gov-west-1", "aws-us-gov", "165093116878"),
        ("us-gov-east-1", "aws-us-gov", "165087284144"),
        ("cn-north-1", "aws-cn", "498634801083"),
    ],
)
def test_the_default_layer_is_the_public_layer_of_the_partition_and_region(
    region: str, partition: str, account: str
) -> None:
    # GIVEN no configured layer  WHEN the layer of a region is chosen
    # THEN it is Powertools' published ARN there (its account differs per GovCloud region)
    assert powertools_layer_for(StackSettings(), region, partition) == (
        f"arn:{partition}:lambda:{region}:{account}:layer:{LAYER_NAME}"
    )


def test_a_region_without_a_public_layer_stops_the_program_naming_the_key() -> None:
    # GIVEN the China region where Powertools publishes no layer
    # WHEN the program is evaluated there with no layer configured
    with pytest.raises(ConfigError) as raised:
        evaluate("dev", overrides={"aws:region": "cn-northwest-1"})
    # THEN it stops before any resource, naming the region, the partition and the key to set
    message = str(raised.value)
    assert "cn-northwest-1" in message and "aws-cn" in message
    assert "eda-demo:powertoolsLayerArn" in message


def test_a_configured_layer_of_another_partition_is_refused() -> None:
    # GIVEN a commercial-partition layer ARN configured for a GovCloud stack of the same region name
    settings = StackSettings(powertools_layer_arn=f"arn:aws:lambda:{GOV}:111122223333:layer:my-powertools:3")
    # WHEN the layer is chosen  THEN it is refused, naming the partition Lambda expects
    with pytest.raises(ConfigError, match="partition aws-us-gov"):
        powertools_layer_for(settings, GOV, "aws-us-gov")
    # AND one of the right partition and region is used as given
    own = f"arn:aws-us-gov:lambda:{GOV}:111122223333:layer:my-powertools:3"
    assert powertools_layer_for(StackSettings(powertools_layer_arn=own), GOV, "aws-us-gov") == own


def _documents(program: Program) -> dict[str, str]:
    return {r.name: r[key] for type_, key in POLICY_TYPES.items() for r in program.of_type(type_)}


def test_iam_documents_lint_the_same_and_name_only_the_partitions_resources(
    gov: Program, owner_program: Program
) -> None:
    # GIVEN every identity and resource policy of the GovCloud run, and of the same stack in aws
    documents, reference = _documents(gov), _documents(owner_program)
    assert set(documents) == set(reference) and len(documents) == 10 + 1 + 1

    def findings(doc: str) -> set[str]:
        analysed = analyze_policy_string(doc, include_community_auditors=True)
        return {f"{f.issue}:{','.join(f.location.get('actions', []))}" for f in analysed.findings}

    # WHEN parliament lints them, and their resources are read
    resources = {r for doc in documents.values() for s in json.loads(doc)["Statement"] for r in as_list(s["Resource"])}
    # THEN parliament finds exactly what it finds in the aws partition, and every resource is
    # GovCloud's (or "*" where AWS accepts nothing narrower, as in the aws partition)
    assert {name: findings(doc) for name, doc in documents.items()} == {
        name: findings(doc) for name, doc in reference.items()
    }
    assert {r for r in resources if not r.startswith("arn:aws-us-gov:")} == {"*"}
