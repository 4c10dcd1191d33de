"""An upload handler that stops reading an upload once it passes MAX_UPLOAD_MB.

Django limits the size of form fields but not of uploaded files, which it spools to disk however
large they are. This handler counts the bytes of every file in the request and stops the upload
at the limit; the import view then tells the user, instead of filling the disk.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload


class LimitedUploadHandler(FileUploadHandler):
    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > settings.COMMONPLACE_MAX_UPLOAD_MB * 1024 * 1024:
            if self.request is not None:
                self.request.upload_too_large = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
