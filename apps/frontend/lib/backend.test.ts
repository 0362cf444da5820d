/**
 * The backend client's requests and error mapping. The HTTP server here is a stand-in on
 * loopback that records requests and answers as the real backend does for each case; the
 * real backend is exercised by the end-to-end test (e2e/tasks.e2e.test.mjs).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { BackendClient, BackendError, describeFailure, errorDetail, type Failure } from "./backend";

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

type Reply = { status: number; body?: unknown; delayMs?: number; raw?: string };

let server: Server;
let baseUrl: string;
let nextReply: Reply = { status: 200, body: [] };
const seen: Seen[] = [];

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

beforeAll(async () => {
  server = createServer(async (request, response) => {
    seen.push({
      method: request.method ?? "",
      url: request.url ?? "",
      authorization: request.headers.authorization,
      contentType: request.headers["content-type"],
      body: await readBody(request),
    });
    const reply = nextReply;
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    if (response.destroyed) return;
    response.writeHead(reply.status, { "Content-Type": "application/json" });
    response.end(reply.raw ?? (reply.body === undefined ? "" : JSON.stringify(reply.body)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

// Generous: the machine may be busy. The timeout test uses its own short limit.
function client(userId = "user-1", timeoutMs = 10_000) {
  return new BackendClient(baseUrl, userId, "jwt-token", { tasksMs: timeoutMs, chatMs: timeoutMs });
}

async function failureOf(promise: Promise<unknown>): Promise<Failure> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BackendError);
    return (error as BackendError).failure;
  }
  throw new Error("the call succeeded");
}

describe("BackendClient requests", () => {
  it("sends the bearer token to the contract's paths with JSON bodies", async () => {
    seen.length = 0;
    const task = { id: 7, user_id: "user/1", title: "t", description: null, completed: false, created_at: "", updated_at: "" };
    nextReply = { status: 200, body: [task] };
    expect(await client("user/1").listTasks()).toEqual([task]);
    nextReply = { status: 201, body: task };
    await client("user/1").createTask("t", "");
    nextReply = { status: 200, body: task };
    await client("user/1").updateTask(7, "t2", "d");
    await client("user/1").setCompleted(7, true);
    nextReply = { status: 204 };
    await client("user/1").deleteTask(7);
    nextReply = { status: 200, body: { conversation_id: 3, response: "hi", tool_calls: [] } };
    await client("user/1").chat("hello", 3);

    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      "GET /api/user%2F1/tasks",
      "POST /api/user%2F1/tasks",
      "PUT /api/user%2F1/tasks/7",
      "PATCH /api/user%2F1/tasks/7/complete",
      "DELETE /api/user%2F1/tasks/7",
      "POST /api/user%2F1/chat",
    ]);
    expect(new Set(seen.map((r) => r.authorization))).toEqual(new Set(["Bearer jwt-token"]));
    expect(JSON.parse(seen[1].body)).toEqual({ title: "t", description: null });
    expect(JSON.parse(seen[2].body)).toEqual({ title: "t2", description: "d" });
    expect(JSON.parse(seen[3].body)).toEqual({ completed: true });
    expect(JSON.parse(seen[5].body)).toEqual({ message: "hello", conversation_id: 3 });
    expect(seen[0].contentType).toBeUndefined();
    expect(seen[1].contentType).toBe("application/json");
  });
});

describe("BackendClient failures", () => {
  it("recognises the assistant-not-configured answer by its code", async () => {
    nextReply = {
      status: 503,
      body: { detail: "the AI assistant is not configured on this server", code: "assistant_not_configured" },
    };
    expect((await failureOf(client().chat("hi", null))).kind).toBe("assistant_not_configured");
  });

  it("treats other 503s as the service being unavailable", async () => {
    nextReply = { status: 503, body: { detail: "database unavailable" } };
    expect(await failureOf(client().listTasks())).toEqual({
      kind: "unavailable",
      status: 503,
      message: "database unavailable",
    });
  });

  it("maps an unreadable error body to a generic message", async () => {
    nextReply = { status: 500, raw: "<html>oops</html>" };
    expect(await failureOf(client().listTasks())).toEqual({
      kind: "upstream",
      status: 500,
      message: "The task service answered with an error (HTTP 500).",
    });
  });

  it("gives up on a backend that does not answer in time", async () => {
    nextReply = { status: 200, body: [], delayMs: 3000 };
    expect((await failureOf(client("user-1", 500).listTasks())).kind).toBe("timeout");
  });

  it("reports an unreachable backend", async () => {
    const closed = new BackendClient("http://127.0.0.1:1", "u", "t");
    expect((await failureOf(closed.listTasks())).kind).toBe("unavailable");
  });
});

describe("describeFailure", () => {
  it.each([
    [401, "unauthorized"],
    [403, "unauthorized"],
    [404, "not_found"],
    [422, "invalid"],
    [502, "unavailable"],
    [504, "timeout"],
    [418, "upstream"],
  ])("HTTP %i -> %s", (status, kind) => {
    expect(describeFailure(status, undefined, "tasks").kind).toBe(kind);
  });

  it("does not take a tasks 503 for the assistant state", () => {
    expect(describeFailure(503, { code: "assistant_not_configured" }, "tasks").kind).toBe("unavailable");
  });

  it("words a missing conversation differently from a missing task", () => {
    expect(describeFailure(404, undefined, "chat").message).toMatch(/conversation/);
    expect(describeFailure(404, undefined, "tasks").message).toMatch(/task/);
  });
});

describe("errorDetail", () => {
  it("reads FastAPI's detail string and validation lists", () => {
    expect(errorDetail({ detail: "task not found" })).toBe("task not found");
    expect(
      errorDetail({
        detail: [
          { loc: ["body", "title"], msg: "String should have at least 1 character" },
          { loc: ["body"], msg: "Input should be a valid dictionary" },
        ],
      }),
    ).toBe("title: String should have at least 1 character; Input should be a valid dictionary");
    expect(errorDetail({ error: { message: "nested" } })).toBe("nested");
    expect(errorDetail("plain")).toBeUndefined();
    expect(errorDetail({ detail: "  " })).toBeUndefined();
  });
});
