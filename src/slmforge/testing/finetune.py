"""Fine-tuning jobs routes of the test server (``/v1/fine_tuning/jobs``).

Placeholder owned by the training engineer (issue 6), who fills in ``router``; the
:class:`~slmforge.testing.server.ScriptedServer` mounts it as it is. Uploaded files are served by
:mod:`slmforge.testing.files` (``/v1/files``) and live in ``request.app.state.files``
(``{file_id: {"object": FileObject dict, "content": bytes}}``); use
``slmforge.testing.files.get_file(request, file_id)`` / ``store_file(...)`` rather than
redefining the files routes.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
