package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/release"
)

// inspectFlags are the settings of slipway inspect, as its flags give them.
type inspectFlags struct {
	json      bool
	plainHTTP bool
	ociLayout bool
}

func newInspectCmd() *cobra.Command {
	var f inspectFlags
	cmd := &cobra.Command{
		Use:   "inspect [flags] REF",
		Short: "Show a release's security summary",
		Long: `Inspect reads the release REF names and prints its security summary, the
consolidated view of its risk that the signed release record carries: open
vulnerabilities by severity after VEX, each open and suppressed finding, the
SBOM, the scans, the provenance's builder and source, the build policy's
result and the config findings.

Inspect reads and checks the release's format and digests, but does not check
signatures: run slipway verify --key before trusting what it shows. Verify
also recomputes the summary from the attested evidence and rejects a release
whose summary does not match it.

REF names a release as in slipway history: HOST[:PORT]/REPO:ENV, :ENV-vN or
@DIGEST, or the same in an OCI image layout with --oci-layout.

--json writes one JSON object for programs instead of the tables:
  {"app": "shop", "environment": "prod", "version": 2, "digest": "sha256:…",
   "reference": "HOST/REPO@sha256:…", "build": "sha256:…", "summary": {…}}
where "summary" is the summary exactly as the release record holds it
(docs/format.md, "The security summary").

Exit status: 0 if the release was read, 2 on bad input or any other error.`,
		Example: `  slipway inspect --plain-http 127.0.0.1:5000/shop:prod
  slipway inspect --oci-layout --json ./shop:prod | jq .summary.vulnerabilities.open`,
		Args: wantArgs("REF"),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			return f.run(cmd.Context(), args[0], cmd.OutOrStdout())
		}),
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.BoolVar(&f.json, "json", false, "write one JSON object for programs instead of the tables")
	addTargetFlags(cmd, &f.plainHTTP, &f.ociLayout)
	return cmd
}

func (f *inspectFlags) run(ctx context.Context, ref string, stdout io.Writer) error {
	src, err := openRelease(ctx, ref, f.plainHTTP, f.ociLayout)
	if err != nil {
		return err
	}
	r, err := release.Load(ctx, src.store, src.reference())
	if err != nil {
		return notFound(ctx, err, src)
	}
	if f.json {
		out := struct {
			App         string         `json:"app"`
			Environment string         `json:"environment"`
			Version     int            `json:"version"`
			Digest      string         `json:"digest"`
			Reference   string         `json:"reference"`
			Build       string         `json:"build"`
			Summary     attest.Summary `json:"summary"`
		}{r.App(), r.Environment(), r.Version(), r.Digest().String(), src.ref(r.Digest()), r.Build().Digest().String(), r.Summary()}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return writeSummary(stdout, r, src)
}

// writeSummary prints r's summary as a head of key–value lines and a
// table per list.
func writeSummary(w io.Writer, r *release.Release, src *target) error {
	s := r.Summary()
	b := r.Build()
	var out bytes.Buffer
	kv := tabwriter.NewWriter(&out, 0, 8, 2, ' ', 0)
	line := func(k, v string) { fmt.Fprintf(kv, "%s\t%s\n", k, v) }
	line("Release:", fmt.Sprintf("%s %s (version %d)", r.App(), r.Tag(), r.Version()))
	line("Reference:", src.ref(r.Digest()))
	line("Build:", b.Digest().String())
	if p := s.Provenance; p != nil {
		line("Builder:", p.Builder)
		if p.Source != "" || p.Revision != "" {
			line("Source:", strings.TrimSpace(p.Source+" "+p.Revision))
		}
	}
	if sb := s.SBOM; sb != nil {
		line("SBOM:", fmt.Sprintf("%s, %s, %s%s", sbomFormat(sb.PredicateType), count(int64(sb.Components), "component", "components"), sb.Digest, sbomOrigin(b, sb.Digest)))
	} else {
		line("SBOM:", "none")
	}
	v := s.Vulnerabilities
	if v == nil {
		line("Scans:", "none")
	} else {
		for i, sc := range v.Scans {
			k := ""
			if i == 0 {
				k = "Scans:"
			}
			line(k, strings.TrimSpace(sc.Scanner.Name+" "+sc.Scanner.Version)+", "+sc.Time)
		}
		line("Open:", countsLine(v.Open))
		line("Suppressed:", fmt.Sprintf("%d by VEX", len(v.Suppressed)))
	}
	switch p := s.Policy; {
	case p == nil:
		line("Build policy:", "none applied")
	case p.Pass:
		line("Build policy:", "pass ("+p.Digest+")")
	default:
		line("Build policy:", fmt.Sprintf("fail, %s (%s)", count(int64(len(p.Findings)), "finding", "findings"), p.Digest))
	}
	line("Config findings:", fmt.Sprint(len(s.Config)))
	if err := kv.Flush(); err != nil {
		return err
	}
	if v != nil && len(v.Findings) > 0 {
		table(&out, "OPEN\tSEVERITY\tPACKAGE\tINSTALLED\tFIXED", len(v.Findings), func(i int) string {
			f := v.Findings[i]
			return strings.Join([]string{f.ID, string(f.Severity), f.Package, orDash(f.Installed), orDash(f.Fixed)}, "\t")
		})
	}
	if v != nil && len(v.Suppressed) > 0 {
		table(&out, "SUPPRESSED\tSEVERITY\tPACKAGE\tSTATUS\tJUSTIFICATION\tAUTHOR", len(v.Suppressed), func(i int) string {
			x := v.Suppressed[i]
			return strings.Join([]string{x.ID, string(x.Severity), x.Package, x.Status, orDash(x.Justification), x.Author}, "\t")
		})
	}
	if len(s.Config) > 0 {
		table(&out, "CONFIG VARIABLE\tRULE", len(s.Config), func(i int) string { return s.Config[i].Name + "\t" + s.Config[i].Rule })
	}
	if p := s.Policy; p != nil && len(p.Findings) > 0 {
		table(&out, "POLICY RULE\tMESSAGE", len(p.Findings), func(i int) string { return p.Findings[i].Rule + "\t" + p.Findings[i].Message })
	}
	for l := range strings.Lines(out.String()) {
		if _, err := fmt.Fprintln(w, safeText(strings.TrimRight(l, " \n"))); err != nil {
			return err
		}
	}
	return nil
}

// safeText escapes what a terminal would act on rather than show: control
// characters (escape sequences among them) and bidirectional overrides.
// Summaries carry strings from scan reports and VEX documents, which
// whoever wrote them controls.
func safeText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return '?'
		}
		return r
	}, s)
}

// table appends a blank line and a table of n rows under header.
func table(out *bytes.Buffer, header string, n int, row func(int) string) {
	out.WriteString("\n")
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for i := range n {
		fmt.Fprintln(tw, row(i))
	}
	_ = tw.Flush() // writes to a buffer
}

// countsLine is "critical 0, high 1, medium 0, low 2, unknown 1".
func countsLine(c attest.Counts) string {
	parts := make([]string, len(attest.Severities))
	for i, s := range attest.Severities {
		parts[i] = fmt.Sprintf("%s %d", s, c.Of(s))
	}
	return strings.Join(parts, ", ")
}

func sbomFormat(predicateType string) string {
	if attest.PredicateKind(predicateType) == attest.PredicateSPDX {
		return "SPDX"
	}
	return "CycloneDX"
}

// sbomOrigin says where the build's SBOM came from: " (generated from Go
// build info)" or " (from FILE)".
func sbomOrigin(b *build.Build, d string) string {
	for _, e := range b.Evidence() {
		if e.Descriptor.Digest.String() != d {
			continue
		}
		if e.Source == "generated" {
			return " (generated from Go build info)"
		}
		return " (from " + e.Source + ")"
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// reportEvidence writes what a new build's evidence says, for slipway
// build's report.
func reportEvidence(w io.Writer, b *build.Build) {
	s := b.Summary()
	if sb := s.SBOM; sb != nil {
		fmt.Fprintf(w, "SBOM: %s, %s%s\n", sbomFormat(sb.PredicateType), count(int64(sb.Components), "component", "components"), sbomOrigin(b, sb.Digest))
	}
	if v := s.Vulnerabilities; v != nil {
		names := make([]string, len(v.Scans))
		for i, sc := range v.Scans {
			names[i] = strings.TrimSpace(sc.Scanner.Name + " " + sc.Scanner.Version)
		}
		fmt.Fprintf(w, "Scans: %s\n", safeText(strings.Join(names, ", ")))
		fmt.Fprintf(w, "Open vulnerabilities: %s; %d suppressed by VEX\n", countsLine(v.Open), len(v.Suppressed))
	}
}
