/**
 * End to end, in headless Chromium, against the real stack the suite started: the production
 * build of this frontend (standalone server.js), the real backend and Postgres. No part is
 * faked; the backend runs without OPENAI_API_KEY, so the assistant is "not configured".
 *
 * Needs FRONTEND_URL and BACKEND_URL (tests/suites/frontend.sh sets both).
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, test } from "node:test";

import { launchBrowser } from "./browser.mjs";

const FRONTEND_URL = process.env.FRONTEND_URL;
const BACKEND_URL = process.env.BACKEND_URL;
if (!FRONTEND_URL || !BACKEND_URL) throw new Error("set FRONTEND_URL and BACKEND_URL (see tests/suites/frontend.sh)");

const ARTIFACTS = new URL("./artifacts/", import.meta.url).pathname;
const TIMEOUT_MS = 30_000;

const email = `e2e-${Date.now()}-${process.pid}@example.test`;
const password = "correct horse battery staple";

let browser;
let page;
const browserRequests = [];

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchBrowser();
  page = await browser.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on("request", (request) => browserRequests.push(request.url()));
});

after(async () => {
  await browser?.close();
});

async function step(name, body) {
  try {
    await body();
  } catch (error) {
    const file = `${ARTIFACTS}${name.replace(/[^a-z0-9]+/gi, "-")}.png`;
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    error.message = `${error.message}\n(screenshot: ${file})`;
    throw error;
  }
}

const taskItem = (title) => page.getByTestId("task").filter({ hasText: title });

test("sign up, then manage tasks that persist across a reload", async () => {
  await step("sign-up", async () => {
    await page.goto(`${FRONTEND_URL}/sign-up`);
    await page.getByLabel("Name").fill("E2E User");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.waitForURL(`${FRONTEND_URL}/tasks`);
    await page.getByText("No tasks yet").waitFor();
  });

  await step("create", async () => {
    await page.getByLabel("Title").fill("Buy milk");
    await page.getByLabel("Description (optional)").fill("2 litres");
    await page.getByRole("button", { name: "Add task" }).click();
    await taskItem("Buy milk").waitFor();
    await page.getByLabel("Title").fill("Throw away");
    await page.getByRole("button", { name: "Add task" }).click();
    await taskItem("Throw away").waitFor();
  });

  await step("reject empty title", async () => {
    await page.getByLabel("Title").fill("   ");
    await page.getByRole("button", { name: "Add task" }).click();
    await page.getByRole("alert").filter({ hasText: "Give the task a title." }).waitFor();
  });

  await step("edit", async () => {
    await taskItem("Buy milk").getByRole("button", { name: "Edit" }).click();
    const form = page.getByRole("form", { name: "Edit task Buy milk" });
    await form.getByLabel("Title").fill("Buy oat milk");
    await form.getByLabel("Description").fill("1 litre, unsweetened");
    await form.getByRole("button", { name: "Save" }).click();
    await taskItem("Buy oat milk").getByText("1 litre, unsweetened").waitFor();
  });

  await step("complete", async () => {
    // A plain click: the box is controlled and only flips once the backend confirmed the change.
    await page.getByRole("checkbox", { name: 'Mark "Buy oat milk" as done' }).click();
    await page.getByRole("checkbox", { name: 'Mark "Buy oat milk" as not done' }).waitFor();
  });

  await step("delete", async () => {
    await taskItem("Throw away").getByRole("button", { name: "Delete" }).click();
    await taskItem("Throw away").waitFor({ state: "detached" });
  });

  await step("reload", async () => {
    await page.reload();
    await taskItem("Buy oat milk").getByText("1 litre, unsweetened").waitFor();
    assert.equal(await page.getByRole("checkbox", { name: 'Mark "Buy oat milk" as not done' }).isChecked(), true);
    assert.equal(await taskItem("Throw away").count(), 0, "the deleted task came back after a reload");
    assert.equal(await page.getByTestId("task").count(), 1);
  });
});

test("the assistant panel says it is not configured, and tasks keep working", async () => {
  await step("assistant", async () => {
    await page.getByLabel("Message", { exact: true }).fill("What is still open?");
    await page.getByRole("button", { name: "Send" }).click();
    const notice = page.getByTestId("assistant-not-configured");
    await notice.waitFor();
    assert.match(await notice.innerText(), /not configured/i);
    assert.equal(await page.getByRole("button", { name: "Send" }).isDisabled(), true);
    await taskItem("Buy oat milk").waitFor();
  });
});

test("sign out, a wrong password is refused, sign in again sees the same tasks", async () => {
  await step("sign-out", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${FRONTEND_URL}/sign-in`);
    await page.goto(`${FRONTEND_URL}/tasks`);
    await page.waitForURL(`${FRONTEND_URL}/sign-in`);
  });

  await step("wrong-password", async () => {
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: /invalid email or password/i }).waitFor();
  });

  await step("sign-in", async () => {
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${FRONTEND_URL}/tasks`);
    await taskItem("Buy oat milk").waitFor();
  });
});

test("the browser only ever talked to the frontend", () => {
  const backendOrigin = new URL(BACKEND_URL).origin;
  const frontendOrigin = new URL(FRONTEND_URL).origin;
  assert.ok(browserRequests.length > 0);
  const elsewhere = browserRequests.filter((url) => !url.startsWith(frontendOrigin) && !url.startsWith("data:"));
  assert.deepEqual(elsewhere, [], "requests to origins other than the frontend");
  assert.equal(browserRequests.filter((url) => url.startsWith(backendOrigin)).length, 0);
});
