"""Errors a user can cause. They name the offending field so every front end can say what to fix."""


class InputError(ValueError):
    """Bad input from a user: a patient file, a CLI option, a form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class KnowledgeError(ValueError):
    """An invalid knowledge-base file (the default one or a clinic's override)."""

    def __init__(self, path: str, key: str, message: str) -> None:
        super().__init__(f"{path}: {key}: {message}")
        self.path = path
        self.key = key
        self.message = message
