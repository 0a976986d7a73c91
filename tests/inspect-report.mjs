// Renders an inspector page in headless Chromium over the DevTools protocol
// (no npm packages: Node's own WebSocket) and checks it: every expected section
// rendered with content, no console errors or exceptions, no network request
// while the page loads offline, no external URL in the file; then writes a
// full-page screenshot.
//
// node [--experimental-websocket] tests/inspect-report.mjs --html PAGE --sections a,b,c --screenshot OUT.png
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => (arg.startsWith("--") ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
);
const page = resolve(args.html);
const sections = (args.sections ?? "").split(",").filter(Boolean);
const failures = [];

// The file itself: nothing that could load from anywhere.
const html = readFileSync(page, "utf8");
for (const pattern of [/https?:/i, /<script/i, /<link/i, /@import/i, /url\(/i, /<iframe/i]) {
  if (pattern.test(html)) failures.push(`the file contains ${pattern}`);
}

const profile = mkdtempSync(join(tmpdir(), "mizan-chromium-"));
const chromium = spawn(process.env.CHROMIUM ?? "chromium", [
  "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
  "--remote-debugging-port=0", `--user-data-dir=${profile}`, "about:blank",
], { stdio: ["ignore", "ignore", "pipe"] });

const endpoint = await new Promise((ok, fail) => {
  let seen = "";
  const timer = setTimeout(() => fail(new Error(`chromium did not start: ${seen}`)), 60_000);
  chromium.stderr.on("data", (chunk) => {
    seen += chunk;
    const match = seen.match(/DevTools listening on (ws:\/\/\S+)/);
    if (match) { clearTimeout(timer); ok(match[1]); }
  });
  chromium.once("exit", (code) => fail(new Error(`chromium exited (${code}): ${seen}`)));
});

const socket = new WebSocket(endpoint);
await new Promise((ok, fail) => { socket.onopen = ok; socket.onerror = fail; });
let nextId = 1;
const pending = new Map();
const listeners = [];
socket.onmessage = ({ data }) => {
  const message = JSON.parse(data);
  if (message.id && pending.has(message.id)) {
    const { ok, fail } = pending.get(message.id);
    pending.delete(message.id);
    message.error ? fail(new Error(JSON.stringify(message.error))) : ok(message.result);
  } else if (message.method) {
    listeners.forEach((listen) => listen(message));
  }
};
const send = (method, params = {}, sessionId) => new Promise((ok, fail) => {
  const id = nextId++;
  pending.set(id, { ok, fail });
  socket.send(JSON.stringify({ id, method, params, sessionId }));
});

const requests = [];
const errors = [];
let loaded;
const loadedOnce = new Promise((ok) => { loaded = ok; });
listeners.push(({ method, params }) => {
  if (method === "Network.requestWillBeSent") requests.push(params.request.url);
  if (method === "Runtime.exceptionThrown") errors.push(`exception: ${params.exceptionDetails.text}`);
  if (method === "Runtime.consoleAPICalled" && ["error", "assert"].includes(params.type)) errors.push(`console.${params.type}: ${params.args.map((a) => a.value ?? a.description).join(" ")}`);
  if (method === "Log.entryAdded" && params.entry.level === "error") errors.push(`log: ${params.entry.text}`);
  if (method === "Page.loadEventFired") loaded();
});

try {
  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
  for (const domain of ["Page", "Runtime", "Log", "Network"]) await send(`${domain}.enable`, {}, sessionId);
  await send("Network.emulateNetworkConditions", { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 }, sessionId);
  await send("Emulation.setDeviceMetricsOverride", { width: 1200, height: 900, deviceScaleFactor: 1, mobile: false }, sessionId);
  await send("Page.navigate", { url: pathToFileURL(page).href }, sessionId);
  await Promise.race([loadedOnce, new Promise((_, fail) => setTimeout(() => fail(new Error("the page did not load")), 30_000))]);
  // Late console messages and requests (none expected) get a moment to arrive.
  await new Promise((ok) => setTimeout(ok, 500));

  const check = `JSON.stringify(${JSON.stringify(sections)}.map((id) => {
    const s = document.getElementById(id);
    if (!s) return { id, missing: true };
    const body = [...s.children].filter((c) => c.tagName !== "H2");
    const text = body.map((c) => c.textContent.trim()).join("").length;
    const drawn = s.querySelectorAll("svg rect, table td, .card, .item").length;
    const box = s.getBoundingClientRect();
    return { id, text, drawn, height: box.height };
  }))`;
  const { result } = await send("Runtime.evaluate", { expression: check, returnByValue: true }, sessionId);
  for (const s of JSON.parse(result.value)) {
    if (s.missing) failures.push(`section #${s.id} is missing`);
    else if (s.text === 0 || s.drawn === 0 || s.height < 20) failures.push(`section #${s.id} rendered empty (${JSON.stringify(s)})`);
  }
  const external = requests.filter((url) => !url.startsWith("file:") && !url.startsWith("data:") && url !== "about:blank");
  if (external.length) failures.push(`network requests: ${external.join(", ")}`);
  if (errors.length) failures.push(`console errors: ${errors.join("; ")}`);

  const { data } = await send("Page.captureScreenshot", { format: "png", captureBeyondViewport: true }, sessionId);
  const png = Buffer.from(data, "base64");
  if (args.screenshot) writeFileSync(args.screenshot, png);
  if (png.length < 10_000) failures.push(`the screenshot is nearly blank (${png.length} bytes)`);
} catch (e) {
  failures.push(String(e));
} finally {
  socket.close();
  const exited = new Promise((ok) => (chromium.exitCode !== null ? ok() : chromium.once("exit", ok)));
  chromium.kill();
  await exited;
  // Chromium's helper processes may still be writing into the profile: a
  // temporary directory left behind is not a failure of the page.
  try { rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }); } catch {}
}

if (failures.length) {
  console.error(`FAIL ${args.html}\n  ${failures.join("\n  ")}`);
  process.exit(1);
}
console.log(`ok ${args.html}: ${sections.length} sections rendered, no console errors, no network requests`);
