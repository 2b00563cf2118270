"""Local stand-ins for IDC's cloud services, for tests, the demo and offline sandboxes.

Nothing here touches the network beyond loopback.

It ships in the package because ``idcbq.demo`` (``make demo``) and the notebooks' local
sandbox use it. Nothing users import (``idcbq``, ``idcbq.api``, the CLI, the magics)
imports it; ``tests/test_layout.py`` checks that.
"""
