// The harness of the end-to-end tests: it builds examples/server from this
// repository with `go build` (or takes the binary $SPACEAUTHZ_SERVER_BIN
// names), starts it on 127.0.0.1:0, finds it through the address it logs,
// and stops it with SIGTERM at the end, checking that it stopped gracefully
// and never logged an API key. The tests talk to it through the published
// client, @arizeai/ax-client, and nothing else.

import { after, before } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { createClient } from "@arizeai/ax-client";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../../..");
const testdata = path.join(here, "..", "testdata");

// The demo fixture (membership/fixture/demo.json).
export const space = {
  llmEvals: "U3BhY2U6MQ==", // public, organization Research
  redTeam: "U3BhY2U6Mg==", // private, organization Research
  otherEvals: "U3BhY2U6Mw==", // public, in the other account
  missing: "U3BhY2U6OTk=", // Space:99, nowhere
};
export const org = {
  research: "T3JnOjE=", // account 1, the parent of llm-evals and red-team
  other: "T3JnOjI=", // Other Research, in the other account
  lab: "T3JnOjM=", // Lab, account 1: only in testdata/two_organizations.json and testdata/many_spaces.json
};
export const user = {
  ada: "VXNlcjox", // account ADMIN
  grace: "VXNlcjoy", // organization ADMIN
  linus: "VXNlcjoz", // llm-evals ADMIN
  barbara: "VXNlcjo0", // llm-evals MEMBER
  ann: "VXNlcjo2", // account ANNOTATOR
  ken: "VXNlcjo3", // not in the organization
  missing: "VXNlcjo5OQ==", // User:99
};
export const role = { binder: "Um9sZTox", reviewer: "Um9sZToy", missing: "Um9sZTo5OQ==" };
export const key = {
  admin: "demo-admin-key",
  orgAdmin: "demo-org-admin-key",
  spaceAdmin: "demo-space-admin-key",
  member: "demo-member-key",
  binder: "demo-binder-key",
  other: "demo-other-account-key",
};

// The keys of the fixtures in testdata, beside the demo's; none may appear
// in a log either.
const testdataKeys = ["reserved-admin-key", "two-organizations-admin-key", "many-spaces-outsider-key"];

// The client's prerelease warning is noise here.
process.env.DISABLE_PRERELEASE_WARNING = "true";

const BUILD_TIMEOUT_MS = 10 * 60 * 1000; // a cold build compiles OPA
const START_TIMEOUT_MS = 30 * 1000;
const STOP_TIMEOUT_MS = 15 * 1000;

let buildDir;
let built;

/** Builds the server once, unless $SPACEAUTHZ_SERVER_BIN names a binary. */
function serverBinary() {
  built ??= (async () => {
    if (process.env.SPACEAUTHZ_SERVER_BIN) {
      return path.resolve(process.env.SPACEAUTHZ_SERVER_BIN);
    }
    buildDir = await mkdtemp(path.join(tmpdir(), "spaceauthz-e2e-"));
    const bin = path.join(buildDir, "spaceauthz-server");
    await promisify(execFile)("go", ["build", "-o", bin, "./examples/server"], {
      cwd: repoRoot,
      timeout: BUILD_TIMEOUT_MS,
    });
    return bin;
  })();
  return built;
}

after(async () => {
  if (buildDir) {
    await rm(buildDir, { recursive: true, force: true });
  }
});

/**
 * Starts the server on a free loopback port and resolves once it logs the
 * address it listens on. Every log record is kept in `logs`.
 */
function startServer(bin, args = []) {
  const child = spawn(bin, ["-addr", "127.0.0.1:0", "-log-format", "json", ...args], {
    stdio: ["ignore", "inherit", "pipe"],
  });
  const logs = [];
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the server did not log its address")), START_TIMEOUT_MS);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}) before listening:\n${logs.join("\n")}`));
    });
    createInterface({ input: child.stderr }).on("line", (line) => {
      logs.push(line);
      let record;
      try {
        record = JSON.parse(line);
      } catch {
        return;
      }
      if (record.msg === "listening") {
        clearTimeout(timer);
        resolve(record.addr);
      }
    });
  });
  return { child, logs, exited, listening };
}

/** Stops the server with SIGTERM, as a service manager would. */
async function stopServer(server) {
  if (server.child.exitCode !== null || server.child.signalCode !== null) {
    return server.exited;
  }
  server.child.kill("SIGTERM");
  const timer = setTimeout(() => server.child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  const status = await server.exited;
  clearTimeout(timer);
  return status;
}

/** A client for the server at addr, with one API key and nothing from the environment. */
export function clientFor(addr, apiKey) {
  const baseUrl = `http://${addr}`;
  assert.match(baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/, "the test talks to loopback only");
  return createClient({ baseUrl, apiKey, getEnvironmentOptions: () => ({}) });
}

/** Asserts that the promise rejects with the client's error class for status. */
export async function rejectsWith(promise, errorClass, status, detail) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof errorClass, `${err?.name}: ${err?.message} is not a ${errorClass.name}`);
    assert.equal(err.statusCode, status);
    if (detail) {
      assert.ok(err.message.includes(detail), `"${err.message}" does not say "${detail}"`);
    }
    return true;
  });
}

/**
 * Stops a server and checks that it stopped gracefully, logged its stop and
 * never logged an API key of any fixture the tests use. It returns the
 * parsed log records.
 */
async function stopCheckedServer(server) {
  const { code, signal } = await stopServer(server);
  // A graceful stop: SIGTERM ends the server with status 0.
  assert.equal(code, 0, `the server stopped with ${code ?? signal}:\n${server.logs.join("\n")}`);
  const logs = server.logs.join("\n");
  for (const k of [...Object.values(key), ...testdataKeys, "not-a-demo-key"]) {
    assert.ok(!logs.includes(k), `the server logged the API key ${k}`);
  }
  const records = server.logs.map((l) => JSON.parse(l));
  assert.ok(records.some((r) => r.msg === "stopped"), "the server did not log its stop");
  return records;
}

/**
 * Runs a server for the enclosing describe, on the demo fixture or on
 * testdata/<fixture>, with the default policy or extended by the bundle
 * testdata/<policy>. The returned object's addr is its address once it
 * listens. At the end the server must stop as stopCheckedServer checks and,
 * when route is given, must have logged an answer with status (204 unless
 * given) from that route: the client's call reached it.
 */
export function useServer({ fixture, policy, route, status = 204 } = {}) {
  const running = { server: undefined, addr: undefined };
  before(async () => {
    const args = [];
    if (fixture) {
      args.push("-fixture", path.join(testdata, fixture));
    }
    if (policy) {
      args.push("-policy", path.join(testdata, policy));
    }
    running.server = startServer(await serverBinary(), args);
    running.addr = await running.server.listening;
  });
  after(async () => {
    if (!running.server) {
      return;
    }
    const records = await stopCheckedServer(running.server);
    if (route) {
      assert.ok(
        records.some((r) => r.msg === "request" && r.route === route && r.status === status),
        `no ${status} from ${route} in the log:\n${running.server.logs.join("\n")}`,
      );
    }
  });
  return running;
}
