// Shared helpers for the interop scripts. Every script prints exactly one
// JSON document on stdout; the Rust harness (crates/tessera-cli/tests/interop.rs)
// reads it and owns every assertion. Diagnostics go to stderr.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

/** The installed version of a peer package (from its package.json; some
 * packages do not export that file, so it is read from node_modules). */
export function peerVersion(name) {
  return readJson(new URL(`../node_modules/${name}/package.json`, import.meta.url)).version;
}

/** Parses --name value options; every option is a string. */
export function args(spec) {
  const options = {};
  for (const name of spec) options[name] = { type: 'string' };
  return parseArgs({ options, strict: true }).values;
}

export function need(values, name) {
  const v = values[name];
  if (v === undefined || v === '') {
    process.stderr.write(`missing --${name}\n`);
    process.exit(2);
  }
  return v;
}

export function emit(doc) {
  process.stdout.write(JSON.stringify(doc, null, 1) + '\n');
}

export function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** A writer rooted at `dir` that returns the absolute path it wrote. */
export function writer(dir) {
  mkdirSync(dir, { recursive: true });
  return (name, contents) => {
    const p = join(dir, name);
    writeFileSync(p, contents, { mode: 0o600 });
    return p;
  };
}

/** The outcome of an async check as JSON: {ok:true, ...value} or {ok:false, code, message}. */
export async function outcome(fn) {
  try {
    const value = await fn();
    return { ok: true, ...value };
  } catch (e) {
    return { ok: false, code: e?.code ?? e?.name ?? 'Error', message: String(e?.message ?? e) };
  }
}

/** A case this build cannot run yet: reported, never silently dropped. */
export function skipped(reason) {
  return { skipped: true, reason };
}
