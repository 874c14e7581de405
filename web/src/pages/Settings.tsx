// Settings: who you are, two-factor authentication, trusted devices and API keys. Loaded only
// when opened.
import { useState } from "react";
import type { Schemas } from "../api/client";
import { ApiKeys } from "../settings/ApiKeys";
import { Devices } from "../settings/Devices";
import { TwoFactor } from "../settings/TwoFactor";

export function Settings({ me, onChanged }: { me: Schemas["UserPublic"] | null; onChanged?: () => void }) {
  // Turning 2FA on or off changes the devices too (turning it off forgets them all).
  const [changes, setChanges] = useState(0);
  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      {me && (
        <p className="note">
          Signed in as {me.username}
          {me.email && ` (${me.email})`}, role {me.role}
          {me.groups.length > 0 && `, groups ${me.groups.join(", ")}`}.
        </p>
      )}
      <TwoFactor
        onChanged={() => {
          setChanges((n) => n + 1);
          onChanged?.();
        }}
      />
      <Devices version={changes} />
      <ApiKeys role={me?.role ?? null} />
    </section>
  );
}
