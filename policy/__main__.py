"""The policy pack's entry point: what ``pulumi preview --policy-pack policy`` runs.

The Pulumi CLI starts this file with the pack's folder as the working directory; the project root
goes on the path so the pack shares ``components.policies`` with the program it guards.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from policy.production_defaults import ENFORCEMENT_LEVEL, PACK_NAME, POLICIES

PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=ENFORCEMENT_LEVEL)
