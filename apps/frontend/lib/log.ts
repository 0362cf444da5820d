/** JSON log lines on stdout/stderr, one object per line, like the backend's. */

type Level = "info" | "warn" | "error";

export function log(level: Level, event: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({
    time: new Date().toISOString(),
    level,
    logger: "taskflow.frontend",
    event,
    ...fields,
  });
  if (level === "info") console.log(line);
  else console.error(line);
}
