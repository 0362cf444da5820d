/**
 * The TaskFlow user path through the frontend's NodePort, in headless Chromium (Debian's,
 * driven by playwright-core; no browser is ever downloaded):
 *
 *   node taskflow.mjs create TITLE   sign up as E2E_EMAIL/E2E_PASSWORD, add a task TITLE,
 *                                    and see it again after a reload
 *   node taskflow.mjs expect TITLE   sign in as that user and see the task TITLE
 *
 * Env: FRONTEND_URL (the origin the chart's publicUrl names), E2E_EMAIL, E2E_PASSWORD,
 * CHROMIUM_PATH (default /usr/bin/chromium). A failure leaves a screenshot in E2E_ARTIFACTS.
 */
import { chromium } from "playwright-core";

const [mode, title] = process.argv.slice(2);
const { FRONTEND_URL, E2E_EMAIL, E2E_PASSWORD } = process.env;
if (!["create", "expect"].includes(mode) || !title || !FRONTEND_URL || !E2E_EMAIL || !E2E_PASSWORD) {
  console.error("usage: FRONTEND_URL=... E2E_EMAIL=... E2E_PASSWORD=... node taskflow.mjs create|expect TITLE");
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const page = await browser.newPage();
page.setDefaultTimeout(30_000);
const task = () => page.getByTestId("task").filter({ hasText: title });

try {
  if (mode === "create") {
    await page.goto(`${FRONTEND_URL}/sign-up`);
    await page.getByLabel("Name").fill("Lab E2E");
    await page.getByLabel("Email").fill(E2E_EMAIL);
    await page.getByLabel("Password").fill(E2E_PASSWORD);
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.waitForURL(`${FRONTEND_URL}/tasks`);
    await page.getByLabel("Title").fill(title);
    await page.getByRole("button", { name: "Add task" }).click();
    await task().waitFor();
    await page.reload();
    await task().waitFor();
  } else {
    await page.goto(`${FRONTEND_URL}/sign-in`);
    await page.getByLabel("Email").fill(E2E_EMAIL);
    await page.getByLabel("Password").fill(E2E_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${FRONTEND_URL}/tasks`);
    await task().waitFor();
  }
  console.log(`${mode}: task "${title}" seen at ${FRONTEND_URL}/tasks`);
} catch (error) {
  const shot = `${process.env.E2E_ARTIFACTS ?? "/tmp"}/taskflow-${mode}.png`;
  await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
  console.error(`${error.message}\n(screenshot: ${shot})`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
