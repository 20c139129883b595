"""Scheduled Spark jobs on EMR: one EventBridge Scheduler schedule per job, whose universal
target starts an EMR job run on the team's virtual cluster (EMR on EKS) or application (EMR
Serverless: `StartJobRun` of the EMR Serverless API, `applicationId`, `jobDriver.sparkSubmit`).

A universal target calls `arn:aws:scheduler:::aws-sdk:<service>:<action>` with `Input` shaped
as the action's request (EventBridge Scheduler user guide, "Using universal targets"); here
EMR on EKS `StartJobRun` (EMR on EKS API reference: `virtualClusterId`, `clientToken`,
`executionRoleArn`, `releaseLabel`, `jobDriver.sparkSubmitJobDriver`). The client token is
the schedule's execution id (the `<aws.scheduler.execution-id>` context attribute), so a
retried delivery never starts a second run. The schedule assumes a role of its own that may
start job runs on this virtual cluster and pass only the team's job execution role.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from dsenv.capabilities import component_type
from dsenv.profile.cron import eventbridge
from dsenv.spec.pipelines import PipelinesSpec, SparkJobSpec
from dsenv.spec.spark import SparkSpec
from dsenv.stacks.components.identity import service_principal_trust

START_JOB_RUN = "arn:aws:scheduler:::aws-sdk:emrcontainers:startJobRun"
START_SERVERLESS_JOB_RUN = "arn:aws:scheduler:::aws-sdk:emrserverless:startJobRun"
EXECUTION_ID = "<aws.scheduler.execution-id>"


def spark_submit_parameters(spark: SparkSpec, job: SparkJobSpec) -> str:
    """The run's size: the job's executors on the executor tier, the driver on its tier."""
    driver, executor = spark.driver, spark.executor

    def mem(pool_bytes: int) -> str:
        return f"{int(pool_bytes * 0.8) // 2**20}m"

    conf = {
        "spark.executor.instances": str(job.executors),
        "spark.executor.cores": str(max(1, executor.cpu_millis // 1000)),
        "spark.executor.memory": mem(executor.memory_bytes),
        "spark.driver.cores": str(max(1, driver.cpu_millis // 1000)),
        "spark.driver.memory": mem(driver.memory_bytes),
    }
    if spark.engine == "emr-on-eks":  # on the cluster's node groups of the two tiers
        conf["spark.kubernetes.driver.node.selector.dsenv.io/tier"] = driver.tier
        conf["spark.kubernetes.executor.node.selector.dsenv.io/tier"] = executor.tier
    return " ".join(f"--conf {k}={v}" for k, v in conf.items())


def start_job_run_input(
    spec: PipelinesSpec,
    spark: SparkSpec,
    job: SparkJobSpec,
    virtual_cluster_id: str,
    job_role_arn: str,
    log_uri: str,
) -> str:
    driver: dict[str, Any] = {
        "entryPoint": job.main,
        "sparkSubmitParameters": spark_submit_parameters(spark, job),
    }
    if job.arguments:
        driver["entryPointArguments"] = list(job.arguments)
    monitoring = {"s3MonitoringConfiguration": {"logUri": log_uri}}
    if spark.engine == "emr-serverless":
        return json.dumps(
            {
                "applicationId": virtual_cluster_id,
                "name": job.name,
                "clientToken": EXECUTION_ID,
                "executionRoleArn": job_role_arn,
                "jobDriver": {"sparkSubmit": driver},
                "executionTimeoutMinutes": max(1, job.timeout_seconds // 60),
                "configurationOverrides": {"monitoringConfiguration": monitoring},
            },
            sort_keys=True,
        )
    return json.dumps(
        {
            "virtualClusterId": virtual_cluster_id,
            "name": job.name,
            "clientToken": EXECUTION_ID,
            "executionRoleArn": job_role_arn,
            "releaseLabel": f"{spec.emr_release}-latest",
            "jobDriver": {"sparkSubmitJobDriver": driver},
            "configurationOverrides": {
                "monitoringConfiguration": {"s3MonitoringConfiguration": {"logUri": log_uri}}
            },
        },
        sort_keys=True,
    )


def scheduler_policy(target_arn: str, job_role_arn: str, action: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "StartJobRuns",
                    "Effect": "Allow",
                    "Action": action,
                    "Resource": target_arn,
                },
                {
                    "Sid": "PassJobRole",
                    "Effect": "Allow",
                    "Action": "iam:PassRole",
                    "Resource": job_role_arn,
                },
            ],
        },
        sort_keys=True,
    )


@dataclass
class EmrSchedulesArgs:
    pipelines: PipelinesSpec
    spark: SparkSpec
    virtual_cluster_id: pulumi.Input[str]  # EMR Serverless: the application id
    job_role_arn: pulumi.Input[str]
    artifacts_bucket: pulumi.Input[str]  # run logs go under s3://<bucket>/emr/
    account_id: pulumi.Input[str]


class EmrSchedules(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: EmrSchedulesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(component_type("pipelines", "EmrSchedules"), name, None, opts)
        spec, spark = args.pipelines, args.spark
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-scheduler",
            name=spec.scheduler_role,
            description="dsenv: EventBridge Scheduler starts the team's EMR job runs",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: service_principal_trust("scheduler.amazonaws.com", account)
            ),
            opts=child,
        )
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        serverless = spark.engine == "emr-serverless"
        service, action, target = (
            ("emr-serverless", "emr-serverless:StartJobRun", START_SERVERLESS_JOB_RUN)
            if serverless
            else ("emr-containers", "emr-containers:StartJobRun", START_JOB_RUN)
        )
        path = "applications" if serverless else "virtualclusters"
        cluster_arn = pulumi.Output.all(region, args.account_id, args.virtual_cluster_id).apply(
            lambda a: f"arn:aws:{service}:{a[0]}:{a[1]}:/{path}/{a[2]}"
        )
        aws.iam.RolePolicy(
            f"{name}-scheduler",
            role=role.id,
            policy=pulumi.Output.all(cluster_arn, args.job_role_arn).apply(
                lambda a: scheduler_policy(a[0], a[1], action)
            ),
            opts=child,
        )

        def run_input(job: SparkJobSpec) -> pulumi.Output[str]:
            return pulumi.Output.all(
                args.virtual_cluster_id, args.job_role_arn, args.artifacts_bucket
            ).apply(
                lambda a: start_job_run_input(
                    spec, spark, job, a[0], a[1], f"s3://{a[2]}/emr/{job.name}/"
                )
            )

        for job in spec.spark_jobs:
            payload = run_input(job)
            aws.scheduler.Schedule(
                f"{name}-{job.name}",
                name=job.name,
                description=f"dsenv: Spark job {job.name} on {spark.engine}",
                schedule_expression=eventbridge(job.schedule),
                schedule_expression_timezone=job.time_zone,
                flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
                target=aws.scheduler.ScheduleTargetArgs(
                    arn=target,
                    role_arn=role.arn,
                    input=payload,
                    retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                        maximum_retry_attempts=2, maximum_event_age_in_seconds=3600
                    ),
                ),
                opts=child,
            )
        self.register_outputs({})
