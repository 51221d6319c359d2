// End-to-end test: the published client's calls getSpace
// (GET /v2/spaces/{space_id}) and listSpaces (GET /v2/spaces) against
// examples/server, on testdata/many_spaces.json with the host rule of
// testdata/hidden-spaces, which keeps everyone from reading the space named
// "secret". getSpace by name goes through listSpaces inside the client, so
// it exercises the list's name filter too.
//
// Run with `npm ci && npm test` in this folder.

import { describe, test } from "node:test";
import assert from "node:assert/strict";

import {
  getSpace,
  listSpaces,
  APIError,
  AuthenticationError,
  BadRequestError,
  NotFoundError,
  ResolutionError,
} from "@arizeai/ax-client";

import { clientFor, key, org, rejectsWith, space, useServer } from "./harness.mjs";

const b64 = (s) => Buffer.from(s, "utf8").toString("base64");
const spaceN = (n) => b64(`Space:${n}`);

// The spaces of testdata/many_spaces.json beyond the demo's.
const many = {
  labEvals: spaceN(4), // Lab, public
  resume: spaceN(5), // "Résumé Σ-evals", Research, created_at given at +02:00
  secret: spaceN(7), // "secret", Research, public, hidden by the host rule
  labPrivate: spaceN(8), // Lab, private, Barbara a member
  archive: spaceN(9), // Research, private, Linus a member
  otherArchive: spaceN(16), // the other account, private
};
const outsiderKey = "many-spaces-outsider-key"; // Ken, in no organization

/** Ids in the order the server lists them: byte order. */
const byId = (ids) => [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

// What the account admin can read: every space of account 1 but the hidden one.
const accountOne = byId([1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15].map(spaceN));

/**
 * Lists with params, limit at a time, following nextCursor to the end, and
 * returns every space in the order received and the number of pages.
 */
async function walk(client, params, limit) {
  const spaces = [];
  let cursor;
  let pages = 0;
  for (;;) {
    const page = await listSpaces({ client, ...params, limit, cursor });
    pages++;
    assert.ok(page.data.length <= limit, `${page.data.length} spaces on a page of ${limit}`);
    assert.equal(page.pagination.hasMore, page.pagination.nextCursor !== undefined, "nextCursor exactly when hasMore");
    spaces.push(...page.data);
    if (!page.pagination.hasMore) {
      return { spaces, pages };
    }
    assert.equal(page.data.length, limit, "a page that is not the last is full");
    assert.ok(pages < 100, "the walk does not end");
    cursor = page.pagination.nextCursor;
  }
}

/** Asserts that a space arrived as the client turns a space record into a Space. */
function assertSpaceShape(s) {
  assert.deepEqual(Object.keys(s).sort(), ["createdAt", "description", "id", "isPrivate", "name", "organization_id"]);
  assert.ok(s.createdAt instanceof Date && !Number.isNaN(s.createdAt.getTime()), `created_at of ${s.id} is not a time`);
  assert.equal(typeof s.isPrivate, "boolean");
}

describe("@arizeai/ax-client getSpace against examples/server", () => {
  const running = useServer({
    fixture: "many_spaces.json",
    policy: "hidden-spaces",
    route: "GET /v2/spaces/{space_id}",
    status: 200,
  });

  test("a readable space, by id", async () => {
    const s = await getSpace({ client: clientFor(running.addr, key.member), space: space.llmEvals });
    assert.deepEqual(s, {
      id: space.llmEvals,
      organization_id: org.research,
      name: "llm-evals",
      description: "evaluations of the chat models",
      isPrivate: false,
      createdAt: new Date("2026-01-15T09:30:00Z"),
    });
  });

  test("a private space, for its member", async () => {
    const s = await getSpace({ client: clientFor(running.addr, key.member), space: many.labPrivate });
    assert.equal(s.name, "lab-private");
    assert.equal(s.isPrivate, true);
    assertSpaceShape(s);
  });

  test("created_at given in another zone arrives in UTC, an empty description as it is", async () => {
    const s = await getSpace({ client: clientFor(running.addr, key.admin), space: many.resume });
    assert.equal(s.createdAt.toISOString(), "2026-04-02T10:00:00.000Z");
    assert.equal(s.description, "");
    assert.equal(s.name, "Résumé Σ-evals");
  });

  test("a space by its name, which the client resolves through listSpaces", async () => {
    const s = await getSpace({ client: clientFor(running.addr, key.member), space: "lab-private" });
    assert.equal(s.id, many.labPrivate);
  });

  test("404: a private space the caller cannot read", async () => {
    await rejectsWith(getSpace({ client: clientFor(running.addr, key.member), space: many.archive }),
      NotFoundError, 404, "no such space");
  });

  test("404: a space of another account", async () => {
    await rejectsWith(getSpace({ client: clientFor(running.addr, key.admin), space: space.otherEvals }),
      NotFoundError, 404, "no such space");
  });

  test("404: a space the host rule hides answers as a missing one", async () => {
    const client = clientFor(running.addr, key.admin);
    const hidden = await getSpace({ client, space: many.secret }).then(() => assert.fail("the hidden space was read"), (e) => e);
    const missing = await getSpace({ client, space: space.missing }).then(() => assert.fail("a missing space was read"), (e) => e);
    assert.ok(hidden instanceof NotFoundError && missing instanceof NotFoundError);
    assert.equal(hidden.statusCode, missing.statusCode);
    assert.equal(hidden.message, missing.message);
  });

  test("the name of a hidden space does not resolve", async () => {
    await assert.rejects(getSpace({ client: clientFor(running.addr, key.admin), space: "secret" }), ResolutionError);
  });

  test("400: an id the server does not take", async () => {
    // The client takes anything that decodes to a string with a colon for
    // an id; the server wants the padding back.
    await rejectsWith(getSpace({ client: clientFor(running.addr, key.admin), space: "U3BhY2U6MQ" }),
      BadRequestError, 400, "space_id is not an ID");
  });

  test("401: an unknown API key", async () => {
    await rejectsWith(getSpace({ client: clientFor(running.addr, "not-a-demo-key"), space: space.llmEvals }),
      AuthenticationError, 401, "the API key is not valid");
  });
});

describe("@arizeai/ax-client listSpaces against examples/server", () => {
  const running = useServer({
    fixture: "many_spaces.json",
    policy: "hidden-spaces",
    route: "GET /v2/spaces",
    status: 200,
  });

  test("every space the caller can read, on one page", async () => {
    const page = await listSpaces({ client: clientFor(running.addr, key.admin) });
    assert.deepEqual(page.data.map((s) => s.id), accountOne);
    assert.deepEqual(page.pagination, { nextCursor: undefined, hasMore: false });
    page.data.forEach(assertSpaceShape);
  });

  test("the records of the list are those getSpace reads", async () => {
    const client = clientFor(running.addr, key.member);
    const { spaces } = await walk(client, {}, 4);
    assert.ok(spaces.length > 0);
    for (const s of spaces) {
      assert.deepEqual(await getSpace({ client, space: s.id }), s);
    }
  });

  for (const limit of [1, 3, 5, 100]) {
    test(`walking the cursors ${limit} at a time reaches every space once`, async () => {
      const { spaces, pages } = await walk(clientFor(running.addr, key.admin), {}, limit);
      const ids = spaces.map((s) => s.id);
      assert.deepEqual(ids, accountOne);
      assert.equal(new Set(ids).size, ids.length, "a space listed twice");
      assert.equal(pages, Math.max(1, Math.ceil(accountOne.length / limit)));
    });
  }

  test("organizationId narrows the list to an organization", async () => {
    const { spaces } = await walk(clientFor(running.addr, key.member), { organizationId: org.lab }, 1);
    assert.deepEqual(spaces.map((s) => s.id), byId([many.labEvals, many.labPrivate]));
    assert.ok(spaces.every((s) => s.organization_id === org.lab));
  });

  test("name narrows the list to names that contain it, ignoring case", async () => {
    const { spaces } = await walk(clientFor(running.addr, key.admin), { name: "EVALS" }, 2);
    assert.deepEqual(spaces.map((s) => s.name).sort(), [
      "Résumé Σ-evals", "bulk-evals-1", "bulk-evals-2", "bulk-evals-3", "bulk-evals-4", "bulk-evals-5", "bulk-evals-6",
      "lab-evals", "llm-evals",
    ]);
  });

  test("both filters at once, walked to the end", async () => {
    const { spaces, pages } = await walk(clientFor(running.addr, key.member), { organizationId: org.lab, name: "LAB-" }, 1);
    assert.deepEqual(spaces.map((s) => s.name).sort(), ["lab-evals", "lab-private"]);
    assert.equal(pages, 2);
  });

  test("an organization of another account gives an empty list", async () => {
    const page = await listSpaces({ client: clientFor(running.addr, key.admin), organizationId: org.other });
    assert.deepEqual(page, { data: [], pagination: { nextCursor: undefined, hasMore: false } });
  });

  test("an organization the caller cannot see gives an empty list", async () => {
    const page = await listSpaces({ client: clientFor(running.addr, key.orgAdmin), organizationId: org.lab });
    assert.deepEqual(page.data, []);
  });

  test("a space of another account is never listed", async () => {
    const { spaces } = await walk(clientFor(running.addr, key.other), {}, 1);
    assert.deepEqual(spaces.map((s) => s.id), byId([space.otherEvals, many.otherArchive]));
  });

  test("a space the host rule hides is never listed", async () => {
    const client = clientFor(running.addr, key.admin);
    assert.deepEqual((await listSpaces({ client, name: "secret" })).data, []);
    const { spaces } = await walk(client, { organizationId: org.research }, 2);
    assert.ok(!spaces.some((s) => s.id === many.secret), "the hidden space is listed");
  });

  test("a caller in no organization lists nothing", async () => {
    assert.deepEqual((await listSpaces({ client: clientFor(running.addr, outsiderKey) })).data, []);
  });

  for (const limit of [0, 101]) {
    test(`422: limit ${limit}`, async () => {
      await rejectsWith(listSpaces({ client: clientFor(running.addr, key.admin), limit }), APIError, 422, "limit");
    });
  }

  test("422: a cursor of other filters", async () => {
    const client = clientFor(running.addr, key.admin);
    const first = await listSpaces({ client, organizationId: org.research, limit: 1 });
    assert.ok(first.pagination.hasMore);
    await rejectsWith(listSpaces({ client, limit: 1, cursor: first.pagination.nextCursor }), APIError, 422, "cursor");
  });

  test("400: an organization id that is not an ID", async () => {
    await rejectsWith(listSpaces({ client: clientFor(running.addr, key.admin), organizationId: "Org:1" }),
      BadRequestError, 400, "org_id is not an ID");
  });

  test("401: an unknown API key", async () => {
    await rejectsWith(listSpaces({ client: clientFor(running.addr, "not-a-demo-key") }),
      AuthenticationError, 401, "the API key is not valid");
  });
});
