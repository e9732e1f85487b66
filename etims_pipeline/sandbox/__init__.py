"""A local stand-in for KRA eTIMS (OSCU): a real HTTP server with strict validation and fault injection.

It exists so the pipeline's submission engine, including its timeout-safe retry, can be exercised end to
end without KRA: see `server.build_server` for the HTTP contract and `faults` for the fault plan.
"""

from etims_pipeline.sandbox.config import SandboxConfig
from etims_pipeline.sandbox.server import SandboxServer, build_server, serve_forever

__all__ = ["SandboxConfig", "SandboxServer", "build_server", "serve_forever"]
