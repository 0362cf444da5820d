"use client";

/** Shown when rendering the tasks page itself failed (not for backend errors, which the page shows inline). */
export default function TasksError({ reset }: { error: Error; reset: () => void }) {
  return (
    <main className="shell">
      <div className="card narrow">
        <h1>Something went wrong</h1>
        <p className="alert" role="alert">
          The tasks page could not be shown. Try again; if it keeps failing, the server logs say why.
        </p>
        <button type="button" onClick={reset}>
          Try again
        </button>
      </div>
    </main>
  );
}
