"""The HTTP API: one router module per domain, and the FastAPI adapters they share.

Routers sit on top of the domain packages: they authenticate the caller (:mod:`service.api.deps`),
check ownership through the domains' services, and turn the answer into the public contract's JSON.
No domain package imports this one.
"""
