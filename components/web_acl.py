"""The API's web ACL: AWS WAF in front of the public stage (with ``apiWaf``).

A REGIONAL WAFv2 web ACL allows by default and runs, in priority order:

1. a rate-based rule blocking a client IP past ``rate_limit`` requests in any 5 minutes (cheapest,
   so a flood stops before the managed groups inspect it);
2. ``AWSManagedRulesCommonRuleSet`` (the OWASP-style baseline: bad user agents, oversized bodies,
   cross-site scripting, local file inclusion, ...);
3. ``AWSManagedRulesKnownBadInputsRuleSet`` (request patterns of known exploits: Log4j, Java
   deserialisation, ...).

Managed rule groups take ``override_action: none`` (their own actions apply) where a rule of the
ACL's own takes an ``action``. Every rule and the ACL publish CloudWatch metrics (namespace
``AWS/WAFV2``) and keep sampled requests. See "AWS WAF web ACL" and "Baseline rule groups" in the
AWS WAF developer guide; the pulumi_aws inputs are ``aws.wafv2.WebAcl`` and
``aws.wafv2.WebAclAssociation`` (a REST API stage is associated by its stage ARN).

:func:`web_acl_rules` is pure; :func:`build_web_acl` creates the two resources.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

#: The managed rule groups of the ACL, in priority order after the rate-based rule.
MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
RATE_LIMIT_RULE = "rate-limit-per-ip"
#: The window the rate-based rule counts requests over (seconds; WAF's default).
RATE_LIMIT_WINDOW_SECONDS = 300


def _visibility(metric_name: str) -> aws.wafv2.WebAclVisibilityConfigArgsDict:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric_name, "sampled_requests_enabled": True}


def web_acl_rules(rate_limit: int, metric_prefix: str) -> list[aws.wafv2.WebAclRuleArgsDict]:
    """The ACL's rules as ``aws.wafv2.WebAcl`` inputs: the per-IP rate limit, then the managed groups."""
    rate_rule: aws.wafv2.WebAclRuleArgsDict = {
        "name": RATE_LIMIT_RULE,
        "priority": 0,
        "action": {"block": {}},
        "statement": {
            "rate_based_statement": {
                "limit": rate_limit,
                "aggregate_key_type": "IP",
                "evaluation_window_sec": RATE_LIMIT_WINDOW_SECONDS,
            }
        },
        "visibility_config": _visibility(f"{metric_prefix}-{RATE_LIMIT_RULE}"),
    }
    managed: list[aws.wafv2.WebAclRuleArgsDict] = [
        {
            "name": group,
            "priority": priority,
            "override_action": {"none": {}},
            "statement": {"managed_rule_group_statement": {"vendor_name": "AWS", "name": group}},
            "visibility_config": _visibility(f"{metric_prefix}-{group}"),
        }
        for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1)
    ]
    return [rate_rule, *managed]


@dataclass
class BuiltWebAcl:
    """The web ACL and its association with the stage."""

    web_acl: aws.wafv2.WebAcl
    association: aws.wafv2.WebAclAssociation


def build_web_acl(
    name: str, stage_arn: pulumi.Input[str], rate_limit: int, metric_prefix: str, opts: pulumi.ResourceOptions
) -> BuiltWebAcl:
    """A REGIONAL web ACL of :func:`web_acl_rules`, associated with the stage ``stage_arn``.

    Children are ``f"{name}-web-acl"`` (auto-named) and ``f"{name}-web-acl-association"``.
    """
    web_acl = aws.wafv2.WebAcl(
        f"{name}-web-acl",
        description="eda-demo orders API: AWS managed baseline rules and a per-IP rate limit",
        scope="REGIONAL",
        default_action={"allow": {}},
        rules=web_acl_rules(rate_limit, metric_prefix),
        visibility_config=_visibility(f"{metric_prefix}-web-acl"),
        opts=opts,
    )
    association = aws.wafv2.WebAclAssociation(
        f"{name}-web-acl-association", resource_arn=stage_arn, web_acl_arn=web_acl.arn, opts=opts
    )
    return BuiltWebAcl(web_acl, association)
