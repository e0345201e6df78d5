"""cvcore: a plugin-based computer-vision toolkit on MXNet Gluon."""
from ._environment import set_mxnet_defaults

set_mxnet_defaults()  # before anything imports mxnet

from .component import Component  # noqa: E402
from .errors import (  # noqa: E402
    ConfigError,
    CvcoreError,
    IncompatiblePartsError,
    PluginConflictError,
    PluginError,
    UnknownComponentError,
)
from .hookspecs import KINDS, hookimpl  # noqa: E402
from .plugins import available, get, register_plugin  # noqa: E402
from .task import Task  # noqa: E402
from .zoo import ModelRecipe, WeightsSpec, list_models, model_component  # noqa: E402

__version__ = "0.1.0"


def __getattr__(name: str):
    # the pipeline module imports mxnet; keep `import cvcore` light for the CLI and plugins
    if name in ("Pipeline", "get_model"):
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'cvcore' has no attribute {name!r}")


__all__ = [
    "KINDS",
    "Component",
    "ConfigError",
    "CvcoreError",
    "IncompatiblePartsError",
    "ModelRecipe",
    "Pipeline",
    "PluginConflictError",
    "PluginError",
    "Task",
    "UnknownComponentError",
    "WeightsSpec",
    "available",
    "get",
    "get_model",
    "hookimpl",
    "list_models",
    "model_component",
    "register_plugin",
]
