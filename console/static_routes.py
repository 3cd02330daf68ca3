"""The console's own scripts and styles (no CDN, no build step)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from config import REPO_ROOT

router = APIRouter()
STATIC_DIR = REPO_ROOT / "static" / "console"
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@router.get("/static/{name}", include_in_schema=False)
def static_file(name: str) -> Response:
    path = STATIC_DIR / name
    # Only plain file names of the kinds we serve: nothing outside STATIC_DIR.
    if "/" in name or "\\" in name or name.startswith(".") or path.suffix not in _TYPES \
            or not path.is_file():
        return Response(status_code=404)
    return Response(path.read_bytes(), media_type=_TYPES[path.suffix],
                    headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})
