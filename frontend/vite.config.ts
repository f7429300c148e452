import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { defineConfig } from "vite";

type EnumSchema = { enum?: string[]; "x-enum"?: string };

/** The API's vocabularies by their `x-enum` name, from the OpenAPI document `make ui` writes first
 * (src/common/enums.ts gives them their types). */
function apiEnums(): Record<string, string[]> {
  const doc = JSON.parse(readFileSync(resolve(__dirname, "openapi.json"), "utf8")) as { components: { schemas: Record<string, EnumSchema> } };
  const named = Object.values(doc.components.schemas).filter((s) => s["x-enum"] && s.enum);
  return Object.fromEntries(named.map((s) => [s["x-enum"], s.enum]));
}

// Two pages on one origin with the API: the console (/) and the pay page (/pay/{sn}).
// The pay page must stay small on a weak phone connection: it shares nothing with the console
// but the tiny common modules. JSX settings come from tsconfig.json (Preact's automatic runtime).
export default defineConfig({
  define: { __API_ENUMS__: JSON.stringify(apiEnums()) },
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
