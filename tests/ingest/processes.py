"""Real processes and servers for the ingest's crash tests: `cityvitals ingest` as a process of
its own (so it can be SIGKILLed), a PostgreSQL the test stops, and a proxy that can swallow what
the ingest sends to the broker (its acknowledgements)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import urllib.request


class IngestProcess:
    """`cityvitals ingest` as a real process, started the way a supervisor starts it."""

    def __init__(self, env: dict[str, str]) -> None:
        self._env = env
        self.process: asyncio.subprocess.Process | None = None
        self.output: list[str] = []
        self._collector: asyncio.Task[None] | None = None
        self._lines = asyncio.Condition()

    async def start(self) -> None:
        """Start it and return once it has subscribed."""
        subscribed = self.count("subscribed at")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cityvitals.main",
            "ingest",
            env=self._env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._collector = asyncio.create_task(self._collect(self.process))
        await self.wait_for_line("subscribed at", subscribed + 1)

    async def _collect(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            async with self._lines:
                self.output.append(line.decode())
                self._lines.notify_all()
        async with self._lines:
            self._lines.notify_all()

    def count(self, text: str) -> int:
        return sum(text in line for line in self.output)

    async def wait_for_line(self, text: str, times: int = 1, timeout_s: float = 60.0) -> None:
        """Until `text` has appeared in `times` lines of its output (it must still run)."""
        async with asyncio.timeout(timeout_s), self._lines:
            while self.count(text) < times:
                assert self.process is not None
                if self.process.returncode is not None:
                    raise AssertionError("ingest exited:\n" + "".join(self.output))
                await self._lines.wait()

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        if self._collector is not None:
            await self._collector

    async def close(self) -> None:
        """Kill it if it still runs: a failing test must not leave a worker behind."""
        if self.process is not None and self.process.returncode is None:
            await self.kill()

    async def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), 60)
        if self._collector is not None:
            await self._collector
        return code


def scrape(port: int, name: str) -> float:
    """One sample of the ingest's /metrics (0 when absent)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


class BrokerProxy:
    """A TCP proxy from the ingest to the broker. While `swallowing`, everything the ingest
    sends on its current connections (its PUBACKs above all) is dropped, so the broker never
    learns of messages the ingest has committed: a crash then lands between commit and
    acknowledgement, exactly. Connections made later pass everything."""

    def __init__(self, broker_port: int) -> None:
        self._broker_port = broker_port
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.StreamWriter] = set()
        self._tainted: set[asyncio.StreamWriter] = set()
        self._pumps: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def swallow(self) -> None:
        """From now on, drop what the ingest sends on the connections open now."""
        self._tainted |= self._open
        assert self._tainted, "the ingest is not connected through the proxy"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for pump in self._pumps:
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)

    @property
    def _open(self) -> set[asyncio.StreamWriter]:
        return {w for w in self._clients if not w.is_closing()}

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._broker_port)
        except OSError:  # the broker is restarting: the ingest sees a refused connection
            writer.close()
            return
        to_broker = asyncio.create_task(self._pump(reader, up_writer, client=writer))
        to_client = asyncio.create_task(self._pump(up_reader, writer, client=None))
        self._pumps |= {to_broker, to_client}

    async def _pump(
        self,
        source: asyncio.StreamReader,
        target: asyncio.StreamWriter,
        client: asyncio.StreamWriter | None,
    ) -> None:
        try:
            while data := await source.read(65_536):
                if client is not None and client in self._tainted:
                    continue  # swallowed: the broker never sees it
                target.write(data)
                await target.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            target.close()
            with contextlib.suppress(ConnectionError, OSError):
                await target.wait_closed()
