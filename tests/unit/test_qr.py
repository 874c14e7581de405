"""The enrolment QR code: a PNG that a scanner reads back as the otpauth URI."""

from __future__ import annotations

import png
import zxingcpp

from core.auth.qr import qr_png
from core.auth.totp import provisioning_uri

URI = provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "ada.lovelace@example.com", "Stepwise")


def scan(image: bytes) -> list[str]:
    """The texts of the QR codes a barcode reader finds in a PNG image."""
    width, height, rows, _ = png.Reader(bytes=image).asRGBA8()
    grey = bytearray()
    for row in rows:
        grey.extend(row[0::4])  # black and white: the red channel is the grey level
    view = memoryview(bytes(grey)).cast("B", (height, width))
    return [
        result.text
        for result in zxingcpp.read_barcodes(view)
        if result.format == zxingcpp.BarcodeFormat.QRCode
    ]


def test_the_png_is_a_qr_code_of_the_uri() -> None:
    image = qr_png(URI)
    assert image.startswith(b"\x89PNG\r\n\x1a\n")
    assert scan(image) == [URI]


def test_the_png_is_large_enough_for_a_phone_camera() -> None:
    width, height, _, _ = png.Reader(bytes=qr_png(URI)).read()
    assert width == height
    assert width >= 200
