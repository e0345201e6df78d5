"""The face of cvcore-gan: every part it adds to cvcore is registered here.

GANs: SRGAN 4x super-resolution and CycleGAN unpaired translation.
It registers no parts yet; its issue fills it.
"""

CVCORE_API = 1  # the cvcore hook API this plugin is written for (cvcore.hookspecs.API_VERSION)
