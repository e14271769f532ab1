"""The mock AWS provider: the physical names, ARNs, URLs and IDs AWS would give each resource.

One small function per resource type builds what the provider would compute for it (the table
:data:`RESOURCE_STATES`); a type not in the table keeps its inputs and gets an auto-named ID.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi

from components import naming

ACCOUNT_ID = "123456789012"
#: The partitions other than ``aws``, by region prefix, with their DNS suffix (``aws.get_partition``).
OTHER_PARTITIONS = {"cn-": ("aws-cn", "amazonaws.com.cn"), "us-gov-": ("aws-us-gov", "amazonaws.com")}


def partition_of(region: str) -> tuple[str, str]:
    """The partition a region belongs to, and its DNS suffix, as AWS answers them."""
    for prefix, partition in OTHER_PARTITIONS.items():
        if region.startswith(prefix):
            return partition
    return "aws", "amazonaws.com"


LOG_RESOURCE_POLICY = "aws:cloudwatch/logResourcePolicy:LogResourcePolicy"
#: CloudWatch Logs PutResourcePolicy: "a maximum of 10 policies without resourceARN and one per
#: LogGroup resourceARN"; policies support only these actions, for AWS service principals.
ACCOUNT_LOG_RESOURCE_POLICIES_PER_REGION = 10
LOG_RESOURCE_POLICY_ACTIONS = frozenset({"logs:CreateLogStream", "logs:PutLogEvents"})
#: The provider's documented maximum for ``policy_document``.
LOG_RESOURCE_POLICY_MAX_LENGTH = 5120


def short_hash(*parts: str, length: int = 7) -> str:
    """A stable stand-in for randomness: the first ``length`` hex digits of a hash of ``parts``."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


class PhysicalNameError(ValueError):
    """AWS would refuse a resource the program declares: its name, or a per-account quota."""


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


@dataclass(frozen=True)
class NewResource:
    """One resource being created: what a state builder needs to know about it."""

    mocks: ProviderMocks
    logical: str
    #: The physical name (given, or auto-named as Pulumi would).
    name: str
    inputs: dict[str, Any]

    @property
    def region(self) -> str:
        """The stack's region."""
        return self.mocks.region

    @property
    def account(self) -> str:
        """The stack's account."""
        return self.mocks.account_id

    @property
    def partition(self) -> str:
        """The partition of the stack's region (``aws``, ``aws-cn``, ``aws-us-gov``)."""
        return partition_of(self.region)[0]

    @property
    def dns_suffix(self) -> str:
        """The partition's endpoint domain (``amazonaws.com``, ``amazonaws.com.cn``)."""
        return partition_of(self.region)[1]

    def hash(self, *parts: str, length: int = 7) -> str:
        """Randomness as the provider would have it, stable per stack, region and resource."""
        return self.mocks.hash(self.logical, *parts, length=length)


#: ``(physical ID, provider-computed state)`` of one resource.
Created = tuple[str, dict[str, Any]]


def _event_bus(r: NewResource) -> Created:
    return r.name, {"name": r.name, "arn": f"arn:{r.partition}:events:{r.region}:{r.account}:event-bus/{r.name}"}


def _event_rule(r: NewResource) -> Created:
    bus = r.inputs.get("eventBusName", "default")
    path = f"rule/{r.name}" if bus == "default" else f"rule/{bus}/{r.name}"
    return f"{bus}|{r.name}", {"name": r.name, "arn": f"arn:{r.partition}:events:{r.region}:{r.account}:{path}"}


def _event_target(r: NewResource) -> Created:
    target_id = r.inputs.get("targetId") or r.hash(length=12)
    return f"{r.inputs.get('eventBusName')}-{r.inputs.get('rule')}-{target_id}", {"targetId": target_id}


def _event_archive(r: NewResource) -> Created:
    return r.name, {"name": r.name, "arn": f"arn:{r.partition}:events:{r.region}:{r.account}:archive/{r.name}"}


def _log_group(r: NewResource) -> Created:
    arn = f"arn:{r.partition}:logs:{r.region}:{r.account}:log-group:{r.name}"
    r.mocks.log_groups.add(arn)
    return r.name, {"name": r.name, "arn": arn}


def _log_resource_policy(r: NewResource) -> Created:
    return r.mocks.log_resource_policy(r.logical, r.inputs)


def _queue(r: NewResource) -> Created:
    url = f"https://sqs.{r.region}.{r.dns_suffix}/{r.account}/{r.name}"
    return url, {"name": r.name, "arn": f"arn:{r.partition}:sqs:{r.region}:{r.account}:{r.name}", "url": url}


def _topic(r: NewResource) -> Created:
    arn = f"arn:{r.partition}:sns:{r.region}:{r.account}:{r.name}"
    return arn, {"name": r.name, "arn": arn}


def _topic_subscription(r: NewResource) -> Created:
    arn = f"{r.inputs.get('topic')}:{r.hash()}"
    return arn, {"arn": arn, "pendingConfirmation": r.inputs.get("protocol") == "email"}


def _role(r: NewResource) -> Created:
    return r.name, {
        "name": r.name,
        "arn": f"arn:{r.partition}:iam::{r.account}:role/{r.name}",
        "uniqueId": short_hash(r.name, length=21),
    }


def _role_policy(r: NewResource) -> Created:
    return f"{r.inputs.get('role')}:{r.name}", {"name": r.name}


def _function(r: NewResource) -> Created:
    arn = f"arn:{r.partition}:lambda:{r.region}:{r.account}:function:{r.name}"
    return r.name, {
        "name": r.name,
        "arn": arn,
        "qualifiedArn": f"{arn}:$LATEST",
        "invokeArn": f"arn:{r.partition}:apigateway:{r.region}:lambda:path/2015-03-31/functions/{arn}/invocations",
        "version": "$LATEST",
    }


#: The label of a table's stream: AWS names each stream after the time it was enabled.
STREAM_LABEL = "2026-01-01T00:00:00.000"


def _table(r: NewResource) -> Created:
    arn = f"arn:{r.partition}:dynamodb:{r.region}:{r.account}:table/{r.name}"
    state: dict[str, Any] = {"name": r.name, "arn": arn}
    if r.inputs.get("streamEnabled"):
        # A table with a stream reports its latest stream (``streamArn``, ``streamLabel``).
        state.update(streamArn=f"{arn}/stream/{STREAM_LABEL}", streamLabel=STREAM_LABEL)
    return r.name, state


def _event_source_mapping(r: NewResource) -> Created:
    digits = r.hash(length=32)
    mapping_id = f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
    function = str(r.inputs.get("functionName", ""))
    arn = f"arn:{r.partition}:lambda:{r.region}:{r.account}:event-source-mapping:{mapping_id}"
    return mapping_id, {"uuid": mapping_id, "arn": arn, "functionArn": function, "state": "Enabled"}


def _state_machine(r: NewResource) -> Created:
    arn = f"arn:{r.partition}:states:{r.region}:{r.account}:stateMachine:{r.name}"
    return arn, {"name": r.name, "arn": arn}


def _rest_api(r: NewResource) -> Created:
    rid = r.hash(length=10)
    return rid, {
        "name": r.name,
        "rootResourceId": short_hash(rid, "root", length=10),
        "executionArn": f"arn:{r.partition}:execute-api:{r.region}:{r.account}:{rid}",
        "arn": f"arn:{r.partition}:apigateway:{r.region}::/restapis/{rid}",
    }


def _api_resource(r: NewResource) -> Created:
    return r.hash(length=10), {}


def _stage(r: NewResource) -> Created:
    api, stage = r.inputs.get("restApi"), r.inputs.get("stageName")
    return f"ags-{api}-{stage}", {
        "invokeUrl": f"https://{api}.execute-api.{r.region}.{r.dns_suffix}/{stage}",
        "executionArn": f"arn:{r.partition}:execute-api:{r.region}:{r.account}:{api}/{stage}",
        "arn": f"arn:{r.partition}:apigateway:{r.region}::/restapis/{api}/stages/{stage}",
    }


def _api_key(r: NewResource) -> Created:
    value = r.inputs.get("value") or f"sandbox-{r.hash(length=20)}"
    return r.hash(length=10), {"name": r.name, "value": value}


def _kms_key(r: NewResource) -> Created:
    key_id = f"{r.hash(length=8)}-0000-4000-8000-000000000000"
    return key_id, {"keyId": key_id, "arn": f"arn:{r.partition}:kms:{r.region}:{r.account}:key/{key_id}"}


def _metric_alarm(r: NewResource) -> Created:
    return r.name, {"name": r.name, "arn": f"arn:{r.partition}:cloudwatch:{r.region}:{r.account}:alarm:{r.name}"}


def _dashboard(r: NewResource) -> Created:
    dashboard = str(r.inputs.get("dashboardName", r.name))
    # Dashboards are account-global: their ARN has no region.
    return dashboard, {"dashboardArn": f"arn:{r.partition}:cloudwatch::{r.account}:dashboard/{dashboard}"}


def _web_acl(r: NewResource) -> Created:
    # WAFv2 IDs are UUIDs; a REGIONAL ACL's ARN names its scope, name and ID.
    h = r.hash(length=32)
    wid = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    arn = f"arn:{r.partition}:wafv2:{r.region}:{r.account}:regional/webacl/{r.name}/{wid}"
    return wid, {"name": r.name, "arn": arn, "capacity": 902, "lockToken": r.hash("lock", length=32)}


#: What the provider computes, per resource type.
RESOURCE_STATES: dict[str, Callable[[NewResource], Created]] = {
    "aws:cloudwatch/eventBus:EventBus": _event_bus,
    "aws:cloudwatch/eventRule:EventRule": _event_rule,
    "aws:cloudwatch/eventTarget:EventTarget": _event_target,
    "aws:cloudwatch/eventArchive:EventArchive": _event_archive,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    LOG_RESOURCE_POLICY: _log_resource_policy,
    "aws:sqs/queue:Queue": _queue,
    "aws:sns/topic:Topic": _topic,
    "aws:sns/topicSubscription:TopicSubscription": _topic_subscription,
    "aws:iam/role:Role": _role,
    "aws:iam/rolePolicy:RolePolicy": _role_policy,
    "aws:lambda/function:Function": _function,
    "aws:dynamodb/table:Table": _table,
    "aws:lambda/eventSourceMapping:EventSourceMapping": _event_source_mapping,
    "aws:sfn/stateMachine:StateMachine": _state_machine,
    "aws:apigateway/restApi:RestApi": _rest_api,
    "aws:apigateway/resource:Resource": _api_resource,
    "aws:apigateway/stage:Stage": _stage,
    "aws:apigateway/apiKey:ApiKey": _api_key,
    "aws:kms/key:Key": _kms_key,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _metric_alarm,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
    "aws:wafv2/webAcl:WebAcl": _web_acl,
}


class ProviderMocks(pulumi.runtime.Mocks):
    """Plays the AWS provider: physical names, ARNs, URLs and IDs as AWS would return them.

    As strict as AWS about names: every physical name (explicit, or Pulumi's auto-name: logical
    name, ``-``, 7 hex characters) is checked against the rule of its service
    (:data:`components.naming.NAMED_TYPES`), and a name AWS would refuse raises
    :class:`PhysicalNameError` naming the resource, the name and the rule. The hex part of an
    auto-name depends on stack and region (real ones are random), so two stacks, or one stack in
    two regions, never share an account-global name such as an IAM role's.
    """

    def __init__(self, stack: str, region: str, account_id: str = ACCOUNT_ID) -> None:
        """Mocks for one stack in one region and account."""
        self.stack = stack
        self.region = region
        self.account_id = account_id
        #: ARNs of the log groups declared so far (a resource policy may only name one of them).
        self.log_groups: set[str] = set()
        self._resource_scoped_policies: set[str] = set()
        self._account_scoped_policies: set[str] = set()

    def hash(self, *parts: str, length: int = 7) -> str:
        """Stands for AWS's and Pulumi's randomness: stable per stack, region and resource."""
        return short_hash(self.stack, self.region, *parts, length=length)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # pyrefly: ignore[bad-override]
        """Data sources the program reads."""
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}
        partition, dns_suffix = partition_of(self.region)
        if args.token == "aws:index/getPartition:getPartition":
            reverse = ".".join(reversed(dns_suffix.split(".")))
            return {"partition": partition, "dnsSuffix": dns_suffix, "reverseDnsPrefix": reverse, "id": partition}
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account_id,
                "arn": f"arn:{partition}:iam::{self.account_id}:user/sandbox",
                "userId": "SANDBOX",
                "id": self.account_id,
            }
        raise NotImplementedError(f"sandbox mocks do not implement data source {args.token}")

    def _physical_name(self, args: pulumi.runtime.MockResourceArgs) -> str | None:
        """The name AWS would get for this resource (given, or auto-named), checked against its rule."""
        named = naming.NAMED_TYPES.get(args.typ)
        if named is None:
            return None
        value = args.inputs.get(named.property)
        if value is None:
            if not named.auto_named:
                return None
            value = f"{args.name}-{self.hash(args.name)}"
        problem = named.rule.problem(str(value))
        if problem is not None:
            raise PhysicalNameError(
                f"{args.typ} {args.name!r}: AWS refuses the {named.rule.what} {value!r}: it {problem}"
            )
        return str(value)

    def log_resource_policy(self, logical: str, inputs: dict[str, Any]) -> Created:
        """PutResourcePolicy as CloudWatch Logs checks it: scope, quota, actions, principals, resources."""

        def refuse(why: str) -> PhysicalNameError:
            return PhysicalNameError(f"{LOG_RESOURCE_POLICY} {logical!r}: CloudWatch Logs refuses it: {why}")

        policy_name, resource_arn = inputs.get("policyName"), inputs.get("resourceArn")
        if (policy_name is None) == (resource_arn is None):
            raise refuse("exactly one of policyName (account-scoped) or resourceArn (resource-scoped) must be set")
        document_text = str(inputs.get("policyDocument", ""))
        if not 1 <= len(document_text) <= LOG_RESOURCE_POLICY_MAX_LENGTH:
            raise refuse(f"the policy document has {len(document_text)} characters, 1 to 5120 accepted")
        statements = _as_list(json.loads(document_text).get("Statement", []))
        for statement in statements:
            actions = set(_as_list(statement.get("Action", [])))
            if not actions <= LOG_RESOURCE_POLICY_ACTIONS:
                raise refuse(f"only {sorted(LOG_RESOURCE_POLICY_ACTIONS)} are supported, got {sorted(actions)}")
            if set(statement.get("Principal", {})) != {"Service"}:
                raise refuse(f"only AWS service principals are supported, got {statement.get('Principal')}")
        if resource_arn is None:
            self._account_scoped_policies.add(str(policy_name))
            if len(self._account_scoped_policies) > ACCOUNT_LOG_RESOURCE_POLICIES_PER_REGION:
                raise refuse(f"LimitExceededException: more than {ACCOUNT_LOG_RESOURCE_POLICIES_PER_REGION} policies")
            return str(policy_name), {"policyScope": "ACCOUNT"}
        arn = str(resource_arn)
        if arn not in self.log_groups:
            raise refuse(f"resourceArn {arn!r} is not the ARN of a log group of this account and region")
        if arn in self._resource_scoped_policies:
            raise refuse(f"log group {arn!r} already has a resource policy (one per log group)")
        self._resource_scoped_policies.add(arn)
        for statement in statements:
            outside = [r for r in _as_list(statement.get("Resource", [])) if r != arn and not r.startswith(f"{arn}:")]
            if outside:
                raise refuse(f"a policy attached to {arn!r} may only name that log group and its streams: {outside}")
        return arn, {"policyScope": "RESOURCE", "revisionId": self.hash(logical, "revision", length=12)}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """Return the ID and state AWS would give this resource (refusing names AWS would refuse)."""
        inputs = dict(args.inputs)
        name = self._physical_name(args) or inputs.get("name") or f"{args.name}-{self.hash(args.name)}"
        build = RESOURCE_STATES.get(args.typ)
        if build is None:
            rid = f"{args.name}-{self.hash(args.name)}" if args.typ.startswith("aws:") else name
            return rid, inputs
        rid, computed = build(NewResource(self, args.name, str(name), inputs))
        return rid, {**inputs, **computed}
