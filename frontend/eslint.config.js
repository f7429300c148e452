// ESLint (flat config) over frontend/src: the recommended JavaScript rules and typescript-eslint's
// recommended rules. `make test` runs it (`npm run lint`), as does the pre-commit hook.
// Next step: typescript-eslint's type-checked set (`recommendedTypeChecked`) finds 51 places today,
// nearly all click handlers that drop a promise (no-misused-promises / no-floating-promises).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // src/common/schema.d.ts is generated from the API's OpenAPI document (`make ui`), not written here.
  { ignores: ["dist/**", "node_modules/**", "src/common/schema.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Unused locals and parameters are tsc's job (noUnusedLocals, noUnusedParameters).
      "@typescript-eslint/no-unused-vars": "off",
    },
  },
);
