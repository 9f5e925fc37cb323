"""Errors a user can fix; the CLI prints their message as one line and exits non-zero, no traceback."""


class BankbotError(RuntimeError):
    """Base for problems caused by input or configuration rather than by a bug."""


class ModelLoadError(BankbotError):
    """A model could not be found or loaded; the message names the setting to fix."""


class DatabaseUnavailable(BankbotError):
    """The database cannot be reached or the URL is wrong."""


class InvalidQuestion(BankbotError):
    """Empty, too long, or not text."""


class GeneratorUnavailable(BankbotError):
    """The LLM could not produce an answer right now (e.g. its server is down); the chat hands off and logs."""
