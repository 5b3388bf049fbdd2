package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/release"
)

// diffFlags are the settings of slipway diff, as its flags give them.
type diffFlags struct {
	exitCode  bool
	full      bool
	plainHTTP bool
	ociLayout bool
}

func newDiffCmd() *cobra.Command {
	var f diffFlags
	cmd := &cobra.Command{
		Use:   "diff [flags] REF1 REF2",
		Short: "Show what changed in config and build from one release to another",
		Long: `Diff reads two releases, checks them as any reader does, and shows what changed
from the first to the second: the variables of their configs, then their
builds' source, processes and files.

REF1 names a release as history's REF does: HOST[:PORT]/REPO:TAG,
HOST[:PORT]/REPO@DIGEST, or DIR:TAG, DIR@DIGEST with --oci-layout, where TAG is
an environment (its newest release) or a version tag such as prod-v3. REF2 is
another such reference, or a bare TAG or DIGEST in REF1's repository.

A line per change: "+" added, "-" removed, "~" changed. A config variable shows
as NAME=VALUE, a secret as secret(URI): references are compared, never
resolved. A plain value that matches a plaintext-secret rule (one let in with
--allow-plaintext, say) shows as [hidden:RULE], so that a diff in a log never
holds it. Files are compared by path, content digest, size, mode and link
target. Digests show as 12 hex digits; --full shows them whole.

Exit status: 0 when the diff was shown, whether or not the releases differ, as
oras and cosign report; with --exit-code, as git diff --exit-code, 1 when their
configs or builds differ and 0 when neither does. 2 on bad input or any other
error.`,
		Example: `  slipway diff --plain-http 127.0.0.1:5000/shop:prod-v1 prod-v2
  slipway diff --oci-layout ./shop:prod ./shop:staging
  slipway diff --oci-layout --exit-code ./shop:prod-v3 prod-v1 >/dev/null || echo changed`,
		Args: wantArgs("REF1", "REF2"),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			return f.run(cmd.Context(), args[0], args[1], cmd.OutOrStdout())
		}),
	}

	fl := cmd.Flags()
	fl.SortFlags = false
	fl.BoolVar(&f.exitCode, "exit-code", false, "exit with 1 when the releases' configs or builds differ, 0 when not")
	fl.BoolVar(&f.full, "full", false, "show whole digests")
	addTargetFlags(cmd, &f.plainHTTP, &f.ociLayout)
	return cmd
}

// run reads both releases and writes their differences on stdout.
func (f *diffFlags) run(ctx context.Context, ref1, ref2 string, stdout io.Writer) error {
	src1, err := openRelease(ctx, ref1, f.plainHTTP, f.ociLayout)
	if err != nil {
		return err
	}
	src2, err := resolveIn(ctx, src1, ref2, f.plainHTTP, f.ociLayout)
	if err != nil {
		return err
	}
	if src2.reference() == "" {
		return fmt.Errorf("REF2 %q: names no release; add a tag or a digest", ref2)
	}
	var rels [2]*release.Release
	for i, src := range []*target{src1, src2} {
		if rels[i], err = release.Load(ctx, src.store, src.reference()); err != nil {
			return notFound(ctx, fmt.Errorf("REF%d %s: %w", i+1, src, err), src)
		}
	}
	d := differ{w: stdout, short: shortDigest}
	if f.full {
		d.short = digest.Digest.String
	}
	changed := d.diff(rels[0], rels[1], src1, src2)
	if f.exitCode && changed {
		return errNo
	}
	return nil
}

// differ writes the differences between two releases.
type differ struct {
	w     io.Writer
	short func(digest.Digest) string
}

// diff writes what changed from a, read from src1, to b, read from src2,
// and reports whether their configs or builds differ.
func (d differ) diff(a, b *release.Release, src1, src2 *target) bool {
	for i, side := range []struct {
		r   *release.Release
		src *target
	}{{a, src1}, {b, src2}} {
		r, note := side.r, ""
		if r.RollbackOf() > 0 {
			note = fmt.Sprintf(", rollback to v%d", r.RollbackOf())
		}
		fmt.Fprintf(d.w, "Release %d: %s (%s %s v%d%s)\n", i+1, side.src.ref(r.Digest()), r.App(), r.Environment(), r.Version(), note)
	}
	ca, cb := a.Config(), b.Config()
	ba, bb := a.Build(), b.Build()
	configChanged, buildChanged := ca.Digest() != cb.Digest(), ba.Digest() != bb.Digest()

	if !configChanged {
		fmt.Fprintf(d.w, "Config: unchanged, %s\n", d.short(ca.Digest()))
	} else {
		fmt.Fprintf(d.w, "Config: %s -> %s\n", d.short(ca.Digest()), d.short(cb.Digest()))
		d.field("app", ca.App(), cb.App())
		d.field("environment", ca.Environment(), cb.Environment())
		hideA, hideB := hidden(ca), hidden(cb)
		for _, c := range config.Diff(ca, cb) {
			c.Old = hide(c.Name, c.Old, hideA)
			c.New = hide(c.Name, c.New, hideB)
			fmt.Fprintf(d.w, "  %s\n", c)
		}
	}

	if !buildChanged {
		fmt.Fprintf(d.w, "Build: unchanged, %s\n", d.short(ba.Digest()))
	} else {
		fmt.Fprintf(d.w, "Build: %s -> %s\n", d.short(ba.Digest()), d.short(bb.Digest()))
		d.buildDiff(ba, bb)
	}
	return configChanged || buildChanged
}

// hidden returns the plain variables of c whose values a diff must not
// show, by name: those matching a plaintext-secret rule, with the rule.
func hidden(c *config.Config) map[string]string {
	m := map[string]string{}
	for _, f := range c.Findings() {
		m[f.Name] = f.Rule
	}
	return m
}

// hide returns v, or a stand-in if it is the plain value of a variable in
// rules.
func hide(name string, v config.Value, rules map[string]string) config.Value {
	if rule, ok := rules[name]; ok && !v.Secret && v.Text != "" {
		return config.Value{Text: "[hidden:" + rule + "]"}
	}
	return v
}

// field writes a changed line for name if old and new differ.
func (d differ) field(name, old, new string) {
	if old != new {
		fmt.Fprintf(d.w, "  ~ %s: %s -> %s\n", name, orNone(old), orNone(new))
	}
}

// orNone returns s, or "(none)" if it is empty.
func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// buildDiff writes what changed from build a to build b: what the record
// says of them, their processes, then their files.
func (d differ) buildDiff(a, b *build.Build) {
	d.field("app", a.App(), b.App())
	sa, sb := a.Source(), b.Source()
	d.field("source repository", sa.Repository, sb.Repository)
	d.field("source revision", sa.Revision, sb.Revision)
	d.field("source dirty", strconv.FormatBool(sa.Dirty), strconv.FormatBool(sb.Dirty))
	d.field("builder", a.Builder(), b.Builder())
	d.field("toolchain", a.Toolchain(), b.Toolchain())
	d.field("module", a.Module(), b.Module())
	d.field("image", d.image(a), d.image(b))
	d.field("created", a.Created().UTC().Format(time.RFC3339), b.Created().UTC().Format(time.RFC3339))

	processName := func(p build.Process) string { return p.Name }
	pa, pb := byName(a.Processes(), processName), byName(b.Processes(), processName)
	for _, name := range sortedUnion(pa, pb) {
		p, inA := pa[name]
		q, inB := pb[name]
		switch {
		case !inB:
			fmt.Fprintf(d.w, "  - process %s\n", processLine(p))
		case !inA:
			fmt.Fprintf(d.w, "  + process %s\n", processLine(q))
		case p != q:
			fmt.Fprintf(d.w, "  ~ process %s -> %s\n", processLine(p), strings.TrimPrefix(processLine(q), name+" "))
		}
	}

	entryPath := func(e build.Entry) string { return e.Path }
	ea, eb := byName(a.Entries(), entryPath), byName(b.Entries(), entryPath)
	for _, path := range sortedUnion(ea, eb) {
		e, inA := ea[path]
		g, inB := eb[path]
		switch {
		case !inB:
			fmt.Fprintf(d.w, "  - %s\n", d.entryLine(e))
		case !inA:
			fmt.Fprintf(d.w, "  + %s\n", d.entryLine(g))
		case e != g:
			fmt.Fprintf(d.w, "  ~ %s %s: %s\n", entryKind(g), path, strings.Join(d.entryChanges(e, g), ", "))
		}
	}
}

// image returns the digest of the image b adopted, or "".
func (d differ) image(b *build.Build) string {
	if img, ok := b.Image(); ok {
		return d.short(img.Digest)
	}
	return ""
}

// processLine renders p as `NAME "COMMAND"`, with " (admin)" for an admin
// process.
func processLine(p build.Process) string {
	s := p.Name + " " + strconv.Quote(p.Command)
	if p.Admin {
		s += " (admin)"
	}
	return s
}

// entryLine renders e for an added or removed line.
func (d differ) entryLine(e build.Entry) string {
	s := entryKind(e) + " " + e.Path
	if e.Type == build.TypeSymlink {
		return s + " -> " + e.Target
	}
	return fmt.Sprintf("%s (%s, %s, %s)", s, d.short(e.Digest), count(e.Size, "byte", "bytes"), e.Mode)
}

// entryChanges says how e and g, of the same path, differ.
func (d differ) entryChanges(e, g build.Entry) []string {
	var out []string
	if e.Type != g.Type {
		out = append(out, fmt.Sprintf("was a %s", entryKind(e)))
	}
	if e.Digest != g.Digest {
		out = append(out, fmt.Sprintf("content %s -> %s", d.short(e.Digest), d.short(g.Digest)))
	}
	if e.Size != g.Size {
		out = append(out, fmt.Sprintf("size %d -> %d bytes", e.Size, g.Size))
	}
	if e.Mode != g.Mode {
		out = append(out, fmt.Sprintf("mode %s -> %s", e.Mode, g.Mode))
	}
	if e.Target != g.Target {
		out = append(out, fmt.Sprintf("target %s -> %s", orNone(e.Target), orNone(g.Target)))
	}
	if len(out) == 0 { // TarDigest only: the same tar, compressed otherwise
		out = append(out, fmt.Sprintf("tar %s -> %s", d.short(e.TarDigest), d.short(g.TarDigest)))
	}
	return out
}

// entryKind names what e is: "file", "link" or "packed directory".
func entryKind(e build.Entry) string {
	switch e.Type {
	case build.TypeSymlink:
		return "link"
	case build.TypeTar:
		return "packed directory"
	}
	return "file"
}

// byName returns xs by the name key gives each.
func byName[T any](xs []T, key func(T) string) map[string]T {
	m := make(map[string]T, len(xs))
	for _, x := range xs {
		m[key(x)] = x
	}
	return m
}

// sortedUnion returns the keys of a and b, sorted, each once.
func sortedUnion[V any](a, b map[string]V) []string {
	return slices.Compact(slices.Sorted(func(yield func(string) bool) {
		for k := range maps.Keys(a) {
			if !yield(k) {
				return
			}
		}
		for k := range maps.Keys(b) {
			if !yield(k) {
				return
			}
		}
	}))
}
