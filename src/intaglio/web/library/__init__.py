"""The engraving library pages: materials and machines, and the user's own machine profiles and material presets."""
