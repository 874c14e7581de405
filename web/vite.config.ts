/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves the UI with hot reload and sends /api and /codec to a running
// `stepwise dev` (STEPWISE_API_PORT, default 8000); the API itself serves `dist/` at /.
const api = `http://127.0.0.1:${process.env.STEPWISE_API_PORT ?? "8000"}`;

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    // Every asset is served by the API under /assets/, with a strict CSP: no inline scripts.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    host: "127.0.0.1",
    proxy: { "/api": api, "/codec": api },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
