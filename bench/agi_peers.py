"""The peers of ``bench/fastagi_peer.py``: FastAGI servers that send the hotline's recorded
command lines of one call, in order, and ignore the answers ("same commands, no work").

- ``panoramisk``: panoramisk's FastAGI ``Application`` (asyncio), the route ``hotline``
  sending each line with ``Request.send_command`` (which reads and parses its answer);
- ``raw``: a bare asyncio server reading the environment up to its blank line, then per
  command writing the line and reading the answer line (the floor).

Both listen with the hotline's backlog (1024) and close the connection after the last
command, as the hotline does. Standard library only, plus panoramisk for the first: it runs
in the bench's own environment (``var/bench-peer``), not the project's.

    var/bench-peer/bin/python bench/agi_peers.py panoramisk --port 4574 --commands cmds.txt
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

BACKLOG = 1024  # ivr.phone.asterisk.fastagi.BACKLOG


async def raw_call(
    commands: list[bytes], reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        while (await reader.readline()).strip():
            pass  # the environment, up to its blank line
        for command in commands:
            writer.write(command)
            answer = await reader.readline()
            if answer == b"HANGUP\n":  # FastAGI: the caller left; the answer follows
                answer = await reader.readline()
            if not answer:
                break
    except OSError:
        pass
    finally:
        writer.close()


async def serve(kind: str, port: int, commands: list[str]) -> None:
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    if kind == "panoramisk":
        from panoramisk.fast_agi import Application

        app = Application(loop=loop)

        async def hotline(request: object) -> None:
            for command in commands:
                await request.send_command(command)  # type: ignore[attr-defined]

        app.add_route("hotline", hotline)
        handler = app.handler
    else:
        lines = [f"{command}\n".encode() for command in commands]

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await raw_call(lines, reader, writer)

    server = await asyncio.start_server(handler, "127.0.0.1", port, backlog=BACKLOG)
    print("listening", flush=True)  # the bench waits for this line, not for a probe call
    async with server:
        await stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["panoramisk", "raw"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--commands", type=Path, required=True, help="one command a line")
    args = parser.parse_args()
    commands = args.commands.read_text(encoding="utf-8").splitlines()
    asyncio.run(serve(args.kind, args.port, commands))


if __name__ == "__main__":
    main()
