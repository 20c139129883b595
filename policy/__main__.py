"""Entry point of the CrossGuard pack: `pulumi preview --policy-pack policy`."""

from dsenv.policy.pack import policies
from pulumi_policy import PolicyPack

PolicyPack(name="dsenv-security", policies=policies())
