"""Stack settings: every config key of the ``eda-demo`` namespace, parsed and validated once.

``__main__.py`` reads ``pulumi.Config()`` and hands its raw strings to :func:`load_settings`;
components only ever see the typed :class:`StackSettings`. A bad value raises
:class:`ConfigError` naming the key and what it accepts, so ``pulumi up`` stops before any
resource is touched. :func:`check_stack_name` does the same for the stack name itself.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from components import naming

#: Step Functions workflow types: STANDARD bills per state transition, EXPRESS per request and duration.
STANDARD, EXPRESS = "STANDARD", "EXPRESS"
WORKFLOW_TYPES = (STANDARD, EXPRESS)
#: Retention values CloudWatch Logs accepts (days).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
API_AUTH_MODES = ("NONE", "AWS_IAM", "API_KEY")

# --- Defaults: the one home in Python of every config default (``Pulumi.yaml`` declares the same
# values, a test keeps the two equal). Component Args default to these too.
DEFAULT_FRAUD_THRESHOLD = 500
DEFAULT_WORKFLOW_TYPE = STANDARD
DEFAULT_LOG_RETENTION_DAYS = 14
DEFAULT_API_THROTTLE_RATE = 50
DEFAULT_API_THROTTLE_BURST = 100
DEFAULT_API_AUTH = "NONE"
#: The schema registry is one per account and region, published by the one stack that owns it
#: (EventBridge Schemas allows 10 registries per account and region): off in every other stack.
DEFAULT_MANAGE_SCHEMA_REGISTRY = False
DEFAULT_PROTECT_DATA = False
DEFAULT_ARCHIVE_RETENTION_DAYS = 7
DEFAULT_MANAGE_API_GATEWAY_ACCOUNT = False
# --- The API's edge and the audit trail (checkov's findings): defaults of their keys.
#: A WAFv2 web ACL in front of the stage (off: a developer stack pays nothing for it).
DEFAULT_API_WAF = False
#: Requests one client IP may send in 5 minutes before the web ACL blocks it (WAF accepts 10 to 2e9).
DEFAULT_API_WAF_RATE_LIMIT = 1000
API_WAF_RATE_LIMIT_RANGE = (10, 2_000_000_000)
#: Retention of the audit trail (the API access log and the catch-all event log); ``None``: the
#: stack's ``logRetentionDays``.
DEFAULT_AUDIT_LOG_RETENTION_DAYS: int | None = None
#: Longest archive retention this project accepts (ten years). EventBridge documents only a
#: minimum (0); 0 itself is refused, see :func:`load_settings`.
ARCHIVE_RETENTION_MAX_DAYS = 3650
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
#: Powertools for AWS Lambda (Python) v3 public layer, for python3.12 on arm64: its name and version.
POWERTOOLS_LAYER = "AWSLambdaPowertoolsPythonV3-python312-arm64:27"
#: The account publishing that layer in every region of the ``aws`` partition (Powertools docs,
#: "Installation": ``arn:aws:lambda:{region}:017000801446:layer:...``).
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
#: Outside the ``aws`` partition Powertools publishes the layer in these regions only, each from
#: an account of its own (same page, "AWS China regions" and "AWS GovCloud regions").
POWERTOOLS_LAYER_ACCOUNTS_OUTSIDE_AWS = {
    ("aws-cn", "cn-north-1"): "498634801083",
    ("aws-us-gov", "us-gov-east-1"): "165087284144",
    ("aws-us-gov", "us-gov-west-1"): "165093116878",
}


class ConfigError(ValueError):
    """A config value (or the stack name) is not of its accepted shape; the message names it."""


@dataclass(frozen=True)
class StackSettings:
    """Typed, validated config of one stack (the ``DEFAULT_*`` values, which ``Pulumi.yaml`` declares too)."""

    notification_email: str | None = None
    alarm_email: str | None = None
    fraud_threshold: float = DEFAULT_FRAUD_THRESHOLD
    payment_workflow_type: str = DEFAULT_WORKFLOW_TYPE
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    powertools_layer_arn: str | None = None
    api_throttle_rate: float = DEFAULT_API_THROTTLE_RATE
    api_throttle_burst: int = DEFAULT_API_THROTTLE_BURST
    api_auth: str = DEFAULT_API_AUTH
    manage_schema_registry: bool = DEFAULT_MANAGE_SCHEMA_REGISTRY
    protect_data: bool = DEFAULT_PROTECT_DATA
    archive_retention_days: int = DEFAULT_ARCHIVE_RETENTION_DAYS
    manage_api_gateway_account: bool = DEFAULT_MANAGE_API_GATEWAY_ACCOUNT
    # The API's edge and the audit trail.
    api_waf: bool = DEFAULT_API_WAF
    api_waf_rate_limit: int = DEFAULT_API_WAF_RATE_LIMIT
    audit_log_retention_days: int | None = DEFAULT_AUDIT_LOG_RETENTION_DAYS

    @property
    def audit_retention_days(self) -> int:
        """Days the audit trail is kept: ``auditLogRetentionDays``, or else the stack's log retention."""
        return self.audit_log_retention_days or self.log_retention_days


Getter = Callable[[str], str | None]


def _key(name: str) -> str:
    return f"eda-demo:{name}"


def _email(get: Getter, name: str) -> str | None:
    raw = get(name)
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip()
    if not _EMAIL.match(value):
        raise ConfigError(f"{_key(name)} must be an email address like ops@example.com, got {raw!r}")
    return value


def _positive_number(get: Getter, name: str, default: float) -> float:
    raw = get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{_key(name)} must be a positive number, got {raw!r}")
    return int(value) if value.is_integer() else value


def _int_in(get: Getter, name: str, default: int, low: int, high: int) -> int:
    raw = get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{_key(name)} must be an integer from {low} to {high}, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{_key(name)} must be an integer from {low} to {high}, got {raw!r}")
    return value


def _one_of(get: Getter, name: str, default: str, accepted: tuple[str, ...]) -> str:
    raw = get(name)
    if raw is None:
        return default
    if raw not in accepted:
        raise ConfigError(f"{_key(name)} must be one of {', '.join(accepted)}, got {raw!r}")
    return raw


def _bool(get: Getter, name: str, default: bool) -> bool:
    raw = get(name)
    if raw is None:
        return default
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise ConfigError(f"{_key(name)} must be true or false, got {raw!r}")


def _log_retention(get: Getter, name: str) -> int | None:
    """A retention CloudWatch Logs accepts (days), or ``None`` when the key is unset."""
    raw = get(name)
    if raw is None:
        return None
    value = _int_in(get, name, 0, 1, 3653)
    if value not in LOG_RETENTION_DAYS:
        raise ConfigError(f"{_key(name)} must be one of {', '.join(map(str, LOG_RETENTION_DAYS))}, got {raw!r}")
    return value


def _archive_retention_days(get: Getter) -> int:
    """Days the archive keeps events; 0 ('keep forever') is refused because it never applies.

    The AWS provider sends ``RetentionDays`` only when it is non-zero (0 reads as unset), so a change
    from N days to 0 is never sent: the archive keeps N and the diff comes back on every run.
    """
    name = "archiveRetentionDays"
    raw = get(name)
    if raw is not None and raw.strip().lstrip("+-").isdigit() and int(raw) == 0:
        raise ConfigError(
            f"{_key(name)} 0 ('keep forever') cannot be applied: the AWS provider never sends 0 on update "
            "(it reads as unset), so the archive would keep its old retention and show a diff on every run; "
            f"set the longest retention you need instead, an integer from 1 to {ARCHIVE_RETENTION_MAX_DAYS}, "
            f"got {raw!r}"
        )
    return _int_in(get, name, DEFAULT_ARCHIVE_RETENTION_DAYS, 1, ARCHIVE_RETENTION_MAX_DAYS)


def check_stack_name(stack: str, region: str) -> str:
    """Refuse a stack name that one of the program's physical names cannot carry, before any resource.

    Pulumi accepts ``.`` and up to 100 characters; the accepted set here is what every explicit
    name built from the stack (bus, log groups, dashboard) and Pulumi itself allow.
    """
    problem = naming.stack_name_problem(stack, region)
    if problem is not None:
        limit, _ = naming.max_stack_length(region)
        accepted = naming.describe_characters(naming.stack_characters(region))
        raise ConfigError(
            f"stack {stack!r} cannot name this program's resources: {problem}. "
            f"A stack name here is 1 to {limit} characters: {accepted}"
        )
    return stack


def _public_layer(region: str, partition: str) -> str:
    """Powertools' public layer in ``region``, or a config error naming the key when there is none."""
    account = (
        POWERTOOLS_LAYER_ACCOUNT
        if partition == "aws"
        else POWERTOOLS_LAYER_ACCOUNTS_OUTSIDE_AWS.get((partition, region))
    )
    if account is None:
        published = ", ".join(sorted(r for p, r in POWERTOOLS_LAYER_ACCOUNTS_OUTSIDE_AWS if p == partition)) or "none"
        raise ConfigError(
            f"Powertools publishes no public layer in {region} (partition {partition}; its regions there: "
            f"{published}): set {_key('powertoolsLayerArn')} to a Powertools for AWS Lambda (Python v3, "
            f"python3.12, arm64) layer version you publish in {region}"
        )
    return f"arn:{partition}:lambda:{region}:{account}:layer:{POWERTOOLS_LAYER}"


def powertools_layer_for(settings: StackSettings, region: str, partition: str) -> str:
    """The Powertools layer version the functions use: the configured one, or the region's public one.

    Lambda refuses a layer of another region or partition (``InvalidParameterValueException`` at
    function creation), so a configured layer is checked against the stack's, before any resource.
    """
    layer = settings.powertools_layer_arn
    if layer is None:
        return _public_layer(region, partition)
    _, layer_partition, _, layer_region, *_ = layer.split(":")
    if (layer_partition, layer_region) != (partition, region):
        raise ConfigError(
            f"{_key('powertoolsLayerArn')} must be a layer of the stack's region {region} (partition {partition}), "
            f"got {layer!r} (a layer of {layer_region}, partition {layer_partition}); Lambda refuses layers of "
            "another region or partition"
        )
    return layer


def load_settings(raw_get: Getter) -> StackSettings:
    """Build :class:`StackSettings` from raw config strings (``get(key)`` -> value or None).

    An empty string counts as unset (``Pulumi.yaml`` declares optional keys with ``""``).
    """

    def get(key: str) -> str | None:
        value = raw_get(key)
        return None if value is None or value == "" else value

    retention = _log_retention(get, "logRetentionDays") or DEFAULT_LOG_RETENTION_DAYS
    layer = get("powertoolsLayerArn")
    if layer is not None and not re.match(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[\w-]+:\d+$", layer):
        raise ConfigError(f"{_key('powertoolsLayerArn')} must be a Lambda layer version ARN, got {layer!r}")
    return StackSettings(
        notification_email=_email(get, "notificationEmail"),
        alarm_email=_email(get, "alarmEmail"),
        fraud_threshold=_positive_number(get, "fraudThreshold", DEFAULT_FRAUD_THRESHOLD),
        payment_workflow_type=_one_of(get, "paymentWorkflowType", DEFAULT_WORKFLOW_TYPE, WORKFLOW_TYPES),
        log_retention_days=retention,
        powertools_layer_arn=layer,
        api_throttle_rate=_positive_number(get, "apiThrottleRate", DEFAULT_API_THROTTLE_RATE),
        api_throttle_burst=_int_in(get, "apiThrottleBurst", DEFAULT_API_THROTTLE_BURST, 1, 5000),
        api_auth=_one_of(get, "apiAuth", DEFAULT_API_AUTH, API_AUTH_MODES),
        manage_schema_registry=_bool(get, "manageSchemaRegistry", DEFAULT_MANAGE_SCHEMA_REGISTRY),
        protect_data=_bool(get, "protectData", DEFAULT_PROTECT_DATA),
        archive_retention_days=_archive_retention_days(get),
        manage_api_gateway_account=_bool(get, "manageApiGatewayAccount", DEFAULT_MANAGE_API_GATEWAY_ACCOUNT),
        api_waf=_bool(get, "apiWaf", DEFAULT_API_WAF),
        api_waf_rate_limit=_int_in(get, "apiWafRateLimit", DEFAULT_API_WAF_RATE_LIMIT, *API_WAF_RATE_LIMIT_RANGE),
        audit_log_retention_days=_log_retention(get, "auditLogRetentionDays"),
    )
