"""Small but real datasets, written in the formats users' data comes in.

Each module writes one kind to disk so that demos, tests and benchmarks read it
back through the same loaders a user's data goes through:

- :mod:`cvcore.data.synthetic.classification`: textured shapes on cluttered
  backgrounds as an image folder (``cvcore data synth classification DIR``).
"""
