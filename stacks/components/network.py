"""The team VPC: private subnets for everything, public subnets only for NAT gateways.

One NAT gateway per zone, so losing a zone never cuts the others' egress. Private subnets
carry the EKS discovery tags (internal load balancers only); public ones carry no ELB tag,
so no internet-facing load balancer can land in them by accident. VPC flow logs go to
CloudWatch Logs, and the default security group is emptied.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from dsenv.capabilities import component_type
from dsenv.spec.aws import NetworkSpec
from dsenv.stacks.components.identity import service_principal_trust

FLOW_LOG_RETENTION_DAYS = 365


def flow_log_policy(log_group_arn: str) -> str:
    import json

    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        "logs:CreateLogStream",
                        "logs:DescribeLogStreams",
                        "logs:PutLogEvents",
                    ],
                    "Resource": [log_group_arn, f"{log_group_arn}:*"],
                }
            ],
        },
        sort_keys=True,
    )


@dataclass
class NetworkArgs:
    network: NetworkSpec


def _zone(names: list[str], index: int) -> str:
    if index >= len(names):
        raise ValueError(f"the region has {len(names)} available zones; the profile asks for more")
    return names[index]


def _zone_output(zones: pulumi.Output[list[str]], index: int) -> pulumi.Output[str]:
    return zones.apply(lambda names: _zone(names, index))


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    public_subnet_ids: list[pulumi.Output[str]]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(component_type("network", "Network"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        spec = args.network
        zones = aws.get_availability_zones_output(
            state="available", opts=pulumi.InvokeOutputOptions(parent=self)
        ).names

        vpc = aws.ec2.Vpc(
            name,
            cidr_block=spec.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": name},
            opts=child,
        )
        # No rules: nothing may use the default group by accident.
        aws.ec2.DefaultSecurityGroup(
            name, vpc_id=vpc.id, tags={"Name": f"{name}-default"}, opts=child
        )

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=spec.flow_log_group,
            retention_in_days=FLOW_LOG_RETENTION_DAYS,
            opts=child,
        )
        flow_role = aws.iam.Role(
            f"{name}-flow-logs",
            assume_role_policy=service_principal_trust("vpc-flow-logs.amazonaws.com"),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=flow_role.id,
            policy=log_group.arn.apply(flow_log_policy),
            opts=child,
        )
        aws.ec2.FlowLog(
            name,
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=flow_role.arn,
            max_aggregation_interval=60,
            tags={"Name": name},
            opts=child,
        )

        igw = aws.ec2.InternetGateway(name, vpc_id=vpc.id, tags={"Name": name}, opts=child)
        public_rt = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags={"Name": f"{name}-public"},
            opts=child,
        )
        self.private_subnet_ids = []
        self.public_subnet_ids = []
        for i, (private_cidr, public_cidr) in enumerate(
            zip(spec.private_subnet_cidrs, spec.public_subnet_cidrs, strict=True)
        ):
            zone = _zone_output(zones, i)
            public = aws.ec2.Subnet(
                f"{name}-public-{i}",
                vpc_id=vpc.id,
                cidr_block=public_cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,
                # the AWS Load Balancer Controller puts internet-facing load balancers here
                tags={"Name": f"{name}-public-{i}", "kubernetes.io/role/elb": "1"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{i}", subnet_id=public.id, route_table_id=public_rt.id, opts=child
            )
            eip = aws.ec2.Eip(
                f"{name}-nat-{i}", domain="vpc", tags={"Name": f"{name}-nat-{i}"}, opts=child
            )
            nat = aws.ec2.NatGateway(
                f"{name}-{i}",
                allocation_id=eip.id,
                subnet_id=public.id,
                tags={"Name": f"{name}-{i}"},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
            )
            private = aws.ec2.Subnet(
                f"{name}-private-{i}",
                vpc_id=vpc.id,
                cidr_block=private_cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={
                    "Name": f"{name}-private-{i}",
                    "kubernetes.io/role/internal-elb": "1",
                    f"kubernetes.io/cluster/{spec.cluster_name}": "shared",
                },
                opts=child,
            )
            private_rt = aws.ec2.RouteTable(
                f"{name}-private-{i}",
                vpc_id=vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
                tags={"Name": f"{name}-private-{i}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{i}",
                subnet_id=private.id,
                route_table_id=private_rt.id,
                opts=child,
            )
            self.private_subnet_ids.append(private.id)
            self.public_subnet_ids.append(public.id)

        self.vpc_id = vpc.id
        self.register_outputs(
            {"vpc_id": self.vpc_id, "private_subnet_ids": self.private_subnet_ids}
        )
