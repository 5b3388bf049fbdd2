// Command quickstart walks through slipway's build stage on a small demo
// app: it writes the app's source, compiles it, stores it as a build in an
// OCI image layout under ./slipway-demo, loads it back and checks it.
//
//	go run ./examples/quickstart
//
// Run it twice: the build's digest does not change, because nothing in it
// depends on when or where it was made. Pull the files back with the oras
// CLI:
//
//	oras pull --oci-layout ./slipway-demo:build -o out
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/build"
)

func main() {
	if err := run(context.Background(), "slipway-demo", os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// The demo app: a tiny web server with a migration as its admin one-off.
const (
	mainGo = `package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "migrate" {
		fmt.Println("migrating the shop database")
		return
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "welcome to the shop") })
	http.ListenAndServe(":"+os.Getenv("PORT"), nil)
}
`
	goMod     = "module example.invalid/shop\n\ngo 1.26\n"
	indexHTML = "<!doctype html><title>shop</title><h1>shop</h1>\n"
	procfile  = "web: bin/shop\n"
)

// run makes the demo build in the OCI image layout at layoutDir and says
// what it did on out.
func run(ctx context.Context, layoutDir string, out io.Writer) error {
	work, err := os.MkdirTemp("", "slipway-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	// 1. The app's source, and the tree to ship.
	src, app := filepath.Join(work, "src"), filepath.Join(work, "app")
	for name, data := range map[string]string{
		filepath.Join(src, "main.go"):              mainGo,
		filepath.Join(src, "go.mod"):               goMod,
		filepath.Join(app, "public", "index.html"): indexHTML,
		filepath.Join(app, "Procfile"):             procfile,
	} {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "1. wrote a demo app, \"shop\": a web server with a migration\n")

	// 2. Compile it reproducibly: no paths, no VCS stamp, no cgo.
	bin := filepath.Join(app, "bin", "shop")
	if err := compile(ctx, src, bin); err != nil {
		return err
	}
	fmt.Fprintf(out, "2. compiled bin/shop\n")

	// 3. The build: every file a layer, the record as the config blob.
	procs, err := build.ParseProcfile(strings.NewReader(procfile))
	if err != nil {
		return err
	}
	procs = append(procs, build.Process{Name: "migrate", Command: "bin/shop migrate", Admin: true})
	store, err := build.OpenLayout(ctx, layoutDir)
	if err != nil {
		return err
	}
	b, err := build.New(ctx, store, "shop", build.Spec{
		Dir:       app,
		Source:    build.Source{Repository: "https://example.invalid/acme/shop", Revision: "4f1c2e9d0b8a7c6e5f4d3c2b1a09f8e7d6c5b4a3"},
		Builder:   "slipway quickstart",
		Processes: procs,
		Created:   time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}, build.Options{Tags: []string{"build"}})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "3. stored the build in the OCI image layout %s, tag \"build\"\n", layoutDir)
	fmt.Fprintf(out, "   digest        %s\n", b.Digest())
	fmt.Fprintf(out, "   source        %s @ %s\n", b.Source().Repository, b.Source().Revision)
	fmt.Fprintf(out, "   toolchain     %s (module %s, read from the binary)\n", b.Toolchain(), b.Module())
	for _, p := range b.Processes() {
		kind := "process"
		if p.Admin {
			kind = "admin one-off"
		}
		fmt.Fprintf(out, "   %-13s %s: %s\n", kind, p.Name, p.Command)
	}
	for _, e := range b.Entries() {
		fmt.Fprintf(out, "   file          %-18s %v %8d bytes  %.19s…\n", e.Path, e.Mode, e.Size, e.Digest)
	}

	// 4. Read it back as any consumer would: every check of the format.
	loaded, err := build.Load(ctx, store, "build")
	if err != nil {
		return err
	}
	if loaded.Digest() != b.Digest() {
		return errors.New("the loaded build differs from the stored one")
	}
	rc, err := loaded.Open(ctx, store, "public/index.html")
	if err != nil {
		return err
	}
	page, err := io.ReadAll(rc) // verified against its digest at EOF
	rc.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "4. loaded it back by tag and verified public/index.html (%d bytes)\n", len(page))
	fmt.Fprintf(out, "next: oras pull --oci-layout %s:build -o out\n", layoutDir)
	fmt.Fprintf(out, "%s@%s\n", layoutDir, b.Digest())
	return nil
}

// compile builds the demo app with the go command that runs this program.
func compile(ctx context.Context, src, bin string) error {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.CommandContext(ctx, goCmd, "build", "-trimpath", "-buildvcs=false", "-ldflags=-buildid=", "-o", bin, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOTOOLCHAIN=local", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("compile the demo app: %w\n%s", err, out)
	}
	return os.Chmod(bin, 0o755)
}
