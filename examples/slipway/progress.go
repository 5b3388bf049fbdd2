package main

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/slipway-dev/slipway/build"
)

// progress draws a byte progress bar, fed by build.Options.Progress. The
// bar is made on the first report, when the total is known.
type progress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

// newProgress returns a progress bar drawn on w, or nil when w is not a
// terminal: a bar in a log file or a pipe is noise.
func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &progress{w: w}
}

// update moves the bar to p; build.New calls it from one goroutine at a
// time.
func (p *progress) update(bp build.Progress) {
	if p.bar == nil {
		p.bar = progressbar.NewOptions64(bp.Total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription("storing"),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionShowTotalBytes(true),
			progressbar.OptionUseIECUnits(true),
			progressbar.OptionThrottle(65*time.Millisecond),
			progressbar.OptionFullWidth(),
			progressbar.OptionClearOnFinish(),
		)
	}
	p.bar.Set64(bp.Done)
}

// stop removes the bar, whether the build succeeded or not, so that what
// follows on the terminal starts on a clean line. It is a no-op on nil.
func (p *progress) stop() {
	if p == nil || p.bar == nil {
		return
	}
	p.bar.Finish()
}
