"""One way to make an IAM role: trusted by one AWS service, with one exact inline policy."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from components import policies


def service_role(
    name: str,
    service: str,
    description: str,
    policy: pulumi.Input[policies.Document],
    opts: pulumi.ResourceOptions,
    account_id: pulumi.Input[str] | None = None,
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """``<name>-role`` only ``service`` may assume, and its inline ``<name>-policy``.

    With ``account_id``, the service may assume it only on behalf of that account
    (``aws:SourceAccount``, the confused-deputy guard AWS recommends).
    """

    def trust(account: Any) -> str:
        return json.dumps(policies.assume_role_policy(service, account=account or None))

    role = aws.iam.Role(
        f"{name}-role",
        assume_role_policy=pulumi.Output.from_input(account_id).apply(trust),
        description=description,
        opts=opts,
    )
    inline = aws.iam.RolePolicy(
        f"{name}-policy",
        role=role.id,
        policy=pulumi.Output.from_input(policy).apply(json.dumps),
        opts=opts,
    )
    return role, inline
