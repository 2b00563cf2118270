"""Local stand-ins for IDC's cloud services, for tests, the demo and offline sandboxes.

Nothing here touches the network beyond loopback.
"""
