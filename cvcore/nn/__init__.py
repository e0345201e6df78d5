"""Building blocks and the network that joins a pipeline's parts."""
from .assembled import AssembledNet, PipelineNet

__all__ = ["AssembledNet", "PipelineNet"]
