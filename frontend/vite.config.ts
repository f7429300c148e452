import { resolve } from "node:path";
import { defineConfig } from "vite";

// Two pages on one origin with the API: the console (/) and the pay page (/pay/{sn}).
// The pay page must stay small on a weak phone connection: it shares nothing with the console
// but the tiny common modules. JSX settings come from tsconfig.json (Preact's automatic runtime).
export default defineConfig({
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2020",
    rollupOptions: {
      input: {
        console: resolve(__dirname, "index.html"),
        pay: resolve(__dirname, "pay.html"),
      },
    },
  },
  server: { host: "127.0.0.1", proxy: { "/v1": "http://127.0.0.1:8000", "/_local": "http://127.0.0.1:8000" } },
  test: { environment: "node", include: ["**/*.test.ts"], css: true },
});
