"""Photo → laser-ready artwork for a named material and machine. Pure: no Django imports."""
