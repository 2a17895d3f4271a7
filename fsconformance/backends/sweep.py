"""``fsconformance sweep``: delete what test runs left behind, found by tag only.

A feature group qualifies only if it carries both ``fsconformance:run`` and
``fsconformance:created`` and the creation time in the tag is older than the limit. Names are
never enough: a group called ``fsct-...`` without the tags is left alone.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from typing import Any, TextIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .aws import (
    TAG_CREATED,
    TAG_RUN,
    Clients,
    created_glue_table,
    delete_feature_group_resources,
    offline_prefix,
    parse_created,
)
from .base import Budgets

_AGE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def sweep_budgets() -> Budgets:
    """The contract's deadlines; the first poll interval from FSCONFORMANCE_AWS_POLL_INTERVAL."""
    poll = float(os.environ.get("FSCONFORMANCE_AWS_POLL_INTERVAL") or 5)
    return Budgets(
        create=600,
        update=600,
        delete=600,
        data_plane=300,
        poll_interval=poll,
        max_poll_interval=max(30.0, poll),
    )


def parse_age(text: str) -> dt.timedelta:
    """``90m``, ``6h``, ``2d``, ``30s`` as a timedelta."""
    match = _AGE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"--older-than {text!r} is not an age like 90m, 6h or 2d")
    return dt.timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


@dataclass
class Candidate:
    name: str
    run: str
    created: dt.datetime
    description: dict[str, Any]

    def describe_resources(self) -> list[str]:
        parts = [
            f"feature group {self.name} (run {self.run}, created {self.created:%Y-%m-%dT%H:%M:%SZ})"
        ]
        prefix = offline_prefix(self.description)
        if prefix:
            parts.append(f"  s3://{prefix[0]}/{prefix[1]}")
        table = created_glue_table(self.description)
        if table:
            parts.append(f"  Glue table {table[0]}.{table[1]}")
        return parts


def find_candidates(
    clients: Clients, older_than: dt.timedelta, now: dt.datetime | None = None
) -> list[Candidate]:
    """Tagged feature groups created longer ago than ``older_than``, oldest first."""
    now = now or dt.datetime.now(dt.timezone.utc)
    found: list[Candidate] = []
    sagemaker = clients.sagemaker
    for page in sagemaker.get_paginator("list_feature_groups").paginate():
        for summary in page.get("FeatureGroupSummaries", []):
            tags = {
                tag["Key"]: tag["Value"]
                for tags_page in sagemaker.get_paginator("list_tags").paginate(
                    ResourceArn=summary["FeatureGroupArn"]
                )
                for tag in tags_page.get("Tags", [])
            }
            if TAG_RUN not in tags or TAG_CREATED not in tags:
                continue
            created = parse_created(tags[TAG_CREATED])
            if created is None or now - created < older_than:
                continue
            try:
                description = sagemaker.describe_feature_group(
                    FeatureGroupName=summary["FeatureGroupName"]
                )
            except sagemaker.exceptions.ResourceNotFound:
                continue
            found.append(
                Candidate(summary["FeatureGroupName"], tags[TAG_RUN], created, description)
            )
    return sorted(found, key=lambda candidate: candidate.created)


def sweep_clients(region: str | None, profile: str | None, endpoint_url: str | None) -> Clients:
    session = boto3.session.Session(profile_name=profile, region_name=region)
    config = Config(retries={"mode": "adaptive", "max_attempts": 8})
    if endpoint_url:
        config = config.merge(Config(s3={"addressing_style": "path"}))
    kwargs: dict[str, Any] = {"config": config, "endpoint_url": endpoint_url}
    return Clients(
        session.client("sagemaker", **kwargs),
        session.client("s3", **kwargs),
        session.client("glue", **kwargs),
    )


def sweep(
    *,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    older_than: dt.timedelta,
    apply: bool,
    out: TextIO,
    budgets: Budgets | None = None,
) -> int:
    """List (or with ``apply`` delete) tagged leftovers; return the process exit code."""
    try:
        clients = sweep_clients(region, profile, endpoint_url)
        candidates = find_candidates(clients, older_than)
    except (ClientError, BotoCoreError) as error:
        print(f"fsconformance sweep: cannot list feature groups: {error}", file=out)
        return 1
    verb = "deleting" if apply else "would delete"
    for candidate in candidates:
        for line in candidate.describe_resources():
            print(f"{verb} {line.strip()}" if not line.startswith(" ") else line, file=out)
    if not apply:
        print(
            f"{len(candidates)} tagged feature groups older than {older_than}; "
            "dry run, nothing deleted (add --apply to delete)",
            file=out,
        )
        return 0
    left: list[str] = []
    budgets = budgets or sweep_budgets()
    for candidate in candidates:
        left += delete_feature_group_resources(
            clients,
            candidate.name,
            candidate.description,
            budgets,
            log=lambda m: print(m, file=out),
        )
    for line in left:
        print(f"left behind: {line}", file=out)
    print(f"swept {len(candidates)} feature groups, {len(left)} resources left", file=out)
    return 1 if left else 0
