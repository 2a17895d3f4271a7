"""fsconformance: an executable conformance specification for SageMaker Feature Store."""

from .mock import flush_offline_store, mock_featurestore
from .model.control_plane import Delays

__all__ = ["Delays", "flush_offline_store", "mock_featurestore", "__version__"]
__version__ = "0.1.0"
