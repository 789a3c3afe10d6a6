"""The exam hall: contestant numbers and the lot draw, check-in, the judges panel, printed lists."""
