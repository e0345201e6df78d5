"""cvcore-prune: Pruned ResNets and the channel-pruning procedure that makes them."""

__version__ = "0.1.0"
