// A `node --require` preload for the frontend container (tests/suites/images.sh): it reports
// every module resolution that fails, so the suite can prove that what recipes/frontend.toml
// excludes from the image is never asked for at run time. With MODULE_PROBE_TRACE=1 it also
// reports every module that loads (to find out which traced files a server really uses).
// Needs Node >= 22.15 (module.registerHooks covers require, require.resolve and import).
"use strict";
const { registerHooks } = require("node:module");

const report = (line) => process.stderr.write(`module-probe: ${line}\n`);
const trace = process.env.MODULE_PROBE_TRACE === "1";

registerHooks({
  resolve(specifier, context, nextResolve) {
    let resolved;
    try {
      resolved = nextResolve(specifier, context);
    } catch (error) {
      report(`unresolved ${JSON.stringify(specifier)} from ${context.parentURL ?? "(entry)"} (${error.code})`);
      throw error;
    }
    if (trace) report(`loaded ${resolved.url}`);
    return resolved;
  },
});
