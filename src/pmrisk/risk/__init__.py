"""Risk events, drivers, correlation, branching, the risk register and risk ranking."""
