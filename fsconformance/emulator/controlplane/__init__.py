"""The SageMaker control plane's feature-group operations (CreateFeatureGroup, ..., tags)."""
