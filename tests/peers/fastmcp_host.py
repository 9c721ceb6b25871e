"""FastMCP's client as an MCP host, for mcpauth's tests.

    python fastmcp_host.py URL                   # straight to a Streamable HTTP server
    python fastmcp_host.py -- COMMAND [ARGS...]  # a stdio server (`mcpauth proxy ...`)

Connects with FastMCP's defaults (which probe `server/discover` before they fall back
to `initialize`) and offers one root. Subscribes to `test://note`, calls `touch` and
`roots` on tests/peers/server.mjs, then waits (at most WAIT seconds) for the log message
and the resource update `touch` sends on the session's own stream. Prints one JSON line:
{"touch": ..., "roots": ..., "logs": [...], "updated": [...]}.

A stdio server gets the short environment the MCP SDK gives every stdio server, plus
MCPAUTH_HOME. Any failed call ends the script with a traceback and a non-zero status.
"""

import asyncio
import json
import os
import sys

from fastmcp import Client
from fastmcp.client.messages import MessageHandler
from fastmcp.client.transports import StdioTransport, StreamableHttpTransport

ROOT = "file:///tmp/mcpauth-fastmcp-root"
WAIT = 15.0


class Seen(MessageHandler):
    def __init__(self) -> None:
        self.logs: list = []
        self.updated: list[str] = []
        self.changed = asyncio.Event()

    async def on_logging_message(self, message) -> None:
        self.logs.append(message.params.data)
        self.changed.set()

    async def on_resource_updated(self, message) -> None:
        self.updated.append(str(message.params.uri))
        self.changed.set()


def text_of(result) -> str:
    return "".join(getattr(part, "text", "") for part in result.content)


async def main(argv: list[str]) -> None:
    if argv[:1] == ["--"] and len(argv) > 1:
        env = {"MCPAUTH_HOME": os.environ["MCPAUTH_HOME"]}
        transport = StdioTransport(command=argv[1], args=argv[2:], env=env)
    elif len(argv) == 1:
        transport = StreamableHttpTransport(argv[0])
    else:
        sys.exit(__doc__)
    seen = Seen()
    async with Client(transport, roots=[ROOT], message_handler=seen, timeout=WAIT) as client:
        await client.session.subscribe_resource("test://note")
        touch = text_of(await client.call_tool("touch", {}))
        roots = text_of(await client.call_tool("roots", {}))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while not (seen.logs and seen.updated) and loop.time() < deadline:
            seen.changed.clear()
            try:
                await asyncio.wait_for(seen.changed.wait(), deadline - loop.time())
            except TimeoutError:
                break
    print(json.dumps({"touch": touch, "roots": roots, "logs": seen.logs, "updated": seen.updated}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
