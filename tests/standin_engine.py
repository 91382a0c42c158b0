"""A stand-in for today's engine (WrldBld/Game), written here for the tests:
a WebSocket server on 127.0.0.1 at /ws that speaks the engine's join rules
and message shapes (crates/shared/src/messages.rs): ClientMessage::JoinWorld
answered by WorldJoined or WorldJoinFailed ({"type": ...} errors), Heartbeat
by Pong, a Request for ListPlayerCharacters by a Response, the DM's seat
given to the newest DM connection of the same user id and refused to another
user, and GET /api/worlds listing the worlds. After a join it sends a script
of ServerMessages, in order, each once across connections: a test can drop
the connection part way or stop and start the whole engine, and the rest
follows on the next connection."""

import asyncio
import http
import json
import threading
import uuid

import websockets


class StandInEngine:
    def __init__(self, worlds, pcs=None, port=0, dm_user="dm-user"):
        self.worlds = dict(worlds)          # id -> name
        self.pcs = pcs or {}                # world id -> [(pc id, name)]
        self.port = port
        self.dm_user = dm_user
        self.script = []                    # texts to send after a join, in order
        self.next = 0                       # the next script line to send
        self.sent = []                      # (connection number, text) actually handed to a socket
        self.joins = []                     # every JoinWorld received
        self.heartbeats = 0
        self.requests = []
        self.drop_after = None              # close the connection once this many script lines went out
        self.refuse = None                  # a JoinError type to answer every join with
        self.paced = 0.0                    # seconds between script lines (0: as fast as it goes)
        self.connections = 0
        self.lock = threading.Lock()
        self.loop = None
        self.server = None
        self.thread = None
        self.more = None

    # --- running ---------------------------------------------------------
    def start(self):
        started = threading.Event()

        def run():
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
            self.more = asyncio.Event()
            self.server = self.loop.run_until_complete(websockets.serve(
                self.handle, "127.0.0.1", self.port, process_request=self.http, max_size=2 ** 22))
            self.port = self.server.sockets[0].getsockname()[1]
            started.set()
            self.loop.run_forever()
            self.loop.run_until_complete(self.server.wait_closed())
            self.loop.close()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        started.wait(10)
        return self

    def stop(self):
        """Stops as an engine does: every connection closed, the port closed."""
        if not self.loop:
            return
        def close():
            self.server.close()
            self.loop.stop()
        self.loop.call_soon_threadsafe(close)
        self.thread.join(10)
        self.loop = None

    def feed(self, texts):
        with self.lock:
            self.script.extend(texts)
        if self.loop:
            self.loop.call_soon_threadsafe(self.more.set)

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}/ws"

    # --- the engine's rules ----------------------------------------------
    async def http(self, path, headers):
        if path == "/ws":
            return None
        if path == "/api/worlds":
            body = json.dumps([{"id": i, "name": n, "description": ""} for i, n in self.worlds.items()]).encode()
            return http.HTTPStatus.OK, [("Content-Type", "application/json")], body
        return http.HTTPStatus.NOT_FOUND, [], b"not found\n"

    async def handle(self, ws, path=None):
        with self.lock:
            self.connections += 1
            number = self.connections
        joined = None
        sender = None
        try:
            async for text in ws:
                message = json.loads(text)
                kind = message.get("type")
                if kind == "Heartbeat":
                    self.heartbeats += 1
                    await ws.send('{"type":"Pong"}')
                elif kind == "JoinWorld":
                    self.joins.append(message)
                    reply = self.join_reply(message)
                    await ws.send(json.dumps(reply))
                    if reply["type"] == "WorldJoined" and sender is None:
                        joined = message
                        sender = asyncio.ensure_future(self.send_script(ws, number))
                elif kind == "Request":
                    self.requests.append(message)
                    await ws.send(json.dumps(self.answer(message, joined)))
                else:
                    await ws.send(json.dumps({"type": "Error", "code": "BadRequest",
                                              "message": "Unrecognized message type"}))
        except websockets.ConnectionClosed:
            pass
        finally:
            if sender:
                sender.cancel()

    def join_reply(self, m):
        world = m.get("world_id")
        if self.refuse:
            error = {"type": self.refuse}
            if self.refuse == "DmAlreadyConnected":
                error["existing_user_id"] = ""
            return {"type": "WorldJoinFailed", "world_id": world, "error": error}
        if world not in self.worlds:
            return {"type": "WorldJoinFailed", "world_id": world, "error": {"type": "WorldNotFound"}}
        if m.get("role") == "Dm" and m.get("user_id") != self.dm_user:
            return {"type": "WorldJoinFailed", "world_id": world,
                    "error": {"type": "DmAlreadyConnected", "existing_user_id": ""}}
        snapshot = {"characters": [], "current_scene": None, "locations": [], "scenes": [],
                    "world": {"created_at": "2025-01-10T12:00:00Z", "description": "", "id": world,
                              "name": self.worlds[world], "rule_system": "Generic D20 System",
                              "updated_at": "2025-01-10T12:00:00Z"}}
        users = [{"user_id": self.dm_user, "role": "Dm", "connection_count": 1},
                 {"user_id": m.get("user_id"), "role": m.get("role"), "connection_count": 1}]
        return {"type": "WorldJoined", "world_id": world, "snapshot": snapshot, "connected_users": users,
                "your_role": m.get("role"), "your_pc": None}

    def answer(self, m, joined):
        request_id = m.get("request_id", "")
        payload = m.get("payload", {})
        inner = payload.get("payload", {})
        if payload.get("group") == "PlayerCharacter" and inner.get("type") == "ListPlayerCharacters":
            data = [{"id": i, "name": n, "world_id": inner.get("world_id")}
                    for i, n in self.pcs.get(inner.get("world_id"), [])]
            return {"type": "Response", "request_id": request_id, "result": {"status": "Success", "data": data}}
        return {"type": "Response", "request_id": request_id,
                "result": {"status": "Error", "code": "BadRequest", "message": "This request type is not yet implemented"}}

    async def send_script(self, ws, number):
        sent_here = 0
        while True:
            with self.lock:
                text = self.script[self.next] if self.next < len(self.script) else None
            if text is None:
                self.more.clear()
                await self.more.wait()
                continue
            if self.drop_after is not None and sent_here >= self.drop_after:
                self.drop_after = None
                await ws.close(1011, "stand-in: dropped on purpose")
                return
            await ws.send(text)
            with self.lock:
                self.next += 1
                self.sent.append((number, text))
            sent_here += 1
            if self.paced:
                await asyncio.sleep(self.paced)
            elif sent_here % 200 == 0:
                await asyncio.sleep(0)


def new_uuid():
    return str(uuid.uuid4())


if __name__ == "__main__":
    # For the window's test: serve one world and a file of messages, print
    # "port N", and run until stdin closes.
    import argparse
    import sys
    parser = argparse.ArgumentParser()
    parser.add_argument("--world", required=True)
    parser.add_argument("--name", default="The Shattered Coast")
    parser.add_argument("--messages", required=True)
    args = parser.parse_args()
    engine = StandInEngine({args.world: args.name}).start()
    with open(args.messages, encoding="utf-8") as f:
        engine.feed([line.rstrip("\n") for line in f if line.strip()])
    print(f"port {engine.port}", flush=True)
    sys.stdin.read()
    engine.stop()
