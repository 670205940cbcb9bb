package hub

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// lineEvery is the least time between two plain progress lines for one
// file.
const lineEvery = 5 * time.Second

// announceAbove is the size from which a plain-line download is announced
// when it starts, not only when it ends.
const announceAbove = 1_000_000

// progressSink writes download progress: a progress bar on a terminal,
// plain lines elsewhere, nothing when w is nil.
type progressSink struct {
	mu   sync.Mutex
	w    io.Writer
	term bool
	now  func() time.Time
}

func newProgressSink(w io.Writer, now func() time.Time) *progressSink {
	if now == nil {
		now = time.Now
	}
	s := &progressSink{w: w, now: now}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		s.term = true
	}
	return s
}

// note writes one line, such as a retry notice.
func (s *progressSink) note(format string, args ...any) {
	if s == nil || s.w == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, format+"\n", args...)
}

// fileProgress follows one file's download.
type fileProgress interface {
	set(done int64) // bytes now in the partial file
	total(n int64)  // the size, once learnt from a GET
	finish()        // the download completed
	stop()          // the download failed
}

// start begins reporting file, total bytes (-1 if unknown), done of them
// already on disk.
func (s *progressSink) start(file string, total, done int64) fileProgress {
	if s == nil || s.w == nil {
		return nopProgress{}
	}
	if s.term {
		bar := progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(s.w),
			progressbar.OptionSetDescription(file),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowTotalBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(10),
			progressbar.OptionFullWidth(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(s.w) }),
		)
		bar.Set64(done)
		return &barProgress{bar: bar, w: s.w}
	}
	l := &lineProgress{s: s, file: file, size: total, done: done, last: s.now()}
	switch {
	case done > 0:
		s.note("resuming %s at %s", file, l.amount())
	case total < 0 || total >= announceAbove:
		s.note("downloading %s: %s", file, l.amount())
	}
	return l
}

type nopProgress struct{}

func (nopProgress) set(int64)   {}
func (nopProgress) total(int64) {}
func (nopProgress) finish()     {}
func (nopProgress) stop()       {}

// barProgress drives a schollz/progressbar bar on a terminal.
type barProgress struct {
	bar *progressbar.ProgressBar
	w   io.Writer
}

func (b *barProgress) set(done int64) { b.bar.Set64(done) }
func (b *barProgress) total(n int64)  { b.bar.ChangeMax64(n) }
func (b *barProgress) finish()        { b.bar.Finish() }
func (b *barProgress) stop()          { b.bar.Exit(); fmt.Fprintln(b.w) }

// lineProgress writes "downloading FILE: 12.3 MB / 548 MB" at most every
// lineEvery, for logs and pipes.
type lineProgress struct {
	s          *progressSink
	file       string
	size, done int64
	last       time.Time
}

func (l *lineProgress) amount() string {
	if l.size < 0 {
		return humanBytes(l.done)
	}
	return humanBytes(l.done) + " / " + humanBytes(l.size)
}

func (l *lineProgress) set(done int64) {
	l.done = done
	if now := l.s.now(); now.Sub(l.last) >= lineEvery {
		l.last = now
		l.s.note("downloading %s: %s", l.file, l.amount())
	}
}

func (l *lineProgress) total(n int64) { l.size = n }
func (l *lineProgress) finish()       { l.s.note("downloaded %s: %s", l.file, humanBytes(l.done)) }
func (l *lineProgress) stop()         {}

// humanBytes formats n bytes in decimal units with three significant digits:
// "512 B", "1.50 kB", "12.3 MB", "548 MB", "6.43 GB".
func humanBytes(n int64) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"kB", "MB", "GB", "TB", "PB", "EB"}
	f, i := float64(n)/1000, 0
	for f >= 999.5 && i < len(units)-1 {
		f /= 1000
		i++
	}
	switch {
	case f < 9.995:
		return fmt.Sprintf("%.2f %s", f, units[i])
	case f < 99.95:
		return fmt.Sprintf("%.1f %s", f, units[i])
	}
	return fmt.Sprintf("%.0f %s", f, units[i])
}
