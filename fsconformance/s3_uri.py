"""``s3://bucket/key`` into its bucket and key: the one splitter every part of the package uses."""

from __future__ import annotations


def split_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of ``s3://bucket/key``, the key exactly as written (a folder keeps its
    trailing slash; none is ""); ``ValueError`` for anything that is not an s3:// URI."""
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri!r} is not an s3:// URI")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key
