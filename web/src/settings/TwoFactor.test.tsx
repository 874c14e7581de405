import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { fakeApi } from "../test/fakeApi";
import { TwoFactor } from "./TwoFactor";

afterEach(() => {
  vi.unstubAllGlobals();
});

const off = { enabled: false, enrolment_pending: false, backup_codes_left: 0, trusted_devices: 0 };
const on = { enabled: true, enrolment_pending: false, backup_codes_left: 10, trusted_devices: 0 };
const codes = ["7psz-me8g", "y2nj-1axg", "es22-n2pd", "kn0j-knfw", "sey4-74kt", "5txc-v7wa", "nwh3-g6hj", "ss4y-e009", "da63-yhrb", "y9h1-16gb"];

test("enrolment: the QR code and key, a wrong code said at the field, then the backup codes once", async () => {
  const sent = fakeApi({
    "GET /api/v1/auth/2fa": [{ status: 200, body: off }, { status: 200, body: on }],
    "POST /api/v1/auth/2fa/enrol": {
      status: 200,
      body: { secret: "EMN6ZK5U3WJWHWZ7L6ADURUYRTDDISRO", otpauth_uri: "otpauth://totp/Stepwise:ada?secret=EMN6", qr_png: "iVBORw0KGgo=" },
    },
    "POST /api/v1/auth/2fa/confirm": [
      { status: 422, body: { detail: "code: this code is wrong or has expired; enter the code your authenticator app shows now" } },
      { status: 200, body: { backup_codes: codes } },
    ],
  });
  const onChanged = vi.fn();
  const user = userEvent.setup();
  render(<TwoFactor onChanged={onChanged} />);
  await user.click(await screen.findByRole("button", { name: "Turn on two-factor authentication" }));

  const qr = await screen.findByRole("img", { name: "QR code for your authenticator app" });
  expect(qr).toHaveAttribute("src", "data:image/png;base64,iVBORw0KGgo=");
  expect(screen.getByText("EMN6 ZK5U 3WJW HWZ7 L6AD URUY RTDD ISRO")).toBeInTheDocument();
  expect(screen.getByRole("heading", { name: "Scan the QR code" })).toHaveFocus();

  await user.type(screen.getByLabelText("Code from the app"), "000000");
  await user.click(screen.getByRole("button", { name: "Confirm" }));
  expect(await screen.findByRole("alert")).toHaveTextContent("wrong or has expired");
  expect(screen.getByLabelText("Code from the app")).toHaveAccessibleDescription(expect.stringContaining("wrong"));
  expect(onChanged).not.toHaveBeenCalled();

  await user.clear(screen.getByLabelText("Code from the app"));
  await user.type(screen.getByLabelText("Code from the app"), " 492018 ");
  await user.click(screen.getByRole("button", { name: "Confirm" }));
  const list = await screen.findByRole("list", { name: "Backup codes" });
  expect(list.querySelectorAll("li")).toHaveLength(10);
  expect(screen.getByRole("heading", { name: "Your backup codes" })).toHaveFocus();
  expect(sent.filter((r) => r.path === "/api/v1/auth/2fa/confirm").map((r) => r.body)).toEqual([{ code: "000000" }, { code: "492018" }]);
  expect(onChanged).toHaveBeenCalledTimes(1);

  await user.click(screen.getByRole("button", { name: "I have stored the codes" }));
  expect(screen.queryByText("7psz-me8g")).toBeNull();
  expect(await screen.findByText(/^On: signing in asks/)).toBeInTheDocument();
});

test("turning it off sends the password and the code, and says why when refused", async () => {
  const sent = fakeApi({
    "GET /api/v1/auth/2fa": [{ status: 200, body: on }, { status: 200, body: off }],
    "POST /api/v1/auth/2fa/disable": [
      { status: 403, body: { detail: "password: this is not your current password" } },
      { status: 204 },
    ],
  });
  const user = userEvent.setup();
  render(<TwoFactor onChanged={() => undefined} />);
  const form = (await screen.findByRole("heading", { name: "Turn it off" })).closest("form") as HTMLFormElement;
  const password = screen.getByLabelText("Current password");
  await user.type(password, "wrong");
  await user.type(form.querySelector("input[name=code]") as HTMLInputElement, "7psz-me8g");
  await user.click(screen.getByRole("button", { name: "Turn off two-factor authentication" }));
  expect(await screen.findByRole("alert")).toHaveTextContent("not your current password");

  await user.clear(password);
  await user.type(password, "ada password 1");
  await user.click(screen.getByRole("button", { name: "Turn off two-factor authentication" }));
  expect(await screen.findByRole("button", { name: "Turn on two-factor authentication" })).toBeInTheDocument();
  expect(sent.filter((r) => r.method === "POST").at(-1)?.body).toEqual({ password: "ada password 1", code: "7psz-me8g" });
});
