import { useCallback, useEffect, useRef, useState } from "react";

export interface Polled<T> {
  value: T | undefined;
  error: string | null;
  reload: () => void;
}

/** `load` now, then every `everyMs` while the page is visible (never when null); a newer
 * load's answer wins over an older one's. `load` throws an Error whose message is shown. */
export function usePoll<T>(load: () => Promise<T>, everyMs: number | null, key: string): Polled<T> {
  const [value, setValue] = useState<T>();
  const [error, setError] = useState<string | null>(null);
  const latest = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const reload = useCallback(() => {
    const ticket = ++latest.current;
    loadRef.current().then(
      (result) => {
        if (ticket !== latest.current) return;
        setValue(result);
        setError(null);
      },
      (caught: unknown) => {
        if (ticket !== latest.current) return;
        setError(caught instanceof Error ? caught.message : String(caught));
      },
    );
  }, []);

  useEffect(() => {
    setValue(undefined);
    reload();
  }, [key, reload]);

  useEffect(() => {
    if (everyMs === null) return;
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") reload();
    }, everyMs);
    return () => clearInterval(timer);
  }, [everyMs, key, reload]);

  return { value, error, reload };
}
