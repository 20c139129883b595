"""Entry point of the CrossGuard pack: `pulumi preview --policy-pack policy`."""

from pulumi_policy import PolicyPack

from dsenv.policy.pack import policies

PolicyPack(name="dsenv-security", policies=policies())
