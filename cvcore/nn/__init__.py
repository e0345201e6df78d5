"""Building blocks and the network that joins a pipeline's parts."""
from .assembled import AssembledNet

__all__ = ["AssembledNet"]
