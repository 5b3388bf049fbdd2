package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/release"
)

type attestFlags struct {
	key       string
	scans     []string
	vex       []string
	scanTime  string
	plainHTTP bool
	ociLayout bool
}

func newAttestCmd() *cobra.Command {
	var f attestFlags
	cmd := &cobra.Command{
		Use:   "attest --key KEY (--scan FILE | --vex FILE)... [flags] REF",
		Short: "Attest a new scan or VEX document about a release",
		Long: `Attest signs evidence found after a release, a new vulnerability scan or an
OpenVEX document, as attestations about the release REF names, beside it.

The release and its signed summary do not change: slipway verify recomputes
the summary with every such attestation by a trusted key and judges that by
its --policy. A release that was go turns no-go when a scan finds a new
critical vulnerability, and go again when a VEX statement marks it
not_affected.

--scan takes a Trivy, Grype, govulncheck -json or SARIF report; --vex an
OpenVEX v0.2.0 document. Every file is read and checked before anything is
stored.

Exit status: 0 when every file was attested, 2 on bad input or an
operational error.`,
		Example: `  slipway attest --key keys/slipway.key --vex shop.openvex.json 127.0.0.1:5000/shop:prod
  slipway attest --key keys/slipway.key --scan trivy.json 127.0.0.1:5000/shop:prod`,
		Args: wantArgs("REF"),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			return f.run(cmd.Context(), args[0], cmd.OutOrStdout(), cmd.ErrOrStderr())
		}),
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVar(&f.key, "key", "", "sign with the private key in `KEY` (PEM, or a cosign key; password from SLIPWAY_PASSWORD, else COSIGN_PASSWORD; required)")
	fl.StringArrayVar(&f.scans, "scan", nil, "attest the scan report in `FILE` (repeatable)")
	fl.StringArrayVar(&f.vex, "vex", nil, "attest the OpenVEX document in `FILE` (repeatable)")
	fl.StringVar(&f.scanTime, "scan-time", "", "when the scans finished, RFC 3339 (default: what each report says, else now)")
	addTargetFlags(cmd, &f.plainHTTP, &f.ociLayout)
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

// evidenceFile is one file to attest, read and checked.
type evidenceFile struct {
	flag, path, predicateType string
	data                      []byte
}

func (f *attestFlags) run(ctx context.Context, ref string, stdout, stderr io.Writer) error {
	if len(f.scans)+len(f.vex) == 0 {
		return fmt.Errorf("nothing to attest: give --scan or --vex")
	}
	finished := time.Now().UTC()
	if f.scanTime != "" {
		t, err := time.Parse(time.RFC3339, f.scanTime)
		if err != nil {
			return fmt.Errorf("--scan-time %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", f.scanTime)
		}
		finished = t
	}
	var files []evidenceFile
	for _, p := range f.scans {
		data, err := readEvidence(p)
		if err != nil {
			return fmt.Errorf("--scan %w", err)
		}
		scan, err := attest.ParseScan(data, p)
		if err != nil {
			return fmt.Errorf("--scan %w", err)
		}
		end := finished
		if f.scanTime == "" && !scan.Time.IsZero() {
			end = time.Time{} // the report's own time
		}
		pred, err := attest.NewVulnPredicate(data, scan, time.Time{}, end)
		if err != nil {
			return fmt.Errorf("--scan %s: %w", p, err)
		}
		files = append(files, evidenceFile{"--scan", p, attest.PredicateVuln, pred})
	}
	for _, p := range f.vex {
		data, err := readEvidence(p)
		if err != nil {
			return fmt.Errorf("--vex %w", err)
		}
		if _, err := attest.ParseVEX(data, p); err != nil {
			return fmt.Errorf("--vex %w", err)
		}
		files = append(files, evidenceFile{"--vex", p, attest.PredicateOpenVEX, data})
	}
	signer, err := loadSigner(f.key, stderr)
	if err != nil {
		return err
	}
	dst, _, err := openNamed(ctx, ref, f.plainHTTP, f.ociLayout)
	if err != nil {
		return err
	}
	r, err := release.Load(ctx, dst.store, dst.reference())
	if err != nil {
		return notFound(ctx, err, dst)
	}
	for _, e := range files {
		got, err := release.AttestEvidence(ctx, dst.store, r, e.predicateType, e.data, signer, release.SignOptions{})
		if err != nil {
			return fmt.Errorf("%s %s: %w", e.flag, e.path, err)
		}
		fmt.Fprintf(stdout, "Attested %s %s (%s) about %s v%d in %s\n", e.flag[2:], got.Digest, e.path, r.App(), r.Version(), r.Environment())
	}
	fmt.Fprintln(stdout, dst.ref(r.Digest()))
	return nil
}

// readEvidence reads an evidence file of at most attest.MaxEvidenceSize
// bytes; errors start with its path.
func readEvidence(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return attest.ReadEvidence(fh, path)
}
