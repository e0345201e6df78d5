"""Exception types. Every message names the input that was wrong and the fix."""
from __future__ import annotations


class CvcoreError(Exception):
    """Base class of every error cvcore raises on purpose."""


class UnknownComponentError(CvcoreError, KeyError):
    """A name was looked up in a registry that does not hold it."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class PluginConflictError(CvcoreError):
    """Two plugins registered the same name for the same kind of part."""


class PluginError(CvcoreError):
    """A plugin could not be loaded or broke the hook contract."""


class IncompatiblePartsError(CvcoreError):
    """Parts of a pipeline do not fit together (e.g. a head needs more feature maps)."""


class ConfigError(CvcoreError):
    """A configuration file or option is malformed."""
