"""Google's GoogleSQL compliance suite as idcbq's conformance corpus (issue 18 §4).

Run: ``python -m tests.conformance [CORPUS]`` or ``make conformance CORPUS=DIR``.
"""
