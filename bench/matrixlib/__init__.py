"""The matrix runner's library: host fingerprint, running rows, analysis, report files.

Used by bench/matrix.py (the runner), scripts/compare and scripts/plots.
"""
