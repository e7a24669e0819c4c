"""Maintainer tooling that trains the bundled demo model `assets/models/demo-stt/` (issue 12).

Not part of the runtime: nothing in the engine's session or in the console imports it.
`python -m captty.engine.training build` synthesises speech with eSpeak NG (`speech`,
`corpus`, `streams`), trains a tiny Mimi (`mimi`) and the STT language model with its
end-of-turn heads (`lm`), saves the checkpoint in the Kyutai layout (`build`) and prints its
figures on held-out recordings (`heldout`, `evaluate`).
"""
