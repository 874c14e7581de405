"""Bodies of two-factor enrolment, the second sign-in step, and trusted devices."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

# Room for a backup code typed with spaces; the library says what a code must look like.
Code = Field(min_length=1, max_length=32, description="A 6-digit TOTP code, or a backup code like 7kq2-m9xd.")


class EnrolmentPublic(BaseModel):
    secret: str = Field(description="The base32 secret, for typing into an app that cannot scan.")
    otpauth_uri: str = Field(description="The otpauth:// URI the QR code holds.")
    qr_png: str = Field(description="The QR code as a base64 PNG (for a data: URL).")


class CodeRequest(BaseModel):
    code: str = Code


class BackupCodesPublic(BaseModel):
    backup_codes: list[str] = Field(description="Ten single-use codes; shown only now, store them safely.")


class DisableRequest(BaseModel):
    password: str = Field(min_length=1, max_length=1024)
    code: str = Code


class VerifyRequest(BaseModel):
    challenge: str = Field(min_length=1, max_length=4096, description="The challenge the login gave.")
    code: str = Code
    remember_device: bool = Field(default=False, description="Skip the second step here for 30 days.")
    device_name: str | None = Field(default=None, max_length=200, description="Default: the User-Agent.")


class TwoFactorStatus(BaseModel):
    enabled: bool
    enrolment_pending: bool = Field(description="Enrolment was started and awaits a code to confirm it.")
    backup_codes_left: int
    trusted_devices: int = Field(description="Devices that skip the second step now.")


class TrustedDevicePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    current: bool = Field(default=False, description="The device this request comes from.")
