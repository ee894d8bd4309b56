"""Presentation: widgets, live views, plots and text, drawn from what the network layer returns."""
