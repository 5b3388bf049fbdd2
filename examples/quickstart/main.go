// Command quickstart walks through slipway's build and release stages on a
// small demo app: it writes the app's source, compiles it, stores it as a
// build in an OCI image layout under ./slipway-demo, loads it back and
// checks it, then releases it twice to the environment "prod" with a config
// (plain variables and a secret reference, never a secret value), signed
// with a key it generates into the demo directory, prints the
// environment's history, and verifies the head release with the public key.
// Then it decides go / no-go with a policy: the demo scan holds a critical
// finding, so prod is no-go until a VEX statement, attested about the
// release, marks it not_affected; the go is recorded as a signed decision.
// Last, the run stage: it opens prod (verified, go, extracted safely, its
// secret reference resolved) and runs the migration as an admin one-off,
// which leaves a signed audit record, and prints that record.
// The build carries evidence: an SBOM generated from the binary's build
// info, a demo scan report and a VEX statement, which every release
// attests and summarizes.
//
//	go run ./examples/quickstart
//
// Each run starts from an empty layout: a previous ./slipway-demo is
// removed first (it must be an OCI image layout; anything else there is
// left alone and the run stops). A release joins its environment's ledger
// for good, so a second run into the old layout would add versions 3 and 4;
// starting afresh, it makes versions 1 and 2 again.
//
// Run it twice: every digest stays the same, because nothing in a build or
// a release depends on when or where it was made (the release times are
// fixed here; a deploy tool passes time.Now()). Look at the result with the
// slipway and oras CLIs:
//
//	go run ./examples/slipway inspect --oci-layout ./slipway-demo:prod
//	go run ./examples/slipway verify --oci-layout --key slipway-demo/keys/slipway.pub ./slipway-demo:prod
//	go run ./examples/slipway history --oci-layout ./slipway-demo:prod
//	go run ./examples/slipway diff --oci-layout ./slipway-demo:prod-v1 prod-v2
//	oras pull --oci-layout ./slipway-demo:build -o out
//	oras discover --oci-layout ./slipway-demo:build
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/slipway-dev/slipway/attest"

	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/release"
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
	goMod = "module example.invalid/shop\n\ngo 1.26\n"
	// scanReport is a demo scan of bin/shop in Trivy's JSON format, with
	// made-up findings in the standard library it links.
	scanReport = `{
  "SchemaVersion": 2,
  "CreatedAt": "2026-01-01T00:10:00Z",
  "ArtifactName": "bin/shop",
  "ArtifactType": "filesystem",
  "Results": [{
    "Target": "bin/shop", "Class": "lang-pkgs", "Type": "gobinary",
    "Vulnerabilities": [
      {"VulnerabilityID": "CVE-2026-0001", "PkgName": "stdlib", "PkgIdentifier": {"PURL": "pkg:golang/stdlib"},
       "InstalledVersion": "%[1]s", "FixedVersion": "%[1]s.1", "Severity": "CRITICAL",
       "Title": "demo: net/http reads too much of a request header"},
      {"VulnerabilityID": "CVE-2026-0002", "PkgName": "stdlib", "PkgIdentifier": {"PURL": "pkg:golang/stdlib"},
       "InstalledVersion": "%[1]s", "Severity": "MEDIUM",
       "Title": "demo: a slow path in archive/zip"}
    ]
  }]
}
`
	// vexDoc says that shop never reaches the archive/zip flaw.
	vexDoc = `{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.invalid/acme/shop/vex/1",
  "author": "security@example.invalid",
  "timestamp": "2026-01-01T00:20:00Z",
  "version": 1,
  "statements": [{
    "vulnerability": {"name": "CVE-2026-0002"},
    "products": [{"@id": "pkg:golang/example.invalid/shop", "subcomponents": [{"@id": "pkg:golang/stdlib"}]}],
    "status": "not_affected",
    "justification": "vulnerable_code_not_in_execute_path"
  }]
}
`
	// policyJSON is prod's go / no-go policy (docs/policy.md).
	policyJSON = `{
  "maxOpen": {"critical": 0, "high": 0},
  "requireSBOM": true,
  "sources": ["https://example.invalid/acme/*"],
  "environments": ["staging", "prod"]
}
`
	// triageVEX is what the security team concludes after the no-go: shop
	// never reads request headers through the flawed path.
	triageVEX = `{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.invalid/acme/shop/vex/2",
  "author": "security@example.invalid",
  "timestamp": "2026-01-02T02:00:00Z",
  "version": 1,
  "statements": [{
    "vulnerability": {"name": "CVE-2026-0001"},
    "products": [{"@id": "pkg:golang/example.invalid/shop", "subcomponents": [{"@id": "pkg:golang/stdlib"}]}],
    "status": "not_affected",
    "justification": "vulnerable_code_cannot_be_controlled_by_adversary"
  }]
}
`
	indexHTML = "<!doctype html><title>shop</title><h1>shop</h1>\n"
	procfile  = "web: bin/shop\n"
	// prodJSON is the config of the app in prod, as people write it.
	prodJSON = `{
  "app": "shop",
  "environment": "prod",
  "env": {"LOG_LEVEL": "info", "PORT": "8080"},
  "secrets": {"DB_PASSWORD": "env://SHOP_DB_PASSWORD"}
}
`
)

// Release times of the demo: fixed, so that every run makes the same
// releases.
var (
	firstRelease  = time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	secondRelease = time.Date(2026, 1, 2, 1, 0, 0, 0, time.UTC)
	// The times of the two go / no-go decisions; a gate passes time.Now().
	firstDecision  = time.Date(2026, 1, 2, 1, 30, 0, 0, time.UTC)
	secondDecision = time.Date(2026, 1, 2, 2, 30, 0, 0, time.UTC)
)

// run makes the demo build and its releases in a fresh OCI image layout at
// layoutDir and says what it did on out.
func run(ctx context.Context, layoutDir string, out io.Writer) error {
	if err := removeLayout(layoutDir); err != nil {
		return err
	}
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
	// Evidence beside the files: a scan report and a VEX document. The
	// SBOM is generated from the Go binary's build info.
	scanFile, vexFile := filepath.Join(work, "trivy.json"), filepath.Join(work, "shop.openvex.json")
	if err := os.WriteFile(scanFile, fmt.Appendf(nil, scanReport, strings.TrimPrefix(runtime.Version(), "go")), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(vexFile, []byte(vexDoc), 0o644); err != nil {
		return err
	}
	b, err := build.New(ctx, store, "shop", build.Spec{
		Dir:       app,
		Source:    build.Source{Repository: "https://example.invalid/acme/shop", Revision: "4f1c2e9d0b8a7c6e5f4d3c2b1a09f8e7d6c5b4a3"},
		Builder:   "https://example.invalid/acme/shop/ci",
		Processes: procs,
		Created:   time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Scans:     []build.Scan{{Path: scanFile}},
		VEX:       []string{vexFile},
	}, build.Options{Tags: []string{"build"}})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "3. stored the build in a new OCI image layout %s, tag \"build\"\n", layoutDir)
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
	sum := b.Summary()
	fmt.Fprintf(out, "   sbom          CycloneDX, %d components, generated from the binary's build info  %.19s…\n", sum.SBOM.Components, sum.SBOM.Digest)
	vulns := sum.Vulnerabilities
	fmt.Fprintf(out, "   scan          %s: open critical %d, high %d, medium %d, low %d, unknown %d\n", vulns.Scans[0].Scanner.Name,
		vulns.Open.Critical, vulns.Open.High, vulns.Open.Medium, vulns.Open.Low, vulns.Open.Unknown)
	for _, f := range vulns.Findings {
		fmt.Fprintf(out, "   open          %s %s in %s %s, fixed in %s\n", f.ID, f.Severity, f.Package, f.Installed, f.Fixed)
	}
	for _, x := range vulns.Suppressed {
		fmt.Fprintf(out, "   suppressed    %s %s by VEX: %s (%s), says %s\n", x.ID, x.Severity, x.Status, x.Justification, x.Author)
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

	// 5. The config of prod: plain variables and a secret by reference.
	configFile := filepath.Join(work, "prod.json")
	if err := os.WriteFile(configFile, []byte(prodJSON), 0o644); err != nil {
		return err
	}
	c, err := config.ReadFile(configFile, config.Options{})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "5. read the config of %s in %s: %s\n", c.App(), c.Environment(), c.Digest())
	for _, name := range slices.Sorted(maps.Keys(c.Env())) {
		fmt.Fprintf(out, "   variable      %s=%s\n", name, c.Env()[name])
	}
	for _, name := range slices.Sorted(maps.Keys(c.Secrets())) {
		fmt.Fprintf(out, "   secret        %s from %s (a reference, resolved only where the release runs)\n", name, c.Secrets()[name])
	}
	_, refused := c.WithVar("DB_PASSWORD", "correct-horse-battery-staple")
	if refused == nil {
		return errors.New("a plaintext password was let into the config")
	}
	fmt.Fprintf(out, "   a plaintext password is refused, the value never shown: %v\n", refused)

	// 6. A signing key for the demo, kept beside the layout; a real
	// deploy keeps the private key in a KMS or a secret store.
	keyDir := filepath.Join(layoutDir, "keys")
	signer, err := demoKey(keyDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "6. made a signing key: %s (private, mode 0600) and %s\n", filepath.Join(keyDir, "slipway.key"), filepath.Join(keyDir, "slipway.pub"))

	// 7. Two signed releases of the build to prod: the second changes a
	// variable. Each is signed, with SLSA provenance, before its tag lands.
	r1, err := release.New(ctx, store, b, c, release.Options{Created: firstRelease, Signer: signer})
	if err != nil {
		return err
	}
	debug, err := c.WithVar("LOG_LEVEL", "debug")
	if err != nil {
		return err
	}
	r2, err := release.New(ctx, store, b, debug, release.Options{Created: secondRelease, Signer: signer})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "7. released the build to prod twice, signed, the second time with LOG_LEVEL=debug; the tag \"prod\" moved to each:\n")
	for _, r := range []*release.Release{r1, r2} {
		fmt.Fprintf(out, "   v%d  tag %-8s %s  config %.19s… LOG_LEVEL=%s\n", r.Version(), r.Tag(), r.Digest(), r.Config().Digest(), r.Config().Env()["LOG_LEVEL"])
	}
	for _, c := range config.Diff(r1.Config(), r2.Config()) {
		fmt.Fprintf(out, "   v2 changes   %s\n", c)
	}

	// 8. The ledger of prod, read back and checked link by link.
	entries, err := release.History(ctx, store, "prod", release.HistoryOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "8. the history of prod, newest first, every link checked:\n")
	for _, e := range entries {
		fmt.Fprintf(out, "   v%d  %.19s…  build %.19s…  config %.19s…  %s\n", e.Version, e.Descriptor.Digest, e.Build.Digest, e.Config.Digest, e.Created.Format(time.RFC3339))
	}
	// 9. Verify prod as a deploy tool would, trusting the public key only.
	pub, err := attest.LoadPublicKeyFile(filepath.Join(keyDir, "slipway.pub"))
	if err != nil {
		return err
	}
	v, err := release.Verify(ctx, store, "prod", []signature.Verifier{pub}, release.VerifyOptions{})
	if err != nil {
		return err
	}
	var types []string
	for _, a := range v.Attestations {
		if !slices.Contains(types, a.Statement.PredicateType) {
			types = append(types, a.Statement.PredicateType)
		}
	}
	slices.Sort(types)
	fmt.Fprintf(out, "9. verified prod with the public key: v%d, %d signatures, %d attestations, every blob and the ledger checked;\n",
		v.Release.Version(), len(v.Signatures), len(v.Attestations))
	fmt.Fprintf(out, "   its summary recomputed from the attested evidence matches the signed one. Attested, each as a bundle and a legacy tag:\n")
	for _, t := range types {
		fmt.Fprintf(out, "   attestation   %s\n", t)
	}
	_, other, err := attest.GenerateKey()
	if err != nil {
		return err
	}
	stranger, err := attest.LoadPublicKey(other)
	if err != nil {
		return err
	}
	_, err = release.Verify(ctx, store, "prod", []signature.Verifier{stranger}, release.VerifyOptions{})
	if !errors.Is(err, release.ErrUntrustedKey) {
		return fmt.Errorf("a release verified with a key that never signed it: %v", err)
	}
	fmt.Fprintf(out, "   with a key that did not sign it, verification fails: untrusted key\n")

	// 10. Go / no-go: prod's policy allows no open critical or high
	// vulnerability. The scan holds a critical one: no-go.
	policyFile := filepath.Join(layoutDir, "policy.json")
	if err := os.WriteFile(policyFile, []byte(policyJSON), 0o644); err != nil {
		return err
	}
	pol, err := release.ReadPolicyFile(policyFile)
	if err != nil {
		return err
	}
	trusted := []signature.Verifier{pub}
	v, err = release.Verify(ctx, store, "prod", trusted, release.VerifyOptions{Policy: pol, Now: firstDecision})
	if !errors.Is(err, release.ErrNoGo) {
		return fmt.Errorf("the release with a critical finding was not no-go: %v", err)
	}
	fmt.Fprintf(out, "10. judged prod by the policy %s (%.19s…): %s\n", policyFile, pol.Digest(), v.Decision.Verdict)
	writeDecision(out, v.Decision)

	// 11. The security team finds shop cannot be reached through the flaw
	// and says so in a VEX document, attested about the release. The
	// release does not change; its next verification reads the new
	// evidence, and the verdict turns go. A gate records it, signed.
	vexRef, err := release.AttestEvidence(ctx, store, v.Release, attest.PredicateOpenVEX, []byte(triageVEX), signer, release.SignOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "11. attested a VEX statement about prod v%d: CVE-2026-0001 not_affected  %.19s…\n", v.Release.Version(), vexRef.Digest)
	v, err = release.Verify(ctx, store, "prod", trusted, release.VerifyOptions{Policy: pol, Now: secondDecision})
	if err != nil {
		return err
	}
	open := v.Summary.Vulnerabilities.Open
	fmt.Fprintf(out, "    judged again: %s; open critical %d, high %d, medium %d; %d suppressed by VEX\n", v.Decision.Verdict,
		open.Critical, open.High, open.Medium, len(v.Summary.Vulnerabilities.Suppressed))
	writeDecision(out, v.Decision)
	if _, err := release.RecordDecision(ctx, store, v.Release, v.Decision, signer, release.DecisionOptions{DecidedBy: "quickstart"}); err != nil {
		return err
	}
	v, err = release.Verify(ctx, store, "prod", trusted, release.VerifyOptions{DecisionKeys: trusted})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "    recorded the %s decision as a signed attestation; a deploy that requires one finds it (%s by %s)\n",
		v.Recorded.Verdict, v.Recorded.Time.Format(time.RFC3339), v.Recorded.DecidedBy)

	// 12. Run: open prod as the run stage does (verified, go by the
	// policy, extracted safely, the secret reference resolved) and run the
	// migration as an admin one-off. The run leaves a signed audit record.
	runDir := filepath.Join(work, "run")
	resolver := config.EnvResolver{Lookup: func(name string) (string, bool) {
		return "demo-only-value", name == "SHOP_DB_PASSWORD" // a deploy resolves from its secret store
	}}
	opened, err := release.Open(ctx, store, "prod", runDir, trusted, release.OpenOptions{Verify: release.VerifyOptions{Policy: pol, Now: secondDecision}, Resolver: resolver})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "12. opened prod v%d into a fresh directory: %d files checked against their digests; environment %s\n",
		opened.Release().Version(), len(opened.Release().Build().Entries()), opened.Env())
	var migration strings.Builder
	rec, err := release.Admin(ctx, store, opened, "migrate", []string{}, signer, release.AdminOptions{
		Operator: "ops@example.invalid", Host: "demo-host", Stdout: &migration, Now: demoClock(secondDecision),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "    ran the admin one-off migrate (%s): exit %d, it said %q\n", rec.Command, rec.ExitCode, strings.TrimSpace(migration.String()))

	// 13. The audit trail of prod, read back and checked: who ran what,
	// where, when, and how it ended; never the output or the environment.
	audits, err := release.Audits(ctx, store, opened.Release(), trusted)
	if err != nil {
		return err
	}
	auditJSON, err := json.MarshalIndent(audits[0].AuditRecord, "    ", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "13. the audit record of the run, signed and attached to prod v%d (%d in all):\n    %s\n", opened.Release().Version(), len(audits), auditJSON)
	fmt.Fprintf(out, "next: go run ./examples/slipway inspect --oci-layout %s:prod\n", layoutDir)
	fmt.Fprintf(out, "      go run ./examples/slipway verify --oci-layout --key %s --policy %s %s:prod\n", filepath.Join(keyDir, "slipway.pub"), policyFile, layoutDir)
	fmt.Fprintf(out, "      go run ./examples/slipway audit --oci-layout --key %s %s:prod\n", filepath.Join(keyDir, "slipway.pub"), layoutDir)
	fmt.Fprintf(out, "      go run ./examples/slipway history --oci-layout %s:prod\n", layoutDir)
	fmt.Fprintf(out, "      go run ./examples/slipway diff --oci-layout %s:prod-v1 prod-v2\n", layoutDir)
	fmt.Fprintf(out, "      oras pull --oci-layout %s:build -o out\n", layoutDir)
	fmt.Fprintf(out, "%s@%s\n", layoutDir, r2.Digest())
	return nil
}

// demoClock is a clock that starts at t and moves a second per reading,
// so that the demo's audit record is the same on every run; a runner
// passes nothing and gets time.Now.
func demoClock(t time.Time) func() time.Time {
	return func() time.Time {
		t = t.Add(time.Second)
		return t
	}
}

// writeDecision prints a decision's findings, blocking ones first.
func writeDecision(out io.Writer, d *release.Decision) {
	for _, f := range d.Findings {
		mark := "block"
		if !f.Blocking {
			mark = "note"
		}
		fmt.Fprintf(out, "    %-5s %s: %s\n", mark, f.Rule, f.Message)
	}
}

// demoKey makes a new key pair in dir and returns its signer.
func demoKey(dir string) (signature.Signer, error) {
	priv, pub, err := attest.GenerateKey()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "slipway.key"), priv, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "slipway.pub"), pub, 0o644); err != nil {
		return nil, err
	}
	return attest.LoadPrivateKey(priv, nil)
}

// removeLayout removes the OCI image layout at dir, left by an earlier
// run, so that this run starts a new ledger. It refuses to remove anything
// else.
func removeLayout(dir string) error {
	_, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, ocispec.ImageLayoutFile)); err != nil {
		return fmt.Errorf("%s exists and is not an OCI image layout; move it away, or give the demo another directory", dir)
	}
	return os.RemoveAll(dir)
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
