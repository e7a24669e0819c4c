"""The bundled checkpoints and recordings, shipped inside the distribution (`captty.assets`)."""
