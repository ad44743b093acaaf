# Copyright 2026 The Weightserver Authors.
"""weightserver's exceptions: every failed call raises WeightserverError."""


class WeightserverError(Exception):
    """A call to a weightserver (or a local check) failed.

    Attributes:
        code: the gRPC status code's name, e.g. "NOT_FOUND", "DATA_LOSS",
            "FAILED_PRECONDITION" (the model changed), "UNAVAILABLE".
        grpc_code: the same code as its number (grpc.StatusCode values).
        message: what went wrong, naming the model, tensor or server.
    """

    def __init__(self, code: str, grpc_code: int, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.grpc_code = grpc_code
        self.message = message


def from_status(code: str, grpc_code: int, message: str) -> WeightserverError:
    # Called by weightserver._core for every failed absl::Status.
    return WeightserverError(code, grpc_code, message)
