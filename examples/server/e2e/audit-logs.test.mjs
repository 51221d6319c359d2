// End-to-end test: the published client's call listAuditLogs
// (GET /v2/audit-logs) against examples/server on the demo fixture. The
// changes it reads back are made through the client too (addSpaceUser,
// removeSpaceUser, addOrganizationUser), so that each entry's
// operation_text is a body exactly as the client sends it.
//
// Run with `npm ci && npm test` in this folder.

import { describe, test } from "node:test";
import assert from "node:assert/strict";

import {
  addOrganizationUser,
  addSpaceUser,
  listAuditLogs,
  removeSpaceUser,
  APIError,
  AuthenticationError,
  AuthorizationError,
  BadRequestError,
} from "@arizeai/ax-client";

import { clientFor, key, org, rejectsWith, space, user, useServer } from "./harness.mjs";

// The members of an entry as the client turns a log record into an AuditLog.
const entryKeys = ["createdAt", "id", "ip", "operationName", "operationText", "operationType", "userId", "variables"];

const member = { type: "PREDEFINED", name: "MEMBER" };

/** Asserts the shape every entry has, and returns its variables, parsed. */
function checkEntry(e) {
  assert.deepEqual(Object.keys(e).sort(), entryKeys);
  assert.match(e.id, /^[A-Za-z0-9+/]+={0,2}$/);
  assert.equal(e.ip, "127.0.0.1");
  assert.equal(e.operationType, "MUTATION");
  assert.ok(e.createdAt instanceof Date && !Number.isNaN(e.createdAt.getTime()), `created_at of ${e.id} is not a time`);
  assert.equal(typeof e.variables, "string");
  return JSON.parse(e.variables);
}

/** Asserts that entries are newest first. */
function checkNewestFirst(entries) {
  for (let i = 1; i < entries.length; i++) {
    assert.ok(entries[i].createdAt <= entries[i - 1].createdAt, `entry ${i} is newer than entry ${i - 1}`);
  }
}

/**
 * Reads the log with params, limit at a time, following nextCursor to the
 * end, and returns every entry in the order received and the number of pages.
 */
async function walk(client, params, limit) {
  const entries = [];
  let cursor;
  let pages = 0;
  for (;;) {
    const page = await listAuditLogs({ client, ...params, limit, cursor });
    pages++;
    assert.ok(page.data.length <= limit, `${page.data.length} entries on a page of ${limit}`);
    assert.equal(page.pagination.hasMore, page.pagination.nextCursor !== undefined, "nextCursor exactly when hasMore");
    entries.push(...page.data);
    if (!page.pagination.hasMore) {
      return { entries, pages };
    }
    assert.equal(page.data.length, limit, "a page that is not the last is full");
    assert.ok(pages < 100, "the walk does not end");
    cursor = page.pagination.nextCursor;
  }
}

describe("@arizeai/ax-client listAuditLogs against examples/server", () => {
  const demo = useServer({ route: "GET /v2/audit-logs", status: 200 });
  const admin = () => clientFor(demo.addr, key.admin);

  // The entries of the add and the remove of the first test, newest first.
  let made;

  test("an add and a remove, newest first", async () => {
    const client = admin();
    const before = new Date();
    await addSpaceUser({ client, spaceId: space.llmEvals, userId: user.grace, role: member });
    await removeSpaceUser({ client, spaceId: space.llmEvals, userId: user.grace });
    const after = new Date();

    const { data, pagination } = await listAuditLogs({ client });
    assert.equal(data.length, 2);
    assert.deepEqual(pagination, { nextCursor: undefined, hasMore: false });
    const [removed, added] = data;

    assert.deepEqual(checkEntry(removed), {
      space_id: space.llmEvals,
      user_id: user.grace,
      role: null,
      previous_role: member,
    });
    assert.equal(removed.userId, user.ada);
    assert.equal(removed.operationName, "remove_space_user");
    assert.equal(removed.operationText, null, "a remove has no body");

    assert.deepEqual(checkEntry(added), {
      space_id: space.llmEvals,
      user_id: user.grace,
      role: member,
      previous_role: null,
    });
    assert.equal(added.userId, user.ada);
    assert.equal(added.operationName, "add_space_user");
    // The body exactly as the client sent it.
    assert.equal(added.operationText, JSON.stringify({ user_id: user.grace, role: member }));

    assert.notEqual(removed.id, added.id);
    checkNewestFirst(data);
    // created_at has nanoseconds, a Date milliseconds: each is cut down alike.
    for (const e of data) {
      assert.ok(e.createdAt >= before && e.createdAt <= after, `created_at ${e.createdAt.toISOString()}`);
    }
    made = data;
  });

  test("an organization add, by an organization admin", async () => {
    await addOrganizationUser({
      client: clientFor(demo.addr, key.orgAdmin),
      organizationId: org.research,
      userId: user.ken,
      role: { type: "PREDEFINED", name: "READ_ONLY" },
    });
    const { data } = await listAuditLogs({ client: admin(), limit: 1 });
    assert.equal(data.length, 1);
    const [e] = data;
    assert.deepEqual(checkEntry(e), {
      organization_id: org.research,
      user_id: user.ken,
      role: { type: "PREDEFINED", name: "READ_ONLY" },
      previous_role: null,
    });
    assert.equal(e.userId, user.grace);
    assert.equal(e.operationName, "add_organization_user");
    assert.equal(e.operationText, JSON.stringify({ user_id: user.ken, role: { type: "PREDEFINED", name: "READ_ONLY" } }));
  });

  test("a change to nothing writes no entry", async () => {
    const client = admin();
    const { data: before } = await listAuditLogs({ client });
    // Barbara is a MEMBER of llm-evals already.
    await addSpaceUser({ client, spaceId: space.llmEvals, userId: user.barbara, role: member });
    // Barbara may not make Grace an ADMIN: denied, nothing written.
    await rejectsWith(
      addSpaceUser({ client: clientFor(demo.addr, key.member), spaceId: space.llmEvals, userId: user.grace, role: { type: "PREDEFINED", name: "ADMIN" } }),
      AuthorizationError,
      403,
    );
    const { data: after } = await listAuditLogs({ client });
    assert.deepEqual(after.map((e) => e.id), before.map((e) => e.id));
  });

  test("filters: user_id, operation_type, start_time and end_time", async () => {
    const client = admin();
    const { data: all } = await listAuditLogs({ client });
    assert.equal(all.length, 3);
    const byGrace = all.filter((e) => e.userId === user.grace);
    const byAda = all.filter((e) => e.userId === user.ada);
    assert.equal(byGrace.length, 1);
    assert.equal(byAda.length, 2);
    const ids = (entries) => entries.map((e) => e.id);

    assert.deepEqual(ids((await listAuditLogs({ client, userId: user.ada })).data), ids(byAda));
    assert.deepEqual(ids((await listAuditLogs({ client, userId: user.grace })).data), ids(byGrace));
    assert.deepEqual((await listAuditLogs({ client, userId: user.barbara })).data, []);

    assert.deepEqual(ids((await listAuditLogs({ client, operationType: "MUTATION" })).data), ids(all));
    assert.deepEqual((await listAuditLogs({ client, operationType: "QUERY" })).data, []);
    assert.deepEqual((await listAuditLogs({ client, operationType: "SUBSCRIPTION" })).data, []);

    // A Date holds milliseconds, created_at nanoseconds: a Date of an entry
    // is at or before it, and one millisecond later is after it.
    const [newest] = all;
    const [oldest] = made.slice(-1);
    const ms = (d, n) => new Date(d.getTime() + n);
    assert.deepEqual(ids((await listAuditLogs({ client, startTime: oldest.createdAt, endTime: ms(newest.createdAt, 1) })).data), ids(all));
    assert.deepEqual((await listAuditLogs({ client, startTime: ms(newest.createdAt, 1) })).data, []);
    assert.deepEqual((await listAuditLogs({ client, endTime: ms(oldest.createdAt, -1) })).data, []);
    // An ISO 8601 string, as the client passes it through.
    assert.deepEqual((await listAuditLogs({ client, endTime: "2020-01-01T00:00:00Z" })).data, []);
  });

  test("pages with the cursor: every entry once, newest first", async () => {
    const client = admin();
    for (const name of ["ADMIN", "READ_ONLY", "MEMBER"]) {
      await addSpaceUser({ client, spaceId: space.llmEvals, userId: user.grace, role: { type: "PREDEFINED", name } });
    }
    const { data: all } = await listAuditLogs({ client });
    assert.equal(all.length, 6);
    checkNewestFirst(all);
    for (const limit of [1, 2, 4]) {
      const { entries, pages } = await walk(client, {}, limit);
      assert.deepEqual(entries.map((e) => e.id), all.map((e) => e.id), `limit ${limit}`);
      assert.equal(pages, Math.ceil(all.length / limit));
    }
    const { entries } = await walk(client, { userId: user.ada }, 2);
    assert.deepEqual(entries.map((e) => e.id), all.filter((e) => e.userId === user.ada).map((e) => e.id));
  });

  test("a cursor of other filters is refused", async () => {
    const client = admin();
    const { pagination } = await listAuditLogs({ client, limit: 1 });
    assert.ok(pagination.hasMore);
    await rejectsWith(listAuditLogs({ client, userId: user.ada, cursor: pagination.nextCursor }), APIError, 422, "cursor");
  });

  test("invalid parameters", async () => {
    const client = admin();
    await rejectsWith(listAuditLogs({ client, userId: "User:1" }), BadRequestError, 400, "user_id");
    await rejectsWith(listAuditLogs({ client, limit: 101 }), APIError, 422, "limit");
    await rejectsWith(listAuditLogs({ client, operationType: "WRITE" }), APIError, 422, "operation_type");
    await rejectsWith(listAuditLogs({ client, startTime: "yesterday" }), APIError, 422, "start_time");
    await rejectsWith(
      listAuditLogs({ client, startTime: "2026-02-01T00:00:00Z", endTime: "2026-01-01T00:00:00Z" }),
      APIError,
      422,
      "start_time",
    );
  });

  test("only an account admin reads the log", async () => {
    for (const k of [key.orgAdmin, key.spaceAdmin, key.member, key.binder]) {
      await rejectsWith(listAuditLogs({ client: clientFor(demo.addr, k) }), AuthorizationError, 403);
    }
    await rejectsWith(listAuditLogs({ client: clientFor(demo.addr, "not-a-demo-key") }), AuthenticationError, 401);
  });

  test("another account's admin reads none of these entries", async () => {
    const { data } = await listAuditLogs({ client: clientFor(demo.addr, key.other) });
    assert.deepEqual(data, []);
    const { data: ada } = await listAuditLogs({ client: clientFor(demo.addr, key.other), userId: user.ada });
    assert.deepEqual(ada, []);
  });
});
