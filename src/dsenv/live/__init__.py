"""The live engine: dsenv's program driven through the Pulumi Automation API.

Layers, thinnest first: `settings` (where state and secrets live), `pulumicli` (find,
check and install the Pulumi CLI; forward Ctrl-C), `engine` (a typed adapter over
`pulumi.automation.Stack` with error classification, retries and state snapshots), then the
features built on it: `targets` (`--only`), `drift`, `unmanaged`, `reports`, `doctor`, `ci`.
Nothing here is imported by `dsenv --help` or the offline commands.
"""
