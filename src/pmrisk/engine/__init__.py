"""The simulation engine: network compilation, seed streams, kernels and the chunk loop."""
