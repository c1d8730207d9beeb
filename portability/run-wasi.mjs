// Runs a wasm32-wasip1 program under Node's WASI (Node 20+), passing on its exit code:
//   node portability/run-wasi.mjs PROGRAM.wasm [ARGS...]
// The program sees no files and no environment: the digests need neither.
import { readFile } from "node:fs/promises";
import { WASI } from "node:wasi";

const [path, ...args] = process.argv.slice(2);
if (!path) {
    console.error("usage: node run-wasi.mjs PROGRAM.wasm [ARGS...]");
    process.exit(2);
}
const wasi = new WASI({ version: "preview1", args: [path, ...args], env: {}, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(path));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
