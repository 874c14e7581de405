"""QR codes of otpauth URIs, as PNG images, for authenticator apps to scan."""

from __future__ import annotations

import io

import segno

# Pixels per module and modules of quiet zone: large enough for a phone camera at arm's length,
# and the four-module border the QR specification asks for.
SCALE = 6
BORDER = 4


def qr_code(uri: str) -> segno.QRCode:
    """The QR code of `uri` (medium error correction, smallest version that fits)."""
    return segno.make_qr(uri, error="m", boost_error=False)


def qr_png(uri: str) -> bytes:
    """A PNG image of the QR code of `uri`."""
    out = io.BytesIO()
    qr_code(uri).save(out, kind="png", scale=SCALE, border=BORDER)
    return out.getvalue()
