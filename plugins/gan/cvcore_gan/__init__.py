"""cvcore-gan: GANs: SRGAN 4x super-resolution and CycleGAN unpaired translation."""

__version__ = "0.1.0"
