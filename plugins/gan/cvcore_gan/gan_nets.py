"""A GAN as one pipeline network: the generator is its forward pass, the discriminators ride along for training."""
from __future__ import annotations

import warnings
from typing import Mapping

from mxnet.gluon import HybridBlock

from cvcore.nn import PipelineNet


class GANNet(PipelineNet):
    """``generator`` (the forward pass: what predicts, evaluates and deploys) with the networks that train against it.

    Parameters are named ``<role>.<GluonCV's own name>`` (``generator.conv1.weight``,
    ``discriminator.dense.weight``), so each network's GluonCV file loads under
    its prefix. ``roles`` maps each role to its block; the first is the forward pass.
    """

    def __init__(self, roles: Mapping[str, HybridBlock]) -> None:
        super().__init__(prefix="")
        self.roles = tuple(roles)
        with self.name_scope():
            for role, block in roles.items():
                setattr(self, role, block)

    def hybrid_forward(self, F, x):
        return getattr(self, self.roles[0])(x)

    def _build_cache(self, *args):
        """The cached graph is the generator's: the other roles' parameters are unused in it by design, which MXNet warns of."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Parameter .* is not used by any computation")
            super()._build_cache(*args)
