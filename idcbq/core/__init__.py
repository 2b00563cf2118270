"""The lowest floor: small helpers every other package may import (and that import none).

- :mod:`.version`: ``__version__``.
- :mod:`.compat`: shims for older pyarrow / pandas (Colab's stack).
- :mod:`.memo`: a bounded memo (translations, verdicts kept between queries).
- :mod:`.imports`: keeping DuckDB from importing pandas in the CLI.
- :mod:`.aio`: run a coroutine from synchronous code, in or out of a running loop.
"""
