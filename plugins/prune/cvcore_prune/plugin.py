"""The face of cvcore-prune: every part it adds to cvcore is registered here.

Pruned ResNets and the channel-pruning procedure that makes them.
"""
import cvcore

CVCORE_API = 1  # the cvcore hook API this plugin is written for (cvcore.hookspecs.API_VERSION)


@cvcore.hookimpl
def cvcore_models():
    from .zoo import pruned_models

    return pruned_models()
