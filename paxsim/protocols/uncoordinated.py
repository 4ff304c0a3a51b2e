"""Two (or more) servers without coordination (Fig. 2): the naive primary-backup.

Clients send every request to every server; each server executes on arrival and
replies, exactly as a single server would. Message delays let two servers see
``m1 m2`` and ``m2 m1``: their states diverge and the clients see it (C1 gets
s^1 and s^21, C2 gets s^2 and s^12). The checker must call this UNSAFE.

After a crash with recovery: nothing is persisted; the server restarts empty and
executes again from ``s^()``, so replies fork even without delays.
"""

from __future__ import annotations

from .single_server import SingleServer


class Uncoordinated(SingleServer):
    name = "uncoordinated"
    client_mode = "all"
    max_servers = None
    catch_up = False

    @classmethod
    def quorum(cls, n: int) -> int:
        return 1
