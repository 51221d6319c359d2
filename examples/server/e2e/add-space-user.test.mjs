// End-to-end test: the published TypeScript client of the Arize API,
// @arizeai/ax-client, talks to examples/server over loopback: its own calls
// addSpaceUser (POST /v2/spaces/{space_id}/users) and removeSpaceUser
// (DELETE /v2/spaces/{space_id}/users/{user_id}). The client has no call
// for listing a space's members, so the list is left to the Go tests.
//
// The server binary is built from this repository with `go build` (or taken
// from $SPACEAUTHZ_SERVER_BIN), started on 127.0.0.1:0 with the demo fixture,
// found through the address it logs, and stopped with SIGTERM at the end.
//
// Run with `npm ci && npm test` in this folder.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import {
  addSpaceUser,
  removeSpaceUser,
  APIError,
  AuthenticationError,
  AuthorizationError,
  BadRequestError,
  createClient,
  NotFoundError,
} from "@arizeai/ax-client";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../../..");

// The demo fixture (membership/fixture/demo.json).
const space = {
  llmEvals: "U3BhY2U6MQ==", // public, organization Research
  redTeam: "U3BhY2U6Mg==", // private, organization Research
};
const user = {
  grace: "VXNlcjoy", // organization ADMIN
  linus: "VXNlcjoz", // llm-evals ADMIN
  barbara: "VXNlcjo0", // llm-evals MEMBER
  ken: "VXNlcjo3", // not in the organization
  missing: "VXNlcjo5OQ==", // User:99
};
const role = { binder: "Um9sZTox", reviewer: "Um9sZToy" };
const key = {
  admin: "demo-admin-key",
  spaceAdmin: "demo-space-admin-key",
  member: "demo-member-key",
  binder: "demo-binder-key",
};

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
function clientFor(addr, apiKey) {
  const baseUrl = `http://${addr}`;
  assert.match(baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/, "the test talks to loopback only");
  return createClient({ baseUrl, apiKey, getEnvironmentOptions: () => ({}) });
}

/** Asserts that the promise rejects with the client's error class for status. */
async function rejectsWith(promise, errorClass, status, detail) {
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
 * Stops a demo server and checks that it stopped gracefully, logged its
 * stop and never logged an API key. It returns the parsed log records.
 */
async function stopDemoServer(server) {
  const { code, signal } = await stopServer(server);
  // A graceful stop: SIGTERM ends the server with status 0.
  assert.equal(code, 0, `the server stopped with ${code ?? signal}:\n${server.logs.join("\n")}`);
  const logs = server.logs.join("\n");
  for (const k of [...Object.values(key), "not-a-demo-key"]) {
    assert.ok(!logs.includes(k), `the server logged the API key ${k}`);
  }
  const records = server.logs.map((l) => JSON.parse(l));
  assert.ok(records.some((r) => r.msg === "stopped"), "the server did not log its stop");
  return records;
}

describe("@arizeai/ax-client addSpaceUser against examples/server", () => {
  let server;
  let addr;

  before(async () => {
    server = startServer(await serverBinary());
    addr = await server.listening;
  });

  after(async () => {
    if (server) {
      await stopDemoServer(server);
    }
  });

  let graceMembershipId;

  test("a predefined role", async () => {
    const m = await addSpaceUser({
      client: clientFor(addr, key.admin),
      spaceId: space.llmEvals,
      userId: user.grace,
      role: { type: "PREDEFINED", name: "MEMBER" },
    });
    assert.match(m.id, /^[A-Za-z0-9+/]+={0,2}$/);
    assert.deepEqual(m, {
      id: m.id,
      userId: user.grace,
      spaceId: space.llmEvals,
      role: { type: "PREDEFINED", name: "MEMBER" },
    });
    graceMembershipId = m.id;
  });

  test("an upsert keeps the id and takes the new role", async () => {
    const m = await addSpaceUser({
      client: clientFor(addr, key.admin),
      spaceId: space.llmEvals,
      userId: user.grace,
      role: { type: "PREDEFINED", name: "ADMIN" },
    });
    assert.deepEqual(m, {
      id: graceMembershipId,
      userId: user.grace,
      spaceId: space.llmEvals,
      role: { type: "PREDEFINED", name: "ADMIN" },
    });
  });

  test("a custom role, assigned by a holder of ROLE_BINDING_CREATE", async () => {
    const m = await addSpaceUser({
      client: clientFor(addr, key.binder),
      spaceId: space.llmEvals,
      userId: user.barbara,
      role: { type: "CUSTOM", id: role.reviewer },
    });
    assert.deepEqual(m, {
      id: m.id,
      userId: user.barbara,
      spaceId: space.llmEvals,
      role: { type: "CUSTOM", id: role.reviewer, name: "Reviewer" },
    });
  });

  // One error of each status class, each raised as the client's own error
  // type: [name, API key, space, user, role, error class, status, detail].
  const errorCases = [
    ["400: the user is not in the space's organization", key.admin, space.llmEvals, user.ken,
      { type: "PREDEFINED", name: "MEMBER" }, BadRequestError, 400, "not a member of the space's organization"],
    ["400: the user id is not an ID", key.admin, space.llmEvals, "User:2",
      { type: "PREDEFINED", name: "MEMBER" }, BadRequestError, 400, "user_id is not an ID"],
    ["401: an unknown API key", "not-a-demo-key", space.llmEvals, user.grace,
      { type: "PREDEFINED", name: "MEMBER" }, AuthenticationError, 401, "the API key is not valid"],
    ["403: a space member may not assign roles", key.member, space.llmEvals, user.grace,
      { type: "PREDEFINED", name: "READ_ONLY" }, AuthorizationError, 403, undefined],
    ["404: a private space the caller cannot read", key.binder, space.redTeam, user.barbara,
      { type: "CUSTOM", id: role.binder }, NotFoundError, 404, "no such space"],
    ["404: a user that does not exist", key.admin, space.llmEvals, user.missing,
      { type: "PREDEFINED", name: "MEMBER" }, NotFoundError, 404, "no such user"],
    ["422: an unknown predefined role", key.admin, space.llmEvals, user.grace,
      { type: "PREDEFINED", name: "OWNER" }, APIError, 422, "role.name"],
  ];
  for (const [name, apiKey, spaceId, userId, assigned, errorClass, status, detail] of errorCases) {
    test(name, async () => {
      await rejectsWith(addSpaceUser({ client: clientFor(addr, apiKey), spaceId, userId, role: assigned }), errorClass, status, detail);
    });
  }
});

describe("@arizeai/ax-client removeSpaceUser against examples/server", () => {
  let server;
  let addr;

  before(async () => {
    server = startServer(await serverBinary());
    addr = await server.listening;
  });

  after(async () => {
    if (server) {
      const records = await stopDemoServer(server);
      // The client's call reached the remove route and got its 204.
      const route = "DELETE /v2/spaces/{space_id}/users/{user_id}";
      assert.ok(
        records.some((r) => r.msg === "request" && r.route === route && r.status === 204),
        `no 204 from ${route} in the log:\n${server.logs.join("\n")}`,
      );
    }
  });

  test("a space admin removes a member", async () => {
    const result = await removeSpaceUser({
      client: clientFor(addr, key.spaceAdmin),
      spaceId: space.llmEvals,
      userId: user.barbara,
    });
    // 204: the call resolves with nothing.
    assert.equal(result, undefined);
  });

  // The client's errors, each raised as its own error type, in the order of
  // the checks of a remove: [name, API key, space, user, error class,
  // status, detail]. The tests run in order, after the remove above.
  const errorCases = [
    ["401: an unknown API key", "not-a-demo-key", space.llmEvals, user.linus,
      AuthenticationError, 401, "the API key is not valid"],
    ["400: the user id is not an ID", key.admin, space.llmEvals, "User:4",
      BadRequestError, 400, "user_id is not an ID"],
    ["404: a private space the caller cannot read", key.member, space.redTeam, user.grace,
      NotFoundError, 404, "no such space"],
    ["403: a space member may not remove", key.member, space.llmEvals, user.linus,
      AuthorizationError, 403, "may not make this change"],
    ["403: ROLE_BINDING_CREATE is not the authority to remove", key.binder, space.llmEvals, user.linus,
      AuthorizationError, 403, "may not make this change"],
    ["404: a user that does not exist", key.admin, space.llmEvals, user.missing,
      NotFoundError, 404, "no such user"],
    ["404: removing again (membership_not_found)", key.spaceAdmin, space.llmEvals, user.barbara,
      NotFoundError, 404, "the user is not a member of the space"],
  ];
  for (const [name, apiKey, spaceId, userId, errorClass, status, detail] of errorCases) {
    test(name, async () => {
      await rejectsWith(removeSpaceUser({ client: clientFor(addr, apiKey), spaceId, userId }), errorClass, status, detail);
    });
  }
});

describe("ids with '/' and '+' in the path", () => {
  let server;
  let addr;

  before(async () => {
    server = startServer(await serverBinary(), ["-fixture", path.join(here, "..", "testdata", "reserved_chars.json")]);
    addr = await server.listening;
  });

  after(async () => {
    if (server) {
      const { code, signal } = await stopServer(server);
      assert.equal(code, 0, `the server stopped with ${code ?? signal}`);
    }
  });

  for (const spaceId of ["U3BhY2U6+/+/", "U3BhY2U6++//AQ=="]) {
    test(`space ${spaceId}`, async () => {
      const m = await addSpaceUser({
        client: clientFor(addr, "reserved-admin-key"),
        spaceId,
        userId: "VXNlcjr7/74=",
        role: { type: "CUSTOM", id: "Um9sZTr7/w==" },
      });
      assert.deepEqual(m, {
        id: m.id,
        userId: "VXNlcjr7/74=",
        spaceId,
        role: { type: "CUSTOM", id: "Um9sZTr7/w==", name: "Slasher" },
      });
    });
  }

  // The memberships added above, removed through both encoded ids.
  for (const spaceId of ["U3BhY2U6+/+/", "U3BhY2U6++//AQ=="]) {
    test(`remove from space ${spaceId}`, async () => {
      const client = clientFor(addr, "reserved-admin-key");
      assert.equal(await removeSpaceUser({ client, spaceId, userId: "VXNlcjr7/74=" }), undefined);
      await rejectsWith(removeSpaceUser({ client, spaceId, userId: "VXNlcjr7/74=" }), NotFoundError, 404, "not a member of the space");
    });
  }
});
