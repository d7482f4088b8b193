"""Data sets and batching: the bundled 8x8 digits, MNIST IDX files, a seeded batch iterator."""
