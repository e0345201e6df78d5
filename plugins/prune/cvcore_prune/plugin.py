"""The face of cvcore-prune: every part it adds to cvcore is registered here.

Pruned ResNets (GluonCV's seven, as zoo models), the ``prune`` deploy
transform and the ``cvcore prune`` command; the procedure itself is
:func:`cvcore_prune.prune`.
"""
import cvcore

CVCORE_API = 1  # the cvcore hook API this plugin is written for (cvcore.hookspecs.API_VERSION)


@cvcore.hookimpl
def cvcore_models():
    from .zoo import pruned_models

    return pruned_models()


@cvcore.hookimpl
def cvcore_deploy_transforms():
    from .transform import prune_transform

    return [cvcore.Component("prune", prune_transform,
                             "Channel pruning to a multiply-add or parameter ratio (one-shot, no fine-tuning); ResNet v1b/v1d.")]


@cvcore.hookimpl
def cvcore_commands():
    from . import command

    return [cvcore.Component("prune", command.run,
                             "Prune a pipeline's ResNet backbone to a multiply-add or parameter ratio and save it as a new run.",
                             {"arguments": command.arguments})]
