"""fsconformance: an executable conformance specification for SageMaker Feature Store."""

from .mock import mock_featurestore
from .model.control_plane import Delays

__all__ = ["Delays", "mock_featurestore", "__version__"]
__version__ = "0.1.0"
