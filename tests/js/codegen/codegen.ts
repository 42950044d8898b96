// The codegen configuration docs/api.md shows, run by the suite: typed documents for a frontend, with the
// DateTime scalar mapped to the string it is on the wire.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: '../../../schema.graphql',
  documents: ['src/**/*.ts'],
  ignoreNoDocuments: false,
  generates: {
    './src/gql/': {
      preset: 'client',
      config: {
        scalars: { DateTime: { input: 'string', output: 'string' } },
        enumsAsTypes: true,
      },
      presetConfig: { persistedDocuments: true },
    },
  },
};

export default config;
