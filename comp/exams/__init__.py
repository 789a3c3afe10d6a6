"""The theory exam's core: blueprints, seeded papers, grading and item statistics, exact and plain Python."""
