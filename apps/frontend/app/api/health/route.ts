/**
 * Health of this process. 200 while serving normally; 503 once SIGTERM started the drain, so
 * a readiness probe takes the pod out of the Service while in-flight requests finish.
 * It does not touch the database: a Postgres outage must not restart every frontend pod.
 */
import { isDraining } from "@/lib/process-state";

export const dynamic = "force-dynamic";

export function GET(): Response {
  const draining = isDraining();
  return Response.json(
    { status: draining ? "draining" : "ok" },
    { status: draining ? 503 : 200, headers: { "Cache-Control": "no-store" } },
  );
}
