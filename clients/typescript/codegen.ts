// GraphQL Code Generator config: typed documents and result types for the
// operations in src/operations.graphql, checked against the committed schema.
// Run with `npm run codegen` (writes src/generated/, not committed).
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: ["src/**/*.graphql"],
  ignoreNoDocuments: false,
  generates: {
    "src/generated/": {
      preset: "client",
      config: {
        // The custom scalars arrive as JSON: BigInt, Decimal and DateTime as
        // strings (BigInt as a decimal string, it can pass 2^53; Decimal as an
        // exact decimal string such as "0.25"; DateTime as ISO 8601), JSON as
        // any JSON value (src/scalars.ts).
        scalars: {
          BigInt: "string",
          Decimal: "string",
          DateTime: "string",
          JSON: "../scalars#JsonValue",
        },
        strictScalars: true,
        enumsAsTypes: true,
        useTypeImports: true,
      },
      presetConfig: {
        // Results of fragments are read with useFragment() (fragment masking).
        fragmentMasking: { unmaskFunctionName: "useFragment" },
      },
    },
  },
};

export default config;
