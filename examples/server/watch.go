package main

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchQuietPeriod is how long the bundle must stay unchanged on disk before
// -policy-watch reloads it. Saving a file is a burst of events (an editor
// writes a temporary file, renames it, changes its mode; cp -r writes file
// after file), all within milliseconds: waiting for a quiet moment turns
// the burst into one reload, of the bundle as the burst left it.
const watchQuietPeriod = 250 * time.Millisecond

// bundleWatcher calls a function once after each burst of changes to a
// policy bundle on disk, until its context is done.
//
// It watches the directory that holds the bundle, so that a bundle
// replaced whole (a tarball renamed into place, a directory swapped for
// another, as a Kubernetes volume does) is seen like one edited in place,
// and, for a directory bundle, every directory of the tree, adding those
// created later.
type bundleWatcher struct {
	root    string // the bundle, a directory or a tarball, as an absolute path
	watcher *fsnotify.Watcher
	logger  *slog.Logger
	// changes holds at most one pending change: the debounce only needs to
	// know that something changed since it last looked, not what.
	changes chan struct{}
	wg      sync.WaitGroup
}

// watchBundle starts watching the bundle at path and calls changed after
// each burst of changes, once the bundle has stayed unchanged for quiet.
// changed runs on one goroutine, so calls never overlap; a change during a
// call leads to one more call after it. Watching stops when ctx is done;
// wait then returns once changed has returned for the last time.
func watchBundle(ctx context.Context, path string, quiet time.Duration, changed func(), logger *slog.Logger) (wait func(), err error) {
	// Events name files by the path of the directory watched: with an
	// absolute root, "." or ".." in path cannot hide that an event
	// concerns the bundle.
	root, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("-policy-watch: %w", err)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("-policy-watch: %w", err)
	}
	bw := &bundleWatcher{root: root, watcher: w, logger: logger, changes: make(chan struct{}, 1)}
	if err := bw.watchTree(); err != nil {
		w.Close()
		return nil, fmt.Errorf("-policy-watch: %w", err)
	}
	bw.wg.Go(func() { bw.forwardEvents(ctx) })
	bw.wg.Go(func() { debounce(ctx, bw.changes, quiet, changed) })
	return bw.wg.Wait, nil
}

// watchTree watches the directory that holds the bundle and, when the
// bundle is a directory, every directory below it.
func (bw *bundleWatcher) watchTree() error {
	if err := bw.watcher.Add(filepath.Dir(bw.root)); err != nil {
		return err
	}
	info, err := os.Stat(bw.root)
	if err != nil {
		return err
	}
	if info.IsDir() {
		return bw.watchDirectories(bw.root)
	}
	return nil
}

// watchDirectories watches dir and every directory below it.
func (bw *bundleWatcher) watchDirectories(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return bw.watcher.Add(p)
		}
		return nil
	})
}

// unwatchDirectories stops watching the directories of a bundle directory
// that was renamed or deleted. Watches follow a directory, not its name: left
// alone, they would go on reporting, under the bundle's name, changes to a
// tree that is no longer the bundle. The directory that takes the bundle's
// place is watched when it appears.
func (bw *bundleWatcher) unwatchDirectories() {
	for _, p := range bw.watcher.WatchList() {
		if p == bw.root || strings.HasPrefix(p, bw.root+string(filepath.Separator)) {
			bw.watcher.Remove(p) // gone already, if the kernel removed it
		}
	}
}

// forwardEvents turns the watcher's events that concern the bundle into
// pending changes, until ctx is done; then it closes the watcher.
func (bw *bundleWatcher) forwardEvents(ctx context.Context) {
	defer bw.watcher.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case err, ok := <-bw.watcher.Errors:
			if !ok {
				return
			}
			// An overflow of the kernel's queue loses events: reload
			// anyway, since the bundle may have changed unseen.
			bw.logger.Warn("policy watch", slog.String("bundle", bw.root), slog.String("error", err.Error()))
			bw.notify()
		case ev, ok := <-bw.watcher.Events:
			if !ok {
				return
			}
			if bw.concernsBundle(ev) {
				bw.notify()
			}
		}
	}
}

// concernsBundle reports whether ev may have changed the bundle, and starts
// watching a directory that appeared in it.
func (bw *bundleWatcher) concernsBundle(ev fsnotify.Event) bool {
	name := filepath.Clean(ev.Name)
	if name != bw.root && !strings.HasPrefix(name, bw.root+string(filepath.Separator)) {
		return false // a neighbour of the bundle in its parent directory
	}
	if ev.Op == fsnotify.Chmod || isEditorScratchFile(filepath.Base(name)) {
		return false
	}
	if name == bw.root && (ev.Has(fsnotify.Rename) || ev.Has(fsnotify.Remove)) {
		bw.unwatchDirectories()
	}
	if ev.Has(fsnotify.Create) {
		if info, err := os.Stat(name); err == nil && info.IsDir() {
			// Files may have been written into it before the watch
			// starts: the reload that this event leads to reads them.
			if err := bw.watchDirectories(name); err != nil {
				bw.logger.Warn("policy watch", slog.String("directory", name), slog.String("error", err.Error()))
			}
		}
	}
	return true
}

// notify records a pending change, unless one is pending already.
func (bw *bundleWatcher) notify() {
	select {
	case bw.changes <- struct{}{}:
	default:
	}
}

// isEditorScratchFile reports whether name is a file that editors write
// beside the one being edited (vim's swap and backup files, emacs's lock and
// autosave files). They change while a file is edited, not when it is
// saved, and no bundle reader looks at them.
func isEditorScratchFile(name string) bool {
	return strings.HasSuffix(name, "~") ||
		strings.HasSuffix(name, ".swp") || strings.HasSuffix(name, ".swx") ||
		strings.HasPrefix(name, ".#") ||
		strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#")
}

// debounce calls fire once changes has been quiet for quiet after a change,
// until ctx is done.
func debounce(ctx context.Context, changes <-chan struct{}, quiet time.Duration, fire func()) {
	timer := time.NewTimer(quiet)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-changes:
			timer.Reset(quiet)
		case <-timer.C:
			fire()
		}
	}
}
