"""The face of cvcore-prune: every part it adds to cvcore is registered here.

Pruned ResNets and the channel-pruning procedure that makes them.
It registers no parts yet; its issue fills it.
"""

CVCORE_API = 1  # the cvcore hook API this plugin is written for (cvcore.hookspecs.API_VERSION)
