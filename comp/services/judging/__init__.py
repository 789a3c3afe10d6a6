"""The judge's side: marks, score sheets and the live tallies."""
