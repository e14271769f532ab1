"""Physical names: the few resources AWS needs to know by name, and the rules AWS holds names to.

Everything else is auto-named by Pulumi (logical name, ``-`` and 7 random hex characters), so
two stacks of this project never collide. Names built here always carry the project and the
stack; the dashboard also carries the region, because CloudWatch dashboards are account-global.

:data:`NAMED_TYPES` says, for every resource type the program declares with a name, which
property holds it and what AWS accepts there (each rule from that service's API reference). The
stack names this program accepts are derived from those rules (:func:`stack_name_problem`), and
the sandbox's provider mocks refuse any physical name that breaks them, as AWS would.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from components import alarms

PROJECT = "eda-demo"


@dataclass(frozen=True)
class NameRule:
    """What one AWS API accepts as a name: allowed characters, length bounds, reserved forms."""

    what: str
    #: A regex matching one allowed character (a class such as ``[A-Za-z0-9_-]``).
    characters: str
    #: The same set in words, for error messages.
    accepted: str
    #: ``None`` where the API reference documents no maximum.
    max_length: int | None
    min_length: int = 1
    reserved_prefixes: tuple[str, ...] = ()
    reserved_names: tuple[str, ...] = ()

    def allows(self, character: str) -> bool:
        """Whether ``character`` may appear in such a name."""
        return re.fullmatch(self.characters, character) is not None

    def problem(self, name: str) -> str | None:
        """Why AWS refuses ``name`` for this kind of resource, or ``None`` if it accepts it."""
        if len(name) < self.min_length:
            return f"has {len(name)} characters; {self.what}s have at least {self.min_length}"
        if self.max_length is not None and len(name) > self.max_length:
            return f"has {len(name)} characters; {self.what}s have at most {self.max_length}"
        refused = sorted({c for c in name if not self.allows(c)})
        if refused:
            return f"contains {', '.join(map(repr, refused))}; {self.what}s may contain only {self.accepted}"
        for prefix in self.reserved_prefixes:
            if name.startswith(prefix):
                return f"starts with {prefix!r}, which {self.what}s may not"
        if name in self.reserved_names:
            return f"is {name!r}, which AWS reserves among {self.what}s"
        return None


_LETTERS_DIGITS = "letters, digits"

# Each rule is the constraint the service's API reference states for the name parameter.
#: SQS CreateQueue QueueName: up to 80 alphanumerics, hyphens and underscores.
SQS_QUEUE = NameRule("SQS queue name", r"[A-Za-z0-9_-]", f"{_LETTERS_DIGITS}, '-' and '_'", 80)
#: SNS CreateTopic Name: ASCII letters, numbers, underscores and hyphens, 1 to 256.
SNS_TOPIC = NameRule("SNS topic name", r"[A-Za-z0-9_-]", f"{_LETTERS_DIGITS}, '-' and '_'", 256)
#: IAM CreateRole RoleName: ``[\w+=,.@-]+``, 1 to 64 (account-global).
IAM_ROLE = NameRule("IAM role name", r"[A-Za-z0-9_+=,.@-]", f"{_LETTERS_DIGITS} and _+=,.@-", 64)
#: IAM PutRolePolicy PolicyName: ``[\w+=,.@-]+``, 1 to 128.
IAM_ROLE_POLICY = NameRule("IAM role policy name", r"[A-Za-z0-9_+=,.@-]", f"{_LETTERS_DIGITS} and _+=,.@-", 128)
#: Lambda CreateFunction FunctionName: ``[a-zA-Z0-9-_]``, a bare name at most 64 characters.
LAMBDA_FUNCTION = NameRule("Lambda function name", r"[A-Za-z0-9_-]", f"{_LETTERS_DIGITS}, '-' and '_'", 64)
#: Lambda AddPermission StatementId: ``([a-zA-Z0-9-_]+)``, 1 to 100.
LAMBDA_STATEMENT_ID = NameRule(
    "Lambda permission statement id", r"[A-Za-z0-9_-]", f"{_LETTERS_DIGITS}, '-' and '_'", 100
)
#: CloudWatch Logs CreateLogGroup logGroupName: ``[\.\-_/#A-Za-z0-9]+``, 1 to 512, not ``aws/...``.
LOG_GROUP = NameRule(
    "CloudWatch Logs log group name",
    r"[A-Za-z0-9_/.#-]",
    f"{_LETTERS_DIGITS} and _-/.#",
    512,
    reserved_prefixes=("aws/",),
)
#: EventBridge CreateEventBus Name: ``[/\.\-_A-Za-z0-9]+``, 1 to 256; a custom bus can't contain
#: ``/`` nor be called ``default``.
EVENT_BUS = NameRule(
    "EventBridge event bus name",
    r"[A-Za-z0-9_.-]",
    f"{_LETTERS_DIGITS} and _-.",
    256,
    reserved_names=("default",),
)
#: EventBridge PutRule Name: ``[\.\-_A-Za-z0-9]+``, 1 to 64.
EVENT_RULE = NameRule("EventBridge rule name", r"[A-Za-z0-9_.-]", f"{_LETTERS_DIGITS} and _-.", 64)
#: EventBridge CreateArchive ArchiveName: ``[\.\-_A-Za-z0-9]+``, 1 to 48.
EVENT_ARCHIVE = NameRule("EventBridge archive name", r"[A-Za-z0-9_.-]", f"{_LETTERS_DIGITS} and _-.", 48)
#: EventBridge PutTargets Target Id: ``[\.\-_A-Za-z0-9]+``, 1 to 64.
EVENT_TARGET_ID = NameRule("EventBridge target id", r"[A-Za-z0-9_.-]", f"{_LETTERS_DIGITS} and _-.", 64)
#: Step Functions CreateStateMachine name: 1 to 80, no white space, brackets, wildcards, the listed
#: special characters or control characters.
STATE_MACHINE = NameRule(
    "Step Functions state machine name",
    r'[^\s<>{}\[\]?*"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]',
    'characters other than white space, < > { } [ ] ? * " # % \\ ^ | ~ ` $ & , ; : / and control characters',
    80,
)
#: CloudWatch PutMetricAlarm AlarmName: 1 to 255 UTF-8 characters, no ASCII control characters.
METRIC_ALARM = NameRule("CloudWatch alarm name", r"[^\x00-\x1f\x7f]", "characters other than ASCII control ones", 255)
#: CloudWatch PutDashboard DashboardName: at most 255 of A-Z, a-z, 0-9, "-" and "_" (account-global).
DASHBOARD = NameRule("CloudWatch dashboard name", r"[A-Za-z0-9_-]", f"{_LETTERS_DIGITS}, '-' and '_'", 255)
#: DynamoDB table names: 3 to 255 of a-z, A-Z, 0-9, "_", "-" and ".".
DYNAMODB_TABLE = NameRule("DynamoDB table name", r"[A-Za-z0-9_.-]", f"{_LETTERS_DIGITS} and _-.", 255, min_length=3)
#: API Gateway CreateStage stageName: alphanumerics, hyphens and underscores, at most 128.
API_STAGE = NameRule("API Gateway stage name", r"[A-Za-z0-9_-]", f"{_LETTERS_DIGITS}, '-' and '_'", 128)
#: API Gateway CreateModel name: "Must be alphanumeric" (no maximum documented).
API_MODEL = NameRule("API Gateway model name", r"[A-Za-z0-9]", "letters and digits", None)
#: EventBridge Schemas registry name (pulumi-aws ``schemas.Registry``): at most 64 of letters,
#: digits, ".", "-" and "_".
SCHEMA_REGISTRY = NameRule("EventBridge schema registry name", r"[A-Za-z0-9_.-]", f"{_LETTERS_DIGITS} and _-.", 64)
#: EventBridge Schemas schema name (pulumi-aws ``schemas.Schema``): at most 385 of letters, ".", "-",
#: "_" and "@" (digits are not listed, so they are refused here: stricter than AWS at worst).
SCHEMA = NameRule("EventBridge schema name", r"[A-Za-z_.@-]", "letters and _-.@", 385)

#: WAFv2 CreateWebACL Name: 1 to 128 of letters, digits, "_" and "-" (``^[\w\-]+$``).
WEB_ACL = NameRule("WAFv2 web ACL name", r"[A-Za-z0-9_-]", f"{_LETTERS_DIGITS}, '-' and '_'", 128)


def _api_gateway(what: str) -> NameRule:
    """API Gateway documents no constraint on these names beyond being given."""
    return NameRule(f"API Gateway {what} name", r"[\s\S]", "any characters", None)


@dataclass(frozen=True)
class NamedType:
    """Where a resource type keeps its physical name, and the rule AWS holds it to."""

    property: str
    rule: NameRule
    #: Pulumi names it ``<logical name>-<7 random hex>`` when the program gives no name.
    auto_named: bool = True


#: Every resource type the program declares that has a physical name, by Pulumi type token.
NAMED_TYPES: dict[str, NamedType] = {
    "aws:sqs/queue:Queue": NamedType("name", SQS_QUEUE),
    "aws:sns/topic:Topic": NamedType("name", SNS_TOPIC),
    "aws:iam/role:Role": NamedType("name", IAM_ROLE),
    "aws:iam/rolePolicy:RolePolicy": NamedType("name", IAM_ROLE_POLICY),
    "aws:lambda/function:Function": NamedType("name", LAMBDA_FUNCTION),
    "aws:lambda/permission:Permission": NamedType("statementId", LAMBDA_STATEMENT_ID, auto_named=False),
    "aws:cloudwatch/logGroup:LogGroup": NamedType("name", LOG_GROUP),
    "aws:cloudwatch/eventBus:EventBus": NamedType("name", EVENT_BUS),
    "aws:cloudwatch/eventRule:EventRule": NamedType("name", EVENT_RULE),
    "aws:cloudwatch/eventArchive:EventArchive": NamedType("name", EVENT_ARCHIVE),
    "aws:cloudwatch/eventTarget:EventTarget": NamedType("targetId", EVENT_TARGET_ID, auto_named=False),
    "aws:sfn/stateMachine:StateMachine": NamedType("name", STATE_MACHINE),
    "aws:cloudwatch/metricAlarm:MetricAlarm": NamedType("name", METRIC_ALARM),
    "aws:cloudwatch/dashboard:Dashboard": NamedType("dashboardName", DASHBOARD, auto_named=False),
    "aws:dynamodb/table:Table": NamedType("name", DYNAMODB_TABLE),
    "aws:apigateway/restApi:RestApi": NamedType("name", _api_gateway("REST API")),
    "aws:apigateway/apiKey:ApiKey": NamedType("name", _api_gateway("API key")),
    "aws:apigateway/usagePlan:UsagePlan": NamedType("name", _api_gateway("usage plan")),
    "aws:apigateway/requestValidator:RequestValidator": NamedType("name", _api_gateway("request validator")),
    "aws:apigateway/model:Model": NamedType("name", API_MODEL),
    "aws:apigateway/stage:Stage": NamedType("stageName", API_STAGE, auto_named=False),
    "aws:schemas/registry:Registry": NamedType("name", SCHEMA_REGISTRY),
    "aws:schemas/schema:Schema": NamedType("name", SCHEMA),
    "aws:wafv2/webAcl:WebAcl": NamedType("name", WEB_ACL),
}

#: What Pulumi itself accepts as a stack name (``^[A-Za-z0-9_.-]{1,100}$``).
PULUMI_STACK = NameRule("Pulumi stack name", r"[A-Za-z0-9_.-]", f"{_LETTERS_DIGITS} and _-.", 100)
#: The longest part a component appends after the stack (``catch-all``, ``create-order``, ...).
SUFFIX_MAX_LENGTH = 32
_SUFFIX = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def _suffix(value: str) -> str:
    """A component's part of a name: short lowercase words joined by ``-``, so the stack decides the fit."""
    if len(value) > SUFFIX_MAX_LENGTH or not _SUFFIX.match(value):
        raise ValueError(
            f"name suffix {value!r} must be lowercase words joined by '-', at most {SUFFIX_MAX_LENGTH} characters"
        )
    return value


def stack_prefix(stack: str) -> str:
    """``eda-demo-<stack>``: the prefix of every explicit physical name of a stack."""
    return f"{PROJECT}-{stack}"


def event_bus_name(stack: str) -> str:
    """The custom bus of a stack (readable in the console, unique per stack and region)."""
    return stack_prefix(stack)


def events_log_group_name(stack: str, purpose: str) -> str:
    """A log group EventBridge writes to (a resource policy attached to it lets EventBridge in)."""
    return f"/aws/events/{stack_prefix(stack)}-{_suffix(purpose)}"


def lambda_log_group_name(stack: str, function: str) -> str:
    """The explicit log group of one function (its retention is ours, not 'never expire')."""
    return f"/aws/lambda/{stack_prefix(stack)}-{_suffix(function)}"


def vended_log_group_name(stack: str, source: str) -> str:
    """Log groups for vended logs (Step Functions, API access logs) under ``/aws/vendedlogs``."""
    return f"/aws/vendedlogs/{stack_prefix(stack)}-{_suffix(source)}"


def api_execution_log_group_name(api_id: str, stage: str) -> str:
    """The group API Gateway writes a REST API stage's execution logs to (its name, not ours to choose).

    API Gateway creates ``API-Gateway-Execution-Logs_{rest-api-id}/{stage-name}`` itself, with no
    retention, unless it exists ("Set up CloudWatch logging for REST APIs in API Gateway").
    """
    return f"API-Gateway-Execution-Logs_{api_id}/{stage}"


def dashboard_name(stack: str, region: str) -> str:
    """The stack's dashboard: dashboards are account-global, so the name carries the region too."""
    return f"{stack_prefix(stack)}-{region}"


def schema_registry_name() -> str:
    """The schema registry of the account and region: the project's name, whichever stack owns it.

    EventBridge Schemas allows 10 registries per account and region (adjustable), so the registry
    is shared: one stack (``manageSchemaRegistry``) publishes it, and consumers find it under
    this name without knowing which stack that is.
    """
    return PROJECT


def schema_name(source: str, detail_type: str) -> str:
    """A schema as EventBridge schema discovery names it: ``<source>@<detail-type>``."""
    return f"{source}@{detail_type}"


def stack_names(stack: str, region: str) -> list[tuple[NameRule, str]]:
    """Every explicit physical name built from ``stack``, each with the rule AWS holds it to.

    Components add a suffix of their own to some names; the longest one allowed stands for all.
    """
    longest = "x" * SUFFIX_MAX_LENGTH
    return [
        (EVENT_BUS, event_bus_name(stack)),
        (LOG_GROUP, events_log_group_name(stack, longest)),
        (LOG_GROUP, lambda_log_group_name(stack, longest)),
        (LOG_GROUP, vended_log_group_name(stack, longest)),
        (DASHBOARD, dashboard_name(stack, region)),
        # Spelled out rather than through alarms.alarm_name, which refuses a stack holding its separator.
        (METRIC_ALARM, f"{stack_prefix(stack)}{alarms.SEPARATOR}{'x' * alarms.LABEL_MAX_LENGTH}"),
    ]


def _rules_on_stack(stack: str, region: str) -> list[tuple[NameRule, str]]:
    return [(PULUMI_STACK, stack), *stack_names(stack, region)]


def stack_characters(region: str) -> str:
    """The characters a stack name may use: those every name built from it (and Pulumi) allows."""
    candidates = string.ascii_letters + string.digits + string.punctuation
    return "".join(c for c in candidates if all(rule.allows(c) for rule, _ in _rules_on_stack(c, region)))


def max_stack_length(region: str) -> tuple[int, str]:
    """The longest stack name every name built from it fits in, and why no longer one fits."""
    limits = [(PULUMI_STACK.max_length or 0, f"{PULUMI_STACK.what}s have at most {PULUMI_STACK.max_length}")]
    for (rule, fixed), (_, shown) in zip(stack_names("", region), stack_names("<stack>", region), strict=True):
        if rule.max_length is not None:
            limits.append(
                (
                    rule.max_length - len(fixed),
                    f"{rule.what}s have at most {rule.max_length} and {shown!r} adds {len(fixed)}",
                )
            )
    return min(limits)


def describe_characters(characters: str) -> str:
    """``letters, digits, '-' and '_'`` for the set ``A-Za-z0-9-_``."""
    parts = []
    rest = set(characters)
    if set(string.ascii_letters) <= rest:
        parts.append("letters")
        rest -= set(string.ascii_letters)
    if set(string.digits) <= rest:
        parts.append("digits")
        rest -= set(string.digits)
    parts += [repr(c) for c in sorted(rest)]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def stack_name_problem(stack: str, region: str) -> str | None:
    """Why no deployment of this program can carry ``stack`` in ``region``, or ``None``."""
    if not stack:
        return "a stack name cannot be empty"
    for rule, name in _rules_on_stack(stack, region):
        refused = sorted({c for c in stack if not rule.allows(c)})
        if refused:
            return f"{', '.join(map(repr, refused))} cannot appear in {rule.what}s ({name!r})"
    limit, binding = max_stack_length(region)
    if len(stack) > limit:
        return f"it has {len(stack)} characters, more than {limit} ({binding})"
    return None
