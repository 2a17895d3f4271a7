"""Customer-managed KMS keys of a feature group (C-191), kept in moto's KMS and S3.

* The online store's key (``OnlineStoreConfig.SecurityConfig.KmsKeyId``) gets a grant named
  ``SageMakerFeatureStore-<group>`` with the operations AWS's encryption sample lists, when
  the group is created; the grant is retired when the group is deleted.
* Every object the offline store writes for a group with ``OfflineStoreConfig.
  S3StorageConfig.KmsKeyId`` is encrypted SSE-KMS under that key; without one, the bucket's
  default encryption applies, as to any object written without a choice.

Who the grant is for is not recorded anywhere public; the emulation names SageMaker's service
principal (docs/evidence.md says so).
"""

from __future__ import annotations

from ..model.control_plane import FeatureGroup
from . import moto_seam
from .state import FeatureStoreState

GRANT_PREFIX = "SageMakerFeatureStore-"
# C-191: the operations the sample says ListGrants shows on the online store's key (E-27).
GRANT_OPERATIONS = (
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "ReEncryptFrom",
    "ReEncryptTo",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
)
GRANTEE = "sagemaker.amazonaws.com"


def grant_name(group: FeatureGroup) -> str:
    return f"{GRANT_PREFIX}{group.name}"


def online_key(group: FeatureGroup) -> str | None:
    if not group.online_enabled:
        return None
    return ((group.online or {}).get("SecurityConfig") or {}).get("KmsKeyId") or None


def offline_key(group: FeatureGroup) -> str | None:
    storage = (group.offline or {}).get("S3StorageConfig") or {}
    return storage.get("KmsKeyId") or None


def grant_online_key(state: FeatureStoreState, group: FeatureGroup) -> None:
    """C-191: the grant Feature Store makes on the online store's key (a key moto does not
    hold is left alone: KMS is not the emulation's to refuse)."""
    key = online_key(group)
    if key is not None:
        moto_seam.kms_create_grant(
            state.account_id,
            state.region_name,
            key,
            grant_name(group),
            GRANTEE,
            list(GRANT_OPERATIONS),
        )


def retire_online_grant(state: FeatureStoreState, group: FeatureGroup) -> None:
    """C-191: the group is going; so is its grant."""
    key = online_key(group)
    if key is not None:
        moto_seam.kms_retire_grants(state.account_id, state.region_name, key, grant_name(group))


def offline_object_key(state: FeatureStoreState, group: FeatureGroup) -> str | None:
    """The KMS key the group's offline objects are encrypted under, as S3 names it (the key's
    ARN when moto's KMS holds it, else the id as given); None for the bucket's default."""
    key = offline_key(group)
    if key is None:
        return None
    return moto_seam.kms_key_arn(state.account_id, state.region_name, key) or key
