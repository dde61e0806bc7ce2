"""Helpers for the HTTP tests: generated images and multipart bodies."""

from __future__ import annotations

import io
import uuid

from PIL import Image


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def gradient(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A deterministic colour gradient, different along both axes."""
    image = Image.new("RGB", (width, height))
    image.putdata(
        [
            ((x * 255) // max(1, width - 1), (y * 255) // max(1, height - 1), (x + y) % 256)
            for y in range(height)
            for x in range(width)
        ]
    )
    return image.convert(mode)


def multipart(
    parts: list[tuple[str, bytes, str | None]], boundary: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body of (field name, content, content type or None) parts."""
    boundary = boundary or uuid.uuid4().hex
    body = io.BytesIO()
    for name, content, content_type in parts:
        body.write(f"--{boundary}\r\n".encode())
        body.write(f'Content-Disposition: form-data; name="{name}"; filename="f"\r\n'.encode())
        if content_type is not None:
            body.write(f"Content-Type: {content_type}\r\n".encode())
        body.write(b"\r\n" + content + b"\r\n")
    body.write(f"--{boundary}--\r\n".encode())
    return body.getvalue(), {"Content-Type": f"multipart/form-data; boundary={boundary}"}
