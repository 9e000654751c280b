"""Pure stock computation: dataclasses in, dataclasses out, no I/O."""
