// Rewrites README.md's field reference from the schema (src/grid/fieldsDoc.ts): `npm run -s readme:fields`.
import { readFileSync, writeFileSync } from "node:fs"
import { withFieldsReference } from "../src/grid/fieldsDoc.ts"

const path = new URL("../README.md", import.meta.url)
writeFileSync(path, withFieldsReference(readFileSync(path, "utf8")))
