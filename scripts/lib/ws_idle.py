"""Idle WebSockets for scripts/bench-tunnels.sh (not a test).

`origin PORT`: answers every upgrade with a 101 and then holds the connection, quiet.
`clients PORT N`: opens N connections to PORT, upgrades each, prints "ready N" once
all have their 101, then holds them until stdin closes.
"""
import asyncio
import sys

RESPONSE = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
REQUEST = (b"GET /ws?wtd=wt1abc HTTP/1.1\r\nHost: wt.example\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           b"Sec-WebSocket-Version: 13\r\n\r\n")
held = []


async def origin(port):
    async def serve(reader, writer):
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(RESPONSE)
            await writer.drain()
            held.append(writer)
            await reader.read()  # until the proxy closes
        except Exception:
            pass
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


async def clients(port, n):
    sem = asyncio.Semaphore(200)

    async def one():
        async with sem:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(REQUEST)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 101"):
                raise RuntimeError(head[:40])
            held.append((reader, writer))

    await asyncio.gather(*(one() for _ in range(n)))
    print(f"ready {len(held)}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    if sys.argv[1] == "origin":
        asyncio.run(origin(int(sys.argv[2])))
    else:
        asyncio.run(clients(int(sys.argv[2]), int(sys.argv[3])))
