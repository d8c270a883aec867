#!/usr/bin/env node
// npx tunegrid …: run the TypeScript CLI under Node >= 22's type stripping.
import "../src/cli.ts"
