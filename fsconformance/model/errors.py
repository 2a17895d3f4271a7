"""Service errors, carrying the HTTP status and error code AWS answers with."""

from __future__ import annotations


class ServiceError(Exception):
    """An error the service answers with: HTTP status, error code and message."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def validation(message: str) -> ServiceError:
    """The control plane's generic validation error (C-004)."""
    return ServiceError("ValidationException", message, 400)


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFound", message, 400)


def in_use(message: str) -> ServiceError:
    return ServiceError("ResourceInUse", message, 400)


def limit_exceeded(message: str) -> ServiceError:
    return ServiceError("ResourceLimitExceeded", message, 400)


def group_not_found(name: str) -> ServiceError:
    return not_found(
        f"Resource Not Found: Amazon SageMaker can't find a FeatureGroup with name {name}"
    )


def not_emulated(service: str, operation: str) -> ServiceError:
    """A real operation of the installed model that the emulation does not answer (yet)."""
    return ServiceError(
        "UnsupportedOperationException",
        f"fsconformance does not emulate {service} {operation}; "
        "see the docs for the operations it answers.",
    )


def missing_group(name: str) -> ServiceError:
    return runtime_error(
        f"Resource Not Found: Amazon SageMaker can't find a FeatureGroup with name {name}"
    )


def resource_not_found(message: str) -> ServiceError:
    """ResourceNotFound, for the runtime operations that declare it (404)."""
    return ServiceError("ResourceNotFound", message, 404)


def conflict(message: str) -> ServiceError:
    """UpdateRecord's ConflictException (C-170: HTTP 409)."""
    return ServiceError("ConflictException", message, 409)


def runtime_error(message: str) -> ServiceError:
    """The data plane's validation error (C-004: declared as ValidationError, 400)."""
    return ServiceError("ValidationError", message, 400)
