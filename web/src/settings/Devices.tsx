// Trusted devices: the browsers that skip the second sign-in step (GET /auth/devices), and
// forgetting one (DELETE /auth/devices/{id}), after which it is asked for a code again.
import { useState } from "react";
import { api, errorMessage, type Schemas } from "../api/client";
import { ErrorText, when } from "../components";
import { usePoll } from "../usePoll";

function deviceState(device: Schemas["TrustedDevicePublic"]): string {
  if (device.revoked_at) return `forgotten ${when(device.revoked_at)}`;
  if (new Date(device.expires_at) <= new Date()) return `expired ${when(device.expires_at)}`;
  return `trusted until ${when(device.expires_at)}`;
}

export function Devices({ version }: { version: number }) {
  const devices = usePoll(
    async () => {
      const { data, error, response } = await api.GET("/api/v1/auth/devices");
      if (!data) throw new Error(errorMessage(error, response.status));
      return data;
    },
    null,
    `devices-${version}`,
  );
  const [error, setError] = useState<string | null>(null);

  const forget = async (device: Schemas["TrustedDevicePublic"]) => {
    if (!confirm(`Forget ${device.name || "this device"}? Signing in there asks for a code again.`)) return;
    setError(null);
    const { error, response } = await api.DELETE("/api/v1/auth/devices/{device_id}", {
      params: { path: { device_id: device.id } },
    });
    if (!response.ok) setError(errorMessage(error, response.status));
    devices.reload();
  };

  return (
    <section aria-labelledby="devices-title">
      <h2 id="devices-title">Trusted devices</h2>
      <p className="note">Browsers where “trust this browser” was ticked skip the code for 30 days.</p>
      <ErrorText>{devices.error ?? error}</ErrorText>
      {devices.value && devices.value.length === 0 && <p>No trusted devices.</p>}
      <ul className="cards" aria-label="Your trusted devices">
        {(devices.value ?? []).map((device) => {
          const label = device.name || "unnamed device";
          return (
            <li key={device.id} className="card">
              <div className="card-head">
                <h3>{label}</h3>
                {device.current && <span className="status status-running">this browser</span>}
                <span className="note">{deviceState(device)}</span>
              </div>
              <p className="note">
                since {when(device.created_at)}
                {device.last_used_at && ` · last used ${when(device.last_used_at)}`}
              </p>
              {!device.revoked_at && (
                <button type="button" className="danger" aria-label={`Forget ${label}`} onClick={() => void forget(device)}>
                  Forget
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
