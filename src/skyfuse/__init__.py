"""skyfuse: the live picture of the sky from many sensors.

Stages, each a subpackage, imports pointing downstream only::

    ingest -> decode -> measure -> track -> outputs      (sim, eval and cli use all)

Importing :mod:`skyfuse` itself is cheap: it loads no stage.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
