"""cvcore-prune: Pruned ResNets and the channel-pruning procedure that makes them."""
from .pruning import PrunePlan, plan_pruning, prune

__version__ = "0.1.0"
__all__ = ["PrunePlan", "plan_pruning", "prune"]
