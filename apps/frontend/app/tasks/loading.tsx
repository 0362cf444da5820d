export default function LoadingTasks() {
  return (
    <main className="shell">
      <p className="muted" role="status">
        Loading your tasks…
      </p>
    </main>
  );
}
