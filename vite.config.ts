// Vite builds the editor (frontend/) into static/dist/ with a manifest that templates/app.html reads.
// `npm run dev` serves it on :5173 and proxies the backend's routes to a running `make run` (:8000).
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

const backend = process.env.BACKEND_URL ?? "http://127.0.0.1:8000";
const proxied = ["/api", "/login", "/logout", "/session.json", "/static/css", "/admin"];

export default defineConfig(({ command }) => ({
  root: "frontend",
  base: command === "build" ? "/static/dist/" : "/",
  plugins: [react()],
  build: {
    outDir: "../static/dist",
    emptyOutDir: true,
    manifest: true,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    port: 5173,
    proxy: {
      ...Object.fromEntries(proxied.map((path) => [path, { target: backend, changeOrigin: false }])),
      "/socket.io": { target: backend, ws: true },
    },
  },
  test: {
    root: ".",
    include: ["frontend/src/**/*.test.ts"],
    environment: "node",
  },
}));
