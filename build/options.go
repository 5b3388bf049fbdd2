package build

import (
	"fmt"
	"log/slog"
	"regexp"
)

// Options are the optional settings of [New]. The zero value is ready to
// use.
type Options struct {
	// Tags are set on the build manifest once every blob and the manifest
	// are stored, so a failed build leaves nothing tagged.
	Tags []string
	// Concurrency is how many files are stored at once; if zero, 4.
	Concurrency int
	// Progress, if set, is called as layer bytes are stored, from one
	// goroutine at a time.
	Progress func(Progress)
	// TempDir holds the spool files of Reader contents and packed
	// directories while they are hashed; if empty, os.TempDir().
	TempDir string
	// Logger receives a debug record per stored layer; if nil, nothing is
	// logged.
	Logger *slog.Logger
	// Policy, if set, is the build policy New applies: a build that breaks
	// it is not stored and New returns a [*PolicyError] listing every
	// finding (see [New]). If nil, no policy is applied.
	Policy *Policy
}

// Progress says how far [New] has got in storing a build's layers.
type Progress struct {
	Path  string // the file or directory being stored
	Done  int64  // layer bytes stored so far, over the whole build
	Total int64  // layer bytes of the whole build
}

const defaultConcurrency = 4

var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

func (o *Options) fill() error {
	if o.Concurrency < 0 {
		return fmt.Errorf("Options.Concurrency: %w: negative", ErrInvalidSpec)
	}
	if o.Concurrency == 0 {
		o.Concurrency = defaultConcurrency
	}
	for i, t := range o.Tags {
		if !tagRE.MatchString(t) {
			return fmt.Errorf("Options.Tags[%d] %q: %w: a tag is 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-'", i, t, ErrInvalidSpec)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}
