/** What the sign-in and sign-up forms say when Better Auth refuses. */

export function authFailureMessage(error: { status?: number; message?: string } | null | undefined): string {
  if (!error) return "Something went wrong. Try again.";
  if (error.status === 429) return "Too many attempts. Wait a few seconds and try again.";
  if (!error.status || error.status >= 500) return "Something went wrong on our side. Try again in a moment.";
  const message = error.message?.trim();
  if (!message) return "That did not work. Check your details and try again.";
  return message.endsWith(".") ? message : `${message}.`;
}
