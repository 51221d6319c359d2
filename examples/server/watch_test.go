package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fsnotify/fsnotify"
)

// TestDebounceTurnsABurstIntoOneCall feeds debounce bursts of changes, in
// the fake time of a synctest bubble: a burst, however long, whose changes
// come closer together than the quiet period is one call, made once the
// quiet period has passed after the last change; with no change there is
// no call; a change after a call leads to one more.
func TestDebounceTurnsABurstIntoOneCall(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const quiet = time.Second
		ctx, cancel := context.WithCancel(t.Context())
		changes := make(chan struct{}, 1)
		var calls atomic.Int32
		done := make(chan struct{})
		go func() {
			defer close(done)
			debounce(ctx, changes, quiet, func() { calls.Add(1) })
		}()
		check := func(when string, want int32) {
			t.Helper()
			synctest.Wait()
			if got := calls.Load(); got != want {
				t.Errorf("%s: %d calls, want %d", when, got, want)
			}
		}

		for range 10 { // a burst of 10 changes over 9 × 0.9 s
			changes <- struct{}{}
			time.Sleep(quiet * 9 / 10)
		}
		check("during the burst", 0)
		time.Sleep(quiet / 10)
		check("a quiet period after the burst's last change", 1)
		time.Sleep(time.Hour)
		check("an hour later, with no change", 1)

		changes <- struct{}{}
		time.Sleep(quiet)
		check("a quiet period after one more change", 2)

		cancel()
		<-done
	})
}

// TestBundleWatcherConcerns decides, event by event, which events of the
// watched directories may have changed the bundle.
func TestBundleWatcherConcerns(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	root := filepath.Join(parent, "bundle")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	bw := &bundleWatcher{root: root, watcher: w, logger: slog.New(slog.DiscardHandler)}
	tests := []struct {
		name string
		op   fsnotify.Op
		want bool
	}{
		{"bundle/archived.rego", fsnotify.Write, true},
		{"bundle/archived/data.json", fsnotify.Create, true},
		{"bundle/.manifest", fsnotify.Rename, true},
		{"bundle/archived.rego", fsnotify.Remove, true},
		{"bundle", fsnotify.Create, true},                    // the bundle swapped for another
		{"bundle/..data", fsnotify.Create, true},             // a Kubernetes volume's swap
		{"bundle/archived.rego", fsnotify.Chmod, false},      // the content is the same
		{"bundle/.archived.rego.swp", fsnotify.Write, false}, // vim, while editing
		{"bundle/archived.rego~", fsnotify.Create, false},    // vim's backup, while saving
		{"bundle/.#archived.rego", fsnotify.Create, false},   // emacs's lock
		{"bundle/#archived.rego#", fsnotify.Write, false},    // emacs's autosave
		{"bundle.old", fsnotify.Create, false},               // a neighbour whose name starts alike
		{"other.rego", fsnotify.Write, false},                // a neighbour
	}
	for _, tc := range tests {
		ev := fsnotify.Event{Name: filepath.Join(parent, tc.name), Op: tc.op}
		if got := bw.concernsBundle(ev); got != tc.want {
			t.Errorf("concernsBundle(%v) = %v, want %v", ev, got, tc.want)
		}
	}
}

// TestWatchBundleSeesATarballReplaced watches a signed tarball that is
// replaced by a new one renamed into place, as a deployment does: the
// change is seen.
func TestWatchBundleSeesATarballReplaced(t *testing.T) {
	t.Parallel()
	key := newSigningKey(t)
	path := filepath.Join(t.TempDir(), "archived.tar.gz")
	writeSignedBundle(t, path, key, "tarball-1", nil, nil)
	ctx, cancel := context.WithCancel(t.Context())
	var calls atomic.Int32
	wait, err := watchBundle(ctx, path, watchQuietPeriod, func() { calls.Add(1) }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		wait()
	}()

	writeSignedBundle(t, path, key, "tarball-2", []string{spaceLLMEvals}, nil)
	deadline := time.Now().Add(time.Minute)
	for calls.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no call within a minute of the tarball's replacement")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRunWatchReloadsOnceAnEdit serves a bundle with -policy-watch and
// edits it on disk in a burst of changes (the data and the manifest, each
// written to a temporary file and renamed into place; the rule's file
// rewritten as it was; an editor's swap file): the server reloads once,
// from the first revision to the second, and then answers by the new data.
// A second edit is the second reload, from the second revision to the
// third: had the first burst led to more than one reload, the extra one
// would come between the two.
func TestRunWatchReloadsOnceAnEdit(t *testing.T) {
	t.Parallel()
	dir := archivedBundle(t, "watch-1")
	r := startRun(t, "-addr", "127.0.0.1:0", "-policy", dir, "-policy-watch")
	if loaded := r.startRecord(t, "policy loaded"); loaded["watch"] != true {
		t.Errorf("policy loaded %v, want watch=true", loaded)
	}
	if resp := r.post(t, keyAdmin, usersPath(spaceRedTeam), predefinedBody(userGrace, "PREDEFINED", "MEMBER")); resp.StatusCode != http.StatusOK {
		t.Fatalf("add to red-team before the edit: status %d, want 200", resp.StatusCode)
	}

	setArchived(t, dir, "watch-2", spaceRedTeam)
	rule := filepath.Join(dir, "archived.rego")
	src, err := os.ReadFile(rule)
	if err != nil {
		t.Fatal(err)
	}
	replaceFile(t, rule, src)
	swap := filepath.Join(dir, ".archived.rego.swp")
	if err := os.WriteFile(swap, []byte("editor state"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(swap); err != nil {
		t.Fatal(err)
	}
	checkReload(t, r.nextRecord(t, "policy reloaded", "policy reload refused"), "watch-1", "watch-2")
	if resp := r.post(t, keyAdmin, usersPath(spaceRedTeam), predefinedBody(userAlan, "PREDEFINED", "MEMBER")); resp.StatusCode != http.StatusConflict {
		t.Errorf("add to red-team, now archived: status %d, want 409", resp.StatusCode)
	}

	setArchived(t, dir, "watch-3")
	checkReload(t, r.nextRecord(t, "policy reloaded", "policy reload refused"), "watch-2", "watch-3")
	if resp := r.post(t, keyAdmin, usersPath(spaceRedTeam), predefinedBody(userAlan, "PREDEFINED", "MEMBER")); resp.StatusCode != http.StatusOK {
		t.Errorf("add to red-team, no longer archived: status %d, want 200", resp.StatusCode)
	}
	r.stopAndDrain(t)
}

// TestRunWatchFollowsASwappedBundle serves a bundle with -policy-watch and
// swaps its directory for another one (two renames, as a deployment that
// replaces a bundle whole does): the server reloads the new bundle, and
// then watches the new directory tree, so an edit inside it is a reload
// too.
func TestRunWatchFollowsASwappedBundle(t *testing.T) {
	t.Parallel()
	dir := archivedBundle(t, "swap-1")
	r := startRun(t, "-addr", "127.0.0.1:0", "-policy", dir, "-policy-watch")

	next := archivedBundle(t, "swap-2", spaceRedTeam)
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(next, dir); err != nil {
		t.Fatal(err)
	}
	checkReload(t, r.nextRecord(t, "policy reloaded", "policy reload refused"), "swap-1", "swap-2")

	if resp := r.post(t, keyAdmin, usersPath(spaceRedTeam), predefinedBody(userGrace, "PREDEFINED", "MEMBER")); resp.StatusCode != http.StatusConflict {
		t.Errorf("add to red-team, archived by the new bundle: status %d, want 409", resp.StatusCode)
	}

	// Only the data, in a directory of the new tree: the revision stays,
	// the answer changes.
	replaceFile(t, filepath.Join(dir, "archived", "data.json"), []byte(`{"spaces": []}`))
	checkReload(t, r.nextRecord(t, "policy reloaded", "policy reload refused"), "swap-2", "swap-2")
	if resp := r.post(t, keyAdmin, usersPath(spaceRedTeam), predefinedBody(userGrace, "PREDEFINED", "MEMBER")); resp.StatusCode != http.StatusOK {
		t.Errorf("add to red-team, no longer archived: status %d, want 200", resp.StatusCode)
	}
	r.stopAndDrain(t)
}

// checkReload checks that rec logs a reload that the watcher asked for,
// from revision old to revision new.
func checkReload(t *testing.T, rec map[string]any, old, new string) {
	t.Helper()
	if rec["msg"] != "policy reloaded" || rec["trigger"] != "file change" || rec["old_revision"] != old || rec["new_revision"] != new {
		t.Errorf("reload record %v, want a reload on a file change from %s to %s", rec, old, new)
	}
}
