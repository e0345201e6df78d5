"""The network of a pipeline: backbone -> (neck) -> head, as one HybridBlock."""
from __future__ import annotations

from mxnet import ndarray
from mxnet.gluon import HybridBlock


class PipelineNet(HybridBlock):
    """A pipeline's trainable network: what it trains, saves as ``model.params`` and deploys.

    Most are an :class:`AssembledNet`; a task that builds its network itself
    (:meth:`cvcore.Task.network`, e.g. a GAN's generator with its discriminator)
    returns a subclass whose forward is the inference pass.
    """


class AssembledNet(PipelineNet):
    """Runs ``head(*neck(*backbone(x)[-n:])[-m:])``.

    Parameters are named structurally ``backbone.*``, ``neck.*``, ``head.*``,
    so a saved file reads like the recipe that made it.
    """

    def __init__(
        self, backbone: HybridBlock, head: HybridBlock, neck: HybridBlock | None = None, *, num_features: int = 1, head_features: int = 1
    ):
        super().__init__(prefix="")
        self.num_features = num_features
        self.head_features = head_features
        with self.name_scope():
            self.backbone = backbone
            if neck is not None:
                self.neck = neck
            self.head = head
        self.has_neck = neck is not None

    def forward(self, x, *targets):
        """``net(x)``; in training a task may add targets the head takes (:meth:`cvcore.Task.network_targets`).

        With targets the pass runs imperatively around the parts (each still
        hybridized when it is): the head's training pass has no fixed graph.
        """
        if targets:
            return self.hybrid_forward(ndarray, x, *targets)
        return super().forward(x)

    def hybrid_forward(self, F, x, *targets):
        return self.head(*self.head_inputs(x), *targets)

    def head_inputs(self, x):
        """The feature maps the head reads for input ``x``: the backbone's last ``num_features``, through the neck if any."""
        features = tuple(self.backbone(x))[-self.num_features:]  # a tuple: checked at assembly (cvcore.contracts)
        if self.has_neck:
            features = tuple(self.neck(*features))[-self.head_features:]
        return features
