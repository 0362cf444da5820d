/**
 * Next.js calls register() once when the server starts, before it serves requests.
 * Only the Node.js runtime does start-up work (the Edge runtime has no pg driver).
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { startUp } = await import("./lib/startup");
  await startUp();
}
