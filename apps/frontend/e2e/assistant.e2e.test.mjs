/**
 * The assistant panel end to end, in headless Chromium: the real frontend and backend with the
 * backend pointed at e2e/scripted-llm.mjs, a stand-in for the hosted LLM (which cannot exist
 * here). The tool call really runs in the backend and the new task really lands in Postgres.
 *
 * Needs FRONTEND_URL (tests/suites/frontend.sh restarts the backend with the scripted LLM).
 */
import { mkdirSync } from "node:fs";
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { launchBrowser } from "./browser.mjs";

const FRONTEND_URL = process.env.FRONTEND_URL;
if (!FRONTEND_URL) throw new Error("set FRONTEND_URL (see tests/suites/frontend.sh)");
const ARTIFACTS = new URL("./artifacts/", import.meta.url).pathname;

let browser;
let page;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchBrowser();
  page = await browser.newPage();
  page.setDefaultTimeout(30_000);
});

after(async () => {
  await browser?.close();
});

test("the assistant adds a task through its tool, and the list shows it", async () => {
  try {
    await page.goto(`${FRONTEND_URL}/sign-up`);
    await page.getByLabel("Name").fill("Assistant User");
    await page.getByLabel("Email").fill(`assistant-${Date.now()}-${process.pid}@example.test`);
    await page.getByLabel("Password").fill("correct horse battery staple");
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.waitForURL(`${FRONTEND_URL}/tasks`);

    const message = page.getByLabel("Message", { exact: true });
    await message.fill("add Water the plants");
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByText('Done: added "Water the plants".').waitFor();
    await page.getByText("used: add_task").waitFor();
    // The panel asks the page to reload the list after a tool call.
    await page.getByTestId("task").filter({ hasText: "Water the plants" }).waitFor();

    // Same conversation, a plain answer.
    await message.fill("thanks");
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByText("I can add tasks for you").waitFor();
    assert.equal(await page.getByTestId("assistant-not-configured").count(), 0);

    await page.reload();
    await page.getByTestId("task").filter({ hasText: "Water the plants" }).waitFor();
  } catch (error) {
    const file = `${ARTIFACTS}assistant.png`;
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    error.message = `${error.message}\n(screenshot: ${file})`;
    throw error;
  }
});
