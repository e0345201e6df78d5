"""The face of cvcore-int8-vnni: every part it adds to cvcore is registered here.

INT8 deployment for Intel VNNI CPUs (MXNet oneDNN and OpenVINO backends).
It registers no parts yet; its issue fills it.
"""
