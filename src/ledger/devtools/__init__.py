"""Tools for developers, not the product: the synthetic workload (benchmarks, load tests),
the rules report (features/ with their last results, served at /rules) and the floor of a
rebuild (what reading and decoding every event costs, benchmarks/)."""
