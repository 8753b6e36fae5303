import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` proxies the API paths to a running `inferia serve` (INFERIA_URL).
const target = process.env.INFERIA_URL ?? "http://127.0.0.1:8000";
const apiPaths = ["/auth", "/management", "/admin", "/audit", "/v1", "/deployment", "/inventory", "/dashboard/config.json"];

export default defineConfig({
  base: "/dashboard/",
  plugins: [react()],
  build: {
    // The committed bundle: inferia serve ships it, CI rebuilds it and compares bytes.
    outDir: "../static",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: Object.fromEntries(apiPaths.map((path) => [path, { target, changeOrigin: false }])),
  },
});
