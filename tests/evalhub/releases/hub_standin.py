"""A small local HTTP stand-in for the Hugging Face Hub's endpoints that upload_folder uses
(create repo, validate-yaml, preupload, commit, tag). The real Hub cannot be reached from
here; this answers only what huggingface_hub asks, and keeps what it was sent. It answers
"regular" (inline) for every file, so contents arrive base64 in the commit."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import yaml


class HubStandIn:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []
        self.repos: list[dict[str, Any]] = []
        self.files: dict[str, bytes] = {}
        self.tags: list[tuple[str, dict[str, Any]]] = []
        self.yaml_errors: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, body: Any, code: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                hub.calls.append(("GET", self.path, self.headers.get("Authorization")))
                self._answer({"error": "not in the stand-in"}, 404)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = self.path.split("?")[0]
                hub.calls.append(("POST", path, self.headers.get("Authorization")))
                if path == "/api/repos/create":
                    repo = json.loads(body)
                    hub.repos.append(repo)
                    name = f"{repo.get('organization')}/{repo['name']}"
                    return self._answer({"url": f"{hub.url}/datasets/{name}"})
                if path == "/api/validate-yaml":
                    return self._answer({"errors": hub._check_card(json.loads(body)["content"]),
                                         "warnings": []})  # fmt: skip
                if "/preupload/" in path:
                    files = json.loads(body)["files"]
                    return self._answer({"files": [
                        {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                        for f in files]})  # fmt: skip
                if "/commit/" in path:
                    for line in body.decode().splitlines():
                        op = json.loads(line)
                        if op["key"] == "file":
                            value = op["value"]
                            hub.files[value["path"]] = base64.b64decode(value["content"])
                    oid = "c0ffee" + "0" * 34
                    return self._answer({"commitUrl": f"{hub.url}/datasets/x/y/commit/{oid}",
                                         "commitOid": oid, "pullRequestUrl": None})  # fmt: skip
                if "/tag/" in path:
                    hub.tags.append((path, json.loads(body)))
                    return self._answer({})
                return self._answer({"error": "not in the stand-in"}, 404)

        return Handler

    def _check_card(self, content: str) -> list[dict[str, str]]:
        """What the Hub checks of a card's front matter, as far as this project relies on."""
        try:
            head = yaml.safe_load(content.split("---\n")[1])
        except (IndexError, yaml.YAMLError) as exc:
            return [{"message": f"no YAML front matter: {exc}"}]
        need = ("license", "task_categories", "size_categories", "configs")
        return [{"message": f"missing {k}"} for k in need if k not in head]
