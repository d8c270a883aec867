#!/usr/bin/env node
// npx tunegrid …: run the TypeScript CLI under Node >= 22.19's type stripping. npm install brings
// Node 24 into the project (the `node` devDependency) and npx / npm scripts put it first on PATH,
// so the system's Node only has to run npm (package.json engines: >= 20). Run any other way with
// an older Node, say so in one line instead of a syntax error.
const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  console.error(
    `tunegrid needs Node >= 22.19 (this is ${process.versions.node}); run it as \`npx tunegrid\` from the repository after \`npm install\`, which brings Node 24`
  )
  process.exit(1)
}
// Node keeps the type-stripped, compiled modules between runs (NODE_COMPILE_CACHE or its temp
// directory): ~0.3 s of each command's ~1 s start-up.
const { enableCompileCache } = await import("node:module")
enableCompileCache?.()
await import("../src/cli.ts")
