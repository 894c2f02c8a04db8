"""Browser-like HTTP helpers for the storage tests (a multipart POST straight to the store)."""
from __future__ import annotations

import io
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass


@dataclass
class StoreResponse:
    status: int
    body: str
    headers: dict


def http(url: str, *, data: bytes | None = None, headers: dict | None = None, method: str | None = None) -> StoreResponse:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return StoreResponse(response.status, response.read().decode("utf-8", "replace"), dict(response.headers))
    except urllib.error.HTTPError as exc:
        return StoreResponse(exc.code, exc.read().decode("utf-8", "replace"), dict(exc.headers))


def multipart_post(url: str, fields: dict[str, str], content: bytes, *, filename: str = "deck.pdf",
                   file_type: str = "application/pdf") -> StoreResponse:
    """POST a form the way a browser does: the fields in order, then the file last."""
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    for name, value in fields.items():
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
               f"Content-Type: {file_type}\r\n\r\n".encode())
    body.write(content)
    body.write(f"\r\n--{boundary}--\r\n".encode())
    return http(url, data=body.getvalue(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
                method="POST")
