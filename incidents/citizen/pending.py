"""Photos kept across a refused submission of the report form, so a citizen whose form came
back with an error never attaches them again (on a phone, finding three photos again is where
reports get abandoned).

The photos are kept already cleaned (re-encoded, every metadata block removed; the GPS position
read from them is kept beside them, as the form may offer it) in the media storage under
pending-photos/<token>/, for an hour. The token is random and is also remembered in the
session: a token from another browser's page loads nothing. Expired folders are removed
whenever photos are kept, so the folder never grows past an hour of refused forms."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from incidents.photos import CleanPhoto

FOLDER = "pending-photos"
TTL_SECONDS = 3600
SESSION_KEY = "pending_photos"


@dataclass
class KeptPhoto:
    name: str  # the file name the citizen chose, shown so they recognise it
    photo: CleanPhoto


def _valid_token(token: str) -> bool:
    return 20 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)


def load(request, token: str) -> list[KeptPhoto]:
    """The photos kept under `token` for this browser; [] when there are none (unknown, expired,
    or another session's token)."""
    if not token or not _valid_token(token) or token not in request.session.get(SESSION_KEY, []):
        return []
    try:
        with default_storage.open(f"{FOLDER}/{token}/meta.json") as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return []
    if meta.get("expires", 0) < time.time():
        discard(request, token)
        return []
    kept = []
    for i, item in enumerate(meta["photos"]):
        with default_storage.open(f"{FOLDER}/{token}/{i}.{item['extension']}") as f:
            content = f.read()
        with default_storage.open(f"{FOLDER}/{token}/{i}-thumb.{item['extension']}") as f:
            thumbnail = f.read()
        gps = tuple(item["gps"]) if item["gps"] else None
        kept.append(KeptPhoto(item["name"], CleanPhoto(content, thumbnail, item["extension"], item["content_type"],
                                                       gps, item["width"], item["height"])))
    return kept


def keep(request, photos: list[KeptPhoto], token: str = "") -> str:
    """Store `photos` for an hour (replacing what `token` held) and return their token."""
    if token:
        discard(request, token)
    _remove_expired()
    token = secrets.token_urlsafe(24)
    meta = {"expires": time.time() + TTL_SECONDS, "photos": []}
    for i, kept in enumerate(photos):
        p = kept.photo
        default_storage.save(f"{FOLDER}/{token}/{i}.{p.extension}", ContentFile(p.content))
        default_storage.save(f"{FOLDER}/{token}/{i}-thumb.{p.extension}", ContentFile(p.thumbnail))
        meta["photos"].append({"name": kept.name, "extension": p.extension, "content_type": p.content_type,
                               "gps": list(p.gps) if p.gps else None, "width": p.width, "height": p.height})
    default_storage.save(f"{FOLDER}/{token}/meta.json", ContentFile(json.dumps(meta).encode()))
    request.session[SESSION_KEY] = [*request.session.get(SESSION_KEY, [])[-4:], token]
    return token


def discard(request, token: str) -> None:
    if not token or not _valid_token(token):
        return
    _delete_folder(f"{FOLDER}/{token}")
    tokens = request.session.get(SESSION_KEY, [])
    if token in tokens:
        request.session[SESSION_KEY] = [t for t in tokens if t != token]


def _delete_folder(path: str) -> None:
    try:
        _, files = default_storage.listdir(path)
    except FileNotFoundError:
        return
    for name in files:
        default_storage.delete(f"{path}/{name}")
    try:
        default_storage.delete(path)  # the empty folder (FileSystemStorage removes directories too)
    except OSError:
        pass


def _remove_expired() -> None:
    try:
        folders, _ = default_storage.listdir(FOLDER)
    except FileNotFoundError:
        return
    cutoff = time.time() - TTL_SECONDS
    for folder in folders:
        try:
            created = default_storage.get_created_time(f"{FOLDER}/{folder}").timestamp()
        except (OSError, NotImplementedError):
            created = 0
        if created < cutoff:
            _delete_folder(f"{FOLDER}/{folder}")
