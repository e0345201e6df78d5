"""The face of cvcore-gan: every part it adds to cvcore is registered here.

GANs: SRGAN 4x super-resolution and CycleGAN unpaired translation.
It registers no parts yet; its issue fills it.
"""
