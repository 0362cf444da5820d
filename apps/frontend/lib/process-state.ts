/**
 * State shared between the start wrapper (server/taskflow-server.cjs) and the app bundles.
 *
 * Next compiles instrumentation, route handlers and pages into separate bundles, so a plain
 * module-level variable would exist once per bundle. Registered symbols on globalThis are the
 * one place every bundle and the wrapper see the same value.
 */

// Must match the symbol names in server/taskflow-server.cjs.
const DRAINING = Symbol.for("taskflow.frontend.draining");
const DRAIN_SECONDS = Symbol.for("taskflow.frontend.drainSeconds");

type SharedGlobals = Record<symbol, unknown>;
const shared = globalThis as unknown as SharedGlobals;

/** True once SIGTERM arrived: the server still serves, but reports itself not ready. */
export function isDraining(): boolean {
  return shared[DRAINING] === true;
}

/** Tells the wrapper how long to keep serving after SIGTERM (validated DRAIN_SECONDS). */
export function publishDrainSeconds(seconds: number): void {
  shared[DRAIN_SECONDS] = seconds;
}

/** One instance per process for values that must not be duplicated per bundle (pool, auth). */
export function processSingleton<T>(name: string, create: () => T): T {
  const key = Symbol.for(`taskflow.frontend.${name}`);
  if (!(key in shared)) shared[key] = create();
  return shared[key] as T;
}
