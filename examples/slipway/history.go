package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/release"
)

// historyFlags are the settings of slipway history, as its flags give them.
type historyFlags struct {
	limit     int
	full      bool
	json      bool
	plainHTTP bool
	ociLayout bool
}

func newHistoryCmd() *cobra.Command {
	var f historyFlags
	cmd := &cobra.Command{
		Use:   "history [flags] REF",
		Short: "List the releases of an environment, newest first",
		Long: `History lists the releases of an app in one environment, from the release REF
names back to version 1, newest first, and checks every link of the ledger on
the way: each release names the one before it by digest, and that one must be
there, of the same app and environment, and exactly one version older. A broken
link is an error that names the version whose link failed; nothing is listed.

REF names a release:
  HOST[:PORT]/REPO:ENV        the newest release of the environment ENV
  HOST[:PORT]/REPO:ENV-vN     version N of ENV, and the releases before it
  HOST[:PORT]/REPO@DIGEST     a release by digest
  DIR:ENV, DIR:ENV-vN, DIR@DIGEST   the same in an OCI image layout, with --oci-layout

The table has a row per release: its version, the digests of the release, its
build and its config (12 hex digits; --full for whole digests), when it was
created, in UTC, and what a rollback restored. --json writes one JSON array
instead, whole digests and release references included, for programs:
  [{"app": "shop", "environment": "prod", "version": 2, "tag": "prod-v2",
    "digest": "sha256:…", "reference": "HOST/REPO@sha256:…",
    "build": "sha256:…", "config": "sha256:…", "previous": "sha256:…",
    "rollback": 1, "created": "2026-01-02T00:00:00Z"}, …]
"previous" is left out for version 1, "rollback" when it is no rollback.

Exit status: 0 if the history was read and every link holds, 2 on a broken
ledger, bad input or any other error.`,
		Example: `  slipway history --plain-http 127.0.0.1:5000/shop:prod
  slipway history --plain-http -n 5 --full 127.0.0.1:5000/shop:prod
  slipway history --oci-layout --json ./shop:prod | jq -r '.[0].reference'`,
		Args: wantArgs("REF"),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if f.limit < 0 {
				return fmt.Errorf("--limit %d: want 0 (all) or more", f.limit)
			}
			return nil
		},
		RunE: action(func(cmd *cobra.Command, args []string) error {
			return f.run(cmd.Context(), args[0], cmd.OutOrStdout())
		}),
	}

	fl := cmd.Flags()
	fl.SortFlags = false
	fl.IntVarP(&f.limit, "limit", "n", 0, "list the newest `N` releases only (0: all)")
	fl.BoolVar(&f.full, "full", false, "show whole digests")
	fl.BoolVar(&f.json, "json", false, "write one JSON array for programs instead of the table")
	addTargetFlags(cmd, &f.plainHTTP, &f.ociLayout)
	return cmd
}

// run reads the history and writes it on stdout.
func (f *historyFlags) run(ctx context.Context, ref string, stdout io.Writer) error {
	src, err := openRelease(ctx, ref, f.plainHTTP, f.ociLayout)
	if err != nil {
		return err
	}
	entries, err := release.History(ctx, src.store, src.reference(), release.HistoryOptions{Limit: f.limit})
	if err != nil {
		return notFound(ctx, err, src)
	}
	if f.json {
		return writeHistoryJSON(stdout, entries, src)
	}
	short := shortDigest
	if f.full {
		short = digest.Digest.String
	}
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tDIGEST\tBUILD\tCONFIG\tCREATED\tNOTE")
	for _, e := range entries {
		note := ""
		if e.Rollback > 0 {
			note = fmt.Sprintf("rollback to %d", e.Rollback)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.Version, short(e.Descriptor.Digest), short(e.Build.Digest), short(e.Config.Digest),
			e.Created.UTC().Format(time.RFC3339), note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for line := range strings.Lines(table.String()) {
		// Without a note, the padding of CREATED would end the line.
		if _, err := fmt.Fprintln(stdout, strings.TrimRight(line, " \n")); err != nil {
			return err
		}
	}
	return nil
}

// historyEntry is a release.Entry as history --json writes it.
type historyEntry struct {
	App         string    `json:"app"`
	Environment string    `json:"environment"`
	Version     int       `json:"version"`
	Tag         string    `json:"tag"`
	Digest      string    `json:"digest"`
	Reference   string    `json:"reference"`
	Build       string    `json:"build"`
	Config      string    `json:"config"`
	Previous    string    `json:"previous,omitempty"`
	Rollback    int       `json:"rollback,omitempty"`
	Created     time.Time `json:"created"`
}

// writeHistoryJSON writes entries of the ledger in src as one JSON array.
func writeHistoryJSON(w io.Writer, entries []release.Entry, src *target) error {
	out := make([]historyEntry, len(entries))
	for i, e := range entries {
		out[i] = historyEntry{
			App:         e.App,
			Environment: e.Environment,
			Version:     e.Version,
			Tag:         release.VersionTag(e.Environment, e.Version),
			Digest:      e.Descriptor.Digest.String(),
			Reference:   src.ref(e.Descriptor.Digest),
			Build:       e.Build.Digest.String(),
			Config:      e.Config.Digest.String(),
			Previous:    e.Previous.String(),
			Rollback:    e.Rollback,
			Created:     e.Created.UTC(),
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// shortDigest returns the first 12 hex digits of d, as docker and git show
// abbreviated IDs.
func shortDigest(d digest.Digest) string {
	if enc := d.Encoded(); len(enc) > 12 {
		return enc[:12]
	}
	return d.String()
}

// openRelease opens the target REF names for a command that reads a
// release: REF must name a tag or a digest.
func openRelease(ctx context.Context, ref string, plainHTTP, ociLayout bool) (*target, error) {
	src, err := openSource(ctx, ref, plainHTTP, ociLayout)
	if err != nil {
		return nil, err
	}
	if src.reference() == "" {
		return nil, fmt.Errorf("REF %q: names no release; add the environment as its tag, e.g. %s:prod, or a digest", ref, src.name)
	}
	return src, nil
}
