package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
)

// buildFlags are the settings of slipway build, as its flags give them.
type buildFlags struct {
	dir, app    string
	source      string
	revision    string
	dirty       bool
	builder     string
	procfile    string
	processes   []build.Process // --process and --admin, in command-line order
	tars        []string
	image       string
	invocation  string
	sbom        string
	scans       []string
	vex         []string
	scanTime    string
	policy      string
	concurrency int
	plainHTTP   bool
	ociLayout   bool
	noProgress  bool

	getenv      func(string) string // os.Getenv; tests give their own
	builderFrom string              // where the builder ID came from: "--builder" or a CI system's name
}

func newBuildCmd() *cobra.Command {
	f := buildFlags{getenv: os.Getenv}
	cmd := &cobra.Command{
		Use:   "build --dir DIR --app NAME [flags] REF",
		Short: "Store a directory tree as a build of an app",
		Long: `Build stores the tree in DIR as an immutable, content-addressed build of the app
NAME: one layer per regular file (or per directory packed with --tar), its
symbolic links, declared processes and source in the build record. Links
pointing outside DIR, devices, sockets and FIFOs are refused. Go binaries in
the tree add their module, toolchain and VCS revision.

Evidence is stored with the build and attested with each release of it:
  --sbom FILE     a CycloneDX or SPDX JSON SBOM; without it, a CycloneDX SBOM is
                  generated from the build info of the Go binaries in DIR
  --scan FILE     a vulnerability scan report: Trivy or Grype JSON, SARIF 2.1.0
                  or govulncheck -json, told apart by content (repeatable)
  --vex FILE      an OpenVEX document whose statements suppress findings
                  (repeatable)
Each file is checked before anything is stored; a fault is reported with the
file, line, column and JSON path. The report then shows the SBOM's size and the
open vulnerabilities by severity after VEX.

--policy FILE applies a build policy (docs/policy.md): a JSON file of typed
rules (failOn, requireSBOM, requireClean, requireRevision, forbiddenFiles,
maxFileSize) and CEL rules over the summary and the build. It is read and
compiled before anything else; a fault in it is reported with the file, the
rule and the line and column. A build that breaks it is not stored: the output
is "Build policy FILE (DIGEST) failed: N findings", then each finding on a line
of its own, "  [rule] message", and the exit status is 1. A build that passes
records the policy's digest, and the report says "Policy: pass (DIGEST)".

The builder recorded for provenance is --builder, else the CI job the command
runs in (GitHub Actions or GitLab CI, from their variables), and the report
says which; the CI also gives the invocation and, when --source and
--revision are not given, the source.

REF is where the build goes:
  HOST[:PORT]/REPO[:TAG]   a registry repository (HTTPS; --plain-http for HTTP,
                           e.g. a registry on the loopback interface)
  DIR[:TAG]                an OCI image layout, with --oci-layout; it is created
                           if missing
A TAG in REF is set on the build once it is stored. A digest in REF is refused:
the build's digest comes from its contents.

Registry credentials come from the docker configuration ($DOCKER_CONFIG or
~/.docker/config.json and its credential helpers): log in with docker login or
oras login.

The creation time recorded in the build is SOURCE_DATE_EPOCH (seconds since the
Unix epoch) if set, else the epoch itself, never the clock: the same inputs give
the same digest.

The output ends with the stored build's reference by digest, HOST[:PORT]/REPO@DIGEST
or DIR@DIGEST, on a line of its own. On a terminal, a progress bar is drawn on
stderr.

Exit status: 0 if the build is stored, 1 if it breaks the --policy and was not
stored, 2 on bad input (a bad policy file among it) or any other error.`,
		Example: `  slipway build --plain-http --dir dist --app shop \
    --process web="bin/server --port 8080" --admin migrate="bin/migrate up" \
    127.0.0.1:5000/shop:v1

  slipway build --oci-layout --dir dist --app shop --procfile Procfile \
    --source https://github.com/acme/shop --revision "$(git rev-parse HEAD)" \
    ./builds:v1

  slipway build --oci-layout --dir dist --app shop \
    --scan trivy.json --scan govulncheck.json --vex shop.openvex.json ./builds:v2

  slipway build --oci-layout --dir dist --app shop --scan trivy.json \
    --policy build-policy.json ./builds:v3`,
		Args: wantArgs("REF"),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			return f.run(cmd.Context(), args[0], cmd.OutOrStdout(), cmd.ErrOrStderr())
		}),
	}

	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVar(&f.dir, "dir", "", "store the tree in `DIR` (required)")
	fl.StringVar(&f.app, "app", "", "the app's `NAME`: lowercase letters, digits and inner '-' (required)")
	fl.Var(processFlag{&f.processes, false}, "process", "declare a process type, e.g. web=\"bin/server --port 8080\" (repeatable)")
	fl.Var(processFlag{&f.processes, true}, "admin", "declare an admin one-off process, e.g. migrate=\"bin/migrate up\" (repeatable)")
	fl.StringVar(&f.procfile, "procfile", "", "declare the processes of a Procfile `FILE` (\"name: command\" lines), before those of --process and --admin")
	fl.StringVar(&f.source, "source", "", "the source repository's `URL`, e.g. https://github.com/acme/shop")
	fl.StringVar(&f.revision, "revision", "", "the source revision `REV` (commit ID); Go binaries in DIR fill it in if empty")
	fl.BoolVar(&f.dirty, "dirty", false, "record that the source tree had uncommitted changes")
	fl.StringVar(&f.builder, "builder", "", "who or what made the build: an `ID` such as a CI job URI (default: from the GitHub Actions or GitLab CI environment)")
	fl.StringVar(&f.invocation, "invocation", "", "the `URL` of the run that makes the build (default: from the CI environment)")
	fl.StringVar(&f.sbom, "sbom", "", "store the CycloneDX or SPDX JSON SBOM in `FILE` (default: generated from the Go binaries in DIR)")
	fl.StringArrayVar(&f.scans, "scan", nil, "store the vulnerability scan report in `FILE`: Trivy, Grype or SARIF JSON, or govulncheck -json (repeatable)")
	fl.StringVar(&f.scanTime, "scan-time", "", "when the scans finished, RFC 3339 (default: what each report says, else the build's creation time)")
	fl.StringArrayVar(&f.vex, "vex", nil, "apply and store the OpenVEX document in `FILE` (repeatable)")
	fl.StringVar(&f.policy, "policy", "", "apply the build policy in `FILE` (docs/policy.md): a build that breaks it is not stored, and exits 1")
	fl.StringArrayVar(&f.tars, "tar", nil, "pack `SUBDIR` of DIR as one tar+gzip layer (repeatable)")
	fl.StringVar(&f.image, "image", "", "adopt the container image with this `DIGEST`, already in the target")
	fl.IntVar(&f.concurrency, "concurrency", 0, "store `N` files at once (0: the library's default)")
	addTargetFlags(cmd, &f.plainHTTP, &f.ociLayout)
	fl.BoolVar(&f.noProgress, "no-progress", false, "draw no progress bar, even on a terminal")
	_ = cmd.MarkFlagRequired("dir") // errors only for an undefined flag
	_ = cmd.MarkFlagRequired("app")
	return cmd
}

// run stores the build and reports it on stdout, its reference by digest
// last; a progress bar goes to stderr. A build that breaks the policy is
// reported on stdout with its findings, and run returns errNo.
func (f *buildFlags) run(ctx context.Context, ref string, stdout, stderr io.Writer) error {
	var policy *build.Policy
	if f.policy != "" {
		// First of all: a bad policy must not cost a build's time.
		p, err := build.ReadPolicyFile(f.policy)
		if err != nil {
			return err
		}
		policy = p
	}
	spec, err := f.spec()
	if err != nil {
		return err
	}
	dst, err := openTarget(ctx, ref, f.plainHTTP, f.ociLayout)
	if err != nil {
		return err
	}
	opts := build.Options{Concurrency: f.concurrency, Policy: policy}
	if dst.tag != "" {
		opts.Tags = []string{dst.tag}
	}
	var bar *progress
	if !f.noProgress {
		bar = newProgress(stderr)
	}
	if bar != nil {
		opts.Progress = bar.update
	}
	b, err := build.New(ctx, dst.store, f.app, spec, opts)
	bar.stop()
	var pe *build.PolicyError
	if errors.As(err, &pe) {
		fmt.Fprintf(stdout, "Build policy %s (%s) failed: %s\n", safeText(f.policy), pe.Policy, count(int64(len(pe.Findings)), "finding", "findings"))
		for _, x := range pe.Findings {
			fmt.Fprintf(stdout, "  [%s] %s\n", safeText(x.Rule), safeText(x.Message))
		}
		return errNo
	}
	if err != nil {
		return f.evidenceErr(err)
	}
	report(stdout, b, opts.Tags, f.builderFrom, dst.ref(b.Digest()))
	return nil
}

// spec makes the build.Spec the flags describe, reading the Procfile.
func (f *buildFlags) spec() (build.Spec, error) {
	if err := checkSource(f.source); err != nil {
		return build.Spec{}, err
	}
	var procs []build.Process
	if f.procfile != "" {
		r, err := os.Open(f.procfile)
		if err != nil {
			return build.Spec{}, fmt.Errorf("--procfile: %w", err)
		}
		defer r.Close()
		if procs, err = build.ParseProcfile(r); err != nil {
			return build.Spec{}, fmt.Errorf("--procfile %s: %w", f.procfile, err)
		}
	}
	spec := build.Spec{
		Dir:        f.dir,
		Tar:        f.tars,
		Image:      digest.Digest(f.image),
		Source:     build.Source{Repository: f.source, Revision: f.revision, Dirty: f.dirty},
		Builder:    f.builder,
		Invocation: f.invocation,
		Processes:  append(procs, f.processes...),
		SBOM:       f.sbom,
		VEX:        f.vex,
	}
	var finished time.Time
	if f.scanTime != "" {
		t, err := time.Parse(time.RFC3339, f.scanTime)
		if err != nil {
			return build.Spec{}, fmt.Errorf("--scan-time %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", f.scanTime)
		}
		finished = t
	}
	for _, p := range f.scans {
		spec.Scans = append(spec.Scans, build.Scan{Path: p, Finished: finished})
	}
	f.builderFrom = "--builder"
	if ci, ok := build.DetectCI(f.getenv); ok {
		if spec.Builder == "" {
			spec.Builder, f.builderFrom = ci.Builder, ci.Name
		}
		if spec.Invocation == "" {
			spec.Invocation = ci.Invocation
		}
		if spec.Source.Repository == "" && spec.Source.Revision == "" {
			spec.Source.Repository, spec.Source.Revision = ci.Repository, ci.Revision
		}
	}
	if spec.Builder == "" {
		f.builderFrom = ""
	}
	return spec, nil
}

// evidenceErr names a fault in an evidence file by the flag that gave it:
// "--scan trivy.json:29:23: Results[0]…: …" rather than the library's
// "build: Spec.Scans[0]: …".
func (f *buildFlags) evidenceErr(err error) error {
	var pe *attest.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	flag := ""
	switch {
	case pe.Source == f.sbom:
		flag = "--sbom"
	case slices.Contains(f.scans, pe.Source):
		flag = "--scan"
	case slices.Contains(f.vex, pe.Source):
		flag = "--vex"
	default:
		return err
	}
	return fmt.Errorf("%s %w", flag, pe)
}

// checkSource refuses a --source that is not an absolute URL. A URL that
// carries credentials is refused by the library, whose message never
// repeats it.
func checkSource(source string) error {
	if source == "" {
		return nil
	}
	if u, err := url.Parse(source); err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("--source: not an absolute URL; want e.g. https://github.com/acme/shop")
	}
	return nil
}

// processFlag is the value of --process (admin false) and --admin (admin
// true): each NAME=COMMAND is appended to one list, so that the processes
// keep the order of the command line.
type processFlag struct {
	list  *[]build.Process
	admin bool
}

func (p processFlag) Set(s string) error {
	name, command, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want NAME=COMMAND")
	}
	*p.list = append(*p.list, build.Process{Name: name, Command: command, Admin: p.admin})
	return nil
}

func (p processFlag) String() string { return "" }
func (p processFlag) Type() string   { return "NAME=COMMAND" }

// report writes what was stored, a few lines, the last one ref.
// builderFrom says where the builder ID came from.
func report(w io.Writer, b *build.Build, tags []string, builderFrom, ref string) {
	var files, links, dirs int
	var size int64
	for _, e := range b.Entries() {
		switch e.Type {
		case build.TypeFile:
			files++
			size += e.Size
		case build.TypeSymlink:
			links++
		case build.TypeTar:
			dirs++
			size += e.Size
		}
	}
	what := []string{count(int64(files), "file", "files"), count(int64(links), "link", "links")}
	if dirs > 0 {
		what = append(what, count(int64(dirs), "packed directory", "packed directories"))
	}
	fmt.Fprintf(w, "Built %s: %s, %s\n", b.App(), strings.Join(what, ", "), count(size, "byte", "bytes"))
	if img, ok := b.Image(); ok {
		fmt.Fprintf(w, "Image: %s\n", img.Digest)
	}
	if src := b.Source(); src != (build.Source{}) {
		line := strings.TrimSpace(src.Repository + " " + src.Revision)
		if src.Dirty {
			line = strings.TrimSpace(line + " (dirty)")
		}
		fmt.Fprintf(w, "Source: %s\n", line)
	}
	if tc := b.Toolchain(); tc != "" {
		if m := b.Module(); m != "" {
			tc += " (module " + m + ")"
		}
		fmt.Fprintf(w, "Toolchain: %s\n", tc)
	}
	if ps := b.Processes(); len(ps) > 0 {
		fmt.Fprintf(w, "Processes: %s\n", processList(ps))
	}
	if id := b.Builder(); id != "" {
		fmt.Fprintf(w, "Builder: %s (from %s)\n", id, builderFrom)
	}
	reportEvidence(w, b)
	if p := b.Summary().Policy; p != nil {
		fmt.Fprintf(w, "Policy: pass (%s)\n", p.Digest)
	}
	if len(tags) > 0 {
		fmt.Fprintf(w, "Tags: %s\n", strings.Join(tags, ", "))
	}
	fmt.Fprintln(w, ref)
}

// processList names the processes ps, admin ones marked: "web, migrate
// (admin)".
func processList(ps []build.Process) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
		if p.Admin {
			names[i] += " (admin)"
		}
	}
	return strings.Join(names, ", ")
}

// count says n things in English.
func count(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
