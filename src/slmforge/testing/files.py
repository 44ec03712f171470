"""``/v1/files`` routes of the test server (OpenAI Files API: upload, retrieve, content, list, delete).

Files live in ``request.app.state.files``: ``{file_id: {"object": <FileObject dict>, "content": bytes}}``,
shared by the batches and fine-tuning routes. Upload is multipart (``file``, ``purpose``), as the
official SDK sends it (https://platform.openai.com/docs/api-reference/files).
"""

from __future__ import annotations

import time

from fastapi import APIRouter, HTTPException, Request
from starlette.datastructures import UploadFile
from fastapi.responses import Response

router = APIRouter()


def store_file(request: Request, content: bytes, *, filename: str, purpose: str) -> dict:
    """Store ``content`` (bytes) as a new file and return its FileObject dict."""
    server = request.app.state.server
    file_id = server.next_id("file")
    obj = {"id": file_id, "object": "file", "bytes": len(content), "created_at": int(time.time()),
           "filename": filename, "purpose": purpose, "status": "processed"}
    request.app.state.files[file_id] = {"object": obj, "content": content}
    return obj


def get_file(request: Request, file_id: str) -> dict:
    """The stored entry ``{"object", "content"}`` of ``file_id``.

    Raises:
        HTTPException: 404 when the id is unknown.
    """
    entry = request.app.state.files.get(file_id)
    if entry is None:
        raise HTTPException(404, detail=f"No such File object: {file_id}")
    return entry


@router.post("/v1/files")
async def upload(request: Request) -> dict:
    """Upload a file (multipart form with ``file`` and ``purpose``)."""
    form = await request.form()
    upload_file = form["file"]
    if not isinstance(upload_file, UploadFile):
        raise HTTPException(400, detail="'file' must be a file part")
    return store_file(request, await upload_file.read(), filename=upload_file.filename or "upload",
                      purpose=str(form.get("purpose", "batch")))


@router.get("/v1/files")
async def list_files(request: Request) -> dict:
    """List the stored files."""
    return {"object": "list", "data": [e["object"] for e in request.app.state.files.values()], "has_more": False}


@router.get("/v1/files/{file_id}")
async def retrieve(request: Request, file_id: str) -> dict:
    """The FileObject of ``file_id``."""
    return get_file(request, file_id)["object"]


@router.get("/v1/files/{file_id}/content")
async def content(request: Request, file_id: str) -> Response:
    """The raw bytes of ``file_id``."""
    return Response(get_file(request, file_id)["content"], media_type="application/octet-stream")


@router.delete("/v1/files/{file_id}")
async def delete(request: Request, file_id: str) -> dict:
    """Delete ``file_id``."""
    get_file(request, file_id)
    del request.app.state.files[file_id]
    return {"id": file_id, "object": "file", "deleted": True}
