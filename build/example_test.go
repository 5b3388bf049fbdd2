package build_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/build"
)

// A build of a directory, stored in an OCI image layout and loaded back.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "slipway-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	app := filepath.Join(dir, "app")
	if err := os.MkdirAll(filepath.Join(app, "bin"), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(app, "bin", "server"), []byte("#!/bin/sh\necho hello\n"), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(app, "bin", "server"), 0o755); err != nil {
		log.Fatal(err)
	}

	store, err := build.OpenLayout(ctx, filepath.Join(dir, "layout"))
	if err != nil {
		log.Fatal(err)
	}
	b, err := build.New(ctx, store, "shop", build.Spec{
		Dir:       app,
		Source:    build.Source{Repository: "https://example.invalid/acme/shop", Revision: "4f1c2e9"},
		Processes: []build.Process{{Name: "web", Command: "bin/server"}},
		Created:   time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}, build.Options{Tags: []string{"v1"}})
	if err != nil {
		log.Fatal(err)
	}
	loaded, err := build.Load(ctx, store, "v1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(loaded.Digest() == b.Digest())
	for _, e := range loaded.Entries() {
		fmt.Println(e.Path, e.Mode, e.Size, e.Digest)
	}
	fmt.Println(b.Digest())
	// Output:
	// true
	// bin/server -rwxr-xr-x 21 sha256:bfdeaeb08cffb6a36438bcd12dda25417e3cdd36f1e7e482a2849d539225288b
	// sha256:c87b7a42de25b13bac1c74a4ece689f0eaadeafd25e615e8a4c32e825646a4f8
}

// An explicit list of files, read from readers, with an admin process.
func ExampleNew_files() {
	ctx := context.Background()
	b, err := build.New(ctx, memory.New(), "shop", build.Spec{
		Files: []build.File{
			{Name: "bin/migrate", Reader: strings.NewReader("#!/bin/sh\necho migrating\n"), Mode: 0o755},
			{Name: "etc/app.toml", Reader: strings.NewReader("port = 8080\n")},
			{Name: "bin/current", Linkname: "migrate"},
		},
		Processes: []build.Process{
			{Name: "web", Command: "bin/current"},
			{Name: "migrate", Command: "bin/migrate", Admin: true},
		},
	}, build.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range b.Processes() {
		fmt.Printf("%s: %s (admin %t)\n", p.Name, p.Command, p.Admin)
	}
	for _, e := range b.Entries() {
		fmt.Printf("%s %s %v %q\n", e.Type, e.Path, e.Mode, e.Target)
	}
	fmt.Println(b.Created())
	// Output:
	// web: bin/current (admin false)
	// migrate: bin/migrate (admin true)
	// symlink bin/current -rwxrwxrwx "migrate"
	// file bin/migrate -rwxr-xr-x ""
	// file etc/app.toml -rw-r--r-- ""
	// 1970-01-01 00:00:00 +0000 UTC
}

// Bad input is refused before anything is stored, with an error that names
// the file.
func ExampleNew_badInput() {
	_, err := build.New(context.Background(), memory.New(), "shop", build.Spec{
		Files: []build.File{{Name: "../etc/passwd", Reader: strings.NewReader("root")}},
	}, build.Options{})
	fmt.Println(err)
	// Output: build: Spec.Files[0]: "../etc/passwd": invalid path
}

func ExampleParseProcfile() {
	ps, err := build.ParseProcfile(strings.NewReader("web: bin/server --port $PORT\nworker: bin/worker\n"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ps)
	// Output: [{web bin/server --port $PORT false} {worker bin/worker false}]
}
