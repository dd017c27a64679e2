"""Ways to show results: terminal summary (and, later, plots, HTML and Excel)."""
