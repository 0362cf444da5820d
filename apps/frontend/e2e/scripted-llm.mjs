/**
 * A stand-in for a hosted LLM, which cannot exist here: a tiny OpenAI-compatible
 * /v1/chat/completions server with scripted, stateless replies. Everything around it (the
 * backend's tool loop, persistence, auth, this frontend) is real.
 *
 *   user says "add <title>"   -> a tool call add_task {title}
 *   last message is a tool result -> "Done: added "<title>"."
 *   anything else             -> a plain text answer
 *
 * Usage: node e2e/scripted-llm.mjs PORT   (listens on 127.0.0.1:PORT until SIGTERM)
 */
import http from "node:http";

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error("usage: node e2e/scripted-llm.mjs PORT");
  process.exit(2);
}

function completion(message) {
  return {
    id: `chatcmpl-scripted-${Date.now()}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: "scripted",
    choices: [{ index: 0, message, finish_reason: message.tool_calls ? "tool_calls" : "stop" }],
  };
}

function reply(messages) {
  const last = messages.at(-1) ?? {};
  if (last.role === "tool") {
    const call = messages
      .findLast((m) => m.role === "assistant" && m.tool_calls)
      ?.tool_calls.find((c) => c.id === last.tool_call_id);
    const title = call ? JSON.parse(call.function.arguments).title : "the task";
    return completion({ role: "assistant", content: `Done: added "${title}".` });
  }
  const text = typeof last.content === "string" ? last.content : "";
  const add = /^add (.+)$/i.exec(text.trim());
  if (last.role === "user" && add) {
    return completion({
      role: "assistant",
      content: null,
      tool_calls: [
        {
          id: `call_${Date.now()}`,
          type: "function",
          function: { name: "add_task", arguments: JSON.stringify({ title: add[1] }) },
        },
      ],
    });
  }
  return completion({ role: "assistant", content: 'I can add tasks for you: say "add <title>".' });
}

const server = http.createServer((request, response) => {
  let body = "";
  request.on("data", (chunk) => (body += chunk));
  request.on("end", () => {
    const send = (status, payload) => {
      response.writeHead(status, { "Content-Type": "application/json" });
      response.end(JSON.stringify(payload));
    };
    if (request.method !== "POST" || request.url !== "/v1/chat/completions") {
      return send(404, { error: { message: `no route ${request.method} ${request.url}` } });
    }
    try {
      send(200, reply(JSON.parse(body).messages ?? []));
    } catch (error) {
      send(400, { error: { message: `scripted LLM: bad request: ${error.message}` } });
    }
  });
});
server.listen(port, "127.0.0.1", () => console.log(`scripted LLM on http://127.0.0.1:${port}/v1`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
