package build_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/errdef"

	"github.com/slipway-dev/slipway/build"
)

// pushNote stores a manifest that carries note and nothing else, so that
// each note is a manifest of its own to tag.
func pushNote(ctx context.Context, dst oras.Target, note string) (ocispec.Descriptor, error) {
	return oras.PackManifest(ctx, dst, oras.PackManifestVersion1_1, "application/vnd.slipway.test.note", oras.PackManifestOptions{
		ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2024-01-01T00:00:00Z", "note": note},
	})
}

// readNote returns the note of the manifest desc describes.
func readNote(ctx context.Context, src content.Fetcher, desc ocispec.Descriptor) (string, error) {
	data, err := content.FetchAll(ctx, src, desc)
	if err != nil {
		return "", err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return "", err
	}
	return m.Annotations["note"], nil
}

// increment reads the number tagged "counter" in t (zero if there is
// none) and tags one more.
func increment(ctx context.Context, t oras.Target) error {
	n := 0
	desc, err := t.Resolve(ctx, "counter")
	switch {
	case errors.Is(err, errdef.ErrNotFound):
	case err != nil:
		return err
	default:
		note, err := readNote(ctx, t, desc)
		if err != nil {
			return err
		}
		if n, err = strconv.Atoi(note); err != nil {
			return err
		}
	}
	next, err := pushNote(ctx, t, strconv.Itoa(n+1))
	if err != nil {
		return err
	}
	return t.Tag(ctx, next, "counter")
}

// TestLayoutUpdateLosesNoUpdate has goroutines with a handle each increment
// a counter kept in a tag, each handle's view older than the others'
// writes: every increment must count.
func TestLayoutUpdateLosesNoUpdate(t *testing.T) {
	const handles, rounds = 8, 20
	dir := t.TempDir()
	ls := make([]*build.Layout, handles)
	for i := range ls {
		var err error
		ls[i], err = build.OpenLayout(t.Context(), dir)
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Go(func() {
			for range rounds {
				assert.NoError(t, l.Update(t.Context(), func(tgt oras.Target) error { return increment(t.Context(), tgt) }))
			}
		})
	}
	wg.Wait()

	fresh, err := build.OpenLayout(t.Context(), dir)
	require.NoError(t, err)
	plain, err := oci.New(dir) // index.json as other tools read it
	require.NoError(t, err)
	for name, src := range map[string]oras.ReadOnlyTarget{"Layout": fresh, "oci.Store": plain} {
		desc, err := src.Resolve(t.Context(), "counter")
		require.NoError(t, err, name)
		got, err := readNote(t.Context(), src, desc)
		require.NoError(t, err, name)
		assert.Equal(t, strconv.Itoa(handles*rounds), got, name)
	}
}

// TestLayoutUpdateWaitEndsWithContext cancels an Update that waits for a
// lock another Update holds, through the same handle or another.
func TestLayoutUpdateWaitEndsWithContext(t *testing.T) {
	for _, same := range []bool{true, false} {
		t.Run(map[bool]string{true: "same handle", false: "other handle"}[same], func(t *testing.T) {
			dir := t.TempDir()
			holder, err := build.OpenLayout(t.Context(), dir)
			require.NoError(t, err)
			waiter := holder
			if !same {
				waiter, err = build.OpenLayout(t.Context(), dir)
				require.NoError(t, err)
			}
			held, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			go func() {
				done <- holder.Update(t.Context(), func(oras.Target) error {
					close(held)
					<-release
					return nil
				})
			}()
			<-held

			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(20*time.Millisecond, cancel)
			ran := false
			err = waiter.Update(ctx, func(oras.Target) error { ran = true; return nil })
			assert.ErrorIs(t, err, context.Canceled)
			assert.False(t, ran, "fn does not run without the lock")

			close(release)
			require.NoError(t, <-done)
			assert.NoError(t, waiter.Update(t.Context(), func(oras.Target) error { ran = true; return nil }))
			assert.True(t, ran, "the lock is free once its holder is done")
		})
	}
}

// TestLayoutUpdateError returns fn's error, saves none of fn's tags and
// lets go of the lock.
func TestLayoutUpdateError(t *testing.T) {
	dir := t.TempDir()
	l, err := build.OpenLayout(t.Context(), dir)
	require.NoError(t, err)
	boom := errors.New("boom")
	err = l.Update(t.Context(), func(tgt oras.Target) error {
		desc, err := pushNote(t.Context(), tgt, "half")
		if err != nil {
			return err
		}
		if err := tgt.Tag(t.Context(), desc, "v1"); err != nil {
			return err
		}
		return boom
	})
	assert.ErrorIs(t, err, boom)

	// Bounded, so that a lock left held fails the test instead of hanging it.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	other, err := build.OpenLayout(ctx, dir)
	require.NoError(t, err, "another handle gets the lock file")
	for name, h := range map[string]*build.Layout{"same handle": l, "other handle": other} {
		_, err = h.Resolve(ctx, "v1")
		assert.ErrorIs(t, err, errdef.ErrNotFound, "%s: a failed Update saves no tag", name)
		ran := false
		assert.NoError(t, h.Update(ctx, func(oras.Target) error { ran = true; return nil }), name)
		assert.True(t, ran, name)
	}
}

// TestLayoutUpdateTargetEndsWithUpdate writes through a target kept after
// its Update returned.
func TestLayoutUpdateTargetEndsWithUpdate(t *testing.T) {
	l, err := build.OpenLayout(t.Context(), t.TempDir())
	require.NoError(t, err)
	var kept oras.Target
	var desc ocispec.Descriptor
	require.NoError(t, l.Update(t.Context(), func(tgt oras.Target) error {
		kept = tgt
		desc, err = pushNote(t.Context(), tgt, "kept")
		return err
	}))
	assert.Error(t, kept.Tag(t.Context(), desc, "late"))
	_, err = l.Resolve(t.Context(), "late")
	assert.ErrorIs(t, err, errdef.ErrNotFound)
	got, err := l.Resolve(t.Context(), desc.Digest.String())
	require.NoError(t, err, "reads still work")
	assert.Equal(t, desc.Digest, got.Digest)
}

// A ledger kept in tags: each Update finds the next version, stores the
// entry, and tags it as that version and as the head, with no other writer
// in between, in this process or another.
func ExampleLayout_Update() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "slipway-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := build.OpenLayout(ctx, filepath.Join(dir, "layout"))
	if err != nil {
		log.Fatal(err)
	}
	appendEntry := func(t oras.Target) error {
		n := 1
		for ; ; n++ {
			_, err := t.Resolve(ctx, fmt.Sprintf("prod-v%d", n))
			if errors.Is(err, errdef.ErrNotFound) {
				break
			} else if err != nil {
				return err
			}
		}
		desc, err := oras.PackManifest(ctx, t, oras.PackManifestVersion1_1, "application/vnd.example.entry", oras.PackManifestOptions{
			ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2026-01-01T00:00:00Z", "version": strconv.Itoa(n)},
		})
		if err != nil {
			return err
		}
		for _, tag := range []string{fmt.Sprintf("prod-v%d", n), "prod"} {
			if err := t.Tag(ctx, desc, tag); err != nil {
				return err
			}
		}
		return nil
	}
	for range 2 {
		if err := store.Update(ctx, appendEntry); err != nil {
			log.Fatal(err)
		}
	}
	err = store.Tags(ctx, "", func(tags []string) error {
		fmt.Println(tags)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output: [prod prod-v1 prod-v2]
}
