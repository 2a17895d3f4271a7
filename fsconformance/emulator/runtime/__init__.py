"""The Feature Store runtime (``sagemaker-featurestore-runtime``): the online store's API."""
