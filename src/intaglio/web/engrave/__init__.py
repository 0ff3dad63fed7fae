"""The engrave studio pages: artworks, the live preview, preparing versions, the style gallery."""
