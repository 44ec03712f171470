"""``slmforge run``: the stages tied together over one run directory (see :mod:`slmforge.pipeline.run`)."""
